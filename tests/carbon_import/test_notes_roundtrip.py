"""After ``asr-billing import carbon`` the new server answers every example URL of the
operator's notes (shared/seed/system-api-operator-notes.txt) as the old one did, and a
second import then changes nothing but reports the one payment both servers took.

The source is a live demo (our REST v2 speaks Carbon's wire), the target an empty home
that imports it and is then served too (``asr-billing serve``), both on SQLite or, with
ASR_BILLING_TEST_DB_URL, each on a PostgreSQL database of its own. What the import cannot
read from the source, the test sets in the target the way an operator does after the
switch, each step first proving that it is needed (docs/migration.md names none of them
but the admin blocks):

- the system API contexts' passwords, ``network['api.<context>.psw']`` in cfg/config,
  copied from the old server's config (configuration, not data), and its language;
- the payment operators' names: REST v2 gives only their codes, so the import names each
  operator by its code, which the 1C calls would answer instead (set in the admin);
- the administrator's blocks (``admin_blocked``, an asr-billing source's own flag);
- the online sessions: not imported, the NAS reports them to the new server once it is
  pointed there (an Interim-Update each through FreeRADIUS's rlm_rest, with the token of
  ``radius['api.token']``).

The reads then answer byte for byte the same on both servers; the writes (a terminal's
payment, 1C creating a subscriber, each sent twice) the same except the ids of what they
create and the payment's time (each field by its own pattern)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.carbon_import.test_import import COMPARED, Target, _sql, counts, rows
from tests.carbon_import.test_import import UNTOUCHED as _UNTOUCHED
from tests.docs.server import clean_env, free_port, log_tail, stop_process
from tests.system_api.test_operator_notes import (
    ACT_PAY,
    BLOCKED,
    CABINET_USER_INFO,
    CREATE_ABONENT,
    FIN_DETAIL,
    FIN_OPERS,
    GET_ABONENTS,
    LOGGED,
    NEGBAL,
    Server,
)
from tests.test_cli import run

pytestmark = pytest.mark.slow

# The demo's passwords of the contexts the notes call (src/asr_billing/core/home_init.py
# DEMO_PASSWORDS): what the operator copies from the old server's cfg/config.
PASSWORDS = {"collector": "collectortestpsw", "asr_fiscal": "fiscalpsw123", "api_1c": "1ctestpsw"}
READS = {"users_negbal": NEGBAL, "users_blocked": BLOCKED, "users_logged": LOGGED,
         "api_1c_get_abonents": GET_ABONENTS,
         "api_1c_get_fin_detail": FIN_DETAIL, "api_1c_get_fin_opers_with_context": FIN_OPERS,
         # The notes' example session id, which is no session on either server.
         "web_cabinet.user_info": CABINET_USER_INFO.replace("http://http://", "http://", 1)}
RADIUS_TOKEN = "notes-roundtrip-radius-token"
OPEN_SESSIONS = ("select l.login, n.ip, o.acct_session_id, o.ip from network_onlinesession o "
                 "join network_login l on l.id = o.login_id join network_nas n on n.id = o.nas_id "
                 "where o.stopped_at is null order by o.id")
# What the writes answer that may differ, each field by its own pattern: the ids of the
# new operation and subscriber (each server takes them from its own sequence; the
# subscriber's account has the subscriber's id) and the payment's time.
NEW = {
    "act_pay": {"operation_id": r"\d+", "op_date": r"\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d"},
    "api_1c_create_abonent": {"pk": r"\d+", "account": r"\d+"},
}
WRITES = {"act_pay": ACT_PAY, "api_1c_create_abonent": CREATE_ABONENT}
# Everything a second import that finds nothing new must leave as it was, the ledger too.
UNTOUCHED = {
    **_UNTOUCHED,
    "operations": "select id, account_id, type, amount, op_date, external_id, code1c, "
                  "synced_1c from finance_operation order by id",
    "payment operators": "select id, code, name from finance_paymentoperator order by id",
}


def _serve(home, log) -> tuple[subprocess.Popen, int]:
    """``asr-billing serve`` on a free port, as tests/api/live.py starts the demo."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "asr_billing", "serve", "--home", str(home),
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-migrate"],
            env=clean_env(home), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/schema/", timeout=5):
                return process, port
        except OSError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise RuntimeError(f"the target server did not start:\n{log_tail(log)}") from exc
            time.sleep(0.3)


