"""schemathesis against the live schema: every operation, a key of each scope.

A demo server (``asr-billing init --demo`` + ``serve``; on PostgreSQL when the suite runs
on it, in a database of its own that is dropped afterwards) is fuzzed through ``st run``
with the checks: no 5xx, only documented status codes and content types, every answer
matching its schema, and ``scope_enforced`` (below): a key lacking an operation's scope
gets 403 ``scope`` and a key having it never does. The ``read`` key's run sends every
write too and must change nothing in the billing's data (counts and sums before and after,
read from the server's database).

In CI the generation is deterministic (a fixed seed); locally each run explores anew.

This file is also ``st run``'s hooks file (``SCHEMATHESIS_HOOKS``): loaded by st under the
name ``_schemathesis_hooks``, it registers the check and the failure filter defined here;
imported by pytest it registers nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.live import LiveDemo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ST = str(Path(sys.executable).parent / "st")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,scope_enforced")
# The key's scopes and header, for the hooks in st's process.
SCOPES_ENV = "ASR_BILLING_FUZZ_SCOPES"
AUTH_ENV = "ASR_BILLING_FUZZ_AUTHORIZATION"

# --- st's hooks (run inside ``st run``, not by pytest) -----------------------------------

# Every operation's description names its scope (tests/api/test_schema.py holds it to that).
SCOPE_IN_DESCRIPTION = re.compile(r"Scope: `([a-z:]+)`")
# DRF's router matches an object's id with [^/.]+: another value is an unknown path (404)
# before any view, so before any scope is looked at.
ROUTED_ID = re.compile(r"[^/.]+")


def _problem_code(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def scope_enforced(ctx, response, case):
    """A key lacking the operation's scope is refused with 403 ``scope`` (whatever the
    input: the scope is checked before the input is read); a key having it never is."""
    if response.request.headers.get("Authorization") != os.environ.get(AUTH_ENV):
        return  # the coverage phase also sends requests without the key: 401
    granted = set(os.environ.get(SCOPES_ENV, "").split())
    found = SCOPE_IN_DESCRIPTION.search(case.operation.definition.raw.get("description", ""))
    if found is None:
        raise AssertionError(f"{case.method} {case.path}: the description names no scope")
    needed = found.group(1)
    refused = response.status_code == 403 and _problem_code(response) == "scope"
    if "admin" in granted or needed in granted:
        if refused:
            raise AssertionError(f"a key with {sorted(granted)} was refused; {needed!r} "
                                 "is what the operation needs")
        return
    if refused:
        return
    unrouted = any(not ROUTED_ID.fullmatch(str(value))
                   for value in (case.path_parameters or {}).values())
    if response.status_code == 404 and unrouted:
        return
    raise AssertionError(f"a key with {sorted(granted)} lacks {needed!r}: expected 403 "
                         f"with code 'scope', got {response.status_code}")


def filter_failure(context, failure, case, response):
    """Gunicorn answers a request line longer than its limit (4094 bytes: the fuzzer's
    longest query strings) with its own text/html 414 before the application sees the
    request; that is the HTTP server's limit, not the API's answer."""
    return not (response.status_code == 414
                and "Request Line is too large" in (response.text or ""))


if __name__ == "_schemathesis_hooks":
    import schemathesis

    schemathesis.check(scope_enforced)
    schemathesis.hook(filter_failure)

# --- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    demo = LiveDemo(tmp_path_factory.mktemp("api-fuzz"),
                    os.environ.get("ASR_BILLING_TEST_DB_URL", ""))
    try:
        demo.start()
        yield demo
    finally:
        demo.stop()  # the server, and the PostgreSQL database even when start failed


def fuzz(live: LiveDemo, key: str, scopes: list[str], *, examples: int, phases: str) -> None:
    authorization = f"Bearer {key}"
    command = [ST, "run", f"{live.base}/api/v1/schema/?format=json",
               "--header", f"Authorization: {authorization}", "--checks", CHECKS,
               "--max-examples", str(examples), "--phases", phases,
               # One thread: hypothesis is not thread-safe (two of st's threads drawing at
               # once hit CPython 3.11's "AST constructor recursion depth mismatch" in
               # ast.parse, gh-106905), and one order of requests is what a seed repeats.
               "--workers", "1",
               "--no-color", "--output-truncate", "false", "--request-timeout", "30"]
    if os.environ.get("CI"):
        command += ["--generation-deterministic", "--seed", "1"]
    env = {**os.environ, "NO_COLOR": "1", SCOPES_ENV: " ".join(scopes),
           AUTH_ENV: authorization,
           "SCHEMATHESIS_HOOKS": __file__,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    # In the demo's folder: st keeps its example database and reports there.
    done = subprocess.run(command, capture_output=True, text=True, timeout=900,  # noqa: S603
                          env=env, cwd=live.root)
    if done.returncode:
        pytest.fail(f"st run with a {' '.join(scopes)} key failed (exit {done.returncode}):\n"
                    f"{st_report(done.stdout)}{done.stderr[-3000:]}\n"
                    f"server log:\n{live.log_tail()}", pytrace=False)
    # Every operation of the schema had requests (none filtered out, none left untested).
    selected = re.search(r"Selected: (\d+)/(\d+)", done.stdout)
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert selected and tested, done.stdout[-3000:]
    assert selected[1] == selected[2] == tested[1], done.stdout[-3000:]


def st_report(out: str, head: int = 16000, tail: int = 4000) -> str:
    """st's failures and errors (each with its curl) and its summary, not its progress."""
    starts = [at for at in (out.find("=== FAILURES ==="), out.find("=== ERRORS ==="))
              if at >= 0]
    if starts:
        out = out[max(0, min(starts) - 40):]
    if len(out) <= head + tail:
        return out
    return f"{out[:head]}\n[... {len(out) - head - tail} characters ...]\n{out[-tail:]}"


# The admin key's run has the coverage phase too (each parameter's boundaries and wrong
# types); the others' requests are mostly refused, where random examples are enough.
def test_admin_key_every_operation(live):
    fuzz(live, live.key("admin"), ["admin"], examples=15, phases="examples,coverage,fuzzing")


@pytest.mark.parametrize("scope", ["payments", "subscribers:write", "billing"])
def test_a_narrow_key_every_operation(live, scope):
    fuzz(live, live.key(scope), [scope], examples=5, phases="examples,fuzzing")


def test_a_read_key_changes_nothing(live):
    key = live.key("read")  # making a key is audited: before the snapshot
    before = live.snapshot()
    fuzz(live, key, ["read"], examples=10, phases="examples,fuzzing")
    assert live.snapshot() == before
