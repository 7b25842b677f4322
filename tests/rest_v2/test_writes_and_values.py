"""Success paths of the other writes, the money selectors behind the computed fields, and
how argument values are read."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.utils import translation

from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account
from asr_billing.finance.selectors import (
    minimal_payment,
    money_lasts_until,
    recommended_payment,
)
from asr_billing.network.models import Login
from asr_billing.rest_v2.values import ValueRefused, parse_value, render_value
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import ChargeMethod, Tariff
from tests.rest_v2.conftest import db_state

pytestmark = pytest.mark.django_db
D = Decimal


def test_login_network_fields(rest, subscriber, make_login):
    login = make_login(subscriber, "testlogin", ip="10.0.0.5")
    status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("set", {"ip": "10.0.0.6", "mac": "AA-BB-CC-DD-EE-FF", "enabled": "0"}),
                        ("save", {}), fields=["ip", "mac", "enabled"])
    assert status == 200, body
    assert body["result"]["fields"] == {"ip": "10.0.0.6", "mac": "aa:bb:cc:dd:ee:ff",
                                        "enabled": 0}
    login.refresh_from_db()
    assert (login.ip, login.mac, login.enabled) == ("10.0.0.6", "aa:bb:cc:dd:ee:ff", False)
    entry = AuditEntry.objects.filter(action="login_update").get()
    assert entry.new["enabled"] is False


def test_credit_recomputes_the_cut_off(rest, make_subscriber):
    strict = Tariff.objects.create(name="Strict", fee=D("600.00"),
                                   disconnect_threshold=D("100.00"))
    subscriber = make_subscriber(tariff=strict)
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is True
    _status, body = rest("AdminAccounts", ("objects.get", {"id": subscriber.pk}),
                        ("set", {"credit": "100"}), ("save", {}), fields=["credit"])
    assert body["result"]["fields"] == {"credit": "100.00"}
    assert Account.objects.get(pk=subscriber.pk).credit_limit == D("100.00")
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is False
    before = db_state()
    _status, body = rest("AdminAccounts", ("objects.get", {"id": subscriber.pk}),
                         ("set", {"credit": "-1"}), ("save", {}))
    assert body["error"] == "method3 save: Credit limit cannot be negative"
    _status, body = rest("AdminAccounts", ("objects.get", {"id": subscriber.pk}),
                         ("set", {"credit": None}), ("save", {}))
    assert body["error"] == "method3 save: credit cannot be null"
    assert db_state() == before


@pytest.mark.parametrize("arg2", [
    '{"credit": "1e13"}', '{"credit": 1e13}', '{"credit": "' + "1" * 30 + '"}',
    '{"credit": ' + "1" * 30 + "}", '{"credit": "1000000000000"}', '{"credit": -1E+999999}',
])
def test_credit_past_the_column_is_refused_and_changes_nothing(client, subscriber, arg2):
    # AdminAccounts.credit is REST v2's one writable amount (C-NETSP reads it back).
    before = db_state()
    response = client.post("/rest_api/v2/AdminAccounts/", {
        "method1": "objects.get", "arg1": f'{{"id": {subscriber.pk}}}',
        "method2": "set", "arg2": arg2, "method3": "save"})
    assert response.json() == {"call": "/rest_api/v2/AdminAccounts/",
                               "error": "method2 set: credit is too large: at most "
                                        "999999999999.99"}
    assert db_state() == before


def test_contacts_of_a_subscriber(rest, subscriber):
    _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                        ("set", {"email": "a@example.org", "phone": "+7 (903) 123-45-67",
                                 "sms": None}), ("save", {}),
                        fields=["email", "phone", "sms"])
    assert body["result"]["fields"] == {"email": "a@example.org",
                                        "phone": "+7 (903) 123-45-67", "sms": ""}
    entry = AuditEntry.objects.filter(action="contacts_change").get()
    assert entry.new == {"phone": "+7 (903) 123-45-67", "email": "a@example.org"}


def test_save_without_changes_writes_nothing(rest, subscriber):
    before = db_state()
    status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}), ("save", {}),
                        fields=["id"])
    assert (status, body["result"]["fields"]) == (200, {"id": subscriber.pk})
    _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                        ("set", {"sms": ""}), ("save", {}), fields=["sms"])
    assert body["result"]["fields"] == {"sms": ""}
    assert db_state() == before


def test_set_without_save_changes_nothing(rest, subscriber):
    before = db_state()
    _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                         ("set", {"sms": "123"}), fields=["sms"])
    assert body["result"]["fields"] == {"sms": ""}
    _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                         ("set", {"sms": "123"}), ("add_payment", {"SUM_IN": "1"}))
    assert body["error"] == "method3 add_payment: Call save before add_payment: set left " \
                            "unsaved changes"
    assert db_state() == before


def test_exclude_first_count_order(rest, make_subscriber):
    a = make_subscriber(name="Алексеев")
    b = make_subscriber(name="Борисов")
    _status, body = rest("Abonents", ("objects.exclude", {"name": "Алексеев"}), fields=["name"])
    assert [r["pk"] for r in body["result"]] == [b.pk]
    _status, body = rest("Abonents", ("objects.all", None), ("order_by", ["-name"]),
                         ("first", None), fields=["name"])
    assert body["result"]["fields"] == {"name": "Борисов"}
    _status, body = rest("Abonents", ("objects.filter", {"name": "нет"}), ("first", None))
    assert body["result"] is None
    _status, body = rest("Abonents", ("objects.count", None))
    assert body["result"] == 2
    _status, body = rest("Abonents", ("objects.filter", {"id__in": [a.pk, b.pk]}),
                         ("filter", {"name__icontains": "Бор"}), ("get", {}), fields=["id"])
    assert body["result"]["pk"] == b.pk
    _status, body = rest("Abonents", ("objects.filter", {"id__range": [a.pk, b.pk]}),
                         ("order_by", '"-id"'), fields=["id"])
    assert [r["pk"] for r in body["result"]] == [b.pk, a.pk]


def test_the_login_password_is_never_in_an_answer(rest, subscriber, make_login):
    make_login(subscriber, "testlogin", password="UniqueSecret42")
    encrypted = Login.objects.get().password_enc
    for fields in (None, ["abonent__users__login"], ["abonent__users"]):
        _status, body = rest("Users", ("objects.all", None), fields=fields)
        assert "UniqueSecret42" not in str(body)
        assert encrypted not in str(body)


# --- the money selectors behind minimal_pay_sum, recomend_pay_sum, get_balance_until_date ---


def tariff(method, fee, threshold="0.00", **extra):
    return Tariff(name="t", fee=D(fee), charge_method=method,
                  disconnect_threshold=D(threshold), **extra)


def test_minimal_and_recommended_payments():
    args = {"balance": D("-150.00"), "credit_limit": D("50.00"), "promised": D("0.00")}
    assert minimal_payment(threshold=D("0.00"), **args) == D("100.00")
    assert minimal_payment(threshold=D("-200.00"), **args) == D("0.00")
    monthly = tariff(ChargeMethod.MONTHLY, "600.00")
    assert recommended_payment(tariff=monthly, day=dt.date(2024, 2, 10), **args) == D("700.00")
    daily = tariff(ChargeMethod.DAILY, "20.00")
    # February 2024 has 29 days: 580.00 a month
    assert recommended_payment(tariff=daily, day=dt.date(2024, 2, 10), **args) == D("680.00")
    assert recommended_payment(tariff=None, day=dt.date(2024, 2, 10), **args) == D("100.00")


def test_money_lasts_spread_by_day():
    spread = tariff(ChargeMethod.MONTHLY_SPREAD, "100.00")
    # February 2024: 100.00 over 29 days = 3.45 × 24 + 3.44 × 5 (largest remainder, ties
    # to the earlier days). From Feb 10: 10.00 pays the 11th and the 12th (6.90), not the
    # 13th (3.45 > 3.10).
    lasts = money_lasts_until(balance=D("10.00"), credit_limit=D("0.00"), promised=D("0.00"),
                              tariff=spread, today=dt.date(2024, 2, 10))
    assert (lasts.until, lasts.days) == (dt.date(2024, 2, 12), 2)


def test_money_lasts_on_the_monthly_charge_day():
    monthly = tariff(ChargeMethod.MONTHLY, "500.00", monthly_charge_day=15)
    lasts = money_lasts_until(balance=D("499.99"), credit_limit=D("0.00"), promised=D("0.00"),
                              tariff=monthly, today=dt.date(2024, 3, 20))
    assert (lasts.until, lasts.days) == (dt.date(2024, 4, 14), 25)


def test_money_that_has_run_out_and_threshold():
    daily = tariff(ChargeMethod.DAILY, "10.00", threshold="5.00")
    lasts = money_lasts_until(balance=D("4.00"), credit_limit=D("0.00"), promised=D("0.00"),
                              tariff=daily, today=dt.date(2024, 3, 20))
    assert (lasts.until, lasts.days) == (dt.date(2024, 3, 20), 0)
    lasts = money_lasts_until(balance=D("20.00"), credit_limit=D("0.00"), promised=D("5.00"),
                              tariff=daily, today=dt.date(2024, 3, 20))
    assert (lasts.until, lasts.days) == (dt.date(2024, 3, 22), 2)


# --- argument values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ftype", "value", "expected"),
    [
        ("int", "1361", 1361),
        ("int", D("5"), 5),
        ("flag", "true", True),
        ("flag", 0, False),
        ("decimal", "600,5", D("600.50")),
        ("decimal", D("150.5"), D("150.50")),
        ("date", "2016-05-26 00:00:00", dt.date(2016, 5, 26)),
        ("date", "2016-05-26T12:30:00", dt.date(2016, 5, 26)),
        ("ip", " 10.0.0.1 ", "10.0.0.1"),
        ("str", 123, "123"),
        ("str", "a\x00b", "a\ufffdb"),
    ],
)
def test_values_read(ftype, value, expected):
    assert parse_value(ftype, value, name="f") == expected


@pytest.mark.parametrize(
    ("ftype", "value", "error"),
    [
        ("int", True, 'f expects an integer, got "True"'),
        ("int", "1.5", 'f expects an integer, got "1.5"'),
        ("int", "9" * 20, f'f expects an integer, got "{"9" * 20}"'),
        ("flag", 2, 'f expects 0 or 1, got "2"'),
        ("decimal", "1.001", 'f expects an amount such as 600.00, got "1.001"'),
        ("date", "2023-02-30", 'f expects a date such as 2016-05-26, got "2023-02-30"'),
        ("date", "1800-01-01", 'f expects a date such as 2016-05-26, got "1800-01-01"'),
        ("datetime", "2023-03-01 25:00:00",
         'f expects a date such as 2023-03-01 10:00:00 or 2023-03-01, got "2023-03-01 25:00:00"'),
        ("ip", "10.0.0.300", 'f expects an IP address, got "10.0.0.300"'),
        ("str", ["a"], "f expects a string, got \"['a']\""),
    ],
)
def test_values_refused(ftype, value, error):
    with translation.override("en"), pytest.raises(ValueRefused) as caught:
        parse_value(ftype, value, name="f")
    assert str(caught.value) == error


def test_datetimes_are_local_and_naive_on_the_wire(settings):
    moment = parse_value("datetime", "2023-03-01 10:00:00", name="f")
    assert moment.utcoffset() == dt.timedelta(hours=3)  # Europe/Moscow
    assert render_value("datetime", moment) == "2023-03-01T10:00:00"
    assert render_value("datetime", moment.astimezone(dt.UTC)) == "2023-03-01T10:00:00"
    assert parse_value("datetime", "2023-03-01", name="f").hour == 0


def test_excluding_folders_leaves_subscribers(rest, subscriber, group):
    _status, body = rest("Abonents", ("objects.exclude", {"is_folder": 1}))
    assert [(r["pk"], r["fields"]["is_folder"]) for r in body["result"]] == [(subscriber.pk, 0)]
    _status, body = rest("Abonents", ("objects.exclude", {"is_folder": "0"}))
    assert [(r["pk"], r["fields"]["is_folder"]) for r in body["result"]] == [(group.pk, 1)]


@pytest.mark.parametrize("multipart", [False, True])
def test_the_body_wins_over_the_query_string(client, subscriber, make_subscriber, multipart):
    # A multipart body's arg1 lost to an unencoded arg1 in the query string.
    other = make_subscriber(name="Другой")
    query = f'/rest_api/v2/Abonents/?arg1={{"id":{other.pk}}}'
    data = {"method1": "objects.get", "arg1": json.dumps({"id": subscriber.pk}),
            "fields": '["name"]'}
    if multipart:
        response = client.post(query, data)
    else:
        response = client.post(query, urlencode(data),
                               content_type="application/x-www-form-urlencoded")
    assert response.json()["result"]["pk"] == subscriber.pk
