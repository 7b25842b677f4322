"""A live demo billing for tests that need a real HTTP server (schemathesis): SQLite, or
a PostgreSQL database of its own next to the test database when the suite runs there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.live_server import cli, log_tail, serve, stop_process

# What the refused calls of a read-only key must leave as they were (not the API's own
# bookkeeping: the rate counters and the key's last use).
SNAPSHOT = (
    "select count(*) from subscribers_subscriber",
    "select count(*), coalesce(sum(amount), 0) from finance_operation",
    "select coalesce(sum(balance), 0), coalesce(sum(credit_limit), 0) from finance_account",
    "select count(*) from network_login",
    "select count(*) from subscribers_group",
    "select count(*) from subscribers_subscriberservice",
    "select count(*), coalesce(sum(fee), 0) from tariffs_tariff",
    "select count(*) from network_nas",
    "select count(*) from billing_promisedpayment",
    "select count(*) from billing_voluntaryblock",
    "select count(*) from core_task",
    "select count(*) from core_auditentry",
    "select count(*) from subscribers_subscriber where admin_blocked",
)


class LiveDemo:
    def __init__(self, root: Path, test_db_url: str = ""):
        self.root = root
        self.home = root / "home"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.db_url = ""
        if test_db_url.startswith("postgresql://"):
            server = test_db_url.rsplit("/", 1)[0]
            self.db_url = f"{server}/api_fuzz_{os.getpid()}"
            self.server_url = server

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> str:
        return cli(self.home, *args, timeout=900)

    def _admin_sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def start(self) -> None:
        if self.db_url:
            name = self.db_url.rsplit("/", 1)[1]
            self._admin_sql(f'drop database if exists "{name}"')
            self._admin_sql(f'create database "{name}"')
            self._cli("init", "--demo", "--home", str(self.home), "--db-url", self.db_url)
        else:
            self._cli("init", "--demo", "--home", str(self.home))
        self.log = self.root / "serve.out"
        try:
            self.process, self.port = serve(self.home, self.log, workers=2,
                                            ready="/api/v1/schema/")
        except BaseException:
            self.stop()  # the PostgreSQL database too
            raise

    def key(self, *scopes: str) -> str:
        return self._cli("apikey", "create", "--name", f"fuzz {' '.join(scopes)}",
                         "--rate", "0", "--scopes", *scopes).strip()

    def snapshot(self) -> list:
        if self.db_url:
            import psycopg

            with psycopg.connect(self.db_url) as conn:
                return [conn.execute(sql).fetchall() for sql in SNAPSHOT]
        import sqlite3

        with sqlite3.connect(self.home / "var" / "billing.sqlite3") as conn:
            return [conn.execute(sql).fetchall() for sql in SNAPSHOT]

    def log_tail(self, chars: int = 3000) -> str:
        return log_tail(self.log, chars) if hasattr(self, "log") else ""

    def stop(self) -> None:
        stop_process(self.process)
        if self.db_url:
            name = self.db_url.rsplit("/", 1)[1]
            self._admin_sql(f'drop database if exists "{name}" with (force)')
