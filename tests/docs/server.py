"""A demo billing for the docs' examples: ``asr-billing init --demo`` into a temporary
home (SQLite), ``asr-billing serve`` on a free port, and the pristine state restored
between examples.

Restoring: the database through SQLite's online backup API, from a copy taken before the
first example into the live file. The backup writes the pages under SQLite's own locking,
so the server's connections (gunicorn workers; Django opens one per request on SQLite)
read the restored database on their next query, and no restart is needed (a few
milliseconds for the demo's 6 MB). cfg/config is written back when an example changed it
(``asr-billing config set ...``); the server re-reads it on its next request.

The demo runs with ``app['language']='en'``: the docs show our own texts in English.
"""

from __future__ import annotations

import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BIN_DIR = Path(sys.executable).parent


def clean_env(home: Path) -> dict[str, str]:
    """An operator's environment: no test settings, the demo home."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "ASR_BILLING_TEST_DB_URL")}
    env["ASR_BILLING_HOME"] = str(home)
    return env


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoServer:
    def __init__(self, root: Path, workers: int = 2):
        self.root = root
        self.home = root / "home"
        self.workers = workers
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.database = self.home / "var" / "billing.sqlite3"
        self.config = self.home / "cfg" / "config"
        self.pristine_database = root / "pristine.sqlite3"
        self.pristine_config = b""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        done = subprocess.run(  # noqa: S603 - our own command, fixed argv
            [sys.executable, "-m", "asr_billing", "init", "--demo", "--home", str(self.home)],
            env=clean_env(self.home), capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"asr-billing init --demo failed:\n{done.stderr[-3000:]}")
        # The docs show our own texts in English (Carbon's texts, which clients compare,
        # are Russian in both languages).
        done = subprocess.run(
            [sys.executable, "-m", "asr_billing", "config", "set", "app", "language", "en"],
            env=clean_env(self.home), capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"asr-billing config set failed:\n{done.stderr[-3000:]}")
        self.port = free_port()
        self.log = self.root / "serve.out"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "asr_billing", "serve", "--home", str(self.home),
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                 "--no-migrate"],
                env=clean_env(self.home), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the demo server did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        with sqlite3.connect(self.database) as live, \
                sqlite3.connect(self.pristine_database) as pristine:
            live.backup(pristine)
        self.pristine_config = self.config.read_bytes()

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/admin/login/")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except OSError:
            return False

    def restore(self) -> None:
        """The pristine demo again: database and cfg/config as before the first example."""
        source = sqlite3.connect(self.pristine_database)
        target = sqlite3.connect(self.database, timeout=60)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        if self.config.read_bytes() != self.pristine_config:
            before = self.config.stat().st_mtime_ns
            self.config.write_bytes(self.pristine_config)
            # The server notices an edit by (mtime, size): make sure the stamp moves even
            # when the rewrite lands within the file system's clock resolution.
            stamp = max(self.config.stat().st_mtime_ns, before + 1_000_000_000)
            os.utime(self.config, ns=(stamp, stamp))

    def log_tail(self, chars: int = 3000) -> str:
        return log_tail(self.log, chars)

    def stop(self) -> None:
        stop_process(self.process)
