"""The documented calls against `asr-billing init --demo` data, through a real
`asr-billing serve` (gunicorn), sent as the clients send them (form bodies, some not
URL-encoded). Expected values come from the demo database by plain SQL."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import zoneinfo
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from tests.live_server import SqliteServer, cli, serving

pytestmark = pytest.mark.slow


class Server(SqliteServer):
    def post(self, model: str, body: str | dict) -> tuple[int, dict]:
        if isinstance(body, dict):
            body = urlencode(body)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", f"/rest_api/v2/{model}/", body.encode(),
                         {"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("rest-home")
    cli(home, "init", "--demo", "--home", str(home), timeout=300)
    with serving(home, seconds=60) as port:
        yield Server(home, port)


def test_subscriber_with_tariff_and_balance(server):
    (sub_id, name, balance, tariff), = server.sql(
        "SELECT s.id, s.name, a.balance, t.name FROM subscribers_subscriber s "
        "JOIN finance_account a ON a.subscriber_id = s.id "
        "JOIN tariffs_tariff t ON t.id = s.tariff_id WHERE s.contract_number = 'BILL0000003'")
    status, body = server.post("Abonents", {
        "method1": "objects.get", "arg1": '{"contract_number":"BILL0000003"}',
        "fields": '["name","tarif__name","account__balance"]'})
    assert status == 200, body
    fields = body["result"]["fields"]
    assert (body["result"]["pk"], fields["name"]) == (sub_id, name)
    assert fields["tarif"]["fields"]["name"] == tariff
    assert Decimal(fields["account"]["fields"]["balance"]) == Decimal(str(balance))


def test_check_pass_of_the_demo_login(server):
    for password, expected in (("testpsw", True), ("wrong", False)):
        status, body = server.post(
            "Users", 'method1=objects.get&arg1={"login":"testlogin"}&method2=check_pass'
                     '&arg2={"passwd":"' + password + '"}')
        assert (status, body["result"]) == (200, expected)


def test_payments_of_1361_in_march_2023(server):
    tz = zoneinfo.ZoneInfo("Europe/Moscow")
    first = dt.datetime(2023, 3, 1, tzinfo=tz).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    last = dt.datetime(2023, 4, 1, tzinfo=tz).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    expected = [row[0] for row in server.sql(
        "SELECT o.id FROM finance_operation o WHERE o.account_id = 1361 AND o.type = 2 "
        "AND o.op_date >= ? AND o.op_date < ? AND NOT EXISTS "
        "(SELECT 1 FROM finance_operation r WHERE r.reverses_id = o.id) "
        "ORDER BY o.op_date DESC, o.id DESC", first, last)]
    assert expected, "the demo has payments of subscriber 1361 in March 2023"
    status, body = server.post("FinanceOperations", {
        "method1": "objects.filter",
        "arg1": json.dumps({"abonent_id": 1361, "op_type_id": 2, "storno": 0,
                            "op_date__range": ["2023-03-01 00:00:00", "2023-03-31 23:59:59"]}),
        "fields": '["op_date","op_summa"]'})
    assert status == 200, body
    assert [row["pk"] for row in body["result"]] == expected
    assert all(row["fields"]["op_date"].startswith("2023-03-") for row in body["result"])


def test_operation_54894(server):
    (amount, op_type), = server.sql("SELECT amount, type FROM finance_operation WHERE id = 54894")
    _status, body = server.post("FinanceOperations", {
        "method1": "objects.get", "arg1": '{"op_id":"54894"}',
        "fields": '["op_summa","op_type_id"]'})
    assert body["result"]["fields"] == {"op_summa": f"{abs(Decimal(str(amount))):.2f}",
                                        "op_type_id": op_type}


def test_add_payment_and_a_refusal(server):
    (sub_id, balance), = server.sql(
        "SELECT s.id, a.balance FROM subscribers_subscriber s JOIN finance_account a "
        "ON a.subscriber_id = s.id WHERE s.contract_number = 'BILL0000003'")
    count = server.sql("SELECT count(*) FROM finance_operation")[0][0]
    status, body = server.post("Abonents", {
        "method1": "objects.get", "arg1": json.dumps({"id": sub_id}),
        "method2": "add_payment", "arg2": '{"SUM_IN": "600"}', "method3": "delete"})
    assert (status, "result" in body) == (200, False)
    assert server.sql("SELECT count(*) FROM finance_operation")[0][0] == count
    status, body = server.post("Abonents", {
        "method1": "objects.get", "arg1": json.dumps({"id": sub_id}),
        "method2": "add_payment", "arg2": '{"SUM_IN": "600"}'})
    assert status == 200, body
    assert Decimal(body["result"]["fields"]["balance"]) == Decimal(str(balance)) + 600
    assert server.sql("SELECT count(*) FROM finance_operation")[0][0] == count + 1


def test_attribute_create_unencoded(server):
    server.sql("DELETE FROM subscribers_attributevalue WHERE subscriber_id = 1361 "
               "AND attribute_id = 1012")
    status, body = server.post(
        "AttributeValues",
        'method1=objects.create&arg1={"abonent_id":"1361","attribute_id":"1012",'
        '"attribute_value":"+100200300"}')
    assert status == 200, body
    assert server.sql("SELECT value FROM subscribers_attributevalue WHERE subscriber_id = 1361 "
                      "AND attribute_id = 1012") == [("+100200300",)]


def test_version_index_and_cabinet(server):
    assert server.post("Version", "get_version=True") == (
        200, {"call": "/rest_api/v2/Version/", "result": "0.1.0"})
    status, body = server.get("/rest_api/v2/")
    assert status == 200 and "Abonents" in body["result"]
    status, body = server.post("Users", {"method1": "web_cabinet.login",
                                         "arg1": '{"login":"testlogin","passwd":"testpsw"}'})
    assert status == 200
    assert json.loads(body["result"][0])["session_id"]
