"""Benchmark: the daily charging run on PostgreSQL against a set-based SQL floor.

For each size N (default 10,000, 100,000 and 1,000,000) the script makes a fresh
database and home (``asr-billing init --db-url``), fills it with
``asr-billing demo --subscribers N`` (connected today, no charges yet: 10% daily, 10%
spread, 80% monthly tariffs), then measures in one process, on the same data:

1. floor: the same charges by one hand-written ``INSERT … SELECT … ON CONFLICT DO
   NOTHING`` plus one ``UPDATE`` of the balances (no locks, no negbal, no run record),
   in a transaction that is rolled back (then VACUUM, so the run starts clean); its
   foreign keys are checked in the statement (SET CONSTRAINTS ALL IMMEDIATE), as the
   run's commits check them;
2. run: ``billing_run()`` for today — batches, locks, the rules, negbal, audit, records;
3. no-op rerun of both (everything is charged: nothing to insert).

It prints seconds, µs per subscriber and the ratio run / floor, and checks the run made
exactly the floor's charges (count and sum). Usage (PostgreSQL at 127.0.0.1:5432):

    .venv/bin/python bench/billing_run.py [--sizes 10000,100000,1000000]
        [--server postgresql://postgres@127.0.0.1:5432] [--db bench_billing]

It drops and re-creates the database named by --db. Budgets: DESIGN.md §5.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "asr_billing"]


def sh(args: list[str], env=None) -> float:
    started = time.monotonic()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.monotonic() - started


def child_env(home: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"ASR_BILLING_HOME": home, "CI": "1"})
    return env


def prepare(size: int, server: str, db: str, home: str) -> dict:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    env = child_env(home)
    init = sh([*CLI, "init", "--home", home, "--db-url", f"{server}/{db}"], env)
    demo = sh([*CLI, "--home", home, "demo", "--subscribers", str(size)], env)
    return {"init_s": round(init, 1), "demo_s": round(demo, 1)}


FLOOR_SQL = """
WITH tp(id, amount, pe, descr) AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(amounts)s::numeric[], %(ends)s::date[],
                         %(texts)s::text[])
),
ins AS (
    INSERT INTO finance_operation (
        account_id, type, amount, balance_after, op_date, created_at, description, actor,
        external_id, code1c, synced_1c, tariff_id, period_start, period_end)
    SELECT s.id, 1, -tp.amount, a.balance - tp.amount, now(), now(), tp.descr, 'floor',
           '', '', false, s.tariff_id, %(day)s, tp.pe
    FROM subscribers_subscriber s
    JOIN finance_account a ON a.subscriber_id = s.id
    JOIN tp ON tp.id = s.tariff_id
    WHERE tp.amount > 0
    ON CONFLICT DO NOTHING
    RETURNING account_id, amount
)
UPDATE finance_account a SET balance = a.balance + ins.amount
FROM ins WHERE a.subscriber_id = ins.account_id
"""


def floor_params(day):
    """Each tariff's charge for a subscriber connected today, by the engine's own rules
    (bench data: everyone is connected today, so it is one amount per tariff)."""
    from asr_billing.billing.periods import Month, day_share, days_share
    from asr_billing.billing.rules import describe
    from asr_billing.tariffs.models import Tariff

    month = Month.of(day)
    ids, amounts, ends, texts = [], [], [], []
    for tariff in Tariff.objects.all():
        method = tariff.charge_method
        if method == "daily":
            amount, end = tariff.fee, day
        elif method == "monthly_spread":
            amount, end = day_share(tariff.fee, day), day
        elif method == "monthly":
            full = day == month.first or tariff.partial_month == "full"
            amount = tariff.fee if full else days_share(tariff.fee, day, month.last)
            end = month.last
            if day < month.day(tariff.monthly_charge_day):
                continue  # not due yet today
        else:
            amount, end = tariff.fee, day
        ids.append(tariff.pk)
        amounts.append(amount)
        ends.append(end)
        texts.append(describe("fee", tariff.name, method, day))
    return {"ids": ids, "amounts": amounts, "ends": ends, "texts": texts, "day": day}


def timed_floor(params, *, keep: bool) -> tuple[float, int]:
    from django.db import connection, transaction

    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at COMMIT.
            # The floor is rolled back, so make it check them now, as the run's commits do.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(FLOOR_SQL, params)
            rows = cursor.rowcount
        elapsed = time.monotonic() - started
        if not keep:
            transaction.set_rollback(True)
    return elapsed, rows


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def measure(size: int, home: str) -> dict:
    os.environ["ASR_BILLING_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from django.db import connection

    from asr_billing.billing.options import billing_options
    from asr_billing.billing.periods import local_today
    from asr_billing.billing.run import billing_run
    from asr_billing.finance.selectors import ledger_mismatches

    connection.ensure_connection()
    vacuum()
    day = local_today(billing_options().time_zone)
    params = floor_params(day)
    floor_s, floor_rows = timed_floor(params, keep=False)
    vacuum()
    started = time.monotonic()
    run = billing_run()
    run_s = time.monotonic() - started
    started = time.monotonic()
    rerun = billing_run()
    rerun_s = time.monotonic() - started
    floor_noop_s, floor_noop_rows = timed_floor(params, keep=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(-sum(amount), 0) FROM finance_operation "
            "WHERE type = 1 AND actor = 'billing'"
        )
        charged, amount = cursor.fetchone()
    mismatches = len(ledger_mismatches())
    return {
        "subscribers": size,
        "floor_s": round(floor_s, 2),
        "run_s": round(run_s, 2),
        "ratio": round(run_s / floor_s, 2),
        "floor_us_per_sub": round(floor_s / size * 1e6, 1),
        "run_us_per_sub": round(run_s / size * 1e6, 1),
        "noop_floor_s": round(floor_noop_s, 2),
        "noop_run_s": round(rerun_s, 2),
        "charges": run.charges_made,
        "floor_charges": floor_rows,
        "same_charges": run.charges_made == floor_rows == charged and floor_noop_rows == 0,
        "amount": str(amount),
        "rerun_charges": rerun.charges_made,
        "errors": run.errors + rerun.errors,
        "fallback_batches": run.fallback_batches + rerun.fallback_batches,
        "ledger_mismatches": mismatches,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_billing")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child: one size, in its own process (Django set up for its home)
        print(json.dumps(measure(args.one, args.home)))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-billing-") as home:
            setup = prepare(size, args.server, args.db, home)
            out = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--one", str(size), "--home", home],
                check=True, capture_output=True, text=True, env=child_env(home),
            ).stdout
            result = {**json.loads(out.strip().splitlines()[-1]), **setup}
        results.append(result)
        print(json.dumps(result), flush=True)
    print()
    print("| subscribers | floor, s | run, s | run / floor | µs per subscriber (run) "
          "| no-op floor, s | no-op run, s | charges | same as floor |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in results:
        print(f"| {r['subscribers']:,} | {r['floor_s']} | {r['run_s']} | {r['ratio']} "
              f"| {r['run_us_per_sub']} | {r['noop_floor_s']} | {r['noop_run_s']} "
              f"| {r['charges']:,} | {'yes' if r['same_charges'] else 'NO'} |")
    return 0 if all(r["same_charges"] and not r["errors"] and not r["ledger_mismatches"]
                    and not r["fallback_batches"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
