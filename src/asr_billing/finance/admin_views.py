"""Admin pages that move money for one subscriber: "Register payment" and "Correction".

They are reached from the subscriber's change page (object-tools buttons) and call
finance.services; a refusal is shown on the form and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from asr_billing.core.admin_mixins import money_text
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.admin_forms import CorrectionForm, PaymentForm
from asr_billing.finance.models import Account
from asr_billing.finance.services import correction_post, payment_register

MONEY_PERMISSION = "finance.add_operation"
CORRECTION_PERMISSION = "finance.post_correction"


def can_post_money(request) -> bool:
    """Who may register payments (the ledger admin itself adds nothing)."""
    return request.user.has_perm(MONEY_PERMISSION)


def can_post_correction(request) -> bool:
    """Who may also correct a balance by hand (not a cashier: core/roles.py)."""
    return can_post_money(request) and request.user.has_perm(CORRECTION_PERMISSION)


def _register_payment(request, subscriber, data) -> None:
    result = payment_register(
        subscriber=subscriber,
        amount=data["amount"],
        actor=request.user,
        operator=data.get("operator"),
        external_id=data.get("external_id") or "",
        description=data.get("description") or "",
    )
    operation = result.operation
    if result.created:
        messages.success(
            request,
            _("Payment of %(amount)s registered (operation #%(id)s). Balance: %(balance)s.")
            % {"amount": money_text(operation.amount), "id": operation.pk,
               "balance": money_text(operation.balance_after)},
        )
    else:
        messages.warning(
            request,
            _("This payment was registered before (operation #%(id)s); nothing was added.")
            % {"id": operation.pk},
        )


def _post_correction(request, subscriber, data) -> None:
    operation = correction_post(
        subscriber=subscriber,
        amount=data["amount"],
        actor=request.user,
        description=data["description"],
    )
    messages.success(
        request,
        _("Correction of %(amount)s posted (operation #%(id)s). Balance: %(balance)s.")
        % {"amount": money_text(operation.amount), "id": operation.pk,
           "balance": money_text(operation.balance_after)},
    )


KINDS = {
    "payment": (PaymentForm, _register_payment),
    "correction": (CorrectionForm, _post_correction),
}


def subscriber_money_view(model_admin, request, object_id: str, kind: str):
    """The payment or correction form of one subscriber (``kind``: "payment"/"correction")."""
    opts = model_admin.model._meta
    subscriber = model_admin.get_object(request, unquote(object_id))
    if subscriber is None:
        return model_admin._get_obj_does_not_exist_redirect(request, opts, object_id)
    allowed = can_post_correction(request) if kind == "correction" else can_post_money(request)
    if not (model_admin.has_view_permission(request, subscriber) and allowed):
        raise PermissionDenied
    form_class, action = KINDS[kind]
    change_url = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[subscriber.pk]
    )
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(request, subscriber, form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return HttpResponseRedirect(change_url)
    account = Account.objects.filter(pk=subscriber.pk).first()
    title = _("Register payment") if kind == "payment" else _("Balance correction")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": subscriber,
        "account": account,
        "form": form,
        "kind": kind,
        "title": title,
        "subtitle": str(subscriber),
        "change_url": change_url,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/finance/subscriber_money_form.html", context)
