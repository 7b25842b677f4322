"""One charging run at a time: a second run (another node's scheduler, an operator's
``bill run``) changes nothing and says which run is working. PostgreSQL's advisory lock
is proven with concurrent connections in test_concurrency.py; here the SQLite rule (a
RUNNING row of a live process) and what the callers make of a skip."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone, translation

from asr_billing.api.tasks import run_billing
from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.run import billing_run
from asr_billing.billing.scheduler import Scheduler
from asr_billing.core.errors import RunInProgress
from asr_billing.finance.models import Operation

requires_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the RUNNING-row rule is SQLite's; PostgreSQL's lock is in test_concurrency.py",
)


def running(pid: int, *, heartbeat_ago=timedelta(0)) -> BillingRun:
    now = timezone.now()
    return BillingRun.objects.create(
        date=now.date(), first_date=now.date(), started_at=now - heartbeat_ago,
        heartbeat_at=now - heartbeat_ago, host=__import__("socket").gethostname(), pid=pid,
        actor="other")


@requires_sqlite
def test_a_live_run_refuses_a_second_one(db):
    other = running(os.getpid())
    before = (BillingRun.objects.count(), Operation.objects.count())
    with pytest.raises(RunInProgress) as refused, translation.override("en"):
        billing_run()
    assert f"#{other.pk}" in refused.value.message and "did nothing" in refused.value.message
    with pytest.raises(RunInProgress) as refused, translation.override("ru"):
        billing_run()
    assert refused.value.message.startswith(f"Идёт запуск тарификации №{other.pk} (начат ")
    assert (BillingRun.objects.count(), Operation.objects.count()) == before
    other.refresh_from_db()
    assert other.status == RunStatus.RUNNING


@requires_sqlite
def test_a_dead_or_silent_run_does_not_block(db):
    dead = running(2**22 + 12345)  # no such process on this host
    silent = running(os.getpid(), heartbeat_ago=timedelta(hours=1))
    run = billing_run()
    assert run.status == RunStatus.DONE
    for row in (dead, silent):
        row.refresh_from_db()
        assert row.status == RunStatus.INTERRUPTED


@requires_sqlite
def test_bill_run_exits_3_and_names_the_working_run(db):
    other = running(os.getpid())
    with pytest.raises(CommandError) as refused:
        call_command("bill_run")
    assert refused.value.returncode == 3 and f"#{other.pk}" in str(refused.value)


@requires_sqlite
def test_the_api_task_reports_the_skip(db):
    running(os.getpid())
    assert run_billing({"actor": "api"}).startswith("skipped: ")


def test_the_scheduler_logs_a_skipped_run_and_goes_on(db, caplog):
    day = date(2026, 3, 6)
    refusals = [RunInProgress("Billing run #7 is in progress (...); this one did nothing",
                              extra={"date": day, "run": 7})]

    def busy(**kwargs):
        raise refusals[0]

    now = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)
    scheduler = Scheduler(run=busy, housekeeping=lambda **kw: None, access=lambda **kw: None,
                          tasks=lambda **kw: None, notify=lambda **kw: None, clock=lambda: now)
    with caplog.at_level("INFO", logger="asr_billing.billing"):
        done = scheduler.tick()
    assert done == ["housekeeping", "run 2026-03-06 skipped: Billing run #7 is in progress "
                    "(...); this one did nothing"]
    assert "run skipped: Billing run #7" in caplog.text and "failed" not in caplog.text
    assert scheduler.tick() == []  # not again today: the working run charges it


@pytest.mark.parametrize("extra", [{"date": date(2026, 3, 5), "run": 7}, {}],
                         ids=["yesterday", "not named"])
def test_the_scheduler_tries_again_when_the_working_run_stops_short(db, extra):
    # An operator's `bill run --date` for yesterday, or a holder not yet named.
    calls = []

    def busy(**kwargs):
        calls.append(kwargs["date"])
        raise RunInProgress("busy", extra=extra)

    now = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)
    scheduler = Scheduler(run=busy, housekeeping=lambda **kw: None, access=lambda **kw: None,
                          tasks=lambda **kw: None, notify=lambda **kw: None, clock=lambda: now)
    scheduler.tick()
    assert scheduler.tick() == ["run 2026-03-06 skipped: busy"]  # asked again
    assert calls == [date(2026, 3, 6)] * 2


@requires_sqlite
def test_the_api_task_fails_when_the_working_run_stops_short(db):
    from asr_billing.core.tasks import TaskFailed

    other = running(os.getpid())
    BillingRun.objects.filter(pk=other.pk).update(date=other.date - timedelta(days=1))
    with pytest.raises(TaskFailed, match="did nothing"):
        run_billing({"actor": "api"})
