"""Exactly once on a real PostgreSQL: two runs at once (threads, and two processes), and
a run killed with SIGKILL half-way and started again. Every subscriber is charged once —
never twice, never skipped — and every balance still equals its ledger."""

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
from django.utils import timezone

from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.periods import local_today
from asr_billing.billing.run import billing_run
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


def test_two_runs_at_once_in_threads(group):
    ids = many_subscribers(group, 300)
    barrier = threading.Barrier(2)
    results = []

    def work():
        try:
            barrier.wait()
            results.append(billing_run(batch_size=7))
        except Exception as exc:  # checked below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, BillingRun) for r in results), results
    assert sorted(r.charges_made for r in results)[1] <= 300
    assert sum(r.charges_made for r in results) == 300  # each charge made by one of them
    assert all(r.status == RunStatus.DONE and r.errors == r.fallback_batches == 0
               for r in results)
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
    first, second = bill_run(cli_home, "--batch-size", "9"), bill_run(cli_home, "--batch-size",
                                                                        "9")
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    runs = list(BillingRun.objects.order_by("pk"))
    assert len(runs) == 2 and sum(r.charges_made for r in runs) == 400
    assert_each_charged_once(ids)


def test_killed_run_and_rerun(group, cli_home):
    ids = many_subscribers(group, 600)
    blocker = ids[300]
    # Hold one account's row lock from another connection: the run commits the batches
    # before it and then waits at this one — where we kill it.
    db = connection.settings_dict
    holder = psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
                             host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    holder.execute("SELECT 1 FROM finance_account WHERE subscriber_id = %s FOR UPDATE",
                   [blocker])
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
