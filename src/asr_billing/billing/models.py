"""What the billing engine keeps besides the ledger.

A promised payment raises the money available for a few days without being money:
it is not a ledger row. A voluntary block pauses service between two dates. A tariff
change records when a subscriber moved between tariffs (charges of past days follow it).
A recalculation links a refund of unused days to the charge it refunds (at most once).
A billing run records one charging run and the subscribers it failed on.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import ZERO, MoneyField


class PromisedPayment(models.Model):
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        on_delete=models.PROTECT,
        related_name="promised_payments",
    )
    amount = MoneyField(_("amount"))
    created_at = models.DateTimeField(_("taken"))
    expires_at = models.DateTimeField(_("expires"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    actor = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("promised payment")
        verbose_name_plural = _("promised payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promised_payment_positive"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="promised_payment_expires_after_start",
            ),
            models.UniqueConstraint(
                fields=["subscriber"],
                condition=Q(closed_at__isnull=True),
                name="promised_payment_one_active",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(closed_at__isnull=True),
                name="promised_payment_open_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.amount}"


class VoluntaryBlock(models.Model):
    """A pause the subscriber asked for, from start_date to end_date inclusive."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        on_delete=models.PROTECT,
        related_name="voluntary_blocks",
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    ended_at = models.DateTimeField(
        _("ended early"), null=True, blank=True, help_text=_("Set when lifted before end_date.")
    )
    cost = MoneyField(_("cost"), default=ZERO)
    actor = models.CharField(_("source"), max_length=100, blank=True)
    cost_operation = models.OneToOneField(
        "finance.Operation",
        verbose_name=_("cost operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("voluntary block")
        verbose_name_plural = _("voluntary blocks")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="voluntary_block_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["end_date", "start_date"], name="voluntary_block_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.start_date}…{self.end_date}"


class TariffChange(models.Model):
    """A subscriber moved from one tariff to another; charging uses the new one from
    ``effective_date`` (a local date) on. Charges for earlier days follow the old one,
    even when a run catches those days up after the change."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        on_delete=models.PROTECT,
        related_name="tariff_changes",
    )
    effective_date = models.DateField(_("effective from"))
    old_tariff = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("old tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_tariff = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("new tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scheduled = models.BooleanField(_("scheduled in advance"), default=False)
    created_at = models.DateTimeField(_("applied"), auto_now_add=True)
    actor = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("tariff change")
        verbose_name_plural = _("tariff changes")
        ordering = ["-effective_date", "-id"]
        indexes = [
            models.Index(fields=["subscriber", "effective_date"], name="tariff_change_subscriber"),
            models.Index(fields=["effective_date"], name="tariff_change_date"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.subscriber_id}: {self.old_tariff_id} → {self.new_tariff_id} "
            f"{self.effective_date}"
        )


class Recalculation(models.Model):
    """A refund of the unused days of a charge (a monthly fee charged in advance, then
    the tariff changed). One per charge, enforced by the database: never refunded twice."""

    charge = models.OneToOneField(
        "finance.Operation",
        verbose_name=_("charge"),
        on_delete=models.PROTECT,
        related_name="recalculation",
    )
    refund = models.OneToOneField(
        "finance.Operation",
        verbose_name=_("refund"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_day = models.DateField(_("first refunded day"))
    last_day = models.DateField(_("last refunded day"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("recalculation")
        verbose_name_plural = _("recalculations")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.charge_id}: {self.first_day}…{self.last_day}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted")


class BillingRun(models.Model):
    """One charging run. Counters grow in the same transaction as each batch of
    charges, so after a crash they say exactly what was committed."""

    date = models.DateField(_("charged up to"))
    first_date = models.DateField(_("charged from"))
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"))
    subscribers_seen = models.PositiveIntegerField(_("subscribers seen"), default=0)
    charges_made = models.PositiveIntegerField(_("charges made"), default=0)
    amount = MoneyField(_("amount charged"), default=ZERO, help_text=_("Positive roubles."))
    errors = models.PositiveIntegerField(_("errors"), default=0)
    fallback_batches = models.PositiveIntegerField(
        _("batches posted one by one"),
        default=0,
        help_text=_(
            "PostgreSQL: batches the set-based statement refused (see the error log), "
            "posted subscriber by subscriber instead."
        ),
    )
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    actor = models.CharField(_("started by"), max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "date"], name="billing_run_status_date")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.date} {self.status}"


class BillingRunError(models.Model):
    """A subscriber the run could not charge; the others went on."""

    run = models.ForeignKey(
        BillingRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="error_rows"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    day = models.DateField(_("day"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=30, blank=True)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("billing run error")
        verbose_name_plural = _("billing run errors")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.message[:60]}"
