"""Every example URL of the operator's notes (shared/seed/system-api-operator-notes.txt),
verbatim apart from host and port, against `asr-billing init --demo` data, through a real
`asr-billing serve` (gunicorn). The web_cabinet examples belong to the cabinet task.

Expected values are read from the demo database with plain SQL, independently of the
selectors under test.
"""

from __future__ import annotations

import http.client
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from tests.live_server import SqliteServer, cli, serving

pytestmark = pytest.mark.slow

NOTES_HOST = "http://169.254.80.82:8082"
# The notes' URLs, copied verbatim.
NEGBAL = ('http://169.254.80.82:8082/system_api/?model=Abonents'
          '&method1=collector_manager.users_negbal'
          '&arg1={"nas_ip":"10.0.0.1"}&context=collector&psw=collectortestpsw')
BLOCKED = ('http://169.254.80.82:8082/system_api/?model=Abonents'
           '&method1=collector_manager.users_blocked'
           '&arg1={"nas_ip":"10.0.0.1"}&context=collector&psw=collectortestpsw')
LOGGED = ('http://169.254.80.82:8082/system_api/?model=Abonents'
          '&method1=collector_manager.users_logged'
          '&arg1={"nas_ip":"10.0.0.1"}&context=collector&psw=collectortestpsw')
ACT_PAY = ('http://169.254.80.82:8082/system_api/?model=Abonents'
           '&method1=asr_fiscal_manager.act_pay'
           '&arg1={"contract_number":"BILL0000003","sum_in":"100","pay_operator":"SBERBANK_OSMP",'
           '"pay_id_str":"1238989213892","act":"PAY"}&context=asr_fiscal&psw=fiscalpsw123')
GET_ABONENTS = ('http://169.254.80.82:8082/system_api/?model=Abonents'
                '&method1=api_1c_manager.api_1c_get_abonents&arg1={"parent_id":"1225"}'
                '&context=api_1c&psw=1ctestpsw')
FIN_DETAIL = ('http://169.254.80.82:8082/system_api/?model=FinanceOperations'
              '&method1=api_1c_manager.api_1c_get_fin_detail&arg1={"op_id":"54894"}'
              '&context=api_1c&psw=1ctestpsw')
CREATE_ABONENT = ('http://169.254.80.82:8082/system_api/?model=Abonents'
                  '&method1=api_1c_manager.api_1c_create_abonent'
                  '&arg1={"code1c":"code1c_589895403","name":"Иванов Иван Иванович"}'
                  '&context=api_1c&psw=1ctestpsw')
FIN_OPERS = ('http://169.254.80.82:8082/system_api/?model=FinanceOperations'
             '&method1=api_1c_manager.api_1c_get_fin_opers_with_context'
             '&arg1={"abonent_id": 1361, "op_type": 2, "sdate": "2023-03-01T00:00:00", '
             '"edate": "2023-04-03T00:00:00"}&format=json&context=api_1c&psw=1ctestpsw')
NOTES_CONTEXTS = "web cabinet collector api_1c base webcash asr_fiscal"


def parse_xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - the answer of our own test server


def _cli(home: Path, *args: str) -> str:
    return cli(home, *args, "--home", str(home), timeout=300)


class Server(SqliteServer):
    def get(self, notes_url: str) -> tuple[int, str, str]:
        """GET a notes URL on this server. Only what an HTTP request line cannot carry
        (spaces, Cyrillic) is percent-encoded, as wget and browsers do."""
        assert notes_url.startswith(NOTES_HOST)
        path = notes_url[len(NOTES_HOST):]
        wire = "".join(c if 0x20 < ord(c) < 0x7f else
                       "".join(f"%{b:02X}" for b in c.encode()) for c in path)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", wire)
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type"), response.read().decode()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("notes-home")
    _cli(home, "init", "--demo")
    with serving(home, seconds=60) as port:
        yield Server(home, port)


def _lines(server, notes_url: str) -> list[list[str]]:
    status, content_type, body = server.get(notes_url)
    assert status == 200 and content_type == "text/plain; charset=utf-8"
    rows = [line.split(" ") for line in body.splitlines()]
    assert rows and all(len(row) == 16 and row[13] == "10.0.0.1" for row in rows)
    return rows


COLLECTOR_SQL = """
    SELECT l.login FROM network_login l
    JOIN network_nas n ON n.id = l.nas_id
    JOIN subscribers_subscriber s ON s.id = l.subscriber_id
    WHERE n.ip = '10.0.0.1' AND l.enabled AND ({}) ORDER BY l.login
"""
OPEN_SESSION = ("EXISTS (SELECT 1 FROM network_onlinesession o "
                "WHERE o.login_id = l.id AND o.stopped_at IS NULL)")


def test_users_negbal(server):
    rows = _lines(server, NEGBAL)
    expected = [r[0] for r in server.sql(COLLECTOR_SQL.format("s.negbal"))]
    assert [row[1] for row in rows] == expected
    assert {row[5] for row in rows} == {"1"}


