"""Running the real ``asr-billing`` command from tests: an operator's environment, a free
port, ``asr-billing serve`` started on it and waited for, and stopped again."""

from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ASR_BILLING = (sys.executable, "-m", "asr_billing")


def clean_env(home: Path) -> dict[str, str]:
    """An operator's environment: no test settings, the given home."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "ASR_BILLING_TEST_DB_URL")}
    env["ASR_BILLING_HOME"] = str(home)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(home: Path, *args: str, timeout: float = 600) -> str:
    """``asr-billing ARGS`` in an operator's environment for HOME; its output, or
    RuntimeError with the end of its error output when it fails."""
    done = subprocess.run(  # noqa: S603 - our own command, fixed argv
        [*ASR_BILLING, *args], env=clean_env(home), capture_output=True, text=True,
        timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"asr-billing {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def stop_process(process: subprocess.Popen | None, timeout: float = 30) -> None:
    """Terminate a test server still running, killing it if it does not stop in time."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def log_tail(path: Path, chars: int = 3000) -> str:
    """The end of a test server's output file, for a failure message ("" when missing)."""
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def http_get(port: int, path: str, timeout: float = 30) -> tuple[int, str]:
    """GET PATH from the server on PORT: the status and the body as text."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def answers(port: int, path: str = "/admin/login/") -> bool:
    """Whether the server on PORT answers PATH with 200."""
    try:
        return http_get(port, path, timeout=5)[0] == 200
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], what: str, process: subprocess.Popen,
               log: Path, seconds: float = 120) -> None:
    """Wait for PREDICATE while PROCESS runs; AssertionError WHAT with the end of LOG when
    the process ends or SECONDS pass first."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what}: {log_tail(log)}")
        time.sleep(0.2)


def serve(home: Path, log: Path, *, workers: int | None = 1, port: int = 0,
          ready: str = "/admin/login/", seconds: float = 120) -> tuple[subprocess.Popen, int]:
    """``asr-billing serve --no-migrate`` for HOME on PORT (a free one by default) with
    WORKERS (None: serve's default), its output in LOG, once it answers READY with 200:
    the process and the port. When it does not start, the process is stopped and
    AssertionError carries the end of LOG."""
    port = port or free_port()
    argv = [*ASR_BILLING, "serve", "--home", str(home), "--bind", f"127.0.0.1:{port}",
            "--no-migrate"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            argv, env=clean_env(home), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(port, ready), "the server did not start", process, log,
                   seconds)
    except BaseException:
        stop_process(process)
        raise
    return process, port


def radius_serve(home: Path, log: Path, *, seconds: float = 120
                 ) -> tuple[subprocess.Popen, int]:
    """``asr-billing radius serve`` for HOME on a free port (one worker, two threads), its
    output in LOG, once it answers HTTP: the process and the port."""
    port = free_port()
    argv = [*ASR_BILLING, "radius", "serve", "--home", str(home), "--bind",
            f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"]
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            argv, env=clean_env(home), stdout=out, stderr=subprocess.STDOUT)

    def up() -> bool:
        try:
            return http_get(port, "/", timeout=5)[0] == 404  # it serves /radius/ only
        except OSError:
            return False

    try:
        wait_until(up, "radius serve did not start", process, log, seconds)
    except BaseException:
        stop_process(process)
        raise
    return process, port


@contextmanager
def serving(home: Path, log: Path | None = None, **options) -> Iterator[int]:
    """``serve`` (same options) for a ``with`` block: the port; stopped on leaving."""
    process, port = serve(home, log or home / "serve.out", **options)
    try:
        yield port
    finally:
        stop_process(process)


class SqliteServer:
    """A served home on SQLite, its database read and written by plain SQL."""

    def __init__(self, home: Path, port: int):
        self.home, self.port = home, port

    def sql(self, query: str, *params) -> list[tuple]:
        with sqlite3.connect(self.home / "var" / "billing.sqlite3") as db:
            return db.execute(query, params).fetchall()
