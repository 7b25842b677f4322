"""Counting failed attempts in the database, so every gunicorn worker and every app node
sees the same count (a per-process counter would let an attacker spread guesses).

The reusable core, keyed by (scope, key): a ``Rule`` names one counter and what it does
when full. After ``limit`` failures the key's attempts are refused for ``delay``; each
further failure doubles the refusal, up to ``max_delay`` (``delay == max_delay`` is a
plain lock); a counter left without a failure for ``forget`` starts again from zero.

- ``throttle_admit(rules, now=)``: decide one attempt BEFORE its secret is compared:
  refused (``Admission.wait``: how long; nothing counted), or admitted with one failure
  already counted on every rule, under the rows' lock. The caller compares the secret
  after that short transaction, holding no lock, and calls ``Admission.succeeded`` when
  it was right (the advance is taken back). Counting first bounds a burst: however many
  attempts arrive together, at most ``limit`` are tried before the counter is full.
  Checking first and counting after let every attempt of a burst past a full counter;
- ``throttle_wait(rules, now=)``: how long the caller must wait, or None — one query;
- ``throttle_fail(rules, now=)``: count one failure under each rule, refusals or not;
- ``throttle_clear(rules)``: forget the counters;
- ``throttle_purge(now=)``: delete the counters whose ``expires_at`` has passed (the
  scheduler's housekeeping), one statement.

An attempt's rows are created in (scope, key) order and then locked by one SELECT … FOR
UPDATE ORDER BY scope, key, so two attempts never wait for each other in a cycle. The
password-login policy built on this (which counters a login attempt touches) is
``cabinet.login_guard``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
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


def _locked_rows(keys: dict[tuple[str, str], Rule], now: datetime) -> list[AuthThrottle]:
    """The counter rows of ``keys`` (in (scope, key) order), locked until the transaction
    ends; missing ones are created with no failures. Two statements: one INSERT … ON
    CONFLICT DO NOTHING of every key in (scope, key) order (it waits for a concurrent
    insert of the same key to commit), then one SELECT … FOR UPDATE ORDER BY scope, key —
    every attempt takes its locks in the same order, so two never wait for each other."""
    while True:
        AuthThrottle.objects.bulk_create(
            [AuthThrottle(scope=scope, key=key, window_start=now, failures=0, expires_at=now)
             for scope, key in keys],
            ignore_conflicts=True,  # another worker has it: lock that one
        )
        rows = list(AuthThrottle.objects.select_for_update().filter(_matching(keys))
                    .order_by("scope", "key"))
        if len(rows) == len(keys):
            return rows
        # A row was deleted (a success, the purge) between the two statements: again.


def _count(rule: Rule, row: AuthThrottle, now: datetime) -> None:
    """One more failure on ``row`` (not saved)."""
    if row.last_failure_at is None or row.last_failure_at <= now - rule.forget:
        row.window_start, row.failures, row.blocked_until = now, 0, None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= rule.limit:
        row.blocked_until = now + _refusal(rule, row.failures)
    row.expires_at = max(now + rule.forget, row.blocked_until or now)


_COUNTED = ["window_start", "failures", "last_failure_at", "blocked_until", "expires_at"]


def _state(row: AuthThrottle) -> tuple:
    return tuple(getattr(row, name) for name in _COUNTED)


@dataclass(frozen=True)
class _Advance:
    """One failure counted in advance on one row: what the row held before (None: the
    advance created it) and after, to take it back."""

    rule: Rule
    before: tuple | None
    after: tuple


@dataclass(frozen=True)
class Admission:
    """What ``throttle_admit`` decided. ``wait`` set: refused for that long, nothing was
    counted. Else the attempt may be tried and already counts as a failure on every rule:
    a wrong secret needs no further call; a right one calls ``succeeded``."""

    wait: timedelta | None
    advances: tuple[_Advance, ...] = ()

    def succeeded(self, *, forget: frozenset[str] | set[str] = frozenset()) -> None:
        """The secret was right: forget the counters whose scope is in ``forget``, take
        this attempt's advance back on the others. One short transaction on the same rows,
        in the same order: a row nobody counted on since is put back as it was (deleted
        when the advance created it); else it loses one failure, and its refusal when
        that takes it under its limit."""
        if not self.advances:
            return
        by_key = {(a.rule.scope, clean_key(a.rule.key)): a for a in self.advances}
        if all(advance.before is None for advance in self.advances):
            # The common case, a login with no failures anywhere: the advance created
            # every row. One DELETE, each row only if nobody counted on it since (in
            # PostgreSQL the condition is checked again on the row's newest version).
            untouched = Q()
            for (scope, key), advance in by_key.items():
                condition = Q(scope=scope, key=key)
                if scope not in forget:
                    condition &= Q(failures=advance.after[1], last_failure_at=advance.after[2])
                untouched |= condition
            deleted, _by_model = AuthThrottle.objects.filter(untouched).delete()
            if deleted == len(by_key):
                return
        with transaction.atomic():
            rows = list(AuthThrottle.objects.select_for_update().filter(_matching(by_key))
                        .order_by("scope", "key"))
            gone, changed = [], []
            for row in rows:
                advance = by_key[(row.scope, row.key)]
                if row.scope in forget or (advance.before is None
                                           and _state(row) == advance.after):
                    gone.append(row.pk)
                    continue
                if _state(row) == advance.after:  # nobody counted since: as it was
                    for name, value in zip(_COUNTED, advance.before, strict=True):
                        setattr(row, name, value)
                else:  # others counted meanwhile: theirs stay
                    row.failures -= 1
                    if row.failures <= 0:  # theirs were taken back too
                        gone.append(row.pk)
                        continue
                    if row.failures < advance.rule.limit:
                        row.blocked_until = None
                changed.append(row)
            if changed:
                AuthThrottle.objects.bulk_update(changed, _COUNTED)
            if gone:
                AuthThrottle.objects.filter(pk__in=gone).delete()


def throttle_admit(rules, *, now: datetime) -> Admission:
    """Decide an attempt before its secret is compared. First one unlocked read: a key
    refused now is answered without a write. Else, in one short transaction, lock the
    rules' rows (``_locked_rows``), decide again under the lock — refused: nothing counted
    and the rows this attempt created removed — and count the attempt as a failure on
    every rule. The caller compares the secret after the commit, holding no lock (on
    SQLite a transaction holds the database's write lock; a password hash takes tens of
    milliseconds), and calls ``succeeded`` when it was right. Counting first is what
    bounds a burst: the (limit + 1)-th of any number of parallel attempts finds the
    counter full."""
    keys = _active(rules)
    if not keys:
        return Admission(None)
    wait = throttle_wait(rules, now=now)
    if wait is not None:
        return Admission(wait)
    with transaction.atomic():
        rows = _locked_rows(keys, now)
        ends = [row.blocked_until for row in rows
                if row.blocked_until is not None and row.blocked_until > now]
        if ends:
            created = [row.pk for row in rows if row.failures == 0]
            if created:  # a refusal changes nothing
                AuthThrottle.objects.filter(pk__in=created).delete()
            return Admission(max(ends) - now)
        advances = []
        for row in rows:
            rule = keys[(row.scope, row.key)]
            before = _state(row) if row.failures else None
            _count(rule, row, now)
            advances.append(_Advance(rule, before, _state(row)))
        AuthThrottle.objects.bulk_update(rows, _COUNTED)
    return Admission(None, tuple(advances))


def throttle_fail(rules, *, now: datetime) -> None:
    """Count one failure under each active rule, refusals or not (for what is counted
    after the fact, and tests)."""
    keys = _active(rules)
    if not keys:
        return
    with transaction.atomic():
        rows = _locked_rows(keys, now)
        for row in rows:
            _count(keys[(row.scope, row.key)], row, now)
        AuthThrottle.objects.bulk_update(rows, _COUNTED)


def throttle_clear(rules) -> None:
    """Forget the counters of ``rules`` (inactive ones too: switching a limit off must
    not keep its old count)."""
    keys = {(rule.scope, clean_key(rule.key)) for rule in rules if rule.key}
    if keys:
        AuthThrottle.objects.filter(_matching(keys)).delete()


def throttle_purge(*, now: datetime) -> int:
    """Delete the counters that no longer mean anything — no refusal in force and their
    last failure forgotten (``expires_at`` passed) — in one statement (the scheduler's
    housekeeping). Returns how many."""
    deleted, _by_model = AuthThrottle.objects.filter(expires_at__lte=now).delete()
    return deleted
