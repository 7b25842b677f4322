"""Benchmark: payment intake through act_pay under gunicorn, against a floor.

    apt-get install wrk        # the load generator (Debian package)
    .venv/bin/python bench/payment_intake.py \
        --server postgresql://postgres@127.0.0.1:5432 --db bench_payments
    .venv/bin/python bench/payment_intake.py --sqlite      # the embedded database

Makes a fresh database and home, adds ``asr-billing demo --subscribers N`` (payment
operator BENCH), starts ``asr-billing serve`` and then:

- **floor**: two processes, each a loop of one transaction per payment straight through
  psycopg (or Python's sqlite3 with ``BEGIN IMMEDIATE``, WAL and ``synchronous=NORMAL``
  as the server uses them): lock the account row, insert the ledger row, update the
  balance (DESIGN.md §5);
- **ours**: wrk sends ``asr_fiscal_manager.act_pay`` PAY requests with unique payment ids
  to random contracts over keep-alive connections; requests/s and latency percentiles;
- **exactly once**: wrk sends the same payment ids again; no new operation may appear,
  and ``asr-billing check`` must pass.

Budget (DESIGN.md §5): ≥ 500 payments/s, p99 < 50 ms, exactly once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")

WRK_SCRIPT = """
local contracts = {%(contracts)s}
local counter = 0
local threads_made = 0
prefix = ""  -- a global: setup() sets it in each thread's own Lua state

function setup(thread)
  threads_made = threads_made + 1
  thread:set("prefix", "%(run)s" .. threads_made)
end

