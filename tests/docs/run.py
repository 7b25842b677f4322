"""Run an example block with bash and the real curl/wget, and check each command's answer.

The block runs as a reader pastes it: one bash, its commands in order (variables set by
one command are there for the next), after the doc's setup lines. The only changes: the
demo's address ``127.0.0.1:8082`` becomes the test server's, and each command's output
is written to a file of its own. The HTTP status of every curl transfer is recorded
through a curlrc in ``CURL_HOME`` (``--write-out`` to stderr), so the command itself is
left as written; wget reports a 4xx/5xx answer by exiting with 8.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .compare import json_difference, parse_expected_json, text_difference
from .extract import Block, Command
from .server import BIN_DIR, DemoServer

DOC_ADDRESS = re.compile(r"(?:127\.0\.0\.1|localhost):8082")
STATUS_MARK = "@@docs-example-http-status "
CURLRC = (
    f'write-out = "%{{stderr}}{STATUS_MARK}%{{http_code}}\\n"\n'
    # No progress meter on stderr when the output goes to a file (errors still show).
    "no-progress-meter\n"
)
BLOCK_SECONDS = 300


@dataclass
class Outcome:
    command: Command
    ran: bool
    exit_code: int
    output: bytes
    errors: str
    statuses: list[int]


def _script(block: Block, port: int, results: Path) -> str:
    def local(text: str) -> str:
        return DOC_ADDRESS.sub(f"127.0.0.1:{port}", text)

    lines = ["set -o pipefail"]
    lines += [local(line) for line in block.setup]
    for index, command in enumerate(block.commands):
        out = results / f"{index}"
        lines.append("{ " + local(command.text))
        lines.append(f'}} >"{out}.out" 2>"{out}.err"; echo $? >"{out}.rc"')
    return "\n".join(lines) + "\n"


def environment(server: DemoServer, scratch: Path) -> dict[str, str]:
    (scratch / ".curlrc").write_text(CURLRC, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "ASR_BILLING_TEST_DB_URL", "CURL_HOME",
                        "WGETRC") and not k.lower().endswith("_proxy")}
    env.update({
        "ASR_BILLING_HOME": str(server.home),
        "PATH": f"{BIN_DIR}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        "CURL_HOME": str(scratch),
        "HOME": str(scratch),
        "LC_ALL": "C.UTF-8",
        "no_proxy": "*",
        # A reader's shell runs in the billing's time zone: `date` in an example gives
        # the billing's today.
        "TZ": _time_zone(server),
    })
    return env


def _time_zone(server: DemoServer) -> str:
    found = re.search(r"^app\['time_zone'\]='([^']*)'", server.pristine_config.decode(), re.M)
    return found[1] if found and found[1] else "UTC"


def run_block(block: Block, server: DemoServer, scratch: Path, *,
              pristine: bool = True) -> tuple[list[Outcome], str]:
    """Run one block, from the pristine demo unless ``pristine`` is false (then on what the
    blocks before it left). Returns each command's outcome and what bash itself wrote to
    stderr (a syntax error stops the block)."""
    if pristine:
        server.restore()
    results = scratch / "results"
    results.mkdir(parents=True, exist_ok=True)
    for old in results.iterdir():
        old.unlink()
    script = _script(block, server.port, results)
    done = subprocess.run(  # noqa: S603 - bash with the doc's own example
        ["/bin/bash", "-c", script], cwd=scratch, env=environment(server, scratch),
        stdin=subprocess.DEVNULL, capture_output=True, timeout=BLOCK_SECONDS)
    outcomes = []
    for index, command in enumerate(block.commands):
        base = results / f"{index}"
        rc_file = base.with_suffix(".rc")
        if not rc_file.exists():
            outcomes.append(Outcome(command, False, -1, b"", "", []))
            continue
        errors = base.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
        statuses = [int(line[len(STATUS_MARK):]) for line in errors.splitlines()
                    if line.startswith(STATUS_MARK)]
        errors = "\n".join(line for line in errors.splitlines()
                           if not line.startswith(STATUS_MARK))
        outcomes.append(Outcome(command, True, int(rc_file.read_text().strip() or -1),
                                base.with_suffix(".out").read_bytes(), errors, statuses))
    return outcomes, done.stderr.decode(errors="replace")


def _clip(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def check(outcome: Outcome, block: Block) -> str | None:
    """None when the command answered as its doc shows; else why not."""
    command, answer = outcome.command, outcome.command.answer
    if not outcome.ran:
        return "did not run: bash stopped before it"
    if command.is_client and answer is None and not command.captured:
        return ("no answer shown: put it under the command as a `# {...}` line (or "
                "`# HTTP <status>`), or in a ```json/```text block right after the block")
    expected_status = answer.status if answer else None
    failing = expected_status is not None and expected_status >= 400
    body = outcome.output.decode("utf-8", errors="replace")
    got = f"exit {outcome.exit_code}, HTTP {outcome.statuses or '-'}: {_clip(body)!s}"
    if outcome.errors.strip():
        got += f"\n  stderr: {_clip(outcome.errors.strip(), 600)}"
    wget_refused = outcome.exit_code == 8 and "wget" in command.text and failing
    if outcome.exit_code != 0 and not wget_refused:
        return f"the command failed\n  got: {got}"
    if outcome.statuses:
        *earlier, last = outcome.statuses
        wanted = expected_status
        if any(not 200 <= s < 300 for s in earlier):
            return f"an HTTP request before the last one failed\n  got: {got}"
        if (wanted is None and not 200 <= last < 300) or (wanted and last != wanted):
            shown = wanted or "2xx"
            return f"expected HTTP {shown}\n  got: {got}"
    if answer is None or answer.body is None:
        return None
    if answer.kind == "json":
        try:
            expected = parse_expected_json(answer.body)
        except ValueError as exc:
            return f"the doc's answer (line {answer.line}) is {exc}"
        try:
            actual = json.loads(body)
        except json.JSONDecodeError:
            difference = "the answer is not JSON"
        else:
            difference = json_difference(expected, actual)
    else:
        difference = text_difference(answer.body, body)
    if difference is None:
        return None
    return (f"{difference}\n  expected (line {answer.line}): {_clip(answer.body)}"
            f"\n  got: {got}")
