"""Benchmark: the collector lists of one NAS with many logins, against a floor.

    .venv/bin/python bench/collector_list.py --logins 100000                 # SQLite
    .venv/bin/python bench/collector_list.py --logins 100000 \
        --db-url postgresql://postgres@127.0.0.1:5432/bench_collector         # PostgreSQL

Makes a fresh home (and, for PostgreSQL, drops and creates the database), fills it with
``asr-billing demo --subscribers N`` (all on the bench NAS 10.0.1.1), then opens a session
for every login so ``users_logged`` answers all N lines, and times, best of ``--repeat``:

- floor, SQL: one hand-written query that builds the whole text in the database
  (``string_agg`` on PostgreSQL; ``group_concat`` on SQLite);
- floor, Python join: the same query returning rows, lines joined in Python;
- ours: the ``collector_manager`` function (selector + line formatting), no HTTP;
- HTTP: the whole request through Django (access checks, dispatch, rendering).

It checks that all four produce the same bytes, and prints the ratios (DESIGN.md §5:
ours ≤ 1.5× the SQL floor, < 0.5 s on PostgreSQL for 100,000 lines).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")
BENCH_NAS = "10.0.1.1"

OPEN_SESSION = (
    "from network_onlinesession s where s.login_id = l.id and s.stopped_at is null"
)
SESSION_IP = f"(select s.ip {OPEN_SESSION} order by s.started_at desc limit 1)"
RATES = ("rate_in", "ceil_in", "burst_in", "rate_out", "ceil_out", "burst_out")


def _columns(ip, text):
    """The 16 columns as SQL text, None for a missing value (the documented placeholder);
    ``ip`` and ``text`` render an inet and a number as text in the dialect."""
    blocked = "sub.admin_blocked or sub.voluntary_blocked"
    return [
        f"coalesce({ip(f'coalesce(l.ip, {SESSION_IP})')}, 'None')",
        "l.login",
        f"coalesce({ip('l.snat_ip')}, 'None')",
        "coalesce(nullif(l.mac, ''), 'None')",
        "'1'",  # logged: the WHERE clause keeps only logins with an open session
        "case when sub.negbal then '1' else '0' end",
        f"case when {blocked} then '1' else '0' end",
        *[f"coalesce({text('t.' + c)}, 'None')" for c in RATES],
        ip("n.ip"),
        f"coalesce({text('t.cburst_in')}, 'None')",
        f"coalesce({text('t.cburst_out')}, 'None')",
    ]


FROM = f"""
  from network_login l
  join network_nas n on n.id = l.nas_id
  join subscribers_subscriber sub on sub.id = l.subscriber_id
  left join tariffs_tariff t on t.id = sub.tariff_id
  where n.ip = %s and l.enabled and exists (select 1 {OPEN_SESSION})