def test_users_blocked(server):
    rows = _lines(server, BLOCKED)
    expected = server.sql(COLLECTOR_SQL.format("s.admin_blocked OR s.voluntary_blocked"))
    assert [row[1] for row in rows] == [r[0] for r in expected]
    assert {row[6] for row in rows} == {"1"}


def test_users_logged(server):
    rows = _lines(server, LOGGED)
    expected = server.sql(COLLECTOR_SQL.format(OPEN_SESSION))
    assert [row[1] for row in rows] == [r[0] for r in expected]
    assert {row[4] for row in rows} == {"1"}
    testlogin = [row for row in rows if row[1] == "testlogin"]
    assert not testlogin or testlogin[0][0] == "10.20.30.41"


def test_act_pay_exactly_once(server):
    (subscriber_id, balance), = server.sql(
        "SELECT s.id, a.balance FROM subscribers_subscriber s JOIN finance_account a "
        "ON a.subscriber_id = s.id WHERE s.contract_number = 'BILL0000003'")
    status, content_type, body = server.get(ACT_PAY)
    assert status == 200 and content_type == "application/xml; charset=utf-8"
    answer = parse_xml(body)
    assert answer.findtext("result") == "ok" and answer.findtext("replay") == "false"
    assert answer.findtext("contract_number") == "BILL0000003"
    assert answer.findtext("abonent_id") == str(subscriber_id)
    assert answer.findtext("sum") == "100.00"
    expected_balance = Decimal(str(balance)) + Decimal("100.00")
    assert Decimal(answer.findtext("balance")) == expected_balance
    operation_id = int(answer.findtext("operation_id"))
    assert server.sql("SELECT amount, external_id FROM finance_operation WHERE id = ?",
                      operation_id) == [(100, "1238989213892")]
    # The terminal retries: the same answer, marked as a replay; no second payment.
    again = parse_xml(server.get(ACT_PAY)[2])
    assert again.findtext("replay") == "true"
    assert again.findtext("operation_id") == str(operation_id)
    assert again.findtext("balance") == answer.findtext("balance")
    assert again.findtext("message") == "Платеж уже проведен, возвращаем старые данные!"
    assert server.sql("SELECT count(*) FROM finance_operation WHERE external_id = ?",
                      "1238989213892") == [(1,)]


def test_get_abonents_of_group_1225(server):
    status, _, body = server.get(GET_ABONENTS)
    assert status == 200
    items = parse_xml(body).findall("item")
    expected = server.sql("SELECT id, contract_number FROM subscribers_subscriber "
                          "WHERE group_id = 1225 AND NOT synced_1c ORDER BY id")
    assert expected, "the demo has unsynced subscribers in group 1225"
    assert [(int(i.findtext("pk")), i.findtext("fields/contract_number")) for i in items] == [
        (pk, number) for pk, number in expected]
    assert all(i.findtext("fields/account") == i.findtext("pk") for i in items)


def test_fin_detail_54894(server):
    status, _, body = server.get(FIN_DETAIL)
    assert status == 200
    detail = parse_xml(body)
    (amount, account_id, type_), = server.sql(
        "SELECT amount, account_id, type FROM finance_operation WHERE id = 54894")
    assert detail.findtext("op_id") == "54894"
    assert detail.findtext("op_type_id") == str(type_)
    assert Decimal(detail.findtext("op_summa")) == abs(Decimal(str(amount)))
    assert detail.findtext("abonent_id") == str(account_id)


def test_create_abonent_once(server):
    status, _, body = server.get(CREATE_ABONENT)
    assert status == 200
    created = parse_xml(body)
    assert created.findtext("created") == "true"
    assert created.findtext("fields/name") == "Иванов Иван Иванович"
    assert created.findtext("fields/code1c") == "code1c_589895403"
    again = parse_xml(server.get(CREATE_ABONENT)[2])
    assert again.findtext("created") == "false"
    assert again.findtext("pk") == created.findtext("pk")
    assert server.sql("SELECT count(*) FROM subscribers_subscriber WHERE code1c = ?",
                      "code1c_589895403") == [(1,)]


def test_wget_fin_opers_with_context(server):
    status, content_type, body = server.get(FIN_OPERS)
    assert status == 200 and content_type == "application/json; charset=utf-8"
    rows = json.loads(body)
    # Moscow is UTC+3: the period 2023-03-01 00:00 .. 2023-04-03 00:00 local, in UTC.
    expected = server.sql(
        "SELECT o.id FROM finance_operation o WHERE o.account_id = 1361 AND o.type = 2 "
        "AND o.op_date >= '2023-02-28 21:00:00' AND o.op_date <= '2023-04-02 21:00:00' "
        "AND (o.code1c != '' OR NOT EXISTS (SELECT 1 FROM finance_operation r "
        "WHERE r.reverses_id = o.id)) ORDER BY o.op_date, o.id")
    assert expected, "the demo has payments of subscriber 1361 in March 2023"
    assert [row["op_id"] for row in rows] == [r[0] for r in expected]
    assert all(row["op_type_id"] == 2 and row["op_date"][:7] in ("2023-03", "2023-04")
               for row in rows)
    assert set(rows[0]) == {
        "op_id", "op_type_id", "op_date", "op_summa", "op_card_id", "number", "balance_buh",
        "descr", "operator_pay_id", "operator_name", "operator_result", "operator_pay_id_str",
        "code1c", "act_services"}


