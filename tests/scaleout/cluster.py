"""Several asr-billing app nodes on one PostgreSQL database, as docs/scaling.md deploys
them: one demo database; each node a home folder of its own holding a copy of the first
one's cfg/ (config and keys, as an operator copies them) and an ``asr-billing serve`` on
a port of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.docs.server import clean_env, free_port, log_tail, stop_process

TEST_DB_URL = os.environ.get("ASR_BILLING_TEST_DB_URL", "")
requires_postgres_server = pytest.mark.skipif(
    not TEST_DB_URL.startswith("postgresql://"),
    reason="app nodes share a PostgreSQL database; run with ASR_BILLING_TEST_DB_URL=... "
    "(CI does)",
)
COLLECTOR = ("/system_api/?model=Abonents&method1=collector_manager.users_negbal"
             "&arg1={%22nas_ip%22:%2210.0.0.1%22}&context=collector&psw=collectortestpsw")


def cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 - our own command, fixed argv
        [sys.executable, "-m", "asr_billing", *args], env=clean_env(home),
        capture_output=True, text=True, timeout=900)
    if check and done.returncode:
        raise AssertionError(f"asr-billing {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done


class Node:
    def __init__(self, home: Path, log: Path):
        self.home = home
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 2) -> Node:
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "asr_billing", "serve", "--home", str(self.home),
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                 "--no-migrate"],
                env=clean_env(self.home), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/health")
                return self
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"node did not start:\n{self.log_tail()}") from exc
                time.sleep(0.2)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers or {})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post_json(self, path: str, body: dict, key: str) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310 - http to the test node
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def log_tail(self, chars: int = 3000) -> str:
        return log_tail(self.log, chars)

    def stop(self) -> None:
        stop_process(self.process)


class Cluster:
    """A demo database of its own on the test server, and app nodes over it."""

    def __init__(self, root: Path, name: str):
        self.root = root
        self.server = TEST_DB_URL.rsplit("/", 1)[0]
        self.name = f"{name}_{os.getpid()}"
        self.db_url = f"{self.server}/{self.name}"
        self.first_home = root / "node1"
        self.nodes: list[Node] = []

    def admin_sql(self, statement: str) -> None:
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    def create(self, **config: tuple[str, str, str]) -> Cluster:
        self.admin_sql(f'drop database if exists "{self.name}" with (force)')
        self.admin_sql(f'create database "{self.name}"')
        cli(self.first_home, "init", "--demo", "--home", str(self.first_home),
            "--db-url", self.db_url)
        return self

    def config(self, home: Path, section: str, key: str, value: str) -> None:
        cli(home, "config", "set", section, key, value, "--home", str(home))

    def home(self, index: int) -> Path:
        """Node ``index``'s home (1-based): the first is init's; the others copy its cfg/."""
        home = self.root / f"node{index}"
        if index > 1 and not home.exists():
            (home / "var").mkdir(parents=True)
            shutil.copytree(self.first_home / "cfg", home / "cfg")
        return home

    def start_node(self, index: int, workers: int = 2) -> Node:
        node = Node(self.home(index), self.root / f"node{index}.out").start(workers)
        self.nodes.append(node)
        return node

    def key(self, *scopes: str) -> str:
        return cli(self.first_home, "apikey", "create", "--name", "scale-out test", "--rate",
                   "0", "--scopes", *scopes, "--home", str(self.first_home)).stdout.strip()

    def sql(self, statement: str, params=()) -> list[tuple]:
        with psycopg.connect(self.db_url) as conn:
            return conn.execute(statement, params).fetchall()

    def destroy(self) -> None:
        for node in self.nodes:
            node.stop()
        self.admin_sql(f'drop database if exists "{self.name}" with (force)')
