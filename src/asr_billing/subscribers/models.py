"""Groups (a folder tree), subscribers ("abonents"), their attributes and services."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Group(models.Model):
    """A folder of subscribers; Carbon's Abonents with is_folder=1. 1C asks by parent_id."""

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    comments = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="group_name_unique_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Subscriber(models.Model):
    """A contract with the ISP. Carbon calls it Abonent; its logins are "Users"."""

    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="subscribers"
    )
    name = models.CharField(_("name"), max_length=255, db_index=True)
    contract_number = models.CharField(_("contract number"), max_length=32, unique=True)
    is_company = models.BooleanField(_("legal entity"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    sms_phone = models.CharField(_("phone for SMS"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    apartment = models.CharField(_("apartment"), max_length=32, blank=True)
    code1c = models.CharField(_("1C code"), max_length=64, blank=True)
    synced_1c = models.BooleanField(_("synced with 1C"), default=False)
    tariff = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscribers",
    )
    # A scheduled tariff change, applied by the billing run on that date (Carbon's
    # tarif_next / tarif_next_date, which REST v2 clients set directly).
    tariff_next = models.ForeignKey(
        "tariffs.Tariff",
        verbose_name=_("next tariff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tariff_next_date = models.DateField(_("next tariff from"), null=True, blank=True)
    # State flags, kept current by services in the same transaction as the change that
    # moves them (finance.state for negbal, billing for the voluntary block), so the
    # collector lists are plain indexed filters.
    admin_blocked = models.BooleanField(_("blocked by administrator"), default=False)
    admin_block_reason = models.CharField(_("block reason"), max_length=255, blank=True)
    voluntary_blocked = models.BooleanField(_("voluntary block"), default=False)
    negbal = models.BooleanField(
        _("cut off by balance"),
        default=False,
        help_text=_("Balance + credit + promised payment is below the disconnect threshold."),
    )
    connected_on = models.DateField(_("connected on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    comments = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["id"]
        indexes = [
            # The subscribers cut off for lack of money, a few per cent of them: the
            # notifications' cut-off step asks for them every tick (notify/state_events.py).
            # Partial, so the other 95 % cost nothing and a balance change that does not
            # cross the threshold writes no index entry.
            models.Index(fields=["id"], condition=Q(negbal=True), name="subscriber_cut_off"),
            # The admin's dashboard counts subscribers by state (core/dashboard.py): read
            # from this index, a few MB at a million (eight keys; PostgreSQL deduplicates
            # them), instead of the whole table — 0.7 s -> 0.14 s on PostgreSQL.
            models.Index(fields=["negbal", "admin_blocked", "voluntary_blocked"],
                         name="subscriber_states"),
        ]
        constraints = [
            # 1C creates subscribers idempotently by its own code.
            models.UniqueConstraint(
                fields=["code1c"], condition=~Q(code1c=""), name="subscriber_code1c_unique"
            ),
            models.CheckConstraint(
                condition=Q(tariff_next__isnull=True) | Q(tariff_next_date__isnull=False),
                name="subscriber_tariff_next_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_number} {self.name}"

    @property
    def is_blocked(self) -> bool:
        """Blocked in the collector's sense: by the administrator or by the subscriber."""
        return self.admin_blocked or self.voluntary_blocked


class Attribute(models.Model):
    """An attribute kind. Ids are Carbon's where 1C reads them: 4 INN, 5 KPP,
    25 legal address, 26 actual address."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class AttributeValue(models.Model):
    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="attributes",
    )
    attribute = models.ForeignKey(
        Attribute, verbose_name=_("attribute"), on_delete=models.PROTECT, related_name="values"
    )
    value = models.TextField(_("value"), blank=True)

    class Meta:
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "attribute"], name="attribute_value_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.value}"


class SubscriberService(models.Model):
    """A service connected to a subscriber (Carbon's UsersUsluga)."""

    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.PROTECT, related_name="services"
    )
    service = models.ForeignKey(
        "tariffs.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="+"
    )
    enabled_on = models.DateField(_("connected on"))
    disabled_on = models.DateField(_("disconnected on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    comment = models.CharField(_("comment"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("subscriber service")
        verbose_name_plural = _("subscriber services")
        ordering = ["id"]
        constraints = [
            # One open connection of a service per subscriber.
            models.UniqueConstraint(
                fields=["subscriber", "service"],
                condition=Q(disabled_on__isnull=True),
                name="subscriber_service_one_open",
            ),
            models.CheckConstraint(
                condition=Q(disabled_on__isnull=True) | Q(disabled_on__gte=models.F("enabled_on")),
                name="subscriber_service_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.service}"
