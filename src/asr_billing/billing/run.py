"""``billing_run``: charge everything due up to a date, exactly once, in batches.

The run covers the days from the day after the last clean run (at most
billing['catchup.days'] back; the first run ever: only its date) to its date. For each
day, in order: apply the tariff changes scheduled for it, then charge every subscriber in
batches of account ids, each batch one transaction that locks its accounts first. Every
charge is unique on (subscriber, tariff or service, period start) in the database, so a
rerun, or a run killed half-way and started again, never charges twice; and since a run
only counts as clean when it finished without errors, the next run looks at the same days
again, so nothing is skipped either.

Only one run works at a time (every app node may run a scheduler): on PostgreSQL a
session advisory lock, which the server drops with the connection of a killed run; on
SQLite (one machine) a RUNNING row of a live process, checked and written in one
IMMEDIATE transaction. A second run raises RunInProgress and changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import date, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.billing.models import BillingRun, RunStatus, TariffChange, VoluntaryBlock
from asr_billing.billing.options import BillingOptions, billing_options
from asr_billing.billing.periods import Month, daterange, local_today
from asr_billing.billing.rules import lookback_start
from asr_billing.billing.run_portable import (
    ACTOR,
    BatchTotals,
    error_row,
    load_contexts,
    lock_accounts,
    negbal_audit_write,
    post_contexts,
)
from asr_billing.billing.services import (
    billing_housekeeping,
    tariff_change_apply_scheduled,
    tariff_changes_due,
)
from asr_billing.core.errors import InvalidInput, RunInProgress
from asr_billing.finance.models import Account
from asr_billing.tariffs.models import Service, Tariff

logger = logging.getLogger("asr_billing.billing")

DEFAULT_BATCH = 10_000
STALE_AFTER = timedelta(minutes=30)
# pg_try_advisory_lock's key for "a charging run is working" (any bigint unique to us).
RUN_LOCK_KEY = 0x6173_7262_7275_6E  # "asrbrun"

Progress = Callable[[int, int], None]  # (batches done, batches in total)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs_mark_stale(*, now=None) -> int:
    """Mark as interrupted the runs that stopped without saying so (killed, power
    loss): on this host when their process is gone, anywhere when silent for 30 min."""
    now = now or timezone.now()
    host = socket.gethostname()
    stale = []
    for run in BillingRun.objects.filter(status=RunStatus.RUNNING):
        gone = run.host == host and run.pid not in (None, os.getpid()) and not _pid_alive(run.pid)
        if gone or run.heartbeat_at < now - STALE_AFTER:
            stale.append(run.pk)
    if stale:
        BillingRun.objects.filter(pk__in=stale, status=RunStatus.RUNNING).update(
            status=RunStatus.INTERRUPTED, finished_at=now
        )
    return len(stale)


def window_start(end: date, options: BillingOptions) -> date:
    """The first day a run up to ``end`` looks at: the day after the last clean run (done
    without errors), so days a failed or killed run left are looked at again; the first
    run ever looks at its own date only. At most billing['catchup.days'] back."""
    earlier = BillingRun.objects.filter(date__lt=end)
    last_clean = earlier.filter(status=RunStatus.DONE, errors=0).aggregate(last=Max("date"))
    if last_clean["last"] is not None:
        first = last_clean["last"] + timedelta(days=1)
    else:
        first = earlier.aggregate(first=Min("first_date"))["first"] or end
    return max(first, end - timedelta(days=options.catchup_days - 1))


def _batches(batch_size: int) -> list[tuple[int, int]]:
    """Ranges of account ids, ``batch_size`` wide (index range scans: flat cost per id)."""
    bounds = Account.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    hi = bounds["hi"]
    return [(lo, min(lo + batch_size - 1, hi)) for lo in range(bounds["lo"], hi + 1, batch_size)]


def _special_ids(day: date, options: BillingOptions, lo: int, hi: int) -> list[int]:
    """Subscribers of lo..hi whose charges need the full rules: a tariff change or a
    voluntary block near the day (see rules.py); few. Read after the batch's accounts are
    locked: every service that changes a tariff or takes a block locks the account first,
    so the answer holds until the batch commits."""
    start = lookback_start(day, options.catchup_days)
    month = Month.of(day)
    ids = set(
        TariffChange.objects.filter(
            subscriber_id__gte=lo, subscriber_id__lte=hi, effective_date__gte=start
        ).values_list("subscriber_id", flat=True)
    )
    ids |= set(
        VoluntaryBlock.objects.filter(
            subscriber_id__gte=lo, subscriber_id__lte=hi, end_date__gte=start,
            start_date__lte=month.last,
        ).values_list("subscriber_id", flat=True)
    )
    return sorted(ids)


class _Day:
    """What a run needs for one day, loaded once per day."""

    def __init__(self, day: date, options: BillingOptions, use_sql: bool):
        self.day = day
        self.tariffs = {t.pk: t for t in Tariff.objects.all()}
        self.services = {s.pk: s for s in Service.objects.all()}
        self.plan = None
        if use_sql:
            from asr_billing.billing.run_sql import SqlPlan

            self.plan = SqlPlan(
                day=day, options=options, tariffs=self.tariffs, services=self.services,
                actor=ACTOR,
            )


def _batch(run, today: _Day, options, lo: int, hi: int, use_sql: bool, count_seen: bool):
    now = timezone.now()
    totals = BatchTotals()

    def post(exclude=(), **where) -> None:
        """The portable rules for the subscribers ``where`` selects (ids=, or lo= hi=)."""
        contexts = load_contexts(
            day=today.day, catchup_days=options.catchup_days, tz_name=options.time_zone,
            **where,
        )
        for sid in exclude:
            contexts.pop(sid, None)
        if contexts:
            totals.add(
                post_contexts(
                    run_id=run.pk,
                    day=today.day,
                    contexts=contexts,
                    options=options,
                    tariffs=today.tariffs,
                    services=today.services,
                    now=now,
                )
            )

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A batch's commit need not wait for its WAL flush: the run's final status
            # commit waits for all of them (WAL is flushed in order), and a crash before
            # that loses whole batches consistently, which the next run redoes.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if use_sql:
            from asr_billing.billing import run_sql

            totals.seen = run_sql.lock_range(lo, hi)
            special = _special_ids(today.day, options, lo, hi)
            if special:
                # The few needing the full rules go first, so that the statement can
                # write their negbal audit rows among its own, in subscriber id order.
                post(ids=special)
            try:
                with transaction.atomic():
                    charges, amount, _audited = run_sql.charge_range(
                        today.plan, lo=lo, hi=hi, special=special, now=now,
                        moves=totals.moves,
                    )
                totals.charges += charges
                totals.amount += amount
                totals.moves = []  # written by the statement
            except DatabaseError:
                # Something in this batch the set-based statement cannot post (say, a
                # balance out of range): take the rest one subscriber at a time.
                logger.warning("billing run #%s: batch %s-%s posted one by one", run.pk, lo,
                               hi, exc_info=True)
                totals.fallbacks += 1
                post(lo=lo, hi=hi, exclude=set(special))
        else:
            totals.seen = lock_accounts(lo, hi)
            post(lo=lo, hi=hi)
        negbal_audit_write(totals.moves, now)
        _count(run, totals, now, count_seen=count_seen)
    return totals


def _count(run: BillingRun, totals: BatchTotals, now, *, count_seen: bool = True) -> None:
    if totals.error_rows:
        type(totals.error_rows[0]).objects.bulk_create(totals.error_rows)
    BillingRun.objects.filter(pk=run.pk).update(
        subscribers_seen=F("subscribers_seen") + (totals.seen if count_seen else 0),
        charges_made=F("charges_made") + totals.charges,
        amount=F("amount") + totals.amount,
        errors=F("errors") + totals.errors,
        fallback_batches=F("fallback_batches") + totals.fallbacks,
        heartbeat_at=now,
    )


def _record_error(run: BillingRun, day, stage: str, exc: BaseException, subscriber_id=None):
    with transaction.atomic():
        error_row(run.pk, subscriber_id, day, stage, exc).save()
        BillingRun.objects.filter(pk=run.pk).update(
            errors=F("errors") + 1, heartbeat_at=timezone.now()
        )


def billing_run(
    *,
    date: date | None = None,
    actor: str = "billing",
    batch_size: int = DEFAULT_BATCH,
    strategy: str = "auto",
    progress: Progress | None = None,
) -> BillingRun:
    """Charge everything due up to ``date`` (default: today in app['time_zone']).

    ``strategy``: "auto" (set-based SQL on PostgreSQL, portable elsewhere), "sql" or
    "portable". Returns the finished BillingRun; errors of single subscribers are in its
    error rows and do not stop the run. Raises RunInProgress, having changed nothing, when
    another run is working (another node's scheduler, an operator's ``bill run``).
    """
    options = billing_options()
    today = local_today(options.time_zone)
    end = date or today
    if end > today:
        raise InvalidInput(
            _("The run date %(date)s is in the future (today is %(today)s)")
            % {"date": end.isoformat(), "today": today.isoformat()}
        )
    if batch_size < 1:
        raise InvalidInput(_("The batch size must be at least 1"))
    use_sql = {"auto": connection.vendor == "postgresql", "sql": True, "portable": False}[strategy]
    if use_sql and connection.vendor != "postgresql":
        raise InvalidInput(_("The set-based run needs PostgreSQL"))
    locked = False
    try:
        locked = _run_lock()
        return _work(end, options, use_sql, actor, batch_size, progress)
    finally:
        if locked:
            _run_unlock()


def _run_lock() -> bool:
    """Take the run lock or raise RunInProgress; True when there is a lock to release."""
    if connection.vendor != "postgresql":
        return False  # SQLite: _claim's transaction decides
    with connection.cursor() as cursor:
        # The server notices a lost node (powered off, cut off) in about a minute instead
        # of the kernel's two hours, and lets go of its lock then.
        for setting in ("tcp_keepalives_idle = 30", "tcp_keepalives_interval = 10",
                        "tcp_keepalives_count = 3"):
            cursor.execute(f"SET {setting}")
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
        (got,) = cursor.fetchone()
    if not got:
        raise _in_progress(_working_run())
    return True


def _working_run(wait: float = 1.0) -> BillingRun | None:
    """The lock holder's row: it takes the lock a moment before its row is committed."""
    deadline = time.monotonic() + wait
    while True:
        other = BillingRun.objects.filter(status=RunStatus.RUNNING).order_by("-pk").first()
        if other is not None or time.monotonic() >= deadline:
            return other
        time.sleep(0.05)


