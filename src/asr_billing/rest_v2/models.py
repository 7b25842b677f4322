"""What the API adapters keep: the keys of the deprecated old REST API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LegacyApiKey(models.Model):
    """A ``hash_key`` of the old REST API (``/rest_api/?hash_key=…``), issued to an
    operator by ``GET /admin/?username=…&password=…&api=Y`` when
    network['api.legacy_rest'] is on. It acts with that operator's permissions, only from
    the address that obtained it, until ``expires_at``. Only its SHA-256 digest is stored:
    a copy of the database does not let anyone in."""

    key_hash = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.CASCADE,
        related_name="legacy_api_keys",
    )
    source_ip = models.CharField(_("source IP"), max_length=64)
    created_at = models.DateTimeField(_("issued"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("old REST API key")
        verbose_name_plural = _("old REST API keys")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.source_ip} {self.expires_at:%Y-%m-%d %H:%M}"
