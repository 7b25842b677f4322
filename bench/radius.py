"""Benchmark: RADIUS through FreeRADIUS + rlm_rest + the billing + PostgreSQL, against a floor.

    apt-get install freeradius freeradius-rest freeradius-utils   # without starting it
    .venv/bin/python bench/radius.py [--server postgresql://postgres@127.0.0.1:5432]
        [--db bench_radius] [--subscribers 10000] [--rate 1000] [--seconds 10]
        [--http-server radius|gunicorn|granian] [--workers N] [--threads N]

Makes a fresh database and home with ``asr-billing demo --subscribers N`` (N bench logins
``bench<id>`` / ``benchpsw`` on the bench NAS 10.0.1.1: 10% cut off by balance — let in to
the no money profile —, 3% blocked by the administrator — rejected), then runs the same
work against two FreeRADIUS daemons built from one ``asr-billing radius config`` folder:

- **floor**: the generated configuration with its site replaced by FreeRADIUS answering
  the same users from its own ``files`` module (the same reply: Mikrotik-Rate-Limit) and
  accounting with ``ok``: what RADIUS costs on this machine without our hop;
- **ours**: the generated configuration as is: rlm_rest → the billing's HTTP server →
  PostgreSQL. The server is ``asr-billing radius serve`` (granian with the RADIUS-only
  application, the default), ``asr-billing serve`` (gunicorn, the whole billing) or the
  whole billing under granian (``--http-server granian``: separates the two changes).

Each is measured with ``radclient -p 64`` (throughput: N Access-Requests, N Starts, then
N Interim-Updates) and with bench/radius_load.py (latency: Access-Requests at a fixed
``--rate`` for ``--seconds``, p50/p99 from each request's due time). Then it checks the
database: one open session per bench login that started, the Interims' counters.

Budget (issue 10): ≥ 1,000 Access-Request/s with p99 < 10 ms, ≥ 1,000 Interim-Update/s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from radius_load import paced

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")
SECRET = "benchsecret"  # noqa: S105 - the bench client's RADIUS secret
NAS_IP = "10.0.1.1"
PASSWORD = "benchpsw"  # noqa: S105 - demo/bulk.py's BENCH_PASSWORD
FLOOR_SITE = """\
server default {{
	listen {{
		type = auth
		ipaddr = 127.0.0.1
		port = {auth}
	}}
	listen {{
		type = acct
		ipaddr = 127.0.0.1
		port = {acct}
	}}
	authorize {{
		files
		pap
	}}
	authenticate {{
		Auth-Type PAP {{
			pap
		}}
	}}
	preacct {{
	}}
	accounting {{
		ok
	}}
}}
"""


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)  # noqa: S603 - our own argv


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(text: str) -> None:
    if not os.environ.get("CI"):
        print(f"  … {text}", file=sys.stderr, flush=True)


class Daemon:
    """``freeradius -f -l stdout -d DIR`` until stop()."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.log = folder / "stdout.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603
                ["freeradius", "-f", "-l", "stdout", "-d", str(folder)],  # noqa: S607
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"Ready to process requests" not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"freeradius did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # still draining a backlog: enough
                self.process.kill()
                self.process.wait()


