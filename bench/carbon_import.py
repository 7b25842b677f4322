"""Benchmark: ``asr-billing import carbon`` of a large source (issue 15).

    .venv/bin/python bench/carbon_import.py --subscribers 10000                # SQLite
    .venv/bin/python bench/carbon_import.py --subscribers 100000 \\
        --server postgresql://postgres@127.0.0.1:5432                           # PostgreSQL

The source is an asr-billing (our REST v2 speaks Carbon's wire): a home made with
``asr-billing demo --subscribers N`` (each subscriber with an account, a login and a
payment, a debt correction for 10 %), given a history of twelve monthly charges per
subscriber (one INSERT … SELECT a month, the balances moved by the same sums, so the
source's ``asr-billing check`` holds), served by ``asr-billing serve`` (2 workers). The
target is an empty home (``init``) on the same database engine.

It measures, in one run:

- **floor**: reading every page the import reads (the same models, filters, fields and
  page size, by increasing id) with the import's own client and writing nothing: what
  the source's API costs, which no importer can beat;
- **import**, phase by phase, each its own ``asr-billing import carbon --only …``
  process: the structure (groups … subscriptions), the operations, the accounts (promises,
  blocks, balances, cut-off state); seconds, rows/s and the peak RSS of the process
  (``os.wait4``'s ru_maxrss, so the figure is the importer's alone, not the server's);
- **again**: a whole second import that finds nothing changed (one process);
- ``asr-billing check`` on the target: every balance equals the sum of its operations.

Figures for docs/performance.md (section "Carbon import (issue 15)").
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [str(ROOT / ".venv" / "bin" / "asr-billing")]
PHASES = (
    ("structure", "groups,tariffs,services,nas,subscribers,attributes,logins,subscriptions"),
    ("operations", "operations"),
    ("accounts", "accounts"),
)


def env_for(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"ASR_BILLING_HOME": str(home), "CI": "1"})
    return env


def sh(args: list[str], home: Path) -> float:
    started = time.monotonic()
    subprocess.run(args, check=True, env=env_for(home), stdout=subprocess.DEVNULL)  # noqa: S603
    return time.monotonic() - started


def measured(args: list[str], home: Path) -> tuple[float, float, str, int]:
    """Run ``args``: seconds, peak RSS in MB of that process alone, its stdout, exit code."""
    out = home.parent / "import.out"
    started = time.monotonic()
    with open(out, "wb") as stdout:
        process = subprocess.Popen(args, env=env_for(home), stdout=stdout)  # noqa: S603
        _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, out.read_text(encoding="utf-8"), process.returncode


def make_home(home: Path, server: str, db: str) -> None:
    init = [*CLI, "init", "--home", str(home), "--language", "en"]
    if server:
        import psycopg

        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{db}" with (force)')
            conn.execute(f'create database "{db}"')
        init += ["--db-url", f"{server}/{db}"]
    sh(init, home)


def post_history(home: Path, months: int) -> int:
    """Twelve (``months``) monthly charges per subscriber on the source, the 1st of each
    month before this one at 00:30, one INSERT … SELECT a month, then the balances moved
    by the same sums in one UPDATE; returns the operations in the source."""
    code = f"""
from datetime import date, datetime, time, timedelta
from django.db import connection, transaction
from django.utils import timezone
month = date.today().replace(day=1)
with transaction.atomic(), connection.cursor() as cursor:
    for _n in range({months}):
        end = month - timedelta(days=1)
        month = end.replace(day=1)
        when = connection.ops.adapt_datetimefield_value(timezone.make_aware(
            datetime.combine(month, time(0, 30))))
        cursor.execute(
            "INSERT INTO finance_operation (account_id, type, amount, balance_after, "
            "op_date, created_at, description, actor, external_id, code1c, synced_1c, "
            "tariff_id, period_start, period_end) "
            "SELECT s.id, 1, -t.fee, 0, %s, %s, 'Monthly fee', 'bench', '', '', %s, t.id, "
            "%s, %s FROM subscribers_subscriber s "
            "JOIN tariffs_tariff t ON t.id = s.tariff_id WHERE t.fee > 0",
            [when, when, False, month, end])
    cursor.execute(
        "UPDATE finance_account SET balance = balance - {months} * (SELECT t.fee "
        "FROM subscribers_subscriber s JOIN tariffs_tariff t ON t.id = s.tariff_id "
        "WHERE s.id = finance_account.subscriber_id) WHERE subscriber_id IN (SELECT s.id "
        "FROM subscribers_subscriber s JOIN tariffs_tariff t ON t.id = s.tariff_id "
        "WHERE t.fee > 0)")
    cursor.execute("SELECT count(*) FROM finance_operation")
    print(cursor.fetchone()[0])
