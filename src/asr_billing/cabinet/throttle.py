"""Counting failed attempts in the database, so every gunicorn worker and every app node
sees the same count (a per-process counter would let an attacker spread guesses).

A counter row per (scope, key) holds the failures since ``window_start``. A failure locks
the row, restarts the window when it has passed, and adds one; a key is locked while it
holds ``limit`` failures inside the window. Checking is one query for all keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from asr_billing.cabinet.models import AuthThrottle

KEY_MAX = 100  # AuthThrottle.key


@dataclass(frozen=True)
class Limit:
    scope: str  # "login", "ip", "reset"
    key: str
    limit: int  # failures allowed in the window; 0 = no limit


def _clean(key: str) -> str:
    return str(key).strip().lower()[:KEY_MAX]


def locked_until(limits: list[Limit], *, window: timedelta, now: datetime) -> datetime | None:
    """The moment the latest lock among ``limits`` ends, or None when none is locked."""
    active = [item for item in limits if item.limit > 0 and item.key]
    if not active:
        return None
    condition = Q()
    for item in active:
        condition |= Q(scope=item.scope, key=_clean(item.key))
    rows = AuthThrottle.objects.filter(condition, window_start__gt=now - window).values_list(
        "scope", "key", "window_start", "failures"
    )
    limit_of = {(item.scope, _clean(item.key)): item.limit for item in active}
    ends = [
        start + window
        for scope, key, start, failures in rows
        if failures >= limit_of.get((scope, key), 0) > 0
    ]
    return max(ends) if ends else None


def record_failure(scope: str, key: str, *, window: timedelta, now: datetime) -> int:
    """Count one failure; returns the failures in the current window (this one included)."""
    key = _clean(key)
    if not key:
        return 0
    with transaction.atomic():
        row = AuthThrottle.objects.select_for_update().filter(scope=scope, key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    AuthThrottle.objects.create(scope=scope, key=key, window_start=now,
                                                failures=1)
                return 1
            except IntegrityError:  # another worker created it meanwhile: count on it
                row = AuthThrottle.objects.select_for_update().get(scope=scope, key=key)
        if row.window_start <= now - window:
            row.window_start, row.failures = now, 0
        row.failures += 1
        row.save(update_fields=["window_start", "failures"])
        return row.failures


def clear(scope: str, key: str) -> None:
    """Forget the failures of one key (after a successful login)."""
    AuthThrottle.objects.filter(scope=scope, key=_clean(key)).delete()
