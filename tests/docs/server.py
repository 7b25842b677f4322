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

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

# clean_env, free_port, log_tail and stop_process are imported from here by other tests.
from tests.live_server import clean_env, cli, free_port, log_tail, serve, stop_process

__all__ = ["BIN_DIR", "DemoServer", "clean_env", "free_port", "log_tail", "stop_process"]

BIN_DIR = Path(sys.executable).parent


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
        cli(self.home, "init", "--demo", "--home", str(self.home))
        # The docs show our own texts in English (Carbon's texts, which clients compare,
        # are Russian in both languages).
        cli(self.home, "config", "set", "app", "language", "en", timeout=120)
        self.log = self.root / "serve.out"
        self.process, self.port = serve(self.home, self.log, workers=self.workers)
        with sqlite3.connect(self.database) as live, \
                sqlite3.connect(self.pristine_database) as pristine:
            live.backup(pristine)
        self.pristine_config = self.config.read_bytes()

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