def radclient(port: int, kind: str, packets: Path) -> tuple[float, dict[str, int]]:
    """``radclient -p 64`` over a file of packets: (packets/s, answers by type)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        ["radclient", "-p", "64", "-r", "1", "-t", "5", "-f", str(packets),  # noqa: S607
         f"127.0.0.1:{port}", kind, SECRET],
        capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    answers: dict[str, int] = {}
    for found in re.findall(r"Received (\S+)", done.stdout):
        answers[found] = answers.get(found, 0) + 1
    count = sum(answers.values())
    return count / elapsed, answers


def packet_files(folder: Path, users: list[str]) -> dict[str, Path]:
    """One file per phase: radclient sends its packets (blank-line separated) in turn."""
    phases = {
        "auth": lambda u, i: (f'User-Name = "{u}"\nUser-Password = "{PASSWORD}"\n'
                              f"NAS-IP-Address = {NAS_IP}\n"),
        "start": lambda u, i: (f'Acct-Status-Type = Start\nUser-Name = "{u}"\n'
                               f'Acct-Session-Id = "r{i:08x}"\nNAS-IP-Address = {NAS_IP}\n'
                               f"Framed-IP-Address = 198.18.{i // 250}.{i % 250 + 1}\n"),
        "interim": lambda u, i: (f'Acct-Status-Type = Interim-Update\nUser-Name = "{u}"\n'
                                 f'Acct-Session-Id = "r{i:08x}"\nNAS-IP-Address = {NAS_IP}\n'
                                 f"Acct-Input-Octets = {1000 + i}\nAcct-Input-Gigawords = 1\n"
                                 f"Acct-Output-Octets = {2000 + i}\nAcct-Session-Time = 300\n"),
    }
    files = {}
    for name, make in phases.items():
        path = folder / f"{name}.txt"
        path.write_text("\n".join(make(user, i) for i, user in enumerate(users)))
        files[name] = path
    return files


def floor_folder(generated: Path, users: list[str], auth: int, acct: int) -> Path:
    """The generated folder with FreeRADIUS's own ``files`` answering instead of us."""
    folder = generated.parent / "floor"
    shutil.copytree(generated, folder, ignore=shutil.ignore_patterns("log", "run", "db"))
    for sub in ("log", "run", "db"):
        (folder / sub).mkdir(exist_ok=True)
    text = (folder / "radiusd.conf").read_text().replace(str(generated), str(folder))
    (folder / "radiusd.conf").write_text(text)
    for site in (folder / "sites-enabled").iterdir():
        site.unlink()
    (folder / "sites-enabled" / "floor").write_text(FLOOR_SITE.format(auth=auth, acct=acct))
    for module in (folder / "mods-enabled").iterdir():
        if module.name not in ("pap", "always"):
            module.unlink()
    (folder / "mods-enabled" / "files").write_text(
        "files {\n\tfilename = ${confdir}/users\n}\nalways ok {\n\trcode = ok\n}\n")
    (folder / "users").write_text("".join(
        f'{user}\tCleartext-Password := "{PASSWORD}"\n'
        f'\tMikrotik-Rate-Limit = "10M/10M 20M/20M 5M/5M 10/10"\n' for user in users))
    return folder


def measure(label: str, auth: int, acct: int, files: dict[str, Path], users, args) -> dict:
    say(f"{label}: radclient -p 64, {len(users)} Access-Requests")
    auth_rate, auth_answers = radclient(auth, "auth", files["auth"])
    say(f"{label}: {len(users)} Starts, then Interim-Updates")
    start_rate, start_answers = radclient(acct, "acct", files["start"])
    interim_rate, interim_answers = radclient(acct, "acct", files["interim"])
    pairs = [(u, PASSWORD) for u in users]
    # First below what it sustains, so the latency is the answer's, not a queue's; then
    # the budget's rate (a backlog left by an overload would spoil the easy phase).
    half = max(1, min(args.rate, int(auth_rate / 2)))
    say(f"{label}: paced {half}/s (half its throughput) for {args.seconds} s")
    easy = paced(port=auth, secret=SECRET, users=pairs, nas_ip=NAS_IP, rate=half,
                 seconds=args.seconds)
    say(f"{label}: paced {args.rate}/s for {args.seconds} s")
    latency = paced(port=auth, secret=SECRET, users=pairs, nas_ip=NAS_IP, rate=args.rate,
                    seconds=args.seconds)
    return {"auth": (auth_rate, auth_answers), "start": (start_rate, start_answers),
            "interim": (interim_rate, interim_answers), "paced": latency,
            "half": (half, easy)}


