"""system_api.log at info level (live from cfg/config), redaction, and the 500 path."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from asr_billing.system_api import registry
from asr_billing.system_api.params import Call

from .conftest import url

NEGBAL = "collector_manager.users_negbal"


def log_text() -> str:
    path = settings.ASR_HOME.system_api_log
    return path.read_text(encoding="utf-8") if path.exists() else ""


def error_log() -> str:
    path = settings.ASR_HOME.error_log
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.fixture
def web_login():
    """A stand-in web_cabinet.login to send a passwd through the dispatcher."""
    registry.api_function("web_cabinet.test_login", context="web")(
        lambda call: {"session_id": "s3ss10n-secret-id"})
    yield
    registry._REGISTRY.pop("web_cabinet.test_login", None)


def test_every_call_is_logged_at_info(call_api, db, config_edit):
    config_edit("app", "django.loglevel", "info")
    start = len(log_text())
    call_api(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector")
    call_api(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector", psw="wrong")
    call_api(NEGBAL, {"nas_ip": "bad"}, context="collector")
    call_api(NEGBAL, {}, context="collector", remote_addr="192.0.2.7")
    lines = log_text()[start:].splitlines()
    assert len(lines) == 4
    pattern = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO asr_billing\.system_api "
               r"ip=(\S+) context=(\S+) method=(\S+) status=(\d+) outcome=(\S+) "
               r"ms=\d+\.\d args=(.*)$")
    parsed = [re.match(pattern, line).groups() for line in lines]
    assert [p[:5] for p in parsed] == [
        ("127.0.0.1", "collector", NEGBAL, "200", "ok"),
        ("127.0.0.1", "collector", NEGBAL, "403", "refused:psw"),
        ("127.0.0.1", "collector", NEGBAL, "400", "error:invalid"),
        ("192.0.2.7", "collector", NEGBAL, "403", "refused:ip"),
    ]
    assert parsed[0][5] == '{"nas_ip": "10.0.0.1"}'


def test_nothing_at_error_level_and_the_level_follows_the_file(call_api, db, config_edit):
    config_edit("app", "django.loglevel", "error")
    start = len(log_text())
    call_api(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector")
    assert log_text()[start:] == ""
    config_edit("app", "django.loglevel", "info")
    call_api(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector")
    assert "outcome=ok" in log_text()[start:]


def test_secrets_never_reach_the_log(client, db, config_edit, web_login, operator, subscriber):
    config_edit("app", "django.loglevel", "info")
    config_edit("network", "api.web.psw", "W3bContextPsw")
    start = len(log_text())
    secrets = ["collectortestpsw", "fiscalpsw123", "W3bContextPsw", "testpsw-Секрет",
               "54ds34jklji8ufds8u945jkl", "4111111111111111", "s3cretKey"]
    client.get(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector"))
    client.get(url("asr_fiscal_manager.act_pay",
                   {"contract_number": subscriber.contract_number, "sum_in": "1", "act": "PAY",
                    "pay_operator": "SBERBANK_OSMP", "pay_id_str": "77"}, context="asr_fiscal"))
    client.get(url("web_cabinet.test_login", {"login": "testlogin", "passwd": "testpsw-Секрет"},
                   context="web", psw="W3bContextPsw", model="users", fmt="json"))
    client.get(url("web_cabinet.test_login",
                   {"password": "testpsw-Секрет", "card_number": "4111111111111111",
                    "card_key": "s3cretKey", "nested": {"psw1": "testpsw-Секрет"}},
                   context="web", psw=None, fmt="json", suid="54ds34jklji8ufds8u945jkl"))
    # A wrong password and unreadable arg1 are logged without their text either.
    client.get(url(NEGBAL, '{"passwd":"testpsw-Секрет"', context="collector"))
    client.get(url(NEGBAL, {}, context="collector", psw="fiscalpsw123"))
    written = log_text()[start:]
    assert written.count("\n") == 6
    assert '"passwd": "***"' in written and '"suid": "***"' in written
    for secret in secrets:
        assert secret not in written, secret
        assert secret not in error_log(), secret


def test_unexpected_failure_is_500_without_a_traceback(client, db, monkeypatch, config_edit):
    config_edit("app", "django.loglevel", "info")

    def explode(**kwargs):
        raise RuntimeError("boom: internal detail")

    # The query both forms of a collector list are built from (text and rows).
    monkeypatch.setattr("asr_billing.system_api.selectors._collector_queryset", explode)
    before = len(error_log())
    for fmt in (None, "json"):
        response = client.get(url(NEGBAL, {"nas_ip": "10.0.0.1"}, context="collector", fmt=fmt))
        assert response.status_code == 500
        body = response.content.decode()
        assert "Traceback" not in body and "boom" not in body and "explode" not in body
        assert body in ("Internal server error", '{"error": "Internal server error"}')
    logged = error_log()[before:]
    assert "Traceback (most recent call last)" in logged
    assert "RuntimeError: boom: internal detail" in logged
    assert "system API call failed: ip=127.0.0.1 context=collector method=" + NEGBAL in logged
    assert "collectortestpsw" not in logged
    assert "status=500 outcome=exception" in log_text()


def test_a_failing_function_rolls_back_its_writes(client, db, subscriber):
    """writes=True functions run in one transaction: an unexpected error undoes them."""
    from decimal import Decimal

    from asr_billing.finance.models import Operation
    from asr_billing.finance.services import payment_register

    def half_way(call: Call):
        payment_register(subscriber=subscriber, amount=Decimal("5.00"), actor=call.actor)
        raise RuntimeError("after the payment")

    registry.api_function("web_cabinet.test_half", context="web", writes=True)(half_way)
    try:
        response = client.get(url("web_cabinet.test_half", {}, context="web", psw=None))
    finally:
        registry._REGISTRY.pop("web_cabinet.test_half", None)
    assert response.status_code == 500
    assert Operation.objects.count() == 0
