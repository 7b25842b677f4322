"""Exactly once on a real PostgreSQL: two runs at once (threads, and two processes) — one
works, the other is refused by the run lock and changes nothing —, and a run killed with
SIGKILL half-way and started again. Every subscriber is charged once — never twice, never
skipped — and every balance still equals its ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone, translation

from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.periods import local_today
from asr_billing.billing.run import RUN_LOCK_KEY, billing_run
from asr_billing.core.errors import RunInProgress
from asr_billing.core.home_init import create_home
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.home import Home
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import Tariff
from tests.billing.conftest import assert_ledger_ok
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

D = Decimal


def many_subscribers(group, count: int) -> list[int]:
    """``count`` subscribers on a daily tariff of 10.00, inserted in bulk."""
    tariff = Tariff.objects.create(name="Daily 10", fee=D("10.00"), charge_method="daily")
    today = local_today("Europe/Moscow")
    subs = Subscriber.objects.bulk_create(
        Subscriber(group=group, name=f"S{i}", contract_number=f"C{i:07d}", tariff=tariff,
                   connected_on=today)
        for i in range(count)
    )
    Account.objects.bulk_create(Account(subscriber=s) for s in subs)
    return [s.pk for s in subs]


def assert_each_charged_once(ids: list[int]) -> None:
    counts = dict(
        Operation.objects.filter(type=OperationType.CHARGE)
        .values_list("account_id")
        .annotate(n=Count("id"))
        .values_list("account_id", "n")
    )
    assert {i: counts.get(i, 0) for i in ids} == {i: 1 for i in ids}
    assert set(Account.objects.filter(pk__in=ids).values_list("balance", flat=True)) == {
        D("-10.00")}
    assert_ledger_ok()


def connect() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
                           host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)


def hold_account(subscriber_id: int) -> psycopg.Connection:
    """Another connection holding one account's row lock: a run stops there, mid-way."""
    holder = connect()
    holder.execute("SELECT 1 FROM finance_account WHERE subscriber_id = %s FOR UPDATE",
                   [subscriber_id])
    return holder


def wait_for(predicate, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def wait_run_lock_free() -> None:
    """A killed run's server process lets go of the run lock once it notices."""
    probe = connect()
    try:
        def free() -> bool:
            if probe.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY]).fetchone()[0]:
                probe.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
                return True
            return False

        wait_for(free, "the killed run's lock to go")
    finally:
        probe.close()


def test_two_runs_at_once_in_threads(group):
    ids = many_subscribers(group, 300)
    holder = hold_account(ids[150])  # the first run is still working when the second starts
    results = []

    def work():
        try:
            results.append(billing_run(batch_size=7))
        except Exception as exc:  # checked below
            results.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=work)
    first.start()
    try:
        wait_for(lambda: BillingRun.objects.filter(charges_made__gt=0).exists(),
                 "the first run")
        with pytest.raises(RunInProgress) as refused, translation.override("en"):
            billing_run(batch_size=7)
        working = BillingRun.objects.get()
        assert refused.value.message.startswith(f"Billing run #{working.pk} is in progress")
    finally:  # a failure above must not leave the first run waiting on the lock forever
        holder.rollback()
        holder.close()
        first.join()
    (run,) = results
    assert isinstance(run, BillingRun), run
    assert (run.status, run.charges_made, run.errors, run.fallback_batches) == (
        RunStatus.DONE, 300, 0, 0)
    assert BillingRun.objects.count() == 1  # the refused one left no row
    assert_each_charged_once(ids)


@pytest.fixture
def cli_home(tmp_path):
    db = connection.settings_dict
    url = (f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    create_home(Home(Path(tmp_path)), db_url=url)
    return tmp_path


def bill_run(home, *extra) -> subprocess.Popen:
    env = {**os.environ, "CI": "1"}
    for name in ("ASR_BILLING_HOME", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)  # the child reads the home we made, not the test settings
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "asr_billing", "--home", str(home), "bill", "run", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )


def test_two_processes_at_once(group, cli_home):
    ids = many_subscribers(group, 400)
    holder = hold_account(ids[200])
    first = bill_run(cli_home, "--batch-size", "9")
    try:
        wait_for(lambda: BillingRun.objects.filter(charges_made__gt=0).exists(),
                 "the first run")
        second = bill_run(cli_home, "--batch-size", "9")
        out, err = second.communicate(timeout=120)
        working = BillingRun.objects.get()
        assert second.returncode == 3, (out, err)  # RUN_IN_PROGRESS_EXIT: cron tells it apart
        # In app['language'] (Russian by default), naming the working run.
        assert f"ошибка: Идёт запуск тарификации №{working.pk} (начат " in err, err
        assert "этот ничего не сделал" in err
    finally:  # a failure above must not leave the first run waiting on the lock forever
        holder.rollback()
        holder.close()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, (out, err)
    run = BillingRun.objects.get()
    assert (run.status, run.charges_made) == (RunStatus.DONE, 400)
    assert_each_charged_once(ids)


def test_killed_run_and_rerun(group, cli_home):
    ids = many_subscribers(group, 600)
    blocker = ids[300]
    # Hold one account's row lock from another connection: the run commits the batches
    # before it and then waits at this one — where we kill it.
    holder = hold_account(blocker)
    process = bill_run(cli_home, "--batch-size", "10")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = BillingRun.objects.first()
        if run is not None and run.charges_made >= 300:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # it is now waiting for the held lock
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    holder.rollback()
    holder.close()
    wait_run_lock_free()

    killed = BillingRun.objects.get()
    assert killed.status == RunStatus.RUNNING and killed.charges_made == 300
    charged = set(Operation.objects.values_list("account_id", flat=True))
    assert charged == set(ids[:300])  # whole batches, committed before the kill
    assert_ledger_ok()

    rerun = billing_run(batch_size=10)
    killed.refresh_from_db()
    assert killed.status == RunStatus.INTERRUPTED and killed.finished_at <= timezone.now()
    assert (rerun.status, rerun.charges_made, rerun.errors, rerun.fallback_batches) == (
        RunStatus.DONE, 300, 0, 0)
    assert_each_charged_once(ids)
    again = billing_run(batch_size=10)
    assert again.charges_made == 0
    assert_each_charged_once(ids)
