"""Admin pages behind the subscriber page's "Promised payment", "Voluntary block" and
"Lift voluntary block" buttons.

Every rule (terms, limits, dates, cost, Carbon's refusal texts) lives in
billing.services; these views only collect input, call the service with the staff user
as the actor and show a refusal as a form error (the service then changed nothing).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.billing.models import PromisedPayment
from asr_billing.billing.options import billing_options, promised_terms
from asr_billing.billing.periods import local_today
from asr_billing.billing.selectors import voluntary_block_current
from asr_billing.billing.services import (
    promised_payment_take,
    voluntary_block_create,
    voluntary_block_lift,
)
from asr_billing.core.admin_mixins import money_text
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.admin_forms import AmountField
from asr_billing.finance.models import Account

TEMPLATE = "admin/subscribers/subscriber/billing_form.html"

# Who may do what (besides changing the subscriber): the billing models' own permissions,
# so an operator can be given blocks but not promised payments. Lifting matches the
# "Lift selected voluntary blocks now" action of the voluntary block list.
PROMISED_PERMISSION = "billing.add_promisedpayment"
VBLOCK_PERMISSION = "billing.add_voluntaryblock"
VBLOCK_LIFT_PERMISSION = "billing.change_voluntaryblock"


class PromisedPaymentForm(forms.Form):
    """Prefilled with the subscriber's terms (tariff, else cfg/config); empty means the
    terms as well."""

    amount = AmountField(
        label=capfirst(gettext_lazy("amount")),
        positive=True,
        required=False,
        help_text=gettext_lazy("Roubles added to the money available; empty: the terms' "
                               "amount."),
    )
    days = forms.IntegerField(
        label=capfirst(gettext_lazy("days")),
        min_value=1,
        max_value=365,
        required=False,
        help_text=gettext_lazy("How long it lasts; it ends by itself. Empty: the terms' "
                               "days."),
    )


class VoluntaryBlockForm(forms.Form):
    start_date = forms.DateField(label=capfirst(gettext_lazy("from")),
                                 widget=widgets.AdminDateWidget)
    end_date = forms.DateField(
        label=capfirst(gettext_lazy("to")),
        widget=widgets.AdminDateWidget,
        help_text=gettext_lazy("The last day of the block (inclusive)."),
    )


def _today():
    return local_today(billing_options().time_zone)


def _can_change(model_admin, request, subscriber, permission: str) -> bool:
    return model_admin.has_change_permission(request, subscriber) and request.user.has_perm(
        permission
    )


def _promised_offered(subscriber) -> bool:
    """Whether the "Promised payment" button makes sense. A hint only, from the same
    terms the service reads: promised_payment_take decides (the monthly limit, for one,
    is left to it) and its refusal shows on the form."""
    if subscriber.tariff_id is None or subscriber.admin_blocked:
        return False
    terms = promised_terms(billing_options(), subscriber.tariff)
    if terms.amount <= 0 or (terms.only_when_cut_off and not subscriber.negbal):
        return False
    return not PromisedPayment.objects.filter(
        subscriber_id=subscriber.pk, closed_at__isnull=True
    ).exists()


def billing_buttons(model_admin, request, subscriber) -> dict:
    """Template flags for the subscriber page's object tools: ``can_take_promised``,
    ``can_block_voluntarily``, ``can_lift_voluntary_block``."""
    flags = {"can_take_promised": False, "can_block_voluntarily": False,
             "can_lift_voluntary_block": False}
    if subscriber is None or not model_admin.has_change_permission(request, subscriber):
        return flags
    user = request.user
    if user.has_perm(PROMISED_PERMISSION):
        flags["can_take_promised"] = _promised_offered(subscriber)
    if user.has_perm(VBLOCK_PERMISSION) or user.has_perm(VBLOCK_LIFT_PERMISSION):
        current = voluntary_block_current(subscriber.pk, _today())
        flags["can_block_voluntarily"] = (
            user.has_perm(VBLOCK_PERMISSION) and current is None
            and not subscriber.voluntary_blocked
        )
        flags["can_lift_voluntary_block"] = (
            user.has_perm(VBLOCK_LIFT_PERMISSION) and current is not None
        )
    return flags


def _day(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _take_promised(request, subscriber, data) -> None:
    promised = promised_payment_take(
        subscriber=subscriber, actor=request.user, amount=data.get("amount"),
        days=data.get("days"),
    )
    messages.success(
        request,
        _("Promised payment of %(amount)s taken until %(until)s.")
        % {"amount": money_text(promised.amount),
           "until": date_format(localtime(promised.expires_at), "SHORT_DATETIME_FORMAT")},
    )


def _create_block(request, subscriber, data) -> None:
    block = voluntary_block_create(
        subscriber=subscriber, start_date=data["start_date"], end_date=data["end_date"],
        actor=request.user,
    )
    text = _("Voluntary block from %(start)s to %(end)s set.")
    if block.cost:
        text += " " + _("Its cost, %(cost)s, is charged.")
    messages.success(request, text % {"start": _day(block.start_date),
                                      "end": _day(block.end_date), "cost": block.cost})


def _lift_block(request, subscriber, data) -> None:
    # The service picks the block again under its lock: the one this page showed, unless
    # it ended meanwhile (then its refusal shows).
    block = voluntary_block_lift(subscriber=subscriber, actor=request.user).block
    messages.success(request, _("Voluntary block from %(start)s to %(end)s lifted.")
                     % {"start": _day(block.start_date), "end": _day(block.end_date)})


class _Confirm(forms.Form):
    """The lift page has nothing to type: a POST confirms."""


def _page(model_admin, request, object_id: str, *, kind: str):
    opts = model_admin.model._meta
    subscriber = model_admin.get_object(request, unquote(object_id))
    if subscriber is None:
        return model_admin._get_obj_does_not_exist_redirect(request, opts, object_id)
    permission, title = {
        "promised": (PROMISED_PERMISSION, _("Promised payment")),
        "vblock": (VBLOCK_PERMISSION, _("Voluntary block")),
        "vblock_lift": (VBLOCK_LIFT_PERMISSION, _("Lift voluntary block")),
    }[kind]
    if not _can_change(model_admin, request, subscriber, permission):
        raise PermissionDenied
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[subscriber.pk])
    data = request.POST if request.method == "POST" else None
    block = None
    if kind == "promised":
        terms = promised_terms(billing_options(), subscriber.tariff)
        form = PromisedPaymentForm(data, initial={"amount": terms.amount, "days": terms.days})
        action = _take_promised
    elif kind == "vblock":
        form = VoluntaryBlockForm(data, initial={"start_date": _today()})
        action = _create_block
    else:
        block = voluntary_block_current(subscriber.pk, _today())
        if block is None:
            messages.warning(request, _("There is no voluntary block to lift"))
            return HttpResponseRedirect(change_url)
        form = _Confirm(data)
        action = _lift_block
    if data is not None and form.is_valid():
        try:
            action(request, subscriber, form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": subscriber,
        "account": Account.objects.filter(pk=subscriber.pk).first(),
        "form": form,
        "kind": kind,
        "vblock": block,  # not "block": templates keep that name for {% block %}
        "title": title,
        "subtitle": str(subscriber),
        "change_url": change_url,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, TEMPLATE, context)


def promised_payment_view(model_admin, request, object_id: str):
    """Take a promised payment for one subscriber (billing.services.promised_payment_take)."""
    return _page(model_admin, request, object_id, kind="promised")


def voluntary_block_view(model_admin, request, object_id: str):
    """Set a voluntary block from a start to an end date (voluntary_block_create)."""
    return _page(model_admin, request, object_id, kind="vblock")


def voluntary_block_lift_view(model_admin, request, object_id: str):
    """Lift the block in force today, or cancel the planned one (voluntary_block_lift;
    the page shows billing.selectors.voluntary_block_current first)."""
    return _page(model_admin, request, object_id, kind="vblock_lift")
