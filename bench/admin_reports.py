"""Benchmark: the admin's reports at scale (issue 14, core/reports.py).

    .venv/bin/python bench/admin_reports.py --subscribers 100000             # SQLite
    .venv/bin/python bench/admin_reports.py --subscribers 1000000 \\
        --server postgresql://postgres@127.0.0.1:5432 --db bench_reports       # PostgreSQL

Makes a fresh home with ``asr-billing demo --subscribers N`` and times, best of 3:

- **payments**: this month's payments by day and operator (one GROUP BY), and by month;
- **floor**: one hand-written ``SELECT count(*), sum(amount)`` over the same rows;
- **debtors summary**: the age buckets (one aggregate with the two "since" subqueries per
  debtor), and the first page of 50 debtors;
- **debtors CSV**: the whole streamed file, with its peak memory (tracemalloc), to show it
  stays flat whatever the number of rows;
- **monthly reports** (core/monthly_reports.py) over the last twelve months: charges by
  tariff and service with ARPU, subscriber movement, tariff mix — against their own floor,
  one hand-written ``SELECT count(*), sum(amount)`` over the same charge rows. The bulk
  demo has no charges, so the bench then posts a history: every subscriber's tariff fee
  on the 1st of each of the last ``--months`` months, 00:30 local (one INSERT … SELECT a
  month; balances are not touched: the home is thrown away).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from demo_home import demo_home

RUNS = 3  # best of; --runs


def timed(work, runs: int | None = None) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs or RUNS):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, result


def post_charges(months: int, start) -> None:
    """Every subscriber's tariff fee on the 1st of each of the last ``months`` months,
    00:30 local, one INSERT … SELECT a month; nothing when a kept home has them."""
    from django.db import connection, transaction

    from asr_billing.core import monthly_reports, reports
    from asr_billing.finance.models import Operation

    if Operation.objects.filter(type=1, actor="bench").exists():
        return
    started = time.monotonic()
    month = start
    for _n in range(months):
        when = connection.ops.adapt_datetimefield_value(
            reports.local_start(month) + timedelta(minutes=30))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO finance_operation (account_id, type, amount, balance_after, "
                "op_date, created_at, description, actor, external_id, code1c, synced_1c, "
                "tariff_id, period_start, period_end) "
                "SELECT s.id, 1, -t.fee, 0, %s, %s, '', 'bench', '', '', %s, t.id, %s, %s "
                "FROM subscribers_subscriber s JOIN tariffs_tariff t ON t.id = s.tariff_id "
                "WHERE t.fee > 0",
                [when, when, False, month,
                 monthly_reports.next_month(month) - timedelta(days=1)])
        month = (month - timedelta(days=1)).replace(day=1)
    print(f"{months} months of charges posted: {time.monotonic() - started:.0f} s")
    if connection.vendor == "sqlite":
        connection.connection.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE finance_operation")


def bench_dashboard(today) -> None:
    """The admin's first page (core/dashboard.py): its figures best of 3 with their queries,
    and the whole page through the test client (a superuser's), its queries counted;
    against the floor of its largest part, one count and sum of the month's payments."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from asr_billing.core.dashboard import dashboard
    from asr_billing.core.reports import local_start

    def floor_sql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(amount) FROM finance_operation "
                           "WHERE type = 2 AND op_date >= %s",
                           [connection.ops.adapt_datetimefield_value(
                               local_start(today.replace(day=1)))])
            return cursor.fetchone()

    base, (count, _sum) = timed(floor_sql)
    boss = get_user_model()(username="bench", is_superuser=True, is_active=True)
    with CaptureQueriesContext(connection) as captured:
        ms, board = timed(lambda: dashboard(boss))
    print(f"dashboard: floor (count and sum of the month's {count} payments): {base:.0f} ms; "
          f"the figures: {ms:.0f} ms ({ms / base:.1f} x floor), {len(captured) // RUNS} queries, "
          f"{board.states['total']} subscribers, {board.payments_total.month_count} payments")
    user, _new = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    times = []
    for _n in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            page = client.get(reverse("admin:index"))
            times.append(time.perf_counter() - t0)
    assert page.status_code == 200, page.status_code
    print(f"dashboard page (GET /admin/): {min(times) * 1000:.0f} ms, {len(captured)} queries")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--server", default="", help="a PostgreSQL server URL; else SQLite")
    parser.add_argument("--db", default="bench_reports")
    parser.add_argument("--monthly-only", action="store_true",
                        help="time only the monthly reports (the debtors summary takes "
                             "minutes on PostgreSQL at 100,000)")
    parser.add_argument("--months", type=int, default=12,
                        help="months of charges to post for the monthly reports")
    parser.add_argument("--home", type=Path, default=None,
                        help="keep the demo in this home and, when it is already there "
                             "(a run with the same --home), time it again without making "
                             "it anew (1,000,000 subscribers take a while to make)")
    parser.add_argument("--steps", default="dashboard,payments,debtors,monthly",
                        help="what to time, of dashboard,payments,debtors,monthly")
    parser.add_argument("--runs", type=int, default=3, help="best of how many runs")
    parser.add_argument("--prepare-only", action="store_true",
                        help="make the demo and the charge history, time nothing")
    args = parser.parse_args()
    global RUNS
    RUNS = args.runs
    steps = set(args.steps.split(","))
    if args.monthly_only:
        steps = {"monthly"}
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-reports-")) / "home"
    env = {**os.environ, "CI": "true"}
    if not (home / "cfg" / "config").exists():
        demo_home(home, args.subscribers, env, args.server, args.db)
    else:
        print(f"reusing the demo in {home}")

    os.environ["ASR_BILLING_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.home:
        # A kept home: bring its database up to the code's migrations (a new index).
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        print(f"migrate: {time.monotonic() - started:.0f} s")
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from asr_billing.core import monthly_reports, reports
    from asr_billing.core.admin_reports import debtors_csv

    today = timezone.localdate()
    start = today.replace(day=1)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.execute("ANALYZE")

    if args.prepare_only:
        post_charges(args.months, start)
        return 0
    if "dashboard" in steps:
        bench_dashboard(today)
    if "payments" in steps:
        def floor_sql():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*), sum(amount) FROM finance_operation "
                               "WHERE type = 2 AND op_date >= %s AND op_date < %s",
                               [reports.local_start(start),
                                reports.local_start(today) + timedelta(days=1)])
                return cursor.fetchone()

        base, (count, _sum) = timed(floor_sql)
        print(f"{connection.vendor}; this month's payments: {count}; floor (one count and sum): "
              f"{base:.0f} ms")
        for grouping, date_from in ((reports.DAY, start), (reports.MONTH, start.replace(month=1))):
            with CaptureQueriesContext(connection) as captured:
                ms, report = timed(lambda g=grouping, f=date_from: reports.payments_report(
                    date_from=f, date_to=today, grouping=g))
            print(f"payments by {grouping}: {ms:.0f} ms ({ms / base:.1f} x floor), "
                  f"{len(captured) // RUNS} queries, {report.grand.count} payments")
    if "debtors" in steps:
        with CaptureQueriesContext(connection) as captured:
            ms, (_buckets, total) = timed(lambda: reports.debtors_summary(today=today))
        print(f"debtors summary: {ms:.0f} ms, {len(captured) // RUNS} queries, "
              f"{total.count} debtors")
        ms, _page = timed(lambda: list(
            reports.debtors_queryset().select_related("subscriber")[:50]))
        print(f"debtors first page of 50: {ms:.0f} ms")

        tracemalloc.start()
        t0 = time.perf_counter()
        lines = size = 0
        for chunk in debtors_csv(None).streaming_content:
            lines += 1
            size += len(chunk)
        seconds = time.perf_counter() - t0
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"debtors CSV: {lines - 1} rows, {size / 1e6:.1f} MB in {seconds:.1f} s, "
              f"peak Python memory {peak / 1e6:.1f} MB")

    if "monthly" not in steps:
        return 0
    # The monthly reports need a ledger history (see the module text); the figures
    # above are measured before it is posted (but in a kept home after).
    post_charges(args.months, start)
    month_to = start
    month_from = month_to.replace(year=month_to.year - 1, month=month_to.month + 1) \
        if month_to.month < 12 else month_to.replace(month=1)

    def charges_floor():
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), sum(amount) FROM finance_operation "
                           "WHERE type = 1 AND op_date >= %s AND op_date < %s",
                           [adapt(reports.local_start(month_from)),
                            adapt(reports.local_start(monthly_reports.next_month(month_to)))])
            return cursor.fetchone()

    base, (count, _sum) = timed(charges_floor)
    print(f"charges in the last twelve months: {count}; floor (one count and sum): "
          f"{base:.0f} ms")
    work = {
        "charges and ARPU": monthly_reports.charges_report,
        "subscriber movement": monthly_reports.movement_report,
        "tariff mix": monthly_reports.mix_report,
    }
    for name, report in work.items():
        with CaptureQueriesContext(connection) as captured:
            ms, _report = timed(lambda r=report: r(month_from=month_from, month_to=month_to))
        ratio = "" if report is monthly_reports.movement_report else \
            f" ({ms / base:.1f} x floor)"
        print(f"{name}, 12 months: {ms:.0f} ms{ratio}, {len(captured) // RUNS} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
