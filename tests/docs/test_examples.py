"""Every curl and wget example of docs/*.md, run with bash and the real curl against a
fresh demo server (`asr-billing init --demo`, `asr-billing serve`) — each block from the
pristine demo, and each doc's blocks in reading order — must answer what its doc shows.
The conventions are in docs/development.md ("Docs examples"). Alone:
`make test PYTEST_ARGS="tests/docs"`; one doc or block: `DOCS_EXAMPLES=rest-api-v2.md` or
`DOCS_EXAMPLES=system-api.md:212`.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .extract import doc_blocks, inline_examples
from .run import check, run_block
from .server import DemoServer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _blocks():
    wanted = os.environ.get("DOCS_EXAMPLES", "")
    blocks = [block for doc in sorted(DOCS.glob("*.md")) for block in doc_blocks(doc)]
    return [b for b in blocks if wanted in b.name]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo = DemoServer(tmp_path_factory.mktemp("docs-demo"))
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


def test_every_example_is_in_a_block_the_test_runs():
    """A curl command in running text would never be run: examples go in sh blocks."""
    inline = [f"docs/{doc.name}:{line}: {text}" for doc in sorted(DOCS.glob("*.md"))
              for line, text in inline_examples(doc)]
    assert inline == []


PAY = {"contract_number": "BILL0000003", "sum_in": "100", "pay_operator": "SBERBANK_OSMP",
       "pay_id_str": "docs-restore-check"}


def _act_pay(server: DemoServer, act: str) -> dict:
    query = urlencode({"model": "Abonents", "method1": "asr_fiscal_manager.act_pay",
                       "arg1": json.dumps({**PAY, "act": act}), "context": "asr_fiscal",
                       "psw": "fiscalpsw123", "format": "json"})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", f"/system_api/?{query}")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _check_the_restore_reaches_every_worker(server: DemoServer) -> None:
    """Each example starts from the pristine demo only if the server reads the restored
    file: a payment, then the restore, must be gone for every worker (a request goes to
    whichever is free; eight reach both) and for a connection opened before it."""
    server.restore()
    held = sqlite3.connect(server.database)
    balance = "SELECT balance FROM finance_account WHERE subscriber_id = 1303"
    [(before,)] = held.execute(balance).fetchall()
    assert _act_pay(server, "PAY")["result"] == "ok"
    [(paid,)] = held.execute(balance).fetchall()
    assert Decimal(str(paid)) == Decimal(str(before)) + 100
    server.restore()
    states = {_act_pay(server, "CHECK")["payment"]["state"] for _ in range(8)}
    assert states == {"not_found"}
    [(after,)] = held.execute(balance).fetchall()
    held.close()
    assert after == before


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("ASR_BILLING_TEST_DB_URL")),
    reason="runs its own SQLite demo server, independent of the test database; "
    "the SQLite run of the suite covers it",
)
def test_every_example_answers_as_its_doc_shows(server, tmp_path):
    """Two readings: each block from the pristine demo (a reader who jumps to one
    example), then each doc's blocks in order on one demo, restored only between docs (a
    reader who tries them one after another: a block must not break a later one)."""
    _check_the_restore_reaches_every_worker(server)
    blocks = _blocks()
    assert blocks, f"no example blocks in {DOCS} matching {os.environ.get('DOCS_EXAMPLES')!r}"
    failures: list[str] = []
    commands = _run(blocks, server, tmp_path, failures, pristine=True)
    in_order: list[str] = []
    for doc in dict.fromkeys(block.doc for block in blocks):
        server.restore()
        _run([b for b in blocks if b.doc == doc], server, tmp_path, in_order, pristine=False)
    failures += [f"{failure}\n  (in reading order: after the blocks above it on one demo)"
                 for failure in in_order if failure not in failures]
    assert not failures, (
        f"{len(failures)} of {commands} doc example commands do not answer as shown "
        "(docs/development.md, \"Docs examples\"):\n\n" + "\n\n".join(failures)
    )


def _run(blocks, server, scratch, failures: list[str], *, pristine: bool) -> int:
    commands = 0
    for block in blocks:
        outcomes, bash_errors = run_block(block, server, scratch, pristine=pristine)
        for outcome in outcomes:
            commands += 1
            problem = check(outcome, block)
            if problem:
                first_line = outcome.command.text.split("\n")[0]
                failures.append(f"docs/{block.doc.name}:{outcome.command.line}: "
                                f"{first_line}\n  {problem}")
        if bash_errors.strip() and any(not o.ran for o in outcomes):
            failures.append(f"docs/{block.name}: bash: {bash_errors.strip()[-1000:]}")
    return commands