def report(label: str, figures: dict) -> None:
    auth_rate, auth_answers = figures["auth"]
    paced_result = figures["paced"]
    print(f"{label:>5}: Access-Request {auth_rate:7.0f}/s {auth_answers}; "
          f"Start {figures['start'][0]:7.0f}/s; Interim-Update {figures['interim'][0]:7.0f}/s; "
          f"paced: p50 {paced_result.percentile(0.5):.2f} ms, "
          f"p99 {paced_result.percentile(0.99):.2f} ms, "
          f"max {max(paced_result.latencies_ms, default=float('nan')):.1f} ms, "
          f"{paced_result.accepts} accepts / {paced_result.rejects} rejects / "
          f"{paced_result.lost} lost of {paced_result.sent}")
    half, easy = figures["half"]
    print(f"       at {half}/s: p50 {easy.percentile(0.5):.2f} ms, "
          f"p99 {easy.percentile(0.99):.2f} ms, {easy.lost} lost of {easy.sent}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_radius")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000, help="paced Access-Requests/s")
    parser.add_argument("--seconds", type=int, default=10, help="paced phase length")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1,
                        help="server workers (default: cores + 1)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker (gunicorn: above 1 gthread workers with "
                             "keep-alive; granian: blocking threads)")
    parser.add_argument("--http-server", choices=["radius", "gunicorn", "granian"],
                        default="radius",
                        help="radius: `asr-billing radius serve` (granian, the RADIUS-only "
                             "application); gunicorn: `asr-billing serve`; granian: the full "
                             "Django application under granian")
    args = parser.parse_args()
    if shutil.which("freeradius") is None or shutil.which("radclient") is None:
        print("apt-get install freeradius freeradius-rest freeradius-utils", file=sys.stderr)
        return 2
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.db}"')
        conn.execute(f'create database "{args.db}"')
    dsn = f"{args.server}/{args.db}"
    work = Path(tempfile.mkdtemp(prefix="bench-radius-"))
    home = work / "home"
    env = {**os.environ, "CI": "true"}
    say(f"demo with {args.subscribers} subscribers")
    run([CLI, "init", "--home", str(home), "--db-url", dsn], env=env, stdout=subprocess.DEVNULL)
    run([CLI, "demo", "--home", str(home), "--subscribers", str(args.subscribers)], env=env,
        stdout=subprocess.DEVNULL)
    with psycopg.connect(dsn) as conn:
        users = [r[0] for r in conn.execute(
            "select l.login from network_login l join network_nas n on n.id = l.nas_id"
            " where n.ip = %s and l.login like 'bench%%' order by l.id", (NAS_IP,))]
        sessions_before = conn.execute(
            "select count(*) from network_onlinesession where stopped_at is null").fetchone()[0]
    files = packet_files(work, users)

    http_port = free_port()
    ours_auth, ours_acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    generated = work / "radius"
    run([CLI, "radius", "config", "--home", str(home), "--out", str(generated),
         "--auth-port", str(ours_auth), "--acct-port", str(ours_acct),
         "--client", f"127.0.0.1:{SECRET}", "--url", f"http://127.0.0.1:{http_port}",
         "--reject-delay", "0"], env=env, stdout=subprocess.DEVNULL)
    floor_auth, floor_acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    floor = floor_folder(generated, users, floor_auth, floor_acct)

    daemon = Daemon(floor)
    try:
        floor_figures = measure("floor", floor_auth, floor_acct, files, users, args)
    finally:
        daemon.stop()

    if args.http_server == "radius":
        command = [CLI, "radius", "serve", "--home", str(home), "--bind",
                   f"127.0.0.1:{http_port}", "--workers", str(args.workers), "--threads",
                   str(args.threads)]
    elif args.http_server == "granian":
        command = [str(ROOT / ".venv" / "bin" / "granian"), "--interface", "wsgi",
                   "--host", "127.0.0.1", "--port", str(http_port), "--workers",
                   str(args.workers), "--blocking-threads", str(args.threads), "--no-log",
                   "asr_billing.wsgi:application"]
        env = {**env, "ASR_BILLING_HOME": str(home)}
    else:
        command = [CLI, "serve", "--home", str(home), "--bind", f"127.0.0.1:{http_port}",
                   "--workers", str(args.workers), "--threads", str(args.threads),
                   "--no-migrate"]
    server = subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", http_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        daemon = Daemon(generated)
        try:
            ours_figures = measure("ours", ours_auth, ours_acct, files, users, args)
        finally:
            daemon.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)

    with psycopg.connect(dsn) as conn:
        opened, traffic = conn.execute(
            "select count(*), count(*) filter (where input_octets = 4294967296 + 1000 +"
            " ('x' || substr(acct_session_id, 2))::bit(32)::int)"
            " from network_onlinesession where stopped_at is null and acct_session_id like 'r%%'"
        ).fetchone()
    print(f"RADIUS bench: {len(users)} logins on NAS {NAS_IP}, {args.workers} {args.http_server} "
          f"workers x {args.threads} threads, {os.cpu_count()} cores; radclient -p 64; "
          f"paced at {args.rate}/s")
    report("floor", floor_figures)
    report("ours", ours_figures)
    auth_ratio = ours_figures["auth"][0] / floor_figures["auth"][0]
    interim_ratio = ours_figures["interim"][0] / floor_figures["interim"][0]
    print(f"ours / floor: Access-Request {auth_ratio:.2f}x, Interim-Update {interim_ratio:.2f}x")
    print(f"sessions: {opened} bench sessions open after the Starts ({sessions_before} the "
          f"demo had), {traffic} with the Interims' exact counters")
    budget = (ours_figures["auth"][0] >= 1000 and ours_figures["paced"].percentile(0.99) < 10
              and ours_figures["interim"][0] >= 1000)
    correct = opened == len(users) and traffic == len(users)
    print(f"budget (>= 1000 Access-Request/s, p99 < 10 ms, >= 1000 Interim/s): "
          f"{'met' if budget else 'NOT met'}; sessions {'correct' if correct else 'WRONG'}")
    shutil.rmtree(work, ignore_errors=True)
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{args.db}"')
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
