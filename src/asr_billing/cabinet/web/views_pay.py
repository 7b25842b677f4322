"""The cabinet's Pay online page: the amount (the recommended payment offered), the way
to pay when the ISP allows more than one, then the online-payment order the system API's
web_cabinet.add_payment_operation creates (cabinet.payments.pending_payment_create) and a
redirect to the acquirer's page (cabinet['payment.acquirer_url']). The money is credited
only when the bank confirms the order (pending_payment_confirm, exactly once); the page
shows each order's state when the subscriber comes back.

With cabinet['payment.test_acquirer'] = yes (the demo) the acquirer is the billing's own
test page, marked as such on every line: its "Pay" confirms the order as a bank's callback
would, its "Decline" cancels it. No money moves; never on a live billing."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from asr_billing.cabinet import selectors
from asr_billing.cabinet.models import PendingPayment, PendingStatus
from asr_billing.cabinet.payments import (
    cabinet_amount,
    pending_payment_cancel,
    pending_payment_confirm,
    pending_payment_create,
)
from asr_billing.cabinet.web.auth import cabinet_page, client_address
from asr_billing.cabinet.web.words import in_words
from asr_billing.core import runtime
from asr_billing.core.errors import ApplicationError
from asr_billing.core.money import fmt
from asr_billing.finance.models import PaymentOperator

ORDERS_SHOWN = 10
MAX_AMOUNT = Decimal("100000.00")  # roubles in one online payment; a typo guard
TEST_ACQUIRER = "test-acquirer"  # the actor of its confirmations in the ledger and audit


def _operators() -> list[PaymentOperator]:
    """The enabled operators of cabinet['payment.operators'], in the config's order."""
    codes = runtime.current().get("cabinet", "payment.operators").split()
    found = {op.code: op for op in PaymentOperator.objects.filter(code__in=codes, enabled=True)}
    return [found[code] for code in codes if code in found]


def _test_acquirer() -> bool:
    return runtime.current().get("cabinet", "payment.test_acquirer") == "yes"


def _acquirer_url() -> str:
    return runtime.current().get("cabinet", "payment.acquirer_url")


class PayForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("Amount, roubles"), max_length=20,
                             error_messages={"required": gettext_lazy("Enter the amount.")})
    operator = forms.ChoiceField(label=gettext_lazy("Pay with"))

    def __init__(self, *args, operators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].choices = [(op.code, op.name) for op in operators]
        if len(operators) == 1:
            self.fields["operator"].widget = forms.HiddenInput()
            self.fields["operator"].initial = operators[0].code

    def clean_amount(self) -> Decimal:
        text = self.cleaned_data["amount"].strip().replace(",", ".").replace(" ", "")
        try:
            amount = cabinet_amount(text)
        except ApplicationError:
            raise forms.ValidationError(
                _("Enter an amount in roubles such as 500 or 500.50.")) from None
        if amount > MAX_AMOUNT:
            raise forms.ValidationError(_("At most %(max)s in one payment.")
                                        % {"max": fmt(MAX_AMOUNT)})
        return amount


def _to_acquirer(request, order: PendingPayment) -> HttpResponseRedirect:
    if _test_acquirer():
        return redirect("cabinet:pay_test", order_id=order.pk)
    back = request.build_absolute_uri(reverse("cabinet:pay") + f"?order={order.pk}")
    url = _acquirer_url().format(
        order=order.pk, amount=quote(fmt(order.amount)),
        contract=quote(order.subscriber.contract_number, safe=""), **{"return": quote(
            back, safe="")})
    return HttpResponseRedirect(url)


@cabinet_page
def pay(request):
    login = request.cabinet.login
    subscriber = login.subscriber
    operators = _operators()
    enabled = bool(operators) and (_test_acquirer() or bool(_acquirer_url()))
    money = selectors.money_state(subscriber, selectors.today())
    initial = money.minimal_pay if money.minimal_pay > 0 else money.recommended_pay
    form = PayForm(request.POST or None, operators=operators,
                   initial={"amount": fmt(initial) if initial > 0 else ""})
    status = 200
    if request.method == "POST":
        if not enabled:
            raise Http404
        if form.is_valid():
            try:
                order = pending_payment_create(
                    session=request.cabinet, amount=form.cleaned_data["amount"],
                    operator=form.cleaned_data["operator"], src_ip=client_address(request))
            except ApplicationError as exc:
                form.add_error(None, in_words(exc))
            else:
                return _to_acquirer(request, order)
        status = 400
    orders = list(PendingPayment.objects.filter(subscriber_id=subscriber.pk)
                  .select_related("operator").order_by("-created_at", "-id")[:ORDERS_SHOWN])
    returned = None
    if request.GET.get("order", "").isdigit():
        returned = next((o for o in orders if o.pk == int(request.GET["order"])), None)
    return render(request, "cabinet/pay.html", {
        "nav": "pay", "login": login, "form": form, "enabled": enabled, "money": money,
        "orders": orders, "returned": returned, "test_acquirer": _test_acquirer(),
    }, status=status)


@cabinet_page
def pay_test(request, order_id: int):
    """The test acquirer: only with payment.test_acquirer = yes, only the visitor's own
    orders."""
    if not _test_acquirer():
        raise Http404
    order = (PendingPayment.objects.select_related("operator", "subscriber")
             .filter(pk=order_id, subscriber_id=request.cabinet.login.subscriber_id).first())
    if order is None:
        raise Http404
    if request.method == "POST" and order.status == PendingStatus.PENDING:
        try:
            if request.POST.get("outcome") == "decline":
                pending_payment_cancel(payment_id=order.pk, actor=TEST_ACQUIRER)
                messages.error(request, _("The payment was declined; nothing was charged."))
            else:
                pending_payment_confirm(payment_id=order.pk, actor=TEST_ACQUIRER,
                                        amount=order.amount,
                                        bank_reference=f"TEST-{order.pk}")
                messages.success(request, _("The payment of %(amount)s is credited.")
                                 % {"amount": fmt(order.amount)})
        except ApplicationError as exc:
            messages.error(request, in_words(exc))
        return redirect(reverse("cabinet:pay") + f"?order={order.pk}")
    if order.status != PendingStatus.PENDING:
        return redirect(reverse("cabinet:pay") + f"?order={order.pk}")
    return render(request, "cabinet/pay_test.html", {"order": order})
