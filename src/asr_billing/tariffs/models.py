"""Tariffs (plans with a fee and HTB shaping rates) and services ("uslugi")."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
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


class PartialMonth(models.TextChoices):
    """How a monthly tariff charges a month it starts or ends part-way through."""

    PRORATA = "prorata", _("Pro rata by days")
    FULL = "full", _("Full month")


class NegativePolicy(models.TextChoices):
    """Whether fees are charged when money runs out (Stargazer's FeeChargeType 0/1/2)."""

    DEFAULT = "default", _("As in the configuration (billing['charge.when_negative'])")
    ALWAYS = "always", _("Always")
    NOT_NEGATIVE = "not_negative", _("Not when the money available is below zero")
    NOT_BELOW_FEE = "not_below_fee", _("Not when the money available is below the fee")


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
        _("charge method"),
        max_length=20,
        choices=ChargeMethod.choices,
        default=ChargeMethod.MONTHLY,
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
    # Billing options (docs/billing.md explains each with examples).
    monthly_charge_day = models.PositiveSmallIntegerField(
        _("monthly charge day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_(
            "Monthly method: the day of the month the fee is charged on; days past the end "
            "of a short month mean its last day (31 = always the last day)."
        ),
    )
    partial_month = models.CharField(
        _("partial month"),
        max_length=10,
        choices=PartialMonth.choices,
        default=PartialMonth.PRORATA,
        help_text=_(
            "Monthly method: a month the subscriber starts or leaves the tariff part-way "
            "through is charged by days, or in full (no refund when leaving)."
        ),
    )
    negative_policy = models.CharField(
        _("charge when money runs out"),
        max_length=20,
        choices=NegativePolicy.choices,
        default=NegativePolicy.DEFAULT,
    )
    voluntary_block_fee = MoneyField(
        _("fee during a voluntary block"),
        default=ZERO,
        help_text=_(
            "Charged instead of the fee for the days of a voluntary block, per period of the "
            "charge method (per day for daily, per month otherwise). 0: free."
        ),
    )
    promised_amount = MoneyField(
        _("promised payment amount"),
        null=True,
        blank=True,
        help_text=_("Empty: billing['promised.amount']. 0: no promised payment on this tariff."),
    )
    promised_days = models.PositiveSmallIntegerField(
        _("promised payment days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Empty: billing['promised.days']."),
    )
    promised_max_per_month = models.PositiveSmallIntegerField(
        _("promised payments per month"),
        null=True,
        blank=True,
        help_text=_("Empty: billing['promised.max_per_month']. 0: unlimited."),
    )
    promised_only_when_cut_off = models.BooleanField(
        _("promised payment only when cut off"),
        null=True,
        blank=True,
        help_text=_("Empty: billing['promised.only_when_cut_off']."),
    )

    # The cabinet's tariff change (billing.tariff_choice): a subscriber moves from the
    # cabinet only between available tariffs of one line; a tariff without a line is
    # neither left nor chosen there (the operator changes it).
    web_line = models.CharField(
        _("line in the cabinet"),
        max_length=100,
        blank=True,
        help_text=_(
            "Subscribers may change, from the cabinet, between the available tariffs of one "
            "line (e.g. Home). Empty: this tariff is not changed from the cabinet."
        ),
    )
    web_change_in_debt = models.BooleanField(
        _("left from the cabinet in debt"),
        default=False,
        help_text=_("A subscriber on this tariff with a balance below zero may still change it."),
    )

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="tariff_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(monthly_charge_day__gte=1, monthly_charge_day__lte=31),
                name="tariff_charge_day_range",
            ),
            models.CheckConstraint(
                condition=Q(voluntary_block_fee__gte=0), name="tariff_block_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(promised_amount__isnull=True) | Q(promised_amount__gte=0),
                name="tariff_promised_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """An extra service a subscriber can have on top of the tariff (static IP, TV, ...)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    fee = MoneyField(_("fee"), default=ZERO)
    charge_method = models.CharField(
        _("charge method"),
        max_length=20,
        choices=ChargeMethod.choices,
        default=ChargeMethod.MONTHLY,
    )
    comments = models.TextField(_("comments"), blank=True)
    is_show_web = models.BooleanField(_("shown in the cabinet"), default=True)
    web_allow_enable = models.BooleanField(_("can be connected from the cabinet"), default=True)
    web_allow_disable = models.BooleanField(_("can be disconnected from the cabinet"), default=True)
    is_active = models.BooleanField(_("available"), default=True)
    # An IPTV package: the channels its subscribers may watch, one name per line, as the
    # IPTV server names them (collector_manager.collector_iptv_accept_list_get). Kept
    # normalised by tariffs.services (stripped, no blank lines, no case-blind repeats).
    channels = models.TextField(
        _("TV channels"),
        blank=True,
        help_text=_(
            "IPTV package: one channel name per line, as the IPTV server names them "
            "(compared without regard to case). Subscribers who have this service, are not "
            "blocked and not cut off by balance may watch them. Empty: not an IPTV package."
        ),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee__gte=0), name="service_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_list(self) -> list[str]:
        return channel_names(self.channels)


def channel_names(text: str) -> list[str]:
    """The channel names of a ``Service.channels`` text, in its order."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