def test_context_not_defined_and_back_without_restart(server):
    _cli(server.home, "config", "set", "network", "api.context", "web cabinet collector")
    status, _, body = server.get(ACT_PAY)
    assert (status, body) == (403, "Context=asr_fiscal is not defined")
    # The notes' fix, applied by the running server without a restart.
    _cli(server.home, "config", "set", "network", "api.context", NOTES_CONTEXTS)
    assert parse_xml(server.get(ACT_PAY)[2]).findtext("result") == "ok"


def test_loglevel_info_logs_every_call_without_passwords(server):
    log = server.home / "var" / "log" / "django" / "system_api.log"
    _cli(server.home, "config", "set", "app", "django.loglevel", "info")
    try:
        start = log.stat().st_size if log.exists() else 0
        server.get(NEGBAL)
        server.get(ACT_PAY)
        written = log.read_bytes()[start:].decode()
    finally:
        _cli(server.home, "config", "set", "app", "django.loglevel", "error")
    assert "context=collector method=collector_manager.users_negbal status=200 outcome=ok" in (
        written)
    assert "context=asr_fiscal method=asr_fiscal_manager.act_pay status=200 outcome=ok" in written
    assert "collectortestpsw" not in written and "fiscalpsw123" not in written


# --- API личного кабинета (web_cabinet) ------------------------------------------------------
# The notes glue "http://" twice in front of these three; the path and query are verbatim.
CABINET_LOGIN = ('http://http://169.254.80.82:8082/system_api/?format=json&context=web'
                 '&model=users&method1=web_cabinet.login'
                 '&arg1={"login":"testlogin","passwd":"testpsw"}&')
CABINET_AUTO_LOGIN = ('http://http://169.254.80.82:8082/system_api/?format=json&context=web'
                      '&model=users&method1=web_cabinet.try_auto_login'
                      '&arg1={"src_ip":"10.20.30.41"}&')
CABINET_USER_INFO = ('http://http://169.254.80.82:8082/system_api/?format=json&context=web'
                     '&model=users&method1=web_cabinet.user_info'
                     '&arg1={"suid":"54ds34jklji8ufds8u945jkl"}&')
NOTES_SUID = "54ds34jklji8ufds8u945jkl"


def _cabinet(server, notes_url: str) -> dict:
    status, content_type, body = server.get(notes_url.replace("http://http://", "http://", 1))
    assert status == 200 and content_type == "application/json; charset=utf-8"
    return json.loads(body)


def _testlogin(server) -> tuple:
    (row,) = server.sql(
        "SELECT s.id, s.contract_number, s.name, s.tariff_id, l.id "
        "FROM network_login l JOIN subscribers_subscriber s ON s.id = l.subscriber_id "
        "WHERE l.login = 'testlogin'")
    return row


def test_cabinet_login_auto_login_and_user_info(server):
    subscriber_id, contract, name, tariff_id, login_id = _testlogin(server)
    assert contract == "BILL0000003"
    login = _cabinet(server, CABINET_LOGIN)
    assert len(login["session_id"]) == 32
    user = login["user"]
    assert (user["pk"], user["login"], user["ip"], user["__abonent"]) == (
        login_id, "testlogin", "10.20.30.41", name)
    assert (user["abonent"]["pk"], user["abonent"]["contract_number"]) == (
        subscriber_id, "BILL0000003")
    assert login["currency"]["SHORT_NAME"] == "руб."

    auto = _cabinet(server, CABINET_AUTO_LOGIN)
    assert auto["user"]["login"] == "testlogin" and auto["session_id"] != login["session_id"]

    # The notes' example id is not a session of ours; the ids we got are.
    assert _cabinet(server, CABINET_USER_INFO) == {"error": "Необходимо авторизоваться"}
    for session_id in (login["session_id"], auto["session_id"]):
        info = _cabinet(server, CABINET_USER_INFO.replace(NOTES_SUID, session_id))
        ((balance,),) = server.sql(
            "SELECT balance FROM finance_account WHERE subscriber_id = ?", subscriber_id)
        assert (info["abonent_id"], info["tarif_id"], info["contract_number"]) == (
            subscriber_id, tariff_id, "BILL0000003")
        assert Decimal(info["balance"]) == Decimal(str(balance))
        assert info["in_block"] in ("0", "1")
