"""Credit-side states of a subscriber that the billing engine maintains.

A promised payment raises the money available for a few days without being money:
it is not a ledger row. A voluntary block pauses service between two dates.
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

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.start_date}…{self.end_date}"
