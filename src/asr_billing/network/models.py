"""NAS devices, subscriber logins ("Users" in Carbon) and online sessions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NasType(models.TextChoices):
    MIKROTIK = "mikrotik", "MikroTik"
    CISCO = "cisco", "Cisco"
    JUNIPER = "juniper", "Juniper"
    ACCEL_PPP = "accel-ppp", "accel-ppp"
    XGE = "xge", "Carbon XGE"
    OTHER = "other", _("Other")


class Nas(models.Model):
    name = models.CharField(_("name"), max_length=200)
    ip = models.GenericIPAddressField(_("IP address"), unique=True)
    nas_type = models.CharField(_("type"), max_length=20, choices=NasType.choices, default="other")
    # Encrypted with the home folder's key (network.crypto): FreeRADIUS needs it in clear.
    radius_secret_enc = models.TextField(_("RADIUS secret (encrypted)"), blank=True, editable=False)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("NAS")
        verbose_name_plural = _("NAS devices")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ip})"


class Login(models.Model):
    """A login of a subscriber: PPPoE/IPoE credentials, IP, MAC, the NAS it lives on."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        verbose_name=_("subscriber"),
        on_delete=models.PROTECT,
        related_name="logins",
    )
    login = models.CharField(_("login"), max_length=64, unique=True)
    # Encrypted, not hashed: CHAP/MS-CHAP need the cleartext. Never logged or returned.
    password_enc = models.TextField(_("password (encrypted)"), blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    mac = models.CharField(_("MAC address"), max_length=17, blank=True)
    snat_ip = models.GenericIPAddressField(_("SNAT IP"), null=True, blank=True)
    nas = models.ForeignKey(
        Nas,
        verbose_name=_("NAS"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logins",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    comments = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("login")
        verbose_name_plural = _("logins")
        ordering = ["login"]
        constraints = [
            # An IP belongs to one active login; a disabled login may keep a stale one.
            models.UniqueConstraint(
                fields=["ip"],
                condition=Q(enabled=True, ip__isnull=False),
                name="login_ip_unique_when_enabled",
            ),
        ]

    def __str__(self) -> str:
        return self.login


class OnlineSession(models.Model):
    """A RADIUS accounting session. Open while ``stopped_at`` is empty."""

    login = models.ForeignKey(
        Login, verbose_name=_("login"), on_delete=models.PROTECT, related_name="sessions"
    )
    nas = models.ForeignKey(
        Nas, verbose_name=_("NAS"), on_delete=models.PROTECT, related_name="sessions"
    )
    acct_session_id = models.CharField(_("session id"), max_length=64)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    updated_at = models.DateTimeField(_("last update"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    input_octets = models.BigIntegerField(_("bytes in"), default=0)
    output_octets = models.BigIntegerField(_("bytes out"), default=0)

    class Meta:
        verbose_name = _("online session")
        verbose_name_plural = _("online sessions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["nas", "acct_session_id"], name="online_session_unique_per_nas"
            ),
        ]
        indexes = [
            models.Index(
                fields=["login"], condition=Q(stopped_at__isnull=True), name="online_session_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.login_id}@{self.nas_id} {self.acct_session_id}"
