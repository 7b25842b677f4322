"""context=webcash (webcash.get_vpn_const) and the contexts that are enabled but have
little (base) or nothing (cabinet) of their own: a clear "unknown method"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from asr_billing.finance.models import PaymentOperator

from .conftest import db_state

# What carbonsoft/billing_api_tools web_cash.php sends: call_func('webcash.get_vpn_const',
# array()) -> http_build_query of model=Abonents, arg1=json_encode(array()) = "[]",
# method1, format=json, psw=network['api.webcash.psw'], context=webcash (its empty
# hash_key is left out by http_build_query).
PHP_URL = ("/system_api/?model=Abonents&arg1=%5B%5D&method1=webcash.get_vpn_const"
           "&format=json&psw=webcashtestpsw&context=webcash")


@pytest.fixture
def operators(db):
    PaymentOperator.objects.create(code="SBERBANK_OSMP", name="Сбербанк (OSMP)")
    PaymentOperator.objects.create(code="CASH", name="Касса офиса")
    PaymentOperator.objects.create(code="QIWI", name="QIWI", enabled=False)


def test_get_vpn_const_as_the_php_helper_asks(client, operators):
    # The helper returns json_decode($body, true): it needs one JSON object.
    moment = datetime(2026, 3, 14, 12, 30, 5, tzinfo=ZoneInfo("Europe/Moscow"))
    with time_machine.travel(moment, tick=False):
        response = client.get(PHP_URL)
    assert (response.status_code, response["Content-Type"]) == (
        200, "application/json; charset=utf-8")
    assert response.json() == {
        "currency": {"NAME": "Российский рубль", "SHORT_NAME": "руб.", "CODE": "RUB"},
        "time_zone": "Europe/Moscow",
        "now": "2026-03-14 12:30:05",
        "today": "2026-03-14",
        "money_places": 2,
        "max_amount": "999999999999.99",
        "pay_operators": [{"code": "CASH", "name": "Касса офиса"},
                          {"code": "SBERBANK_OSMP", "name": "Сбербанк (OSMP)"}],
    }


def test_get_vpn_const_follows_the_config(client, operators, config_edit):
    config_edit("app", "time_zone", "Asia/Yekaterinburg")
    config_edit("app", "currency", "KZT")
    body = client.get(PHP_URL).json()
    assert (body["time_zone"], body["currency"]["CODE"]) == ("Asia/Yekaterinburg", "KZT")


def test_webcash_needs_its_password(client, operators):
    response = client.get(PHP_URL.replace("webcashtestpsw", "wrong"))
    assert (response.status_code, response.json()) == (
        403, {"error": "Access denied: wrong psw for context=webcash"})
    response = client.get(PHP_URL.replace("&psw=webcashtestpsw", ""))
    assert response.json() == {"error": "Access denied: psw is required for context=webcash"}


def test_get_vpn_const_only_under_webcash(client, operators):
    response = client.get(PHP_URL.replace("psw=webcashtestpsw&context=webcash",
                                          "psw=basetestpsw&context=base"))
    assert (response.status_code, response.json()) == (
        403, {"error": "Method webcash.get_vpn_const is not available in context=base"})


@pytest.mark.parametrize("context, psw, method, text", [
    ("webcash", "webcashtestpsw", "webcash.add_payment",
     "Unknown method: webcash.add_payment. Methods of context=webcash: webcash.get_vpn_const"),
    ("cabinet", "cabinettestpsw", "cabinet.get_user",
     "Unknown method: cabinet.get_user. Context=cabinet has no methods"),
    ("base", "basetestpsw", "base_manager.anything",
     "Unknown method: base_manager.anything. Methods of context=base: objects.*"),
])
def test_contexts_answer_unknown_methods_clearly(client, operators, context, psw, method,
                                                 text):
    before = db_state()
    response = client.get(f"/system_api/?model=Abonents&method1={method}&arg1={{}}"
                          f"&format=json&context={context}&psw={psw}")
    assert (response.status_code, response.json()) == (404, {"error": text})
    assert db_state() == before


def test_a_disabled_context_is_not_defined(client, operators, config_edit):
    config_edit("network", "api.context", "web collector api_1c base asr_fiscal")
    response = client.get(PHP_URL)
    assert (response.status_code, response.json()) == (
        403, {"error": "Context=webcash is not defined"})
