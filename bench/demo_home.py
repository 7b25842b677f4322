"""A fresh home with ``asr-billing demo --subscribers N`` for the benches: on SQLite, or
on a PostgreSQL database of the given server dropped and created for it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(ROOT / ".venv" / "bin" / "asr-billing")


def demo_home(home: Path, subscribers: int, env: dict, server: str = "", db: str = "") -> None:
    """``init`` (with ``--db-url server/db`` when ``server`` is given), then the demo;
    prints how long the demo took."""
    init = [CLI, "init", "--home", str(home)]
    if server:
        import psycopg

        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{db}" with (force)')
            conn.execute(f'create database "{db}"')
        init += ["--db-url", f"{server}/{db}"]
    subprocess.run(init, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    started = time.monotonic()
    subprocess.run([CLI, "demo", "--home", str(home), "--subscribers",  # noqa: S603
                    str(subscribers)], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"demo of {subscribers} subscribers: {time.monotonic() - started:.0f} s")
