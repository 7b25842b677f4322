"""Stored reports of registry reconciliations (finance/reconcile.py makes them).

A report is history: written once in one transaction with all its lines, never changed
(the admin shows it read-only). Posting the missing payments of a report makes a new
report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from asr_billing.core.money import ZERO, MoneyField


class Category(models.TextChoices):
    """Where a payment stands. ``MATCHED`` is the only agreement; a ``MISSING_IN_BILLING``
    line posted by the run (or found posted meanwhile) agrees too (``resolved``)."""

    MATCHED = "matched", _("matched")
    MISSING_IN_BILLING = "missing_in_billing", _("missing in the billing")
    MISSING_IN_REGISTRY = "missing_in_registry", _("missing in the registry")
    MISMATCHED = "mismatched", _("amount or account differs")
    REVERSED = "reversed", _("reversed in the billing")


class Reconciliation(models.Model):
    """One registry compared with the ledger: the payments of one payment operator."""

    gateway = models.CharField(
        _("gateway"), max_length=80, help_text=_("The gateway instance, <type>.<name>.")
    )
    operator = models.ForeignKey(
        "finance.PaymentOperator",
        verbose_name=_("payment operator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registry_format = models.CharField(_("registry format"), max_length=20)
    date_from = models.DateField(_("registry date"))
    date_to = models.DateField(
        _("registry last date"),
        help_text=_("Equal to the registry date unless the registry spans several days."),
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    registry_count = models.PositiveIntegerField(_("payments in the registry"), default=0)
    registry_amount = MoneyField(_("registry total"), default=ZERO)
    registry_fee = MoneyField(
        _("fees in the registry"), null=True, blank=True,
        help_text=_("What the bank kept; empty when the registry has no fees."),
    )
    billing_count = models.PositiveIntegerField(_("payments in the billing"), default=0)
    billing_amount = MoneyField(
        _("billing total"),
        default=ZERO,
        help_text=_("The operator's payments this report compares, after posting; equal to "
                    "the registry total when everything matches."),
    )
    matched_count = models.PositiveIntegerField(_("matched"), default=0)
    missing_in_billing_count = models.PositiveIntegerField(_("missing in the billing"), default=0)
    missing_in_registry_count = models.PositiveIntegerField(
        _("missing in the registry"), default=0
    )
    mismatched_count = models.PositiveIntegerField(_("amount or account differs"), default=0)
    reversed_count = models.PositiveIntegerField(_("reversed in the billing"), default=0)
    post_missing = models.BooleanField(_("post missing payments"), default=False)
    posted_count = models.PositiveIntegerField(_("payments posted"), default=0)
    posted_amount = MoneyField(_("amount posted"), default=ZERO)
    unresolved_count = models.PositiveIntegerField(
        _("lines that differ"),
        default=0,
        help_text=_("Lines where the registry and the billing still disagree after this run; "
                    "0: everything matches."),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.CharField(_("run by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("registry reconciliation")
        verbose_name_plural = _("registry reconciliations")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["operator", "date_from"], name="reconciliation_operator_date")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.gateway} {self.date_from}"

    @property
    def differs(self) -> bool:
        return self.unresolved_count > 0


class ReconciliationLine(models.Model):
    """One payment of a report: a registry row, a billing payment, or both."""

    reconciliation = models.ForeignKey(
        Reconciliation,
        verbose_name=_("reconciliation"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    resolved = models.BooleanField(
        _("agrees"),
        default=False,
        help_text=_("The registry and the billing agree on this payment after the run."),
    )
    line_no = models.PositiveIntegerField(
        _("registry line"), null=True, blank=True, help_text=_("Empty: not in the registry.")
    )
    txn_id = models.CharField(_("transaction id"), max_length=100, blank=True)
    account = models.CharField(_("account in the registry"), max_length=64, blank=True)
    registry_amount = MoneyField(_("registry amount"), null=True, blank=True)
    fee = MoneyField(pgettext_lazy("bank fee", "fee"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    operation = models.ForeignKey(
        "finance.Operation",
        verbose_name=_("operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    billing_amount = MoneyField(_("billing amount"), null=True, blank=True)
    contract_number = models.CharField(_("billing contract"), max_length=32, blank=True)
    posted = models.BooleanField(_("posted by this run"), default=False)
    message = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("reconciliation line")
        verbose_name_plural = _("reconciliation lines")
        ordering = ["id"]
        # A later report asks whether a registry listed a transaction id already.
        indexes = [models.Index(fields=["txn_id"], name="reconciliation_line_txn")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.txn_id}"
