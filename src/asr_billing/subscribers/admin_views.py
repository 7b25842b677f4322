"""Admin block/unblock of subscribers: the changelist actions and the buttons on one
subscriber's page. Both go through subscribers.services (locked, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError
from asr_billing.subscribers.admin_forms import BlockForm
from asr_billing.subscribers.services import subscriber_block, subscriber_unblock

TEMPLATE = "admin/subscribers/subscriber/block_form.html"


def _apply(request, subscribers, *, block: bool, reason: str = "") -> None:
    """Block or unblock each subscriber; refusals (already blocked, ...) become messages."""
    done = 0
    for subscriber in subscribers:
        try:
            if block:
                subscriber_block(subscriber=subscriber, actor=request.user, reason=reason)
            else:
                subscriber_unblock(subscriber=subscriber, actor=request.user)
        except ApplicationError as exc:
            messages.warning(request, f"{subscriber.contract_number}: {exc.message}")
        else:
            done += 1
    if done:
        text = _("Blocked: %(n)d.") if block else _("Unblocked: %(n)d.")
        messages.success(request, text % {"n": done})


def _context(model_admin, request, *, form, block: bool, subscribers, action: str = ""):
    opts = model_admin.model._meta
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "form": form,
        "blocking": block,  # not "block": inside {% block %} that name is the block itself
        "subscribers": subscribers,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "title": _("Block subscribers") if block else _("Unblock subscribers"),
        "media": model_admin.media,
    }


def block_action(model_admin, request, queryset):
    """The "block" action: asks for a reason on an intermediate page, then blocks."""
    form = BlockForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        _apply(request, queryset, block=True, reason=form.cleaned_data["reason"])
        return None  # back to the changelist
    context = _context(model_admin, request, form=form, block=True,
                       subscribers=list(queryset), action="block_selected")
    return TemplateResponse(request, TEMPLATE, context)


def unblock_action(model_admin, request, queryset):
    _apply(request, queryset, block=False)


def subscriber_block_view(model_admin, request, object_id: str, *, block: bool):
    """Block (with a reason) or unblock one subscriber from its page."""
    opts = model_admin.model._meta
    subscriber = model_admin.get_object(request, unquote(object_id))
    if subscriber is None:
        return model_admin._get_obj_does_not_exist_redirect(request, opts, object_id)
    if not model_admin.has_change_permission(request, subscriber):
        raise PermissionDenied
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[subscriber.pk])
    form = BlockForm(request.POST or None) if block else None
    if request.method == "POST" and (form is None or form.is_valid()):
        reason = form.cleaned_data["reason"] if form is not None else ""
        _apply(request, [subscriber], block=block, reason=reason)
        return HttpResponseRedirect(change_url)
    context = _context(model_admin, request, form=form, block=block, subscribers=[subscriber])
    context.update({"original": subscriber, "change_url": change_url, "subtitle": str(subscriber)})
    return TemplateResponse(request, TEMPLATE, context)
