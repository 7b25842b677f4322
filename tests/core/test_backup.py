"""asr-billing backup / restore: a consistent archive while payments arrive (SQLite, or
PostgreSQL when the suite runs there), restored into a new home that passes check and
takes payments; refusals that leave everything as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request

import pytest

from tests.api.live import LiveDemo
from tests.docs.server import clean_env

# The demo homes speak the default language, Russian: so do the messages asserted here.
pytestmark = pytest.mark.slow


def cli(home, *args, check=True):
    done = subprocess.run([sys.executable, "-m", "asr_billing", *args],  # noqa: S603
                          env=clean_env(home), capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, (done.stdout, done.stderr)
    return done


def pay(base: str, key: str, external_id: str) -> int:
    body = json.dumps({"subscriber": "BILL0000003", "amount": "1.00", "operator": "BANK",
                       "external_id": external_id}).encode()
    request = urllib.request.Request(f"{base}/api/v1/payments/", data=body, method="POST",  # noqa: S310 - http to the test server
                                     headers={"Authorization": f"Bearer {key}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return answer.status


def payments(demo_home, db_url: str) -> set[str]:
    code = ("from asr_billing.finance.models import Operation as O; import json; print(json.dumps("
            "list(O.objects.filter(external_id__startswith='bk-').values_list('external_id', "
            "flat=True))))")
    done = cli(demo_home, "manage", "shell", "-c", code, "--home", str(demo_home))
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def live(tmp_path):
    demo = LiveDemo(tmp_path / "live", os.environ.get("ASR_BILLING_TEST_DB_URL", ""))
    (tmp_path / "live").mkdir()
    demo.start()
    yield demo
    demo.stop()


def test_a_backup_taken_while_payments_arrive_restores_and_checks(live, tmp_path):
    key = live.key("payments")
    stop, sent = threading.Event(), []

    def storm():
        while not stop.is_set():
            external_id = f"bk-{len(sent)}"
            assert pay(live.base, key, external_id) == 201
            sent.append(external_id)

    failures = []

    def guarded():
        try:
            storm()
        except Exception as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 120
        while len(sent) < count:
            assert not failures, failures
            assert time.monotonic() < deadline, f"only {len(sent)} payments in 120 s"
            time.sleep(0.05)

    thread = threading.Thread(target=guarded)
    thread.start()
    try:
        wait_for(20)
        archive = tmp_path / "backup.tar.gz"
        done = cli(live.home, "backup", "--home", str(live.home), "--out", str(archive))
        assert "login_password.key" in done.stderr and "ВНИМАНИЕ" in done.stderr
        wait_for(len(sent) + 10)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    restored = tmp_path / "restored"
    args = ["restore", str(archive), "--home", str(restored)]
    target_db = ""
    if live.db_url:
        target_db = live.db_url + "_restored"
        name = target_db.rsplit("/", 1)[1]
        live._admin_sql(f'drop database if exists "{name}"')
        live._admin_sql(f'create database "{name}"')
        args += ["--db-url", target_db]
    try:
        done = cli(restored, *args)
        assert "OK:" in done.stdout
        kept = payments(restored, target_db)
        # A snapshot: every payment in it was made, and it holds at least those made
        # before the backup started (20) and not those made after it finished.
        assert 20 <= len(kept) < len(sent)
        assert kept <= set(sent)
        assert kept == {f"bk-{i}" for i in range(len(kept))}
        # The restored billing works: a payment (the PostgreSQL posting function came
        # back too), then check again.
        code = ("from decimal import Decimal; from asr_billing.finance.services import "
                "payment_register as p; print(p(subscriber='BILL0000003', amount=Decimal('5'),"
                " actor='t', operator='BANK', external_id='after-restore').created)")
        assert cli(restored, "manage", "shell", "-c", code, "--home", str(restored)) \
            .stdout.strip().endswith("True")
        assert "OK:" in cli(restored, "check", "--home", str(restored)).stdout
    finally:
        if target_db:
            live._admin_sql(f'drop database if exists "{target_db.rsplit("/", 1)[1]}" '
                            "with (force)")


def test_refusals_change_nothing(live, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    cli(live.home, "backup", "--home", str(live.home), "--out", str(archive))
    before = archive.read_bytes()
    again = cli(live.home, "backup", "--home", str(live.home), "--out", str(archive),
                check=False)
    assert again.returncode == 2 and "уже существует" in again.stderr
    assert archive.read_bytes() == before

    # Never over a live home: the demo's own folder is not empty; it stays as it was.
    listing = sorted(p.relative_to(live.home) for p in live.home.rglob("*")
                     if "metrics" not in p.parts and "log" not in p.parts)
    over = cli(live.home, "restore", str(archive), "--home", str(live.home), check=False)
    assert over.returncode == 2 and "не пуста" in over.stderr
    assert sorted(p.relative_to(live.home) for p in live.home.rglob("*")
                  if "metrics" not in p.parts and "log" not in p.parts) == listing
    assert "OK:" in cli(live.home, "check", "--home", str(live.home)).stdout

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    target = tmp_path / "new"
    bad = cli(target, "restore", str(garbage), "--home", str(target), check=False)
    assert bad.returncode == 2 and "не удаётся прочитать" in bad.stderr and not target.exists()

    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(__file__, arcname="../../etc/evil")
    bad = cli(target, "restore", str(foreign), "--home", str(target), check=False)
    assert bad.returncode == 2 and "это не резервная копия asr-billing" in bad.stderr
    assert not target.exists()

    wrong = cli(target, "restore", str(archive), "--home", str(target),
                *(["--db-url", "postgresql://postgres@127.0.0.1:5432/x"] if not live.db_url
                  else []), check=False)
    assert wrong.returncode == 2 and not target.exists()
    assert ("не указывайте --db-url" if not live.db_url else "укажите в --db-url") in wrong.stderr
