"""Accounts and the append-only operations ledger.

Sign convention: ``Operation.amount`` is the change of the balance — positive for
payments, negative for charges — so ``balance == sum(amount)`` for every account
(``asr-billing check`` proves it). A mistake is cancelled by a reversal row, never by
editing or deleting; the admin shows the ledger read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import ZERO, MoneyField


class Account(models.Model):
    """The money side of a subscriber; shares its primary key (one account each)."""

    subscriber = models.OneToOneField(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    # A cache of sum(operations.amount), updated in the transaction that adds each row.
    balance = MoneyField(_("balance"), default=ZERO, editable=False)
    credit_limit = MoneyField(
        _("credit limit"),
        default=ZERO,
        help_text=_("How far below zero the subscriber may go before being cut off."),
    )
    # Sum of active promised payments, kept by the billing services.
    promised_amount = MoneyField(_("promised payment"), default=ZERO, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="account_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(promised_amount__gte=0), name="account_promised_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.subscriber_id}"


class PaymentOperator(models.Model):
    """A source of payments: a terminal network, a bank, the cash desk (SBERBANK_OSMP)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("payment operator")
        verbose_name_plural = _("payment operators")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class OperationType(models.IntegerChoices):
    """Type ids 1, 2 and 11 are Carbon's (1C filters on them); the rest are ours."""

    CHARGE = 1, _("Charge (act)")
    PAYMENT = 2, _("Payment")
    AGENT_INVOICE = 11, _("Agent invoice")
    CORRECTION = 20, _("Correction")
    REVERSAL = 21, _("Reversal")


class Operation(models.Model):
    # No index of its own: (account, op_date) below leads with it.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="operations",
    )
    type = models.PositiveSmallIntegerField(_("type"), choices=OperationType.choices)
    amount = MoneyField(_("amount"), help_text=_("Change of the balance: + payment, − charge."))
    balance_after = MoneyField(_("balance after"))
    op_date = models.DateTimeField(_("date"), default=timezone.now)
    created_at = models.DateTimeField(_("posted"), auto_now_add=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
    )
    actor = models.CharField(_("source"), max_length=100, blank=True)
    # Payments: who sent it and their id for it; unique together (exactly once).
    pay_operator = models.ForeignKey(
        PaymentOperator,
        verbose_name=_("payment operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="operations",
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    code1c = models.CharField(_("1C code"), max_length=64, blank=True)
    synced_1c = models.BooleanField(_("synced with 1C"), default=False)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    # Charges: what was charged for which period; unique per account (exactly once).
    tariff = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
    )
    service = models.ForeignKey(
        "tariffs.Service",
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["-id"]
        # "add operation" registers payments; a correction changes a balance by hand,
        # which a cashier may not (core/roles.py).
        permissions = [("post_correction", _("Can post balance corrections"))]
        indexes = [
            models.Index(fields=["account", "op_date"], name="operation_account_date"),
            # By type and date, and covering what the admin's reports and dashboard read
            # of a range (core/reports.py, core/monthly_reports.py, core/dashboard.py), so
            # a month's million charges or payments are summed from the index alone
            # (PostgreSQL: an index-only scan; SQLite: a covering index) instead of a
            # table row each. The columns after op_date are read, not searched.
            models.Index(
                fields=["type", "op_date", "pay_operator", "tariff", "service", "account",
                        "amount"],
                name="operation_type_date",
            ),
            # These keys are empty on most rows (a charge has no operator, no staff user;
            # a payment no tariff): partial indexes keep lookups by them fast without
            # costing every charge row four index entries (bench/billing_run.py).
            *[
                models.Index(
                    fields=[name],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"operation_{name}_set",
                )
                for name in ("created_by", "pay_operator", "tariff", "service")
            ],
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="operation_amount_not_zero"),
            models.CheckConstraint(
                condition=~Q(type=OperationType.PAYMENT) | Q(amount__gt=0),
                name="operation_payment_positive",
            ),
            models.CheckConstraint(
                condition=~Q(type__in=[OperationType.CHARGE, OperationType.AGENT_INVOICE])
                | Q(amount__lt=0),
                name="operation_charge_negative",
            ),
            models.CheckConstraint(
                condition=Q(type=OperationType.REVERSAL, reverses__isnull=False)
                | (~Q(type=OperationType.REVERSAL) & Q(reverses__isnull=True)),
                name="operation_reversal_links_original",
            ),
            # A charge names exactly one tariff or service and its period: the exactly-once
            # keys below are made of them, and a NULL would slip past a unique index.
            models.CheckConstraint(
                condition=~Q(type=OperationType.CHARGE)
                | (
                    Q(period_start__isnull=False)
                    & (
                        Q(tariff__isnull=False, service__isnull=True)
                        | Q(tariff__isnull=True, service__isnull=False)
                    )
                ),
                name="operation_charge_has_key",
            ),
            models.CheckConstraint(
                condition=Q(external_id="") | Q(pay_operator__isnull=False),
                name="operation_external_id_needs_operator",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="operation_period_ordered",
            ),
            # Exactly once: a payment per (operator, external id) ...
            models.UniqueConstraint(
                fields=["pay_operator", "external_id"],
                condition=~Q(external_id=""),
                name="operation_payment_once",
            ),
            # ... a 1C document per its code ...
            models.UniqueConstraint(
                fields=["code1c"], condition=~Q(code1c=""), name="operation_code1c_once"
            ),
            # ... and a charge per (subscriber, tariff or service, period).
            models.UniqueConstraint(
                fields=["account", "tariff", "period_start"],
                condition=Q(type=OperationType.CHARGE, tariff__isnull=False),
                name="operation_tariff_charge_once",
            ),
            models.UniqueConstraint(
                fields=["account", "service", "period_start"],
                condition=Q(type=OperationType.CHARGE, service__isnull=False),
                name="operation_service_charge_once",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()} {self.amount}"

    @property
    def is_reversed(self) -> bool:
        return hasattr(self, "reversed_by")


# Registry reconciliation reports live in their own module (imported here so Django sees
# them as this app's models).
from asr_billing.finance.models_reconcile import (  # noqa: E402, F401
    Reconciliation,
    ReconciliationLine,
)
