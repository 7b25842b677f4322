"""What the subscriber reads: user_info, get_user, get_pay_log, get_usluga_list,
get_promise_pay_list, get_vpn_const — exact answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from asr_billing.billing.services import promised_payment_take, voluntary_block_create
from asr_billing.finance.services import charge_post, operation_reverse, payment_register
from asr_billing.subscribers.services import (
    subscriber_block,
    subscriber_credit_set,
    subscriber_service_connect,
    subscriber_service_disconnect,
)

from .conftest import ACTOR, MSK


def info(subscriber, **changes) -> dict:
    base = {
        "abonent_id": subscriber.pk,
        "contract_number": subscriber.contract_number,
        "tarif_id": subscriber.tariff_id,
        "tarif": "Home 100",
        "balance": "390.67",
        "credit": "0.00",
        "promise_pay": "0.00",
        "in_block": "0",
        "negbal": "0",
        "admin_blocked": "0",
        "own_blocked": "0",
        "enough_to_date": "2024-05-31",
        "days_until": 21,
        "minimal_pay_sum": "0.00",
        "recomend_pay_sum": "209.33",
        "abon_pay_for_today": "0.00",
        "today": "2024-05-10",
    }
    base.update(changes)
    return base


def test_user_info(cab, w, sid):
    assert cab("user_info", {"suid": sid}) == info(w["subscriber"])


def test_user_info_cut_off_by_balance(cab, w, sid):
    charge_post(subscriber=w["subscriber"], amount=Decimal("500.00"), actor=ACTOR,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31),
                tariff=w["subscriber"].tariff)
    assert cab("user_info", {"suid": sid}) == info(
        w["subscriber"], balance="-109.33", in_block="1", negbal="1",
        enough_to_date="2024-05-10", days_until=0, minimal_pay_sum="109.33",
        recomend_pay_sum="709.33")


def test_user_info_with_credit_and_a_promised_payment(cab, w, sid):
    charge_post(subscriber=w["subscriber"], amount=Decimal("500.00"), actor=ACTOR,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31),
                tariff=w["subscriber"].tariff)
    promised_payment_take(subscriber=w["subscriber"], actor=ACTOR)
    subscriber_credit_set(subscriber=w["subscriber"], credit_limit=Decimal("50.00"),
                          actor=ACTOR)
    # -109.33 + 50.00 credit + 300.00 promised = 240.67 to spend: not cut off.
    assert cab("user_info", {"suid": sid}) == info(
        w["subscriber"], balance="-109.33", credit="50.00", promise_pay="300.00",
        recomend_pay_sum="659.33")


def test_user_info_admin_blocked(cab, w, sid):
    subscriber_block(subscriber=w["subscriber"], actor=ACTOR)
    assert cab("user_info", {"suid": sid}) == info(w["subscriber"], in_block="1",
                                                   admin_blocked="1")


def test_user_info_daily_tariff(cab, w, sid):
    from asr_billing.subscribers.services import subscriber_tariff_set
    from asr_billing.tariffs.models import ChargeMethod, Tariff

    daily = Tariff.objects.create(name="Day 20", fee=Decimal("20.00"),
                                  charge_method=ChargeMethod.DAILY)
    subscriber_tariff_set(subscriber=w["subscriber"], tariff=daily, actor=ACTOR)
    # 390.67 pays 19 more days at 20.00 from tomorrow: to 29.05.
    assert cab("user_info", {"suid": sid}) == info(
        w["subscriber"], tarif_id=daily.pk, tarif="Day 20", enough_to_date="2024-05-29",
        days_until=19, abon_pay_for_today="20.00", recomend_pay_sum="229.33")


def test_get_user_with_a_voluntary_block_and_a_service(cab, w, sid):
    voluntary_block_create(subscriber=w["subscriber"], start_date=date(2024, 5, 20),
                           end_date=date(2024, 5, 25), actor=ACTOR)
    answer = cab("get_user", {"suid": sid})
    assert answer["__user"] == "testlogin"
    abonent = answer["user"]["abonent"]
    assert (abonent["own_disabled_start"], abonent["own_disabled_end"]) == (
        "20.05.2024", "25.05.2024")
    assert abonent["allow_internet"] == "1"  # the block has not started
    assert answer["user"]["abonent_pay_next_date"] == "2024-06-01"


# --- Pay log ---------------------------------------------------------------------------------


@pytest.fixture
def payments(w, operator):
    subscriber = w["subscriber"]
    made = {}
    for key, day, amount in [("mar", datetime(2024, 3, 15, 10, 30, tzinfo=MSK), "100.00"),
                             ("apr1", datetime(2024, 4, 1, 0, 0, tzinfo=MSK), "200.00"),
                             ("apr30", datetime(2024, 4, 30, 23, 59, tzinfo=MSK), "300.50"),
                             ("bad", datetime(2024, 4, 10, 9, 0, tzinfo=MSK), "999.00")]:
        made[key] = payment_register(subscriber=subscriber, amount=Decimal(amount),
                                     actor=ACTOR, operator=operator, external_id=key,
                                     op_date=day, description=f"pay {key}").operation
    operation_reverse(operation=made["bad"], actor=ACTOR)  # cancelled: not shown
    charge_post(subscriber=subscriber, amount=Decimal("10.00"), actor=ACTOR,
                period_start=date(2024, 4, 2), period_end=date(2024, 4, 2),
                tariff=subscriber.tariff)  # a charge: not a payment
    return made


def row(op, date_text, amount, after) -> dict:
    return {"op_id": op.pk, "op_date": date_text, "op_summa": amount, "op_type_id": 2,
            "descr": op.description, "operator": "SBERBANK_OSMP",
            "__operator": "Sberbank (OSMP)", "balance_after": after}


def test_pay_log_in_a_period(cab, sid, payments):
    answer = cab("get_pay_log", {"start_date": "01.04.2024", "end_date": "30.04.2024",
                                 "page_number": 1, "per_page": 50, "suid": sid})
    assert answer == {
        "items": [row(payments["apr30"], "2024-04-30T23:59:00", "300.50", "991.17"),
                  row(payments["apr1"], "2024-04-01T00:00:00", "200.00", "690.67")],
        "count": "2", "num_pages": "1", "current_page": "1", "per_page": "50",
        "has_next_page": "0", "has_previous_page": "0",
    }


def test_pay_log_pages(cab, sid, payments):
    first = cab("get_pay_log", {"suid": sid, "per_page": "2"})
    assert [item["op_summa"] for item in first["items"]] == ["390.67", "300.50"]
    assert (first["count"], first["num_pages"], first["has_next_page"],
            first["has_previous_page"]) == ("4", "2", "1", "0")
    second = cab("get_pay_log", {"suid": sid, "per_page": 2, "page_number": "2"})
    assert [item["op_summa"] for item in second["items"]] == ["200.00", "100.00"]
    assert (second["current_page"], second["has_next_page"], second["has_previous_page"]) == (
        "2", "0", "1")
    beyond = cab("get_pay_log", {"suid": sid, "per_page": 2, "page_number": 3})
    assert beyond["items"] == [] and beyond["count"] == "4"


def test_pay_log_iso_dates_and_open_ends(cab, sid, payments):
    answer = cab("get_pay_log", {"suid": sid, "end_date": "2024-03-31"})
    assert [item["op_id"] for item in answer["items"]] == [payments["mar"].pk]


@pytest.mark.parametrize("arg1, error", [
    ({"start_date": "32.01.2024"}, "Argument start_date must be a date such as 31.12.2024, "
                                   "not 32.01.2024"),
    ({"end_date": "soon"}, "Argument end_date must be a date such as 31.12.2024, not soon"),
    ({"page_number": 0}, "page_number must be from 1 to 1000000"),
    ({"page_number": 2**70}, "page_number must be from 1 to 1000000"),
    ({"per_page": 501}, "per_page must be from 1 to 500"),
    ({"per_page": "x"}, "Argument per_page must be a whole number, not x"),
])
def test_pay_log_errors(cab, sid, arg1, error):
    assert cab("get_pay_log", {"suid": sid, **arg1}) == {"error": error}


# --- Services ----------------------------------------------------------------------------------


def offered(service, self_text, *, disable="1") -> dict:
    return {"pk": str(service.pk), "name": service.name, "__self": self_text,
            "comments": service.comments, "summa": str(service.fee),
            "charge_method": service.charge_method, "is_show_web": "1",
            "web_allow_enable": "1", "web_allow_disable": disable}


def test_usluga_list(cab, w, sid):
    ip, tv, hidden = w["services"]["ip"], w["services"]["tv"], w["services"]["hidden"]
    link = subscriber_service_connect(subscriber=w["subscriber"], service=hidden, actor=ACTOR)
    ip_text = "Статический IP-адрес: Monthly (150.00 руб.)"
    tv_text = "IPTV: Daily (10.00 руб.)"
    answer = cab("get_usluga_list", {"filter": "", "get_user_uslugas_all": True,
                                     "get_user_uslugas": True, "get_setted": True, "suid": sid})
    assert answer == [
        [offered(tv, tv_text, disable="0"), offered(ip, ip_text)],
        [{"pk": str(link.pk), "id": str(link.pk), "usluga_id": str(hidden.pk),
          "__usluga": "Выезд мастера",
          "__self": "Выезд мастера: Once (500.00 руб.)", "summa": "500.00",
          "enable_date": "2024-05-10", "disable_date": "", "create_date": "2024-05-10T12:00:00",
          "activated": "1", "web_allow_disable": "1", "comment": ""}],
        [{"pk": str(tv.pk), "name": "IPTV", "comments": ""},
         {"pk": str(ip.pk), "name": "Статический IP-адрес", "comments": "Белый IP"},
         {"pk": str(hidden.pk), "name": "Выезд мастера", "comments": ""}],
    ]


def test_usluga_list_flags_and_filter(cab, w, sid):
    ip, tv = w["services"]["ip"], w["services"]["tv"]
    subscriber_service_connect(subscriber=w["subscriber"], service=tv, actor=ACTOR)
    # The Laravel client sends only get_user_uslugas_all=1: both lists come.
    answer = cab("get_usluga_list", {"suid": sid, "get_user_uslugas_all": 1})
    assert [s["pk"] for s in answer[0]] == [str(tv.pk), str(ip.pk)]
    assert [s["usluga_id"] for s in answer[1]] == [str(tv.pk)]
    answer = cab("get_usluga_list", {"suid": sid, "get_setted": False})
    assert [s["pk"] for s in answer[0]] == [str(ip.pk)]
    answer = cab("get_usluga_list", {"suid": sid, "filter": "стат"})
    assert [s["pk"] for s in answer[0]] == [str(ip.pk)]
    answer = cab("get_usluga_list", {"suid": sid, "get_user_uslugas_all": "0",
                                     "get_user_uslugas": "false"})
    assert answer == [[], [], []]


def test_usluga_list_shows_a_service_disconnected_today_until_tonight(cab, w, sid):
    link = subscriber_service_connect(subscriber=w["subscriber"], service=w["services"]["ip"],
                                      actor=ACTOR, on=date(2024, 5, 1))
    subscriber_service_disconnect(link=link, actor=ACTOR)
    mine = cab("get_usluga_list", {"suid": sid})[1]
    assert [(s["enable_date"], s["disable_date"]) for s in mine] == [("2024-05-01",
                                                                     "2024-05-11")]


# --- Promised payments, constants -----------------------------------------------------------------


def test_promise_pay_list(cab, w, sid, frozen):
    charge_post(subscriber=w["subscriber"], amount=Decimal("500.00"), actor=ACTOR,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31),
                tariff=w["subscriber"].tariff)
    assert cab("get_promise_pay_list", {"suid": sid}) == []
    promised = promised_payment_take(subscriber=w["subscriber"], actor=ACTOR)
    assert cab("get_promise_pay_list", {"suid": sid}) == [{
        "pk": promised.pk, "model": "PromisePay",
        "fields": {"create_date": "2024-05-10T12:00:00", "end_time": "2024-05-13T12:00:00",
                   "summa": "300.00", "closed_time": "", "active": "1"},
    }]


def test_vpn_const(cab, w, sid, config_edit):
    expected = {
        "currency": {"NAME": "Российский рубль", "SHORT_NAME": "руб.", "CODE": "RUB"},
        "time_zone": "Europe/Moscow", "session_idle_minutes": 30, "password_max_length": 15,
        "promise_pay_summa": "300.00", "promise_pay_days": 3, "own_block_min_days": 1,
        "own_block_max_days": 90, "own_block_cost": "0.00",
    }
    assert cab("get_vpn_const", {}) == expected
    tariff = w["subscriber"].tariff
    tariff.promised_amount, tariff.promised_days = Decimal("100.00"), 5
    tariff.save()
    assert cab("get_vpn_const", {"suid": sid}) == {
        **expected, "promise_pay_summa": "100.00", "promise_pay_days": 5}
    assert cab("get_vpn_const", {"suid": "nope"}) == {"error": "Необходимо авторизоваться"}


def test_a_subscriber_without_a_tariff(cab, frozen, make_subscriber, make_login, group):
    subscriber = make_subscriber(name="Без тарифа", tariff=None)
    make_login(subscriber, "notariff", "pass1", ip=None)
    answer = cab("login", {"login": "notariff", "passwd": "pass1"})
    abonent = answer["user"]["abonent"]
    assert (abonent["__tarif"], abonent["tarif"], abonent["recomend_pay_sum"],
            answer["user"]["abonent_pay"], answer["user"]["abonent_pay_next_date"]) == (
        "", {}, "0.00", "0.00", "")
    info = cab("user_info", {"suid": answer["session_id"]})
    assert (info["tarif_id"], info["tarif"], info["enough_to_date"], info["days_until"],
            info["balance"]) == (None, "", "", "", "0.00")
