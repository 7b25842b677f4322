"""The scheduler: housekeeping every billing['expire.minutes'], the run once a day from
billing['run.time'] on, in app['time_zone']; and the CLI's new subcommands."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.scheduler import Scheduler, run_due
from asr_billing.cli import _parser


def test_run_due():
    tz = "Europe/Moscow"
    at_0259 = datetime(2026, 3, 5, 23, 59, tzinfo=UTC)  # 02:59 on the 6th in Moscow
    assert run_due(at_0259, "03:00", tz, None) is None
    at_0300 = at_0259 + timedelta(minutes=1)
    assert run_due(at_0300, "03:00", tz, None) == date(2026, 3, 6)
    assert run_due(at_0300, "03:00", tz, date(2026, 3, 6)) is None  # once a day
    assert run_due(at_0300, "03:00", tz, date(2026, 3, 5)) == date(2026, 3, 6)


def test_ticks(db, cfg):
    cfg("billing", "run.time", "03:00")
    cfg("billing", "expire.minutes", "5")
    now = [datetime(2026, 3, 5, 23, 50, tzinfo=UTC)]  # 02:50 Moscow
    runs, house = [], []
    scheduler = Scheduler(run=lambda **kw: runs.append(kw),
                          housekeeping=lambda **kw: house.append(kw["now"]),
                          clock=lambda: now[0])
    assert scheduler.tick() == ["housekeeping"]
    now[0] += timedelta(minutes=4)
    assert scheduler.tick() == []
    now[0] += timedelta(minutes=6)  # 03:00
    assert scheduler.tick() == ["housekeeping", "run 2026-03-06"]
    now[0] += timedelta(minutes=1)
    assert scheduler.tick() == []
    assert runs == [{"date": date(2026, 3, 6), "actor": "scheduler"}]
    assert len(house) == 2


def test_restart_after_todays_run_does_not_run_again(db):
    now = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)  # 08:00 Moscow
    BillingRun.objects.create(date=date(2026, 3, 6), first_date=date(2026, 3, 6),
                              status=RunStatus.DONE, started_at=now, heartbeat_at=now)
    runs = []
    scheduler = Scheduler(run=lambda **kw: runs.append(kw), housekeeping=lambda **kw: None,
                          clock=lambda: now)
    assert scheduler.tick() == ["housekeeping"] and runs == []


def test_a_failing_step_does_not_stop_the_scheduler(db, caplog):
    def broken(**kwargs):
        raise RuntimeError("database away")

    now = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)
    scheduler = Scheduler(run=broken, housekeeping=broken, clock=lambda: now)
    assert scheduler.tick() == ["housekeeping", "run 2026-03-06"]


def test_cli_parses_bill_run_and_scheduler():
    args = _parser().parse_args(["bill", "run", "--date", "2026-03-05", "--batch-size", "500"])
    assert (args.command, args.bill_command, args.date, args.batch_size) == (
        "bill", "run", "2026-03-05", 500)
    assert _parser().parse_args(["scheduler"]).command == "scheduler"