@pytest.fixture(scope="module")
def switched(source, tmp_path_factory):
    """The target after the import, served (nothing set by hand yet)."""
    target = Target(tmp_path_factory.mktemp("notes_roundtrip"))
    process = None
    try:
        first = target.imports(source.base)
        assert first.returncode == 0, (first.stdout, first.stderr)
        target.first = counts(first.stdout)
        process, target.port = _serve(target.home, target.home / "serve.out")
        yield target
    finally:
        stop_process(process)
        target.drop()


def _ok(*args: str) -> None:
    done = run(*args)
    assert done.returncode == 0, (done.stdout, done.stderr)


def _interim(port: int, attributes: dict) -> None:
    """An Interim-Update as FreeRADIUS's rlm_rest posts it."""
    body = {"Acct-Status-Type": {"type": "integer", "value": ["Interim-Update"]}}
    for name, value in attributes.items():
        if value is not None:
            kind = "ipaddr" if name.endswith("IP-Address") else "string"
            body[name] = {"type": kind, "value": [value]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/radius/accounting/", method="POST",
        data=json.dumps(body).encode(), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {RADIUS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - ours
        assert response.status == 204


def _body(server: Server, url: str) -> tuple[int, str, str]:
    status, content_type, body = server.get(url)
    assert status == 200, (url, status, body)
    return status, content_type, body


def _operators(side) -> dict[str, str]:
    return dict(_sql(side.home, side.db_url, "select code, name from finance_paymentoperator"))


def _blank(name: str, answer: tuple[int, str, str]) -> tuple[int, str, str]:
    """The answer of a write with its new ids (and time) as ``#``; each must be there once."""
    status, content_type, text = answer
    for tag, value in NEW[name].items():
        text, found = re.subn(f"<{tag}>{value}</{tag}>", f"<{tag}>#</{tag}>", text)
        assert found == 1, (name, tag, answer)
    return status, content_type, text


def test_the_notes_answer_the_same_after_the_switch_and_a_second_import_changes_nothing(
        source, switched):
    old, new = Server(source.home, source.port), Server(switched.home, switched.port)
    home = ("--home", str(switched.home))

    # By hand 1: the contexts' passwords (cfg/config). The target's were generated by its
    # init: the old clients are refused until they are copied.
    assert new.get(NEGBAL) == (403, "text/plain; charset=utf-8",
                               "Access denied: wrong psw for context=collector")
    for context, password in PASSWORDS.items():
        _ok("config", "set", "network", f"api.{context}.psw", password, *home)

    # The operator's language, as the old server's (our tests make homes in English):
    # the ledger's descriptions of new payments are written in it.
    _ok("config", "set", "app", "language", "ru", *home)

    # By hand 2: the payment operators' names; the import named them by their codes, which
    # the 1C calls would answer instead.
    names = _operators(source)
    imported = _operators(switched)
    assert "SBERBANK_OSMP" in imported and imported == {code: code for code in imported}
    assert _body(new, FIN_DETAIL)[2] == _body(old, FIN_DETAIL)[2].replace(
        f"<operator_name>{names['SBERBANK_OSMP']}</operator_name>",
        "<operator_name>SBERBANK_OSMP</operator_name>")
    switched.shell(
        "from asr_billing.finance.models import PaymentOperator\n"
        f"for code, name in {sorted((code, names[code]) for code in imported)!r}:\n"
        "    operator = PaymentOperator.objects.get(code=code)\n"
        "    operator.name = name\n"
        "    operator.save()\n"
        "print('renamed')\n")

    # By hand 3: the administrator's blocks (an asr-billing source's own flag, not on
    # Carbon's wire: docs/migration.md), blocked again with their reasons.
    blocks = _sql(source.home, source.db_url, "select id, admin_block_reason from "
                  "subscribers_subscriber where admin_blocked order by id")
    assert blocks
    assert not _sql(switched.home, switched.db_url,
                    "select id from subscribers_subscriber where admin_blocked")
    switched.shell(
        "from asr_billing.subscribers.models import Subscriber\n"
        "from asr_billing.subscribers.services import subscriber_block\n"
        f"for pk, reason in {blocks!r}:\n"
        "    subscriber_block(subscriber=Subscriber.objects.get(pk=pk), actor='operator', "
        "reason=reason)\n"
        "print('blocked')\n")

    # Not by hand: the NAS, pointed at the new server, reports its open sessions there
    # (an Interim-Update each, through FreeRADIUS's rlm_rest); the import brings none.
    logged = _body(old, LOGGED)
    assert logged[2].count("\n") > 10
    assert new.get(LOGGED) == (200, logged[1], "")
    _ok("config", "set", "radius", "api.token", RADIUS_TOKEN, *home)
    sessions = _sql(source.home, source.db_url, OPEN_SESSIONS)
    assert len(sessions) >= logged[2].count("\n")
    for login, nas_ip, session_id, ip in sessions:
        _interim(switched.port, {"User-Name": login, "NAS-IP-Address": str(nas_ip),
                                 "Acct-Session-Id": session_id,
                                 "Framed-IP-Address": str(ip) if ip else None})

    # The reads: not trivial, then the same bytes (status and content type included).
    answers = {name: _body(old, url) for name, url in READS.items()}
    negbal = answers["users_negbal"][2].splitlines()
    assert negbal and all(line.split(" ")[13] == "10.0.0.1" for line in negbal)
    assert {line.split(" ")[4] for line in negbal} == {"0", "1"}  # online and not
    assert any(line.split(" ")[6] == "1" for line in negbal)  # an admin block among them
    assert answers["users_blocked"][2].count("\n") > 3
    assert answers["users_logged"][2] == logged[2]
    assert answers["api_1c_get_abonents"][2].count("<item>") > 1
    assert "<op_id>54894</op_id>" in answers["api_1c_get_fin_detail"][2]
    assert "<operator_name>SBERBANK_OSMP<" not in answers["api_1c_get_fin_detail"][2]
    assert json.loads(answers["api_1c_get_fin_opers_with_context"][2])
    assert json.loads(answers["web_cabinet.user_info"][2]) == {
        "error": "Необходимо авторизоваться"}
    for name, url in READS.items():
        assert new.get(url) == answers[name], name

    # The writes, each sent twice (a terminal's retry, 1C's second run), on both: the
    # same answers but for the new ids and the payment's time.
    started = datetime.now(UTC)
    paid = {}
    for name, url in WRITES.items():
        for attempt in ("first", "again"):
            mine, theirs = _body(old, url), _body(new, url)
            assert _blank(name, mine) == _blank(name, theirs), (name, attempt, mine, theirs)
            if name == "act_pay":
                assert "<result>ok</result>" in mine[2]
                assert f"<replay>{str(attempt == 'again').lower()}</replay>" in mine[2]
                for server, answer in (("old", mine), ("new", theirs)):
                    when = datetime.fromisoformat(re.search(r"<op_date>([^<]+)<", answer[2])[1])
                    assert started - timedelta(seconds=1) < when < datetime.now(UTC)
                    paid.setdefault(server, set()).add(
                        int(re.search(r"<operation_id>(\d+)<", answer[2])[1]))
            else:
                assert f"<created>{str(attempt == 'first').lower()}</created>" in mine[2]

    # The writes changed both servers the same way, ids included. (The imported op_dates
    # are whole seconds, as REST v2 carries them; the demo gateways' payment operators,
    # which no operation names, are not imported.)
    same = {**COMPARED, "accounts": UNTOUCHED["accounts"],
            "payment operators": UNTOUCHED["payment operators"],
            "operations": "select id, account_id, type, amount, external_id, code1c, "
                          "synced_1c from finance_operation order by id"}
    mine, theirs = rows(source, same), rows(switched, same)
    assert set(theirs.pop("payment operators")) <= set(mine.pop("payment operators"))
    assert theirs == mine

    # A second import. Both servers took the notes' payment, each at its own time: the
    # source's operation is here under the same id but another op_date, a conflict the
    # append-only ledger reports and skips. Nothing else is new, nothing changes.
    [old_id], [new_id] = paid["old"], paid["new"]
    assert old_id == new_id
    _ok("config", "set", "app", "language", "en", *home)  # the report as test_import reads it
    before = rows(switched, UNTOUCHED)
    second = switched.imports(source.base)
    assert second.returncode == 1, (second.stdout, second.stderr)
    # Every kind the first run counted, now unchanged (1C's new subscriber with its account
    # among them); the kinds the first run created and nobody else names are not listed.
    expected = {kind: [0, 0, sum(first[:3]), 0] for kind, first in switched.first.items()
                if kind not in ("attribute kinds", "payment operators")}
    expected["subscribers"][2] += 1
    expected["accounts"][2] += 1
    expected["operations"][3] = 1
    assert counts(second.stdout) == expected
    assert (f"Skipped 1 object:\n  operation {old_id}: it is here already and differs "
            "(op_date); the ledger is not changed\n") in second.stdout
    assert rows(switched, UNTOUCHED) == before
