"""The command line on a read-only disk, as a new operator meets it (a full or remounted
file system, a database copied without write access): one clear line and a non-zero exit,
nothing changed, the traceback in error.log. The read-only parts are real: read-only bind
mounts, which refuse even root (this machine runs everything as root, where file modes
do not bite)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import ok, run

pytestmark = pytest.mark.slow


def _can_mount() -> str:
    if os.geteuid() != 0:
        return "needs root for read-only bind mounts"
    probe = Path("/tmp") / f"asr-ro-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(["mount", "--bind", str(probe), str(probe)],  # noqa: S603,S607
                              capture_output=True, text=True)
        if done.returncode:
            return f"mount --bind refused: {done.stderr.strip()}"
        subprocess.run(["umount", str(probe)], check=False)  # noqa: S603,S607
        return ""
    finally:
        probe.rmdir()


WHY_NOT = _can_mount()


@pytest.fixture(autouse=True)
def _mounts_possible():
    if WHY_NOT:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs as root and must run these: {WHY_NOT}")
        pytest.skip(WHY_NOT)


@contextlib.contextmanager
def read_only(path: Path):
    """``path`` (a folder or a file) read-only for everyone, root included, until exit."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)  # noqa: S603,S607
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)],  # noqa: S603,S607
                       check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)  # noqa: S603,S607


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    ok("init", "--home", str(home), "--language", "en")
    return home


def test_config_set_on_a_read_only_cfg_folder(home):
    config = home / "cfg" / "config"
    before = config.read_bytes()
    with read_only(home / "cfg"):
        done = run("config", "set", "app", "language", "en", "--home", str(home))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: Read-only file system: ") and "cfg" in line, line
    assert config.read_bytes() == before


def test_a_read_only_database_refuses_writes_in_one_line(home):
    database = home / "var" / "billing.sqlite3"
    ok("check", "--home", str(home))  # checkpointed: the file holds everything
    before = database.read_bytes()
    with read_only(database):
        done = run("createadmin", "--username", "ops", "--password", "a-long-passw0rd!",
                   "--email", "ops@example.net", "--home", str(home))
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the database: attempt to write a readonly database"), line
    assert "(details in " in line
    log = (home / "var" / "log" / "django" / "error.log").read_text()
    assert "Traceback" in log and "asr-billing createadmin failed" in log
    assert database.read_bytes() == before


def test_a_read_only_log_folder_still_gives_one_line(home):
    (home / "var" / "billing.sqlite3").write_bytes(b"not a database at all" * 100)
    for stale in home.glob("var/billing.sqlite3-*"):
        stale.unlink()
    with read_only(home / "var"):
        done = run("check", "--home", str(home))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: "), line