"""
    out = subprocess.run([*CLI, "manage", "shell", "-c", code, "--home", str(home)],  # noqa: S603
                         check=True, env=env_for(home), capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(home.parent / "serve.out", "wb")  # noqa: SIM115 - the server's lifetime
    process = subprocess.Popen([*CLI, "serve", "--home", str(home), "--no-migrate",  # noqa: S603
                                "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                               env=env_for(home), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/admin/login/", timeout=5):  # noqa: S310
                return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the source server did not start") from None
            time.sleep(0.3)


def floor(base: str, home: Path) -> tuple[dict[str, float], int, int]:
    """Every page the import reads, read and decoded, nothing written: seconds per phase,
    objects, requests. Runs in this process with the target's settings (the kinds'
    fields)."""
    os.environ["ASR_BILLING_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "asr_billing.settings"
    import django

    django.setup()
    from asr_billing.carbon_import.client import CarbonClient
    from asr_billing.carbon_import.kinds import KINDS
    from asr_billing.carbon_import.money import MONEY_KINDS

    client = CarbonClient(base)
    seconds = dict.fromkeys([name for name, _kinds in PHASES], 0.0)
    objects = 0
    for kind in (*KINDS, *MONEY_KINDS):
        phase = {"operations": "operations", "states": "accounts",
                 "accounts": "accounts"}.get(kind.key, "structure")
        started = time.monotonic()
        fields = [*kind.required, *kind.optional]
        for page in client.pages(kind.wire, kind.lookup, fields=fields):
            objects += len(page)
        seconds[phase] += time.monotonic() - started
    return seconds, objects, client.calls


def table(report: str) -> dict[str, list[int]]:
    rows = {}
    for line in report.splitlines():
        found = re.fullmatch(r"(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line)
        if found:
            rows[found[1]] = [int(n) for n in found.groups()[1:]]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--server", default="", help="a PostgreSQL server URL; else SQLite")
    parser.add_argument("--db", default="bench_carbon", help="database name prefix")
    parser.add_argument("--keep", action="store_true", help="keep the homes (printed)")
    parser.add_argument("--no-again", action="store_true",
                        help="skip the second import (at 100,000 it takes minutes)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-carbon-"))
    source, target = root / "source" / "home", root / "target" / "home"
    source.parent.mkdir()
    target.parent.mkdir()
    engine = "PostgreSQL" if args.server else "SQLite"
    print(f"{engine}, {args.subscribers} subscribers, {args.months} months of charges; {root}")

    make_home(source, args.server, f"{args.db}_source")
    seconds = sh([*CLI, "demo", "--home", str(source), "--subscribers", str(args.subscribers)],
                 source)
    operations = post_history(source, args.months)
    print(f"source: demo {seconds:.0f} s, {operations} operations")
    make_home(target, args.server, f"{args.db}_target")
    server, base = serve(source)
    try:
        floors, objects, requests = floor(base, target)
        floor_s = sum(floors.values())
        print(f"floor (read every page, write nothing): {floor_s:.1f} s, {objects} objects, "
              f"{requests} requests, {objects / floor_s:,.0f} objects/s ("
              + ", ".join(f"{name} {s:.1f} s" for name, s in floors.items()) + ")")
        total, peak, written = 0.0, 0.0, 0
        imported = [*CLI, "import", "carbon", "--url", base, "--home", str(target)]
        for name, kinds in PHASES:
            seconds, rss, out, code = measured([*imported, "--only", kinds], target)
            if code not in (0, 1):
                print(out)
                raise SystemExit(f"the import ({name}) exited {code}")
            counts = table(out)
            rows = sum(r[0] + r[1] for r in counts.values())
            skipped = sum(r[3] for r in counts.values())
            total += seconds
            peak = max(peak, rss)
            written += rows
            print(f"import {name:<11} {seconds:7.1f} s  {rows:>9} rows created or updated "
                  f"({rows / seconds:,.0f}/s), {seconds / floors[name]:.2f}x its floor, "
                  f"{skipped} skipped, peak RSS {rss:.0f} MB")
        print(f"import total       {total:7.1f} s  {written:>9} rows ({written / total:,.0f}/s)"
              f", {total / floor_s:.2f}x the floor, peak RSS {peak:.0f} MB")
        if not args.no_again:
            seconds, rss, out, code = measured(imported, target)
            counts = table(out)
            changed = sum(r[0] + r[1] for r in counts.values())
            print(f"again (nothing new) {seconds:6.1f} s  {changed} rows created or updated, "
                  f"exit {code}, peak RSS {rss:.0f} MB")
    finally:
        server.terminate()
        server.wait(30)
    check = subprocess.run([*CLI, "check", "--home", str(target)], env=env_for(target),  # noqa: S603
                           capture_output=True, text=True)
    print(f"check: {check.stdout.strip() or check.stderr.strip()}")
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this script's own peak RSS: {self_rss:.0f} MB; {date.today()})")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
        if args.server:
            import psycopg

            with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
                for side in ("source", "target"):
                    conn.execute(f'drop database if exists "{args.db}_{side}" with (force)')
    return 0 if check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
