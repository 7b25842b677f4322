"""Counting failed attempts in the database, so every gunicorn worker and every app node
sees the same count (a per-process counter would let an attacker spread guesses).

The reusable core, keyed by (scope, key): a ``Rule`` names one counter and what it does
when full. After ``limit`` failures the key's attempts are refused for ``delay``; each
further failure doubles the refusal, up to ``max_delay`` (``delay == max_delay`` is a
plain lock); a counter left without a failure for ``forget`` starts again from zero.

- ``throttle_wait(rules, now=)``: how long the caller must wait (the longest refusal in
  force among the rules), or None — one query;
- ``throttle_fail(rules, now=)``: count one failure under each rule, each row locked
  (``SELECT … FOR UPDATE``) in (scope, key) order, so parallel failures are all counted
  and two of them never deadlock;
- ``throttle_clear(rules)``: forget the counters (after a success).

A refused attempt is not tried and counts nothing. Checking comes before trying, so
attempts that arrive together all pass the check before any of them is counted: at most
as many as run in parallel get past a full counter once. The password-login policy built
on this (which counters a login attempt touches) is ``cabinet.login_guard``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from asr_billing.cabinet.models import AuthThrottle

KEY_MAX = 200  # AuthThrottle.key
MAX_DOUBLINGS = 32  # 2**32 times any delay is past every max_delay


@dataclass(frozen=True)
class Rule:
    """One counter and what it does when full. ``limit`` 0 (or an empty key): the rule
    neither counts nor refuses. Delays are positive; ``forget`` should not be shorter
    than ``max_delay`` (a counter would restart while its key is still refused)."""

    scope: str  # what is counted: "login", "login_ip", "ip", "operator", "reset", ...
    key: str
    limit: int  # failures before the first refusal
    delay: timedelta  # the first refusal, after the limit-th failure
    max_delay: timedelta  # each further failure doubles the refusal up to this
    forget: timedelta  # without a failure for this long the count starts again

    @property
    def active(self) -> bool:
        return self.limit > 0 and bool(self.key)


def clean_key(key: str) -> str:
    """Keys compare without case and surrounding spaces: TestLogin and testlogin share
    a counter, so changing the case of a guess does not escape it."""
    return str(key).strip().lower()[:KEY_MAX]


def ip_key(address: str | None) -> str:
    """The counter key of a client address: IPv4 as is; IPv6 by its /64 network — one
    subscriber line holds a whole /64, and counting each address would let its holder
    take 2**64 fresh counters. Empty for no address."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return clean_key(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def _active(rules) -> dict[tuple[str, str], Rule]:
    """Active rules by (scope, clean key), in lock order; a repeated key counts once."""
    found = {(rule.scope, clean_key(rule.key)): rule for rule in rules if rule.active}
    return dict(sorted(found.items()))


def _matching(keys) -> Q:
    condition = Q()
    for scope, key in keys:
        condition |= Q(scope=scope, key=key)
    return condition


def throttle_wait(rules, *, now: datetime) -> timedelta | None:
    """How long until the next attempt may be tried: the latest refusal among ``rules``
    still in force; None when none is."""
    keys = _active(rules)
    if not keys:
        return None
    latest = AuthThrottle.objects.filter(_matching(keys), blocked_until__gt=now).aggregate(
        latest=Max("blocked_until"))["latest"]
    return latest - now if latest is not None else None


def _refusal(rule: Rule, failures: int) -> timedelta:
    doublings = min(failures - rule.limit, MAX_DOUBLINGS)
    return min(rule.delay * (2**doublings), rule.max_delay)


def _locked_row(scope: str, key: str, now: datetime) -> AuthThrottle:
    row = AuthThrottle.objects.select_for_update().filter(scope=scope, key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():  # a savepoint: a lost race must not spoil the caller's
            return AuthThrottle.objects.create(scope=scope, key=key, window_start=now,
                                               failures=0)
    except IntegrityError:  # another worker created it meanwhile: count on it
        return AuthThrottle.objects.select_for_update().get(scope=scope, key=key)


def throttle_fail(rules, *, now: datetime) -> None:
    """Count one failure under each active rule; a counter that reaches its limit
    refuses its key from ``now`` for the rule's (growing) delay."""
    keys = _active(rules)
    if not keys:
        return
    with transaction.atomic():
        for (scope, key), rule in keys.items():
            row = _locked_row(scope, key, now)
            if row.last_failure_at is None or row.last_failure_at <= now - rule.forget:
                row.window_start, row.failures, row.blocked_until = now, 0, None
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= rule.limit:
                row.blocked_until = now + _refusal(rule, row.failures)
            row.save(update_fields=["window_start", "failures", "last_failure_at",
                                    "blocked_until"])


def throttle_clear(rules) -> None:
    """Forget the counters of ``rules`` (inactive ones too: switching a limit off must
    not keep its old count)."""
    keys = {(rule.scope, clean_key(rule.key)) for rule in rules if rule.key}
    if keys:
        AuthThrottle.objects.filter(_matching(keys)).delete()
