"""SMS through HTTP gateways. The gateway is outside our machine: a small HTTP server on
loopback answers as SMS.ru, SMSC.ru or a generic gateway answer, and records what it got."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from asr_billing.core.models import Task, TaskState
from asr_billing.core.tasks import tasks_run_due
from asr_billing.finance.services import payment_register
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.events import payments_notify
from asr_billing.notify.models import MessageTemplate
from asr_billing.notify.sms import SmsError, phone_number, send_sms
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


class Gateway:
    """Answers each POST with ``self.answer`` (status, body); keeps (path, headers, body)."""

    def __init__(self):
        self.requests, self.answer = [], (200, b"{}")
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                gateway.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
                status, body = gateway.answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index][2].decode()).items()}


@pytest.fixture
def gateway(config_edit):
    server = Gateway()
    config_edit("notify", "sms.url", server.url)
    yield server
    server.server.shutdown()
    server.server.server_close()


def smsru_ok(phone: str) -> bytes:
    return json.dumps({"status": "OK", "status_code": 100, "balance": 4122.56,
                       "sms": {phone: {"status": "OK", "status_code": 100,
                                       "sms_id": "000000-10000000"}}}).encode()


@pytest.mark.parametrize("text, number", [
    ("+7 (903) 657-29-02", "79036572902"), ("8 903 657 29 02", "79036572902"),
    ("9036572902", "79036572902"), ("79036572902", "79036572902"),
    ("495 123", ""), ("", ""), ("+1 212 555 0100", ""),
    ("8 495 123-45-67", ""),  # a Moscow landline: no SMS
])
def test_phone_numbers(text, number):
    assert phone_number(text) == number


def test_smsru_sends_and_reports_a_refusal(gateway, config_edit):
    config_edit("notify", "sms.provider", "smsru")
    config_edit("notify", "sms.password", "API-ID-123")
    config_edit("notify", "sms.sender", "ISP")
    gateway.answer = (200, smsru_ok("79036572902"))
    assert send_sms(phone="79036572902", text="Платёж 600,00 р.") == "000000-10000000"
    path, _headers, _body = gateway.requests[-1]
    assert path == "/sms/send"
    assert gateway.form() == {"api_id": "API-ID-123", "to": "79036572902",
                              "msg": "Платёж 600,00 р.", "json": "1", "from": "ISP"}
    gateway.answer = (200, json.dumps({"status": "OK", "status_code": 100, "sms": {
        "79036572902": {"status": "ERROR", "status_code": 207,
                        "status_text": "На этот номер нельзя отправлять сообщения"}}}).encode())
    with pytest.raises(SmsError, match=r"SMS.ru refused \(207\): На этот номер нельзя"):
        send_sms(phone="79036572902", text="x")
    gateway.answer = (200, b'{"status": "ERROR", "status_code": 200, '
                           b'"status_text": "Wrong api_id"}')
    with pytest.raises(SmsError, match=r"\(200\): Wrong api_id"):
        send_sms(phone="79036572902", text="x")


def test_smsc_and_a_generic_gateway(gateway, config_edit):
    config_edit("notify", "sms.provider", "smsc")
    config_edit("notify", "sms.login", "isp")
    config_edit("notify", "sms.password", "secret")
    gateway.answer = (200, b'{"id": 8, "cnt": 1}')
    assert send_sms(phone="79036572902", text="Hello") == "8"
    assert gateway.requests[-1][0] == "/sys/send.php"
    assert gateway.form() == {"login": "isp", "psw": "secret", "phones": "79036572902",
                              "mes": "Hello", "charset": "utf-8", "fmt": "3"}
    gateway.answer = (200, b'{"error": "authorise error", "error_code": 2}')
    with pytest.raises(SmsError, match=r"SMSC refused \(2\): authorise error"):
        send_sms(phone="79036572902", text="Hello")

    config_edit("notify", "sms.provider", "http")
    config_edit("notify", "sms.password", "token-1")
    gateway.answer = (202, b"{}")
    assert send_sms(phone="79036572902", text="Hi") == "sent"
    _path, headers, body = gateway.requests[-1]
    assert json.loads(body) == {"phone": "79036572902", "text": "Hi", "sender": ""}
    assert headers["Authorization"] == "Bearer token-1"
    gateway.answer = (503, b"busy")
    with pytest.raises(SmsError, match="HTTP 503"):
        send_sms(phone="79036572902", text="Hi")


def test_a_payment_by_sms_through_the_tasks(gateway, config_edit, make_subscriber):
    config_edit("notify", "sms.provider", "smsru")
    config_edit("notify", "sms.password", "API-ID-123")
    templates_ensure()
    MessageTemplate.objects.filter(channel="sms").update(enabled=True)
    subscriber = make_subscriber(sms_phone="+7 903 657-29-02")
    payments_notify()
    payment_register(subscriber=subscriber, amount=Decimal("600.00"), actor=ACTOR)
    later = timezone.now() + timedelta(minutes=2)
    assert payments_notify(now=later) == 1
    gateway.answer = (503, b"down")
    assert tasks_run_due(now=later)["retry"] == 1
    task = Task.objects.get(name="notify.sms")
    assert task.state == TaskState.PENDING and "HTTP 503" not in task.outcome  # JSON error
    gateway.answer = (200, smsru_ok("79036572902"))
    assert tasks_run_due(now=task.run_after + timedelta(minutes=1))["done"] == 1
    assert gateway.form()["msg"] == "Платёж 600,00 р. зачислен, баланс 600,00 р."
    assert Task.objects.get(name="notify.sms").outcome == (
        "sent to 79036572902: 000000-10000000")


def test_no_gateway_no_sms(config_edit, make_subscriber):
    templates_ensure()
    MessageTemplate.objects.filter(channel="sms").update(enabled=True)
    subscriber = make_subscriber(sms_phone="+79036572902")
    payments_notify()
    payment_register(subscriber=subscriber, amount=Decimal("1.00"), actor=ACTOR)
    assert payments_notify(now=timezone.now() + timedelta(minutes=2)) == 0
    assert not Task.objects.exists()


@pytest.mark.parametrize("key, value", [("sms.provider", "megafon"),
                                        ("sms.url", "ftp://gw.example")])
def test_bad_sms_settings_are_refused(key, value):
    from asr_billing.core.config import ConfigError, ConfigFile

    with pytest.raises(ConfigError):
        ConfigFile.parse("").set("notify", key, value)
