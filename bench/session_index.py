"""Benchmark: the RADIUS session table at 10 million rows (PostgreSQL).

    .venv/bin/python bench/session_index.py [--server postgresql://postgres@127.0.0.1:5432]
        [--db bench_sessions] [--rows 10000000] [--subscribers 100000] [--repeat 200]

Makes a fresh database with ``asr-billing init`` and ``asr-billing demo --subscribers N``
(N logins on the bench NAS), then fills network_onlinesession with ``--rows`` sessions in
one INSERT … SELECT over generate_series: one open session for a third of the logins, the
rest closed history spread over a year, across 20 NAS. After ANALYZE it times each
statement the RADIUS path and the admin run against the table, with the plan PostgreSQL
chooses (the script says whether the sessions table is read by an index or scanned whole),
against a floor measured in the same run: an UPDATE of one session by its primary key.

The statements are the ones the code sends (the prepared Interim UPDATE, the Start INSERT,
the Stop UPDATE, Accounting-On's close per NAS, the stale close, users_logged for a NAS,
a login's history page, the admin's open-sessions count per NAS), each with parameters
drawn at random per repetition; the writes run inside a transaction that is rolled back,
so the table stays as filled.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")


def say(text: str) -> None:
    if not os.environ.get("CI"):
        print(f"  … {text}", file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)  # noqa: S603 - our own argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_sessions")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.db}"')
        conn.execute(f'create database "{args.db}"')
    dsn = f"{args.server}/{args.db}"
    home = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    env = {**os.environ, "CI": "true"}
    say(f"demo with {args.subscribers} subscribers")
    run([CLI, "init", "--home", str(home), "--db-url", dsn], env=env, stdout=subprocess.DEVNULL)
    run([CLI, "demo", "--home", str(home), "--subscribers", str(args.subscribers)], env=env,
        stdout=subprocess.DEVNULL)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            figures = measure(conn, args)
    finally:
        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{args.db}"')
    for line in figures:
        print(line)
    return 0


def fill(conn, args) -> dict:
    for i in range(20 - conn.execute("select count(*) from network_nas").fetchone()[0]):
        conn.execute("insert into network_nas (name, ip, nas_type, radius_secret_enc,"
                     " description, coa_port, ipoe_match) values (%s, %s, 'mikrotik', '', '',"
                     " 3799, 'ip')", (f"bench NAS {i}", f"10.9.{i}.1"))
    logins = [r[0] for r in conn.execute("select id from network_login order by id")]
    nas = [r[0] for r in conn.execute("select id from network_nas order by id")]
    existing = conn.execute("select count(*) from network_onlinesession").fetchone()[0]
    open_count = len(logins) // 3
    closed = max(0, args.rows - existing - open_count)
    say(f"{closed:,} closed sessions (INSERT … SELECT)")
    started = time.monotonic()
    # Login and NAS by arithmetic on the ids (no lateral subqueries: 10 M of them is slow).
    conn.execute(
        "insert into network_onlinesession (login_id, nas_id, acct_session_id, acct_unique_id,"
        " ip, calling_station_id, nas_port_id, class_token, access, started_at, updated_at,"
        " stopped_at, terminate_cause, input_octets, output_octets)"
        " select l.ids[1 + g %% l.n], n.ids[1 + g %% n.n], to_hex(g), md5(g::text), null, '',"
        " '', '', '', now() - (g %% 365) * interval '1 day' - interval '2 hours',"
        " now() - (g %% 365) * interval '1 day' - interval '1 hour',"
        " now() - (g %% 365) * interval '1 day' - interval '1 hour', 'User-Request',"
        " g::bigint * 1000, g::bigint * 3000"
        " from generate_series(1, %s) g,"
        " (select array_agg(id order by id) ids, count(*) n from network_login) l,"
        " (select array_agg(id order by id) ids, count(*) n from network_nas) n",
        (closed,))
    say(f"{open_count:,} open sessions")
    conn.execute("update network_onlinesession set stopped_at = now() where stopped_at is null")
    conn.execute(
        "insert into network_onlinesession (login_id, nas_id, acct_session_id, acct_unique_id,"
        " ip, calling_station_id, nas_port_id, class_token, access, started_at, updated_at,"
        " stopped_at, terminate_cause, input_octets, output_octets)"
        " select l.id, l.nas_id, 'open-' || l.id, 'open-' || l.id, null, '', '', '', 'f',"
        " now() - interval '3 hours', now() - interval '1 minute', null, '', 0, 0"
        " from network_login l order by l.id limit %s", (open_count,))
    fill_seconds = time.monotonic() - started
    say("ANALYZE")
    conn.execute("analyze")
    total = conn.execute("select count(*) from network_onlinesession").fetchone()[0]
    size = conn.execute(
        "select pg_size_pretty(pg_total_relation_size('network_onlinesession'))").fetchone()[0]
    busy = conn.execute("select nas_id from network_onlinesession where stopped_at is null"
                        " group by nas_id order by count(*) desc limit 1").fetchone()[0]
    return {"logins": logins, "nas": nas, "open": open_count, "total": total, "size": size,
            "fill_seconds": fill_seconds, "busy_nas": busy}


def statements(state: dict) -> list[tuple[str, str, bool, object]]:
    """(label, SQL, writes, a function giving parameters for one repetition)."""
    open_ids = state["open"]
    logins, nas = state["logins"], state["nas"]

    def open_unique():
        return (f"open-{logins[random.randrange(open_ids)]}",)

    return [
        ("floor: UPDATE one session by primary key",
         "update network_onlinesession set updated_at = now() where id = %s", True,
         lambda: (random.randrange(1, state["total"]),)),
        ("Interim-Update (prepared, by unique id)",
         "update network_onlinesession set updated_at = now(), input_octets ="
         " greatest(input_octets, %s), output_octets = greatest(output_octets, %s),"
         " ip = coalesce(%s, ip) where acct_unique_id = %s and stopped_at is null", True,
         lambda: (10**9, 10**9, None, *open_unique())),
        ("Start (INSERT, unique id checked)",
         "insert into network_onlinesession (login_id, nas_id, acct_session_id, acct_unique_id,"
         " calling_station_id, nas_port_id, class_token, access, started_at, updated_at,"
         " terminate_cause, input_octets, output_octets) values (%s, %s, 'x', %s, '', '', '',"
         " 'f', now(), now(), '', 0, 0)", True,
         lambda: (random.choice(logins), random.choice(nas), f"new-{random.random()}")),
        ("Stop (close by unique id)",
         "update network_onlinesession set stopped_at = now(), terminate_cause ="
         " 'User-Request', updated_at = now() where acct_unique_id = %s"
         " and stopped_at is null", True, open_unique),
        ("Accounting-On: close the busiest NAS's sessions",
         "update network_onlinesession set stopped_at = now(), terminate_cause = 'NAS-Reboot'"
         " where nas_id = %s and stopped_at is null", True, lambda: (state["busy_nas"],)),
        ("stale close (housekeeping)",
         "update network_onlinesession set stopped_at = updated_at, terminate_cause = 'Stale'"
         " where stopped_at is null and updated_at < now() - interval '15 minutes'", True,
         lambda: ()),
        ("who is online on the busiest NAS (users_logged)",
         "select l.login from network_login l where l.nas_id = %s and l.enabled and exists"
         " (select 1 from network_onlinesession s where s.login_id = l.id"
         " and s.stopped_at is null) order by l.login", False,
         lambda: (state["busy_nas"],)),
        ("a login's history, newest 50",
         "select * from network_onlinesession where login_id = %s"
         " order by started_at desc limit 50", False, lambda: (random.choice(logins),)),
        ("admin: open sessions per NAS",
         "select nas_id, count(*) from network_onlinesession where stopped_at is null"
         " group by nas_id", False, lambda: ()),
    ]


def measure(conn, args) -> list[str]:
    state = fill(conn, args)
    lines = [f"session table: {state['total']:,} rows ({state['open']:,} open), "
             f"{state['size']} with indexes, filled in {state['fill_seconds']:.0f} s; "
             f"{len(state['logins']):,} logins, {len(state['nas'])} NAS; "
             f"ms per statement over {args.repeat} repetitions"]
    floor = None
    for label, sql, writes, params in statements(state):
        plan = "\n".join(r[0] for r in conn.execute("explain " + sql, params()))
        seq = "Seq Scan on network_onlinesession" in plan
        times = []
        # A whole NAS's close or list is heavy: fewer repetitions.
        for _ in range(args.repeat if "busiest" not in label else 20):
            values = params()
            if writes:
                conn.execute("begin")
            started = time.perf_counter()
            conn.execute(sql, values, prepare=True).fetchall() if not writes else \
                conn.execute(sql, values, prepare=True)
            times.append((time.perf_counter() - started) * 1000)
            if writes:
                conn.execute("rollback")
        median = statistics.median(times)
        p99 = sorted(times)[min(len(times) - 1, int(0.99 * len(times)))]
        floor = floor or median
        used = "SEQ SCAN of the sessions" if seq else "index"
        lines.append(f"  {label:<46} median {median:7.3f}  p99 {p99:7.3f}  "
                     f"{median / floor:5.1f}x floor  {used}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