function request()
  counter = counter + 1
  -- Replay run: ids 2..wrap only (wrk calls request() once unsent at start: id 1).
  if %(wrap)d > 0 and counter > %(wrap)d then counter = 2 end
  -- The contract follows the id, so a replay of an id is the same payment.
  local contract = contracts[(counter * 7919) %% #contracts + 1]
  -- Digits only (OSMP's txn_id): run digit, thread digit, then the counter.
  local id = prefix .. string.format("%%09d", counter)
%(request)s
end
"""

ACT_PAY_REQUEST = """
  local arg1 = '{"contract_number":"' .. contract .. '","sum_in":"100.50",' ..
    '"pay_operator":"BENCH","pay_id_str":"' .. id .. '","act":"PAY"}'
  arg1 = arg1:gsub('[^%%w%%-%%.]',
    function(c) return string.format('%%%%%%02X', string.byte(c)) end)
  return wrk.format("GET", "%(path)s&arg1=" .. arg1)
"""

OSMP_REQUEST = """
  return wrk.format("GET", "%(path)s&txn_id=" .. id .. "&account=" .. contract ..
    "&sum=100.50&txn_date=20261203120000")
"""



def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)  # noqa: S603 - fixed commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def floor_worker(dsn: str, account_ids: list[int], operator_id: int, seconds: float, out):
    import psycopg

    done = 0
    ident = os.getpid()
    deadline = time.perf_counter() + seconds
    with psycopg.connect(dsn) as conn:
        while time.perf_counter() < deadline:
            account = account_ids[done % len(account_ids)]
            with conn.transaction():
                balance = conn.execute(
                    "select balance from finance_account where subscriber_id = %s for update",
                    (account,),
                ).fetchone()[0]
                conn.execute(
                    "insert into finance_operation (type, amount, balance_after, op_date,"
                    " created_at, description, actor, external_id, code1c, synced_1c,"
                    " account_id, pay_operator_id) values (2, 100.50, %s, now(), now(), '',"
                    " 'floor', %s, '', false, %s, %s)",
                    (balance + Decimal("100.50"), f"floor-{ident}-{done}", account, operator_id),
                )
                conn.execute(
                    "update finance_account set balance = balance + 100.50"
                    " where subscriber_id = %s",
                    (account,),
                )
            done += 1
    out.put(done)


def sqlite_floor_worker(path: str, account_ids: list[int], operator_id: int, seconds: float,
                        out):
    import sqlite3

    done = 0
    ident = os.getpid()
    deadline = time.perf_counter() + seconds
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    while time.perf_counter() < deadline:
        account = account_ids[done % len(account_ids)]
        conn.execute("BEGIN IMMEDIATE")
        balance = conn.execute(
            "select balance from finance_account where subscriber_id = ?", (account,)
        ).fetchone()[0]
        conn.execute(
            "insert into finance_operation (type, amount, balance_after, op_date, created_at,"
            " description, actor, external_id, code1c, synced_1c, account_id, pay_operator_id)"
            " values (2, '100.50', ?, datetime('now'), datetime('now'), '', 'floor', ?, '', 0,"
            " ?, ?)",
            (str(Decimal(str(balance)) + Decimal("100.50")), f"floor-{ident}-{done}", account,
             operator_id),
        )
        conn.execute("update finance_account set balance = balance + 100.50"
                     " where subscriber_id = ?", (account,))
        conn.execute("COMMIT")
        done += 1
    conn.close()
    out.put(done)


def measure_floor(db: Db, seconds: float) -> float:
    accounts = [r[0] for r in db.rows(
        "select subscriber_id from finance_account order by subscriber_id limit 5000")]
    operator = db.rows("select id from finance_paymentoperator where code = 'BENCH'")[0][0]
    worker = sqlite_floor_worker if db.sqlite else floor_worker
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=worker, args=(db.target, accounts[i::2], operator, seconds, out))
        for i in range(2)
    ]
    for proc in procs:
        proc.start()
    total = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def wrk(url: str, script: Path, seconds: int, connections: int) -> dict:
    output = run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


class Db:
    """The bench database: PostgreSQL through psycopg, or the home's SQLite file."""

    def __init__(self, target: str, *, sqlite: bool):
        self.target = target  # a DSN, or the SQLite file's path
        self.sqlite = sqlite

    def rows(self, sql: str) -> list[tuple]:
        if self.sqlite:
            import sqlite3

            conn = sqlite3.connect(self.target, timeout=30)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.target) as conn:
            return conn.execute(sql).fetchall()


def payments_count(db: Db) -> int:
    """The bench operator's payments but the floor's (their ids start with "floor-")."""
    return db.rows(
        "select count(*) from finance_operation o join finance_paymentoperator p"
        " on p.id = o.pay_operator_id where p.code = 'BENCH'"
        " and o.external_id not like 'floor-%'"
    )[0][0]


def settled_count(db: Db) -> int:
    """The payment count once requests still queued in gunicorn when wrk stopped are done."""
    count = payments_count(db)
    while True:
        time.sleep(1)
        again = payments_count(db)
        if again == count:
            return count
        count = again


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_payments")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    # Sync workers, one more than the cores: fewer leave a core idle while a worker waits
    # for the database, more only add switching and a longer tail (docs/performance.md).
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1,
                        help="gunicorn workers (default: cores + 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (above 1: gthread workers)")
    parser.add_argument("--endpoint", choices=("act_pay", "osmp"), default="act_pay",
                        help="act_pay (system API) or the OSMP gateway's pay command")
    parser.add_argument("--sqlite", action="store_true",
                        help="the embedded SQLite database instead of PostgreSQL")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    home = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    env = {**os.environ, "CI": "true"}
    if args.sqlite:
        run([CLI, "init", "--home", str(home)], env=env, stdout=subprocess.DEVNULL)
        db = Db(str(home / "var" / "billing.sqlite3"), sqlite=True)
    else:
        import psycopg

        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{args.db}"')
            conn.execute(f'create database "{args.db}"')
        dsn = f"{args.server}/{args.db}"
        run([CLI, "init", "--home", str(home), "--db-url", dsn], env=env,
            stdout=subprocess.DEVNULL)
        db = Db(dsn, sqlite=False)
    run([CLI, "demo", "--home", str(home), "--subscribers", str(args.subscribers)], env=env,
        stdout=subprocess.DEVNULL)

    floor = measure_floor(db, args.seconds)
    print(f"floor: {floor:.0f} payments/s (2 processes, lock + insert + update via "
          f"{'sqlite3' if args.sqlite else 'psycopg'})")

    contracts = [r[0] for r in db.rows(
        "select contract_number from subscribers_subscriber order by id limit 5000")]
    if args.endpoint == "osmp":
        # An OSMP instance for the bench's operator, as an operator would configure it.
        for key, value in (("operator", "BENCH"), ("allowed_ips", "127.0.0.1"),
                           ("account", "contract"), ("enabled", "yes")):
            run([CLI, "config", "set", "payments", f"osmp.bench.{key}", value,
                 "--home", str(home)], env=env, stdout=subprocess.DEVNULL)
        path, request = "/pay/osmp/bench/?command=pay", OSMP_REQUEST
    else:
        password = run(
            [CLI, "config", "get", "network", "api.asr_fiscal.psw", "--home", str(home)],
            capture_output=True, text=True, env=env).stdout.strip()
        path = (f"/system_api/?model=Abonents&method1=asr_fiscal_manager.act_pay"
                f"&context=asr_fiscal&psw={quote(password)}&format=json")
        request = ACT_PAY_REQUEST
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [CLI, "serve", "--home", str(home), "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--no-migrate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)

        def script(wrap: int) -> Path:
            path_ = home / f"{args.endpoint}_{wrap}.lua"
            path_.write_text(WRK_SCRIPT % {
                "contracts": ",".join(json.dumps(c) for c in contracts),
                "run": "7", "wrap": wrap, "request": request % {"path": path},
            })
            return path_

        url = f"http://127.0.0.1:{port}/"
        before = payments_count(db)  # the demo's own payments
        first = wrk(url, script(0), args.seconds, args.connections)
        made = settled_count(db)
        # The same ids again: each of wrk's 2 threads cycles through ids its first run
        # certainly sent (a quarter of all answered requests), so every one is a replay.
        wrap = max(1, first["requests"] // 4)
        replay = wrk(url, script(wrap), max(2, args.seconds // 3), args.connections)
        after = settled_count(db)
    finally:
        server.terminate()
        server.wait(timeout=30)
    check = subprocess.run([CLI, "check", "--home", str(home)], env=env,  # noqa: S603
                           capture_output=True, text=True)

    print(f"ours ({args.endpoint}): {first['rate']:.0f} payments/s with "
          f"{args.connections} connections, "
          f"{args.workers} gunicorn workers x {args.threads} threads; "
          f"latency p50 {first['p50']:.1f} ms, "
          f"p90 {first['p90']:.1f} ms, p99 {first['p99']:.1f} ms; "
          f"non-2xx {first['non_2xx']}, socket errors {first['socket_errors']}")
    print(f"ours / floor: {first['rate'] / floor:.2f}")
    print(f"exactly once: {first['requests']} requests answered, {made - before} payments made; "
          f"replay of the same ids: {replay['requests']} requests, "
          f"{after - made} new payments; check: {check.stdout.strip() or check.stderr.strip()}")
    ok = after == made and check.returncode == 0 and first["non_2xx"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
