"""Gateway tests: one "driver" per wire (OSMP, Sberbank protocol 2, SberOnline, the
webhook) that sends a command the way that payment system does and reads its answer
back, so one conformance suite runs over all of them; instances ``<type>.test``
configured the way an operator would (cfg/config), and ``asr-billing check`` after
every test."""

from __future__ import annotations

import base64
import io
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from asr_billing.finance.models import PaymentOperator
from asr_billing.gateways.webhook import signature

SECRET = "test-webhook-secret-0123"
AUTH = ("terminal", "terminal-psw")
OPERATORS = {"osmp": "GW_OSMP", "sberbank": "GW_SBER", "webhook": "GW_HOOK"}


@dataclass
class Answer:
    status: int
    code: object  # the protocol's code: OSMP result, SberOnline CODE, webhook code
    fields: dict  # every element (XML) or key (JSON) of the answer
    raw: bytes

    def __getitem__(self, name):
        return self.fields[name]


def xml_fields(raw: bytes) -> dict:
    root = ET.fromstring(raw)  # noqa: S314 - our own answer
    assert root.tag == "response"
    return {child.tag: child.text or "" for child in root}


class Driver:
    """Sends commands as one payment system does. ``codes``: reason -> the code the
    protocol must answer (written out here, independently of the implementation)."""

    name: str
    type: str
    codes: dict
    payment_id_field: str
    sum_field: str

    def url(self, name: str = "test") -> str:
        return f"/pay/{self.type}/{name}/"

    def send(self, client, kind, *, txn=None, account=None, amount=None, ip="127.0.0.1",
             auth=True, name="test", extra=None) -> Answer:
        raise NotImplementedError

    def payment_id(self, answer: Answer) -> int:
        return int(answer[self.payment_id_field])


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class OsmpDriver(Driver):
    name = "osmp"
    type = "osmp"
    payment_id_field = "prv_txn"
    sum_field = "sum"
    date_field = "txn_date"
    date_value = "20240501120000"
    codes = {
        "ok": 0, "temporary": 1, "bad_account": 4, "not_found": 5, "forbidden": 7,
        "unauthorized": 7, "refused": 8, "inactive": 79, "too_small": 241, "too_large": 242,
        "cancel_not_found": 251, "unknown_command": 300, "bad_txn": 300, "bad_amount": 300,
        "bad_date": 300, "mismatch": 300, "bad_request": 300,
    }
    commands = {"check": "check", "pay": "pay", "cancel": "cancel"}
    names = {"command": "command", "txn": "txn_id", "account": "account", "sum": "sum"}
    code_field = "result"

    def params(self, kind, txn, account, amount, extra) -> dict:
        params = {self.names["command"]: self.commands.get(kind, kind)}
        if txn is not None:
            params[self.names["txn"]] = txn
        if account is not None:
            params[self.names["account"]] = account
        if amount is not None:
            params[self.names["sum"]] = amount
        if kind == "pay":
            params[self.date_field] = self.date_value
        params.update(extra or {})
        return params

    def send(self, client, kind, *, txn=None, account=None, amount=None, ip="127.0.0.1",
             auth=True, name="test", extra=None) -> Answer:
        headers = {}
        if auth:
            headers["Authorization"] = _basic(*(AUTH if auth is True else auth))
        response = client.get(self.url(name), self.params(kind, txn, account, amount, extra),
                              REMOTE_ADDR=ip, headers=headers)
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        fields = xml_fields(response.content)
        return Answer(response.status_code, int(fields[self.code_field]), fields,
                      response.content)


class SberProtocol2Driver(OsmpDriver):
    """Sberbank's protocol 2 in OSMP's spelling (Carbon's sbrf.php)."""

    name = "sberbank-protocol2"
    type = "sberbank"


class SberOnlineDriver(OsmpDriver):
    name = "sberonline"
    type = "sberbank"
    payment_id_field = "EXT_ID"
    sum_field = "SUM"
    date_field = "PAY_DATE"
    date_value = "01.05.2024_12:32:00"
    codes = {
        "ok": 0, "temporary": 1, "unknown_command": 2, "bad_request": 2, "not_found": 3,
        "bad_account": 4, "inactive": 5, "bad_txn": 6, "cancel_not_found": 6, "refused": 7,
        "forbidden": 7, "unauthorized": 7, "mismatch": 8, "bad_amount": 9, "too_small": 10,
        "too_large": 11, "bad_date": 12,
    }
    commands = {"check": "check", "pay": "payment", "cancel": "cancel"}
    names = {"command": "ACTION", "txn": "PAY_ID", "account": "ACCOUNT", "sum": "AMOUNT"}
    code_field = "CODE"