"""


def floor_queries(vendor: str) -> tuple[str, str]:
    """(whole text in SQL, one text line per row) for users_logged on one NAS."""
    if vendor == "postgresql":
        cols = _columns(lambda e: f"host({e})", lambda e: f"{e}::text")
        line = "concat_ws(' ', " + ", ".join(cols) + ")"
        whole = f"select string_agg({line} || E'\\n', '' order by l.login) {FROM}"
    else:
        cols = _columns(lambda e: e, lambda e: f"cast({e} as text)")
        line = " || ' ' || ".join(cols)
        # SQLite 3.40 has no ORDER BY inside aggregates: aggregate an ordered subquery.
        whole = (
            f"select group_concat(line || char(10), '') from "
            f"(select {line} as line {FROM} order by l.login)"
        )
    rows = f"select {line} {FROM} order by l.login"
    return whole, rows


def run(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603


def best(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def prepare(args) -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-collector-"))
    env = {**os.environ, "CI": "true"}
    init = [CLI, "init", "--home", str(home)]
    if args.db_url:
        import psycopg

        parts = urlsplit(args.db_url)
        dbname = parts.path.lstrip("/")
        admin_url = args.db_url.replace(parts.path, "/postgres", 1)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{dbname}"')
            conn.execute(f'create database "{dbname}"')
        init += ["--db-url", args.db_url]
    run(init, env)
    start = time.perf_counter()
    run([CLI, "demo", "--home", str(home), "--subscribers", str(args.logins)], env)
    print(f"data: {args.logins} subscribers in {time.perf_counter() - start:.1f} s", flush=True)
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=100_000)
    parser.add_argument("--db-url", default="", help="PostgreSQL URL (database is recreated)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    home = prepare(args)
    os.environ["ASR_BILLING_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Exists, OuterRef
    from django.test import Client
    from django.utils import timezone

    from asr_billing.core import runtime
    from asr_billing.network.models import Login, Nas, OnlineSession

    # Everyone online, so users_logged is the full list of N lines.
    nas = Nas.objects.get(ip=BENCH_NAS)
    now = timezone.now()
    open_session = OnlineSession.objects.filter(login=OuterRef("pk"), stopped_at__isnull=True)
    offline = Login.objects.filter(nas=nas).exclude(Exists(open_session))
    OnlineSession.objects.bulk_create(
        [
            OnlineSession(login_id=pk, nas=nas, acct_session_id=f"bench-collector-{pk}", ip=ip,
                          started_at=now, updated_at=now)
            for pk, ip in offline.values_list("pk", "ip").iterator(chunk_size=10_000)
        ],
        batch_size=5_000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("analyze")

    whole_sql, rows_sql = floor_queries(connection.vendor)

    def floor_sql():
        with connection.cursor() as cur:
            cur.execute(whole_sql, [BENCH_NAS])
            return cur.fetchone()[0].encode()

    def floor_python():
        with connection.cursor() as cur:
            cur.execute(rows_sql, [BENCH_NAS])
            return "".join([r[0] + "\n" for r in cur.fetchall()]).encode()

    from asr_billing.system_api.collector import PLACEHOLDER, line
    from asr_billing.system_api.render import Lines
    from asr_billing.system_api.selectors import collector_rows, collector_text

    def ours():
        # What users_logged answers: the text from PostgreSQL, else lines joined in Python.
        return Lines(
            lambda: collector_rows(nas_ip=BENCH_NAS, kind="logged"),
            line,
            dict,
            text_source=lambda: collector_text(
                nas_ip=BENCH_NAS, kind="logged", placeholder=PLACEHOLDER
            ),
        ).text().encode()

    psw = runtime.current().passwords["collector"]
    client = Client(REMOTE_ADDR="127.0.0.1")
    url = (
        "/system_api/?model=Abonents&method1=collector_manager.users_logged"
        f'&arg1={{"nas_ip":"{BENCH_NAS}"}}&context=collector&psw={psw}'
    )

    def http():
        response = client.get(url)
        assert response.status_code == 200, response.content[:200]
        return response.content

    results = {}
    for name, fn in [("floor, SQL", floor_sql), ("floor, Python join", floor_python),
                     ("ours (function)", ours), ("ours (HTTP request)", http)]:
        fn()  # warm up caches and connections
        results[name] = best(fn, args.repeat)
    bodies = {name: r[2] for name, r in results.items()}
    reference = bodies["floor, SQL"]
    lines = reference.count(b"\n")
    for name, body in bodies.items():
        if body != reference:
            print(f"MISMATCH: {name} differs from the SQL floor", file=sys.stderr)
            return 1
    floor = results["floor, SQL"][0]
    print(f"database: {connection.vendor}; users_logged on {BENCH_NAS}: {lines} lines, "
          f"{len(reference)} bytes; best of {args.repeat}")
    print(f"{'':24} {'best s':>8} {'median s':>9} {'x floor':>8}")
    for name, (low, median, _) in results.items():
        print(f"{name:24} {low:8.3f} {median:9.3f} {low / floor:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
