"""schemathesis against the live schema: every operation, a key of each scope.

A demo server (``asr-billing init --demo`` + ``serve``; on PostgreSQL when the suite runs
on it, in a database of its own) is fuzzed through ``st run`` with the checks: no 5xx,
only documented status codes and content types, every answer matching its schema. The
``read`` key's run sends every write too and must change nothing in the billing's data.
In CI the generation is deterministic (a fixed seed); locally each run explores anew.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.live import LiveDemo

pytestmark = pytest.mark.slow

ST = str(Path(sys.executable).parent / "st")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    demo = LiveDemo(tmp_path_factory.mktemp("api-fuzz"),
                    os.environ.get("ASR_BILLING_TEST_DB_URL", ""))
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


def fuzz(live: LiveDemo, key: str, *, examples: int, phases: str) -> None:
    command = [ST, "run", f"{live.base}/api/v1/schema/?format=json",
               "--header", f"Authorization: Bearer {key}", "--checks", CHECKS,
               "--max-examples", str(examples), "--phases", phases, "--workers", "2",
               "--no-color", "--output-truncate", "false", "--request-timeout", "30"]
    if os.environ.get("CI"):
        command += ["--generation-deterministic", "--seed", "1"]
    # In the demo's folder: st keeps its example database and reports where it runs.
    done = subprocess.run(command, capture_output=True, text=True, timeout=900,  # noqa: S603
                          env={**os.environ, "NO_COLOR": "1"}, cwd=live.root)
    assert done.returncode == 0, (done.stdout[-12000:] + done.stderr[-3000:]
                                  + "\nserver log:\n" + live.log_tail())


def test_admin_key_every_operation(live):
    fuzz(live, live.key("admin"), examples=25, phases="examples,coverage,fuzzing")


@pytest.mark.parametrize("scope", ["payments", "subscribers:write", "billing"])
def test_a_narrow_key_every_operation(live, scope):
    fuzz(live, live.key(scope), examples=5, phases="examples,fuzzing")


def test_a_read_key_changes_nothing(live):
    key = live.key("read")  # making it is audited: before the snapshot
    before = live.snapshot()
    fuzz(live, key, examples=10, phases="examples,coverage,fuzzing")
    assert live.snapshot() == before
