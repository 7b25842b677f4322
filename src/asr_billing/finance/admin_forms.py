"""Operator forms that move money: a payment and a manual correction for one subscriber.

Amounts are parsed strictly (core.money.parse_amount): digits with at most 2 decimal
places, a comma allowed, never rounded and never a float.
"""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import MAX_AMOUNT, MoneyError, parse_amount, too_large
from asr_billing.finance.models import PaymentOperator


class AmountField(forms.Field):
    """Money typed by an operator -> Decimal with 2 places, or a clear error."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 12})

    def __init__(self, *, positive: bool, **kwargs):
        self.positive = positive
        super().__init__(**kwargs)

    def to_python(self, value):
        text = "" if value is None else str(value).strip()
        if text in self.empty_values:
            return None
        if too_large(text):
            raise forms.ValidationError(
                _("The amount is too large: at most %(max)s.") % {"max": MAX_AMOUNT},
                code="too_large",
            )
        try:
            amount = parse_amount(text, positive=self.positive) if len(text) <= 20 else None
        except MoneyError:
            amount = None
        if amount is None or (not self.positive and amount == 0):
            if self.positive:
                message = _("Enter an amount greater than zero with at most 2 decimal "
                            "places, e.g. 500 or 500.50.")
            else:
                message = _("Enter a non-zero amount with at most 2 decimal places: "
                            "positive to credit, negative to debit, e.g. -150.00.")
            raise forms.ValidationError(message, code="invalid_amount")
        return amount


class PaymentForm(forms.Form):
    amount = AmountField(label=capfirst(_("amount")), positive=True)
    operator = forms.ModelChoiceField(
        label=capfirst(_("payment operator")),
        queryset=PaymentOperator.objects.filter(enabled=True),
        required=False,
        help_text=_("Leave empty for a payment at the office."),
    )
    external_id = forms.CharField(
        label=capfirst(_("external id")),
        max_length=100,
        required=False,
        help_text=_("The operator's payment number: the payment is registered only once "
                    "per operator and number."),
    )
    description = forms.CharField(
        label=capfirst(_("description")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("external_id") or "").strip() and not cleaned.get("operator"):
            self.add_error("operator", _("A payment id needs a payment operator"))
        return cleaned


class CorrectionForm(forms.Form):
    amount = AmountField(
        label=capfirst(_("amount")),
        positive=False,
        help_text=_("Positive to credit the account, negative to debit it."),
    )
    description = forms.CharField(
        label=capfirst(_("description")),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the balance is corrected; saved in the ledger and the audit log."),
    )
