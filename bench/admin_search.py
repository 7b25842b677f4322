"""Benchmark: the admin's subscriber search and dashboard at scale (issue 14).

    .venv/bin/python bench/admin_search.py --subscribers 1000000            # SQLite
    .venv/bin/python bench/admin_search.py --subscribers 1000000 \\
        --server postgresql://postgres@127.0.0.1:5432 --db bench_search       # PostgreSQL

Makes a fresh home (and database) with ``asr-billing demo --subscribers N``, then times,
best of 3, what the subscriber list does for a search: the filtered count (the paginator's)
and the first page of 50, through SubscriberAdmin.get_search_results:

- a Cyrillic name in lower case ("иванов"): on SQLite the folded comparison (core/search.py,
  a Python casefold per row and field), on PostgreSQL Django's UPPER() LIKE;
- a Latin term ("testlogin") and a contract number: SQLite's own LIKE;
- a phone number without punctuation (the REPLACE chain over two fields);
- **floor**: one hand-written count with the database's own LIKE on the name (on SQLite it
  does not fold Cyrillic: the cost of a scan, not a correct answer);
- **dashboard** (core/dashboard.py, the admin's first page): its queries and time, against
  the one subscriber-state count it cannot do without.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from demo_home import demo_home

TERMS = ("иванов", "testlogin", "BILL0000003", "9036572902")


def best(seconds: list[float]) -> float:
    return min(seconds) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--server", default="", help="a PostgreSQL server URL; else SQLite")
    parser.add_argument("--db", default="bench_search")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-search-")) / "home"
    env = {**os.environ, "CI": "true"}
    demo_home(home, args.subscribers, env, args.server, args.db)

    os.environ["ASR_BILLING_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from django.contrib import admin
    from django.db import connection
    from django.test import RequestFactory

    from asr_billing.subscribers.models import Subscriber

    model_admin = admin.site._registry[Subscriber]
    request = RequestFactory().get("/admin/subscribers/subscriber/")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.execute("ANALYZE")

    def search(term: str) -> tuple[int, float]:
        times, count = [], 0
        for _ in range(3):
            t0 = time.perf_counter()
            queryset, _distinct = model_admin.get_search_results(
                request, Subscriber.objects.all(), term)
            count = queryset.count()
            list(queryset.order_by("-pk")[:50])
            times.append(time.perf_counter() - t0)
        return count, best(times)

    def floor() -> float:
        times = []
        op = "LIKE" if connection.vendor == "sqlite" else "ILIKE"
        for _ in range(3):
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM subscribers_subscriber "
                               f"WHERE name {op} %s", ["%иванов%"])
                cursor.fetchone()
            times.append(time.perf_counter() - t0)
        return best(times)

    base = floor()
    print(f"{connection.vendor}, {Subscriber.objects.count()} subscribers; floor (one count, "
          f"the database's own LIKE on the name): {base:.0f} ms")
    for term in TERMS:
        count, ms = search(term)
        print(f"  {term!r:16} {count:>7} found  {ms:7.0f} ms  ({ms / base:.1f} x floor)")

    from django.contrib.auth.models import User
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    from asr_billing.core.dashboard import _states, dashboard

    boss = User(username="bench", is_superuser=True, is_active=True)
    times, queries = [], 0
    for _ in range(3):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            dashboard(boss)
            times.append(time.perf_counter() - t0)
        queries = len(captured)
    floor_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        _states()
        floor_times.append(time.perf_counter() - t0)
    print(f"dashboard: {best(times):.0f} ms in {queries} queries; floor (the subscriber-state "
          f"count alone): {best(floor_times):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
