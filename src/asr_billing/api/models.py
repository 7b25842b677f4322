"""API keys of /api/v1/ and the answers kept for Idempotency-Key retries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from asr_billing.api.scopes import SCOPE_CHOICES


class ApiKey(models.Model):
    """One key of one integration. The key itself is shown once at creation; what is kept
    is its prefix (to find the row and to name the key in logs) and its SHA-256 digest (the
    key is 192 random bits, so a fast digest is as safe as a slow password hash)."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key digest"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, help_text=", ".join(
        code for code, _label in SCOPE_CHOICES))
    allowed_ips = models.TextField(
        _("allowed addresses"), blank=True,
        help_text=_("IPs and CIDR networks separated by spaces; empty: any address"),
    )
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"), default=600, help_text=_("0: no limit")
    )
    signing_secret_enc = models.TextField(
        _("signing secret (encrypted)"), blank=True, editable=False
    )
    require_signature = models.BooleanField(_("requests must be signed"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor = models.CharField(_("created from"), max_length=100, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class RateWindow(models.Model):
    """Requests of one key in one minute: a shared counter, so the limit holds across
    every server process and node (one upsert per request)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "minute"], name="api_ratewindow_key_minute")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.minute:%Y-%m-%d %H:%M}: {self.count}"


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to its retries.

    Written in the same transaction as the POST's own changes: either both are kept or
    neither, and a second request with the key waits on the unique index, then replays."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="api_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.key}: {self.status}"


class SignatureNonce(models.Model):
    """A nonce a signed request used: the unique index refuses its replay."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "nonce"], name="api_signature_nonce_unique")
        ]
        indexes = [models.Index(fields=["api_key", "created_at"], name="api_nonce_key_time")]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.nonce}"