class WebhookDriver(Driver):
    name = "webhook"
    type = "webhook"
    payment_id_field = "payment_id"
    sum_field = "amount"
    codes = {reason: reason for reason in (
        "ok", "temporary", "bad_request", "unknown_command", "bad_account", "not_found",
        "inactive", "bad_txn", "bad_amount", "too_small", "too_large", "bad_date", "mismatch",
        "refused", "cancel_not_found", "forbidden", "unauthorized", "internal")}
    statuses = {
        "ok": 200, "bad_request": 400, "unknown_command": 400, "bad_account": 400,
        "bad_txn": 400, "bad_amount": 400, "bad_date": 400, "unauthorized": 401,
        "forbidden": 403, "not_found": 404, "cancel_not_found": 404, "mismatch": 409,
        "inactive": 422, "too_small": 422, "too_large": 422, "refused": 422,
        "internal": 500, "temporary": 503,
    }

    def body(self, kind, txn, account, amount, extra) -> dict:
        body = {"event": kind}
        if txn is not None:
            body["txn_id"] = txn
        if account is not None:
            body["account"] = account
        if amount is not None:
            body["amount"] = amount
        body.update(extra or {})
        return body

    def post(self, client, raw: bytes, *, ip="127.0.0.1", auth=True, name="test",
             timestamp=None, secret=SECRET) -> Answer:
        headers = {}
        if auth:
            stamp = str(int(time.time()) if timestamp is None else timestamp)
            key = secret if auth is True else "wrong-secret-0123456789"
            headers = {"X-Timestamp": stamp, "X-Signature": "sha256=" + signature(key, stamp, raw)}
        response = client.post(self.url(name), raw, content_type="application/json",
                               REMOTE_ADDR=ip, headers=headers)
        assert response["Content-Type"] == "application/json; charset=utf-8"
        fields = json.loads(response.content)
        code = "ok" if fields["result"] == "ok" else fields["code"]
        assert response.status_code == self.statuses[code], (response.status_code, fields)
        return Answer(response.status_code, code, fields, response.content)

    def send(self, client, kind, *, txn=None, account=None, amount=None, ip="127.0.0.1",
             auth=True, name="test", extra=None) -> Answer:
        raw = json.dumps(self.body(kind, txn, account, amount, extra)).encode()
        return self.post(client, raw, ip=ip, auth=auth, name=name)


DRIVERS = [OsmpDriver(), SberProtocol2Driver(), SberOnlineDriver(), WebhookDriver()]


@pytest.fixture(params=DRIVERS, ids=[d.name for d in DRIVERS])
def driver(request):
    return request.param


def configure(config_edit, kind: str, name: str = "test", **settings) -> None:
    """Configure payments['<kind>.<name>.*'] the way an operator does (config set), the
    settings an enabled instance needs first."""
    values = {
        "operator": OPERATORS[kind],
        "allowed_ips": "127.0.0.1 ::1",
        "min_sum": "10.00",
        "max_sum": "5000.00",
        "cancel": "yes",
    }
    if kind == "webhook":
        values["secret"] = SECRET
    else:
        values["auth.password"] = AUTH[1]
        values["auth.user"] = AUTH[0]
    values.update(settings)
    values.setdefault("enabled", "yes")
    enabled = values.pop("enabled")
    for setting, value in values.items():
        config_edit("payments", f"{kind}.{name}.{setting}", value)
    config_edit("payments", f"{kind}.{name}.enabled", enabled)


@pytest.fixture(autouse=True)
def english(config_edit, settings):
    """Our own texts in English (the wire's Russian protocol texts are constants)."""
    config_edit("app", "language", "en")
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def ledger_checked(db):
    """``asr-billing check`` after every test: each balance is the sum of its operations
    (it raises CommandError otherwise)."""
    yield
    call_command("ledger_check", stdout=io.StringIO())


@pytest.fixture
def gateways(db, config_edit):
    """The three instances ``<type>.test`` and their payment operators."""
    for kind, code in OPERATORS.items():
        PaymentOperator.objects.create(code=code, name=f"Test {kind}")
        configure(config_edit, kind)


@pytest.fixture
def payee(subscriber, make_login):
    """BILL0000001 with the login payer1 at 10.20.30.41, balance 0."""
    make_login(subscriber, "payer1", ip="10.20.30.41")
    return subscriber
