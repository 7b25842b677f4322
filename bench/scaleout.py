"""Benchmark: one app node against two on one PostgreSQL database, and the collector list
from the primary against a streaming replica (docs/scaling.md).

    apt-get install wrk
    .ci/pg-replica start            # optional: a standby on 127.0.0.1:5433
    .venv/bin/python bench/scaleout.py --replica postgresql://postgres@127.0.0.1:5433

Makes a fresh database with ``asr-billing demo --subscribers N``; node 2's home is a copy
of node 1's cfg/ (as docs/scaling.md deploys it). Then:

- **floor**: bench/payment_intake.py's — two processes posting payments straight through
  psycopg (lock, insert, update), the database's own speed on this machine;
- **payments, one node**: wrk sends act_pay PAY requests (unique ids) to node 1;
- **payments, two nodes**: two wrk at once, one per node, the same total connections;
  afterwards every id is a payment exactly once and ``asr-billing check`` passes;
- **collector list** (with ``--replica``): wrk asks for users_negbal of the demo's NAS,
  from node 1 reading the primary, then from node 1 with app['db.replica_url'].

On one machine the nodes share its cores: the figure shows what a second node costs in
coordination (nothing should be lost), not the gain of a second machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payment_intake import (  # a sibling script, not a package
    ACT_PAY_REQUEST,
    CLI,
    WRK_SCRIPT,
    Db,
    free_port,
    measure_floor,
    run,
    settled_count,
    wrk,
)

COLLECTOR_PATH = ("/system_api/?model=Abonents&method1=collector_manager.users_negbal"
                  "&arg1=%%7B%%22nas_ip%%22%%3A%%22%(nas)s%%22%%7D&context=collector&psw=%(psw)s")


class Node:
    def __init__(self, home: Path, workers: int, env: dict):
        self.home, self.workers, self.env = home, workers, env
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Node:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [CLI, "serve", "--home", str(self.home), "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--no-migrate"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the node did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_scaleout")
    parser.add_argument("--replica", default="",
                        help="the server part of a streaming replica's URL (.ci/pg-replica)")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1,
                        help="gunicorn workers per node (default: cores + 1)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    homes = [root / "node1", root / "node2"]
    env = {**os.environ, "CI": "true"}
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.db}" with (force)')
        conn.execute(f'create database "{args.db}"')
    dsn = f"{args.server}/{args.db}"
    run([CLI, "init", "--home", str(homes[0]), "--db-url", dsn], env=env,
        stdout=subprocess.DEVNULL)
    run([CLI, "demo", "--home", str(homes[0]), "--subscribers", str(args.subscribers)],
        env=env, stdout=subprocess.DEVNULL)
    (homes[1] / "var").mkdir(parents=True)
    shutil.copytree(homes[0] / "cfg", homes[1] / "cfg")
    db = Db(dsn, sqlite=False)

    floor = measure_floor(db, args.seconds)
    print(f"floor: {floor:.0f} payments/s (2 processes, lock + insert + update via psycopg)")

    contracts = [r[0] for r in db.rows(
        "select contract_number from subscribers_subscriber order by id limit 5000")]
    password = run([CLI, "config", "get", "network", "api.asr_fiscal.psw", "--home",
                    str(homes[0])], capture_output=True, text=True, env=env).stdout.strip()
    pay_path = (f"/system_api/?model=Abonents&method1=asr_fiscal_manager.act_pay"
                f"&context=asr_fiscal&psw={quote(password)}&format=json")

    def script(name: str, run_digit: str, request: str) -> Path:
        path = root / f"{name}.lua"
        path.write_text(WRK_SCRIPT % {
            "contracts": ",".join(json.dumps(c) for c in contracts),
            "run": run_digit, "wrap": 0, "request": request})
        return path

    pay_request = ACT_PAY_REQUEST % {"path": pay_path}
    before = settled_count(db)
    with Node(homes[0], args.workers, env) as node:
        one = wrk(node.url, script("one", "1", pay_request), args.seconds, args.connections)
    after_one = settled_count(db)

    results = [None, None]
    with Node(homes[0], args.workers, env) as first, Node(homes[1], args.workers, env) as second:
        def load(index: int, node: Node) -> None:
            results[index] = wrk(node.url, script(f"two{index}", str(2 + index), pay_request),
                                 args.seconds, max(1, args.connections // 2))

        threads = [threading.Thread(target=load, args=(i, n))
                   for i, n in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    after_two = settled_count(db)
    check = subprocess.run([CLI, "check", "--home", str(homes[0])], env=env,  # noqa: S603
                           capture_output=True, text=True)
    two_rate = sum(r["rate"] for r in results)
    two_requests = sum(r["requests"] for r in results)
    print(f"payments, one node ({args.workers} workers, {args.connections} connections): "
          f"{one['rate']:.0f}/s, p50 {one['p50']:.1f} ms, p99 {one['p99']:.1f} ms; "
          f"{after_one - before} payments for {one['requests']} answers")
    print(f"payments, two nodes ({args.workers} workers each, {args.connections // 2} "
          f"connections each): {two_rate:.0f}/s, p99 {max(r['p99'] for r in results):.1f} ms "
          f"(node 1 {results[0]['rate']:.0f}/s, node 2 {results[1]['rate']:.0f}/s); "
          f"{after_two - after_one} payments for {two_requests} answers; "
          f"non-2xx {sum(r['non_2xx'] for r in results)}")
    print(f"two nodes / one node: {two_rate / one['rate']:.2f}; one node / floor: "
          f"{one['rate'] / floor:.2f}; check: {check.stdout.strip() or check.stderr.strip()}")
    # Payments can outnumber answers: requests still queued when wrk stopped are posted.
    ok = check.returncode == 0 and all(r["non_2xx"] == 0 for r in (one, *results))

    if args.replica:
        (nas,), = db.rows("select host(ip) from network_nas n where exists (select 1 from "
                          "network_login l where l.nas_id = n.id) order by id limit 1")
        psw = run([CLI, "config", "get", "network", "api.collector.psw", "--home",
                   str(homes[0])], capture_output=True, text=True, env=env).stdout.strip()
        path = COLLECTOR_PATH % {"nas": nas, "psw": quote(psw)}
        listed = script("collector", "9", f'  return wrk.format("GET", "{path}")')
        with Node(homes[0], args.workers, env) as node:
            primary = wrk(node.url, listed, args.seconds, 4)
        run([CLI, "config", "set", "app", "db.replica_url", f"{args.replica}/{args.db}",
             "--home", str(homes[0])], env=env)
        with Node(homes[0], args.workers, env) as node:
            time.sleep(2)  # the first fitness checks
            replica = wrk(node.url, listed, args.seconds, 4)
            with urllib.request.urlopen(f"{node.url}metrics", timeout=30) as answer:  # noqa: S310
                metrics = answer.read().decode()
        routed = ", ".join(  # asr_replica_routed_reads_total{to="replica"} 663.0
            "{} {:.0f}".format(line.split('"')[1], float(line.rsplit(" ", 1)[1]))
            for line in metrics.splitlines()
            if line.startswith("asr_replica_routed_reads_total{"))
        rows = db.rows("select count(*) from network_login l join network_nas n on n.id = "
                       f"l.nas_id join subscribers_subscriber s on s.id = l.subscriber_id "
                       f"where s.negbal and host(n.ip) = '{nas}'")[0][0]
        print(f"collector list users_negbal of NAS {nas} ({rows} logins), "
              f"4 connections: primary {primary['rate']:.0f}/s p99 {primary['p99']:.1f} ms; "
              f"replica {replica['rate']:.0f}/s p99 {replica['p99']:.1f} ms; "
              f"reads routed: {routed}")
        ok = ok and primary["non_2xx"] == 0 and replica["non_2xx"] == 0 and "replica" in routed
        if not ok:
            print(f"non-2xx: primary {primary['non_2xx']}, replica {replica['non_2xx']}")
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.db}" with (force)')
    shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
