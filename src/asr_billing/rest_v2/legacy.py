"""The deprecated old REST API of Carbon Billing ("API REST v1"): its keys, its login
throttle and its per-model operator permissions. The HTTP side is ``legacy_views.py``.

Carbon's PHP helpers (billing_api_tools, api_main.php, reference §3) log in with
``GET /admin/?username=…&password=…&api=Y&format=json``, take the body as ``hash_key``
and send it with every ``GET /rest_api/?model=…&method1=…&arg1=…&format=json&hash_key=…``.
That puts an operator's password and a bearer key in URLs (proxy and server logs, shell
history), so the whole API is off unless network['api.legacy_rest'] is ``yes``.

A key is 160 random bits as 40 hex digits; only its SHA-256 is stored (a random key needs
no slow hash). It acts as the operator who logged in — with that operator's Django
permissions per model (``OperatorGuard``) — only from the address that obtained it, for
network['api.legacy_rest.key_ttl'] minutes, and stops working at once when the operator
is deactivated or loses staff status, or when the API is turned off.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.cabinet.login_guard import LoginGuard, operator_login_guard
from asr_billing.cabinet.throttle import Admission
from asr_billing.core.audit import audit_record
from asr_billing.core.runtime import Snapshot
from asr_billing.rest_v2.models import LegacyApiKey
from asr_billing.rest_v2.registry import AccessRefused, ModelSpec

KEY_BYTES = 20


def enabled(snapshot: Snapshot) -> bool:
    return snapshot.get("network", "api.legacy_rest") == "yes"


def key_ttl(snapshot: Snapshot) -> timedelta:
    text = snapshot.get("network", "api.legacy_rest.key_ttl")
    return timedelta(minutes=int(text) if text.isdigit() and int(text) > 0 else 60)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


# --- login throttle: the admin login's (cabinet.login_guard.operator_login_guard) — per
# username from one address (a guesser slows down himself, not the operator whose name he
# tries from elsewhere), per address whatever the names, and per username with a short
# growing delay; limits cabinet['login.*'], counters shown and cleared in the admin.


def login_admit(*, username: str, source_ip: str, now: datetime) -> tuple[LoginGuard,
                                                                          Admission]:
    """Decide a login attempt before its password is compared: refused (``wait`` set,
    nothing counted) or counted as a failure in advance, so a burst gets at most the
    limit tried; on a right password call ``guard.succeeded(admission)``."""
    guard = operator_login_guard(username=username, client_ip=source_ip)
    return guard, guard.admit(now=now)


# --- keys


def legacy_key_issue(*, user, source_ip: str, ttl: timedelta, now: datetime) -> str:
    """A new key for ``user`` from ``source_ip``; audited. Expired keys are dropped."""
    key = secrets.token_hex(KEY_BYTES)
    with transaction.atomic():
        LegacyApiKey.objects.filter(expires_at__lte=now).delete()
        row = LegacyApiKey.objects.create(key_hash=_digest(key), user=user,
                                          source_ip=source_ip[:64], created_at=now,
                                          expires_at=now + ttl)
        audit_record(actor=user, action="legacy_api_key_issue", obj=row,
                     new={"source_ip": row.source_ip, "expires_at": row.expires_at.isoformat()},
                     message="old REST API login (/admin/?api=Y)")
    return key


def legacy_key_user(*, key: str, source_ip: str, now: datetime):
    """The active staff operator a key acts for, or None (unknown, expired, issued to
    another address, or the operator may no longer log in)."""
    if not key or len(key) > 2 * KEY_BYTES:
        return None
    row = (LegacyApiKey.objects.select_related("user")
           .filter(key_hash=_digest(key), expires_at__gt=now).first())
    if row is None or row.source_ip != source_ip:
        return None
    user = row.user
    return user if user.is_active and user.is_staff else None


# --- permissions


class OperatorGuard:
    """``chain.Guard`` for an operator: reading a model needs its view (or change)
    permission, ``set`` + ``save`` and object methods that write need change, and
    ``objects.create`` needs add — the permissions the admin grants for the same tables.
    Models without a table (Version) are open."""

    def __init__(self, user):
        self.user = user

    @staticmethod
    def _perm(spec: ModelSpec, action: str) -> str:
        app_label, model = spec.model.split(".")
        return f"{app_label}.{action}_{model.lower()}"

    def read(self, spec: ModelSpec) -> None:
        if spec.model is None:
            return
        if self.user.has_perm(self._perm(spec, "view")) or self.user.has_perm(
            self._perm(spec, "change")
        ):
            return
        raise AccessRefused(
            _("Permission denied: %(user)s may not view %(model)s")
            % {"user": self.user.get_username(), "model": spec.wire_name}
        )

    def write(self, spec: ModelSpec, action: str) -> None:
        if spec.model is not None and self.user.has_perm(self._perm(spec, action)):
            return
        text = (_("Permission denied: %(user)s may not add %(model)s") if action == "add"
                else _("Permission denied: %(user)s may not change %(model)s"))
        raise AccessRefused(text % {"user": self.user.get_username(), "model": spec.wire_name})
