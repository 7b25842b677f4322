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
    # RFC 5176 CoA / Disconnect-Request port (MikroTik: /radius incoming, accel-ppp: dae-server).
    coa_port = models.PositiveIntegerField(_("CoA port"), default=3799)
    # IPoE: what identifies the subscriber in an Access-Request without a password.
    ipoe_match = models.CharField(
        _("IPoE match by"),
        max_length=8,
        choices=[("ip", _("IP address (Framed-IP-Address)")),
                 ("mac", _("MAC address (Calling-Station-Id)"))],
        default="ip",
    )

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
        indexes = [
            # IPoE matched by MAC (Nas.ipoe_match = "mac") finds the login by it on every
            # Access-Request; only logins that have one are indexed.
            models.Index(fields=["mac"], condition=~Q(mac=""), name="login_mac"),
        ]

    def __str__(self) -> str:
        return self.login


class OnlineSession(models.Model):
    """A RADIUS accounting session. Open while ``stopped_at`` is empty.

    Keyed by ``acct_unique_id`` (FreeRADIUS's Acct-Unique-Session-Id, made in preacct from
    the NAS and its Acct-Session-Id): a NAS restarts its session ids after a reboot, so
    (NAS, Acct-Session-Id) alone is not unique over time. Octets include the Gigawords.
    """

    login = models.ForeignKey(
        Login, verbose_name=_("login"), on_delete=models.PROTECT, related_name="sessions"
    )
    nas = models.ForeignKey(
        Nas, verbose_name=_("NAS"), on_delete=models.PROTECT, related_name="sessions"
    )
    acct_session_id = models.CharField(_("session id"), max_length=64)
    acct_unique_id = models.CharField(_("unique session id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    calling_station_id = models.CharField(_("calling station (MAC)"), max_length=64, blank=True)
    nas_port_id = models.CharField(_("NAS port"), max_length=64, blank=True)
    # The Class our authorize reply gave (network.radius_class): ties accounting to it.
    class_token = models.CharField(_("authorization class"), max_length=64, blank=True)
    # The access our authorize gave, from the Class: "f" full, "n" the no money profile,
    # "" not known (another server's Class). network.coa compares it with the state now.
    access = models.CharField(
        _("access given"), max_length=1, blank=True,
        choices=[("f", _("full")), ("n", _("no money profile"))],
    )
    started_at = models.DateTimeField(_("started"))
    updated_at = models.DateTimeField(_("last update"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    # Acct-Terminate-Cause as its name ("User-Request"), or ours: "NAS-Reboot" for
    # Accounting-On/Off, "Stale" for a session closed after missing its interims.
    terminate_cause = models.CharField(_("terminate cause"), max_length=32, blank=True)
    input_octets = models.BigIntegerField(_("bytes in"), default=0)
    output_octets = models.BigIntegerField(_("bytes out"), default=0)

    class Meta:
        verbose_name = _("online session")
        verbose_name_plural = _("online sessions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["acct_unique_id"],
                condition=~Q(acct_unique_id=""),
                name="online_session_unique_id",
            ),
        ]
        indexes = [
            # Open sessions are few (one per online login) even among 10 million rows:
            # partial indexes keep "who is online" small.
            models.Index(
                fields=["login"], condition=Q(stopped_at__isnull=True), name="online_session_open"
            ),
            models.Index(
                fields=["nas"], condition=Q(stopped_at__isnull=True),
                name="online_session_open_nas",
            ),
            models.Index(
                fields=["updated_at"], condition=Q(stopped_at__isnull=True),
                name="online_session_open_seen",
            ),
            # History per login, newest first; the NAS's id lookups (CoA, missed Start).
            models.Index(fields=["login", "-started_at"], name="online_session_history"),
            models.Index(fields=["nas", "acct_session_id"], name="online_session_nas_sid"),
        ]

    def __str__(self) -> str:
        return f"{self.login_id}@{self.nas_id} {self.acct_session_id}"


class RadiusAuthLog(models.Model):
    """A refused RADIUS authorization, so an operator can see why a subscriber cannot get
    online. Accepts are not written (they are the hot path); the housekeeping trims it."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    nas = models.ForeignKey(
        Nas, verbose_name=_("NAS"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    login = models.ForeignKey(
        Login, verbose_name=_("login"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # As the NAS sent it, cut to the column: an unknown name is worth seeing too.
    username = models.CharField(_("user name"), max_length=64, blank=True)
    calling_station_id = models.CharField(_("calling station (MAC)"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("RADIUS refusal")
        verbose_name_plural = _("RADIUS refusals")
        ordering = ["-id"]
        indexes = [models.Index(fields=["login", "-created_at"], name="radius_reject_login")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username}: {self.reason}"
