"""Benchmark: server time of each cabinet page with many subscribers, against a floor.

    .venv/bin/python bench/cabinet_pages.py --subscribers 100000                  # SQLite
    .venv/bin/python bench/cabinet_pages.py --subscribers 100000 \
        --db-url postgresql://postgres@127.0.0.1:5432/bench_cabinet               # PostgreSQL

Makes a fresh home with the story demo (``init --demo``: testlogin / testpsw, contract
BILL0000003, with two years of payments and charges) and adds ``asr-billing demo
--subscribers N``. Then, in this process, through Django's test client (the whole request:
middleware, session, selectors, templates — no network), times each page as testlogin
and as one of the bulk subscribers, best and median of ``--repeat``, and counts its SQL
queries. The floor is the same page's SELECT statements, captured from a warm-up request
and run again by hand through a cursor: what the database alone costs for that page. The
budget (DESIGN.md §5): ≤ 10 queries and < 100 ms of server time per page at 100,000
subscribers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")
BUDGET_MS, BUDGET_QUERIES = 100.0, 10


def run(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603


def prepare(args) -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-cabinet-"))
    env = {**os.environ, "CI": "true"}
    init = [CLI, "init", "--demo", "--home", str(home)]
    if args.db_url:
        import psycopg

        parts = urlsplit(args.db_url)
        dbname = parts.path.lstrip("/")
        admin_url = args.db_url.replace(parts.path, "/postgres", 1)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{dbname}"')
            conn.execute(f'create database "{dbname}"')
        init += ["--db-url", args.db_url]
    start = time.perf_counter()
    run(init, env)
    run([CLI, "demo", "--home", str(home), "--subscribers", str(args.subscribers)], env)
    print(f"data: story demo + {args.subscribers} subscribers in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    return home


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--db-url", default="", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    home = prepare(args)
    os.environ["ASR_BILLING_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from asr_billing.cabinet.models import CabinetSession
    from asr_billing.demo.bulk import BENCH_PASSWORD
    from asr_billing.demo.common import BENCH_NAS
    from asr_billing.finance.models import Operation
    from asr_billing.network.models import Login

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("analyze")
    bulk = Login.objects.filter(nas__ip=BENCH_NAS[1]).order_by("pk")
    bulk_login = bulk[bulk.count() // 2].login
    who = [("testlogin", "testpsw"), (bulk_login, BENCH_PASSWORD)]
    pages = [
        ("home", "/cabinet/"),
        ("home, 12 months", "/cabinet/?months=12"),
        ("history", "/cabinet/history/"),
        ("history, dates", "/cabinet/history/?first=2025-01-01&last=2025-06-30"),
        ("history, page 3", "/cabinet/history/?page=3"),
        ("history CSV", "/cabinet/history/csv/"),
        ("services", "/cabinet/services/"),
        ("promised payment", "/cabinet/promised/"),
        ("voluntary block", "/cabinet/vblock/"),
        ("tariff", "/cabinet/tariff/"),
        ("helpdesk", "/cabinet/helpdesk/"),
        ("notifications", "/cabinet/notifications/"),
        ("pay online", "/cabinet/pay/"),
    ]
    print(f"database: {connection.vendor}; subscribers: "
          f"{Login.objects.values('subscriber').distinct().count()}, ledger rows: "
          f"{Operation.objects.count()}; best/median of {args.repeat}, ms")
    print(f"{'login':12} {'page':17} {'queries':>7} {'floor':>7} {'best':>7} {'median':>7} "
          f"{'x floor':>7}  rows")
    failed = False
    login_page = Client(REMOTE_ADDR="192.0.2.1")
    low, median = timed(lambda: login_page.get("/cabinet/login/"), args.repeat)
    print(f"{'-':12} {'login form':17} {0:7} {'':>7} {low:7.2f} {median:7.2f} {'':>7}")
    for name, password in who:
        client = Client(REMOTE_ADDR="192.0.2.1")
        response = client.post("/cabinet/login/", {"login": name, "password": password})
        assert response.status_code == 302, response.content[:300]
        subscriber_id = CabinetSession.objects.filter(login__login=name).latest("pk").subscriber_id
        rows = Operation.objects.filter(account_id=subscriber_id).count()
        for label, url in pages:

            def get(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                if response.streaming:
                    b"".join(response.streaming_content)

            get()  # warm up
            statements = []

            def record(execute, sql, params, many, context, statements=statements):
                statements.append((sql, params))
                return execute(sql, params, many, context)

            # Not CaptureQueriesContext: each request's start clears the queries log.
            with connection.execute_wrapper(record):
                get()
            selects = [(sql, params) for sql, params in statements
                       if sql.lstrip().upper().startswith("SELECT")]

            def floor(selects=selects):
                with connection.cursor() as cur:
                    for sql, params in selects:
                        cur.execute(sql, params)
                        cur.fetchall()

            floor_ms, _ = timed(floor, args.repeat)
            low, median = timed(get, args.repeat)
            queries = len(statements)
            failed |= queries > BUDGET_QUERIES or low > BUDGET_MS
            print(f"{name[:12]:12} {label:17} {queries:7} {floor_ms:7.2f} {low:7.2f} "
                  f"{median:7.2f} {low / floor_ms:7.1f}  {rows}")
    print(f"budget: ≤ {BUDGET_QUERIES} queries and < {BUDGET_MS:.0f} ms a page — "
          + ("NOT met" if failed else "met"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
