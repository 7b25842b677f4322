"""Tariffs (plans with a fee and HTB shaping rates) and services ("uslugi")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from asr_billing.core.money import ZERO, MoneyField


class ChargeMethod(models.TextChoices):
    """How a fee turns into charges. Labels are the product's own terms."""

    ONCE = "once", _("Once")
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly")
    MONTHLY_SPREAD = "monthly_spread", _("Monthly, spread by day")


def _rate(label):
    return models.PositiveIntegerField(
        label, null=True, blank=True, help_text=_("kbit/s; empty: not shaped")
    )


class Tariff(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    fee = MoneyField(
        _("fee"),
        default=ZERO,
        help_text=_("Per period of the charge method: per day for daily, per month for monthly."),
    )
    charge_method = models.CharField(
        _("charge method"), max_length=20, choices=ChargeMethod.choices, default=ChargeMethod.MONTHLY
    )
    disconnect_threshold = MoneyField(
        _("disconnect threshold"),
        default=ZERO,
        help_text=_(
            "The subscriber is cut off when balance + credit + promised payment falls below it."
        ),
    )
    # HTB shaping, kbit/s: rate is guaranteed, ceil is the maximum; burst/cburst are the
    # bucket sizes the NAS scripts pass on (Carbon's collector line carries all eight).
    rate_in = _rate(_("rate in"))
    ceil_in = _rate(_("ceil in"))
    burst_in = _rate(_("burst in"))
    cburst_in = _rate(_("cburst in"))
    rate_out = _rate(_("rate out"))
    ceil_out = _rate(_("ceil out"))
    burst_out = _rate(_("burst out"))
    cburst_out = _rate(_("cburst out"))
    is_active = models.BooleanField(
        _("available"), default=True, help_text=_("Archived tariffs stay on old subscribers.")
    )
    comments = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="tariff_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """An extra service a subscriber can have on top of the tariff (static IP, TV, ...)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    fee = MoneyField(_("fee"), default=ZERO)
    charge_method = models.CharField(
        _("charge method"), max_length=20, choices=ChargeMethod.choices, default=ChargeMethod.MONTHLY
    )
    comments = models.TextField(_("comments"), blank=True)
    is_show_web = models.BooleanField(_("shown in the cabinet"), default=True)
    web_allow_enable = models.BooleanField(_("can be connected from the cabinet"), default=True)
    web_allow_disable = models.BooleanField(_("can be disconnected from the cabinet"), default=True)
    is_active = models.BooleanField(_("available"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="service_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name