def _run_unlock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
    except DatabaseError:
        # An aborted transaction, or a lost connection: closing the session is the one
        # sure way to let go of its lock.
        logger.warning("billing run: could not release the run lock; closing the connection")
        connection.close()


def _in_progress(other: BillingRun | None) -> RunInProgress:
    """The refusal, naming the working run; ``extra['date']``: the day it charges up to."""
    if other is None:  # the holder has not written its row yet, or is just ending
        return RunInProgress(_("Another billing run is in progress; this one did nothing"))
    text = _(
        "Billing run #%(id)s is in progress (started %(started)s on %(host)s, process "
        "%(pid)s); this one did nothing"
    ) % {
        "id": other.pk,
        "started": timezone.localtime(other.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        "host": other.host or "?",
        "pid": other.pid or "?",
    }
    return RunInProgress(text, extra={"date": other.date, "run": other.pk})


def _claim(end: date, options: BillingOptions, actor: str) -> BillingRun:
    """The new run's row. Under the PostgreSQL lock every RUNNING row is a run whose
    process died (it would hold the lock otherwise); on SQLite a live one refuses."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            BillingRun.objects.filter(status=RunStatus.RUNNING).update(
                status=RunStatus.INTERRUPTED, finished_at=now
            )
        else:
            runs_mark_stale(now=now)
            other = BillingRun.objects.filter(status=RunStatus.RUNNING).order_by("-pk").first()
            if other is not None:
                raise _in_progress(other)
        return BillingRun.objects.create(
            date=end,
            first_date=window_start(end, options),
            started_at=now,
            heartbeat_at=now,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
            actor=actor[:100],
        )


def _work(end, options, use_sql, actor, batch_size, progress) -> BillingRun:
    run = _claim(end, options, actor)
    first = run.first_date
    batches = _batches(batch_size)
    days = list(daterange(first, end))
    total, done = len(days) * len(batches), 0
    started = time.monotonic()
    try:
        for index, day in enumerate(days):
            for subscriber_id in tariff_changes_due(day=day):
                try:
                    tariff_change_apply_scheduled(subscriber_id=subscriber_id, actor=actor)
                except Exception as exc:
                    _record_error(run, day, "tariff_change", exc, subscriber_id)
            loaded = _Day(day, options, use_sql)
            for lo, hi in batches:
                try:
                    # Count each subscriber once per run, on its first day.
                    _batch(run, loaded, options, lo, hi, use_sql, count_seen=index == 0)
                except DatabaseError as exc:
                    _record_error(run, day, f"batch {lo}-{hi}", exc)
                done += 1
                if progress is not None:
                    progress(done, total)
        try:
            billing_housekeeping(actor=actor)
        except Exception as exc:
            _record_error(run, end, "housekeeping", exc)
    except BaseException as exc:
        status = RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        BillingRun.objects.filter(pk=run.pk).update(
            status=status, finished_at=timezone.now(), message=f"{type(exc).__name__}: {exc}"
        )
        raise
    elapsed = time.monotonic() - started
    BillingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        message=_("%(days)d day(s), %(batches)d batch(es), %(seconds).1f s")
        % {"days": len(days), "batches": len(batches), "seconds": elapsed},
    )
    run.refresh_from_db()
    return run
