"""What the subscriber changes: services, voluntary block, promised payment, profile.
Each success with exact values; each error with its text and an unchanged database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from asr_billing.billing.models import PromisedPayment, VoluntaryBlock
from asr_billing.cabinet.models import CabinetSession
from asr_billing.core.models import AuditEntry
from asr_billing.finance.services import charge_post
from asr_billing.network.models import Login
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.models import Subscriber, SubscriberService
from asr_billing.subscribers.services import subscriber_block
from asr_billing.tariffs.models import Service

from .conftest import ACTOR, LOGIN, PASSWORD, db_state


def refused(cab, method, arg1, error):
    """The call answers ``error`` and changes nothing."""
    before = db_state()
    assert cab(method, arg1) == {"error": error}
    assert db_state() == before


def cut_off(subscriber):
    charge_post(subscriber=subscriber, amount=Decimal("500.00"), actor=ACTOR,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31),
                tariff=subscriber.tariff)


# --- Services --------------------------------------------------------------------------------


def test_connect_a_service(cab, w, sid):
    ip = w["services"]["ip"]
    answer = cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})
    link = SubscriberService.objects.get()
    assert answer == {"message": "Услуга Статический IP-адрес подключена", "status": "ok",
                      "usluga_id": ip.pk, "user_usluga_id": link.pk}
    assert (link.subscriber_id, link.service_id, link.enabled_on, link.disabled_on) == (
        w["subscriber"].pk, ip.pk, date(2024, 5, 10), None)
    audit = AuditEntry.objects.filter(action="service_connect").get()
    assert (audit.actor, audit.new) == ("cabinet:testlogin",
                                        {"service": ip.pk, "enabled_on": "2024-05-10"})


def test_connect_takes_the_id_as_a_string(cab, w, sid):
    answer = cab("set_user_usluga", {"usluga_id": str(w["services"]["tv"].pk), "suid": sid})
    assert answer["message"] == "Услуга IPTV подключена"


def test_connect_refusals(cab, w, sid):
    ip, hidden = w["services"]["ip"], w["services"]["hidden"]
    refused(cab, "set_user_usluga", {"usluga_id": 99999, "suid": sid},
            "Service 99999 does not exist")
    refused(cab, "set_user_usluga", {"usluga_id": hidden.pk, "suid": sid},
            "Service Выезд мастера cannot be connected from the cabinet")
    locked = Service.objects.create(name="Только оператор", fee=Decimal("1.00"),
                                    web_allow_enable=False)
    refused(cab, "set_user_usluga", {"usluga_id": locked.pk, "suid": sid},
            "Service Только оператор cannot be connected from the cabinet")
    old = Service.objects.create(name="Архив", fee=Decimal("1.00"), is_active=False)
    refused(cab, "set_user_usluga", {"usluga_id": old.pk, "suid": sid},
            "Service Архив is not available")
    dear = Service.objects.create(name="Турбо", fee=Decimal("1000.00"))
    refused(cab, "set_user_usluga", {"usluga_id": dear.pk, "suid": sid},
            "Not enough money to connect Турбо: it costs 1000.00, available 390.67")
    refused(cab, "set_user_usluga", {"suid": sid}, "Argument usluga_id is required")
    refused(cab, "set_user_usluga", {"usluga_id": "abc", "suid": sid},
            "Argument usluga_id must be a whole number, not abc")
    cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})
    refused(cab, "set_user_usluga", {"usluga_id": ip.pk, "suid": sid},
            "Service Статический IP-адрес is already connected")


def test_connect_refused_while_blocked(cab, w, sid):
    subscriber_block(subscriber=w["subscriber"], actor=ACTOR)
    refused(cab, "set_user_usluga", {"usluga_id": w["services"]["tv"].pk, "suid": sid},
            "Services cannot be connected while the subscriber is blocked")


def test_disconnect_a_service(cab, w, sid):
    ip = w["services"]["ip"]
    cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})
    link = SubscriberService.objects.get()
    answer = cab("remove_user_usluga", {"usluga_id": ip.pk, "suid": sid})
    assert answer == {"message": "Service Статический IP-адрес is disconnected from 11.05.2024",
                      "status": "ok", "usluga_id": ip.pk, "user_usluga_id": link.pk}
    link.refresh_from_db()
    assert link.disabled_on == date(2024, 5, 11)  # today is paid for: it runs until tonight
    refused(cab, "remove_user_usluga", {"usluga_id": ip.pk, "suid": sid},
            "Service Статический IP-адрес is not connected")
    # Changed their mind the same day: the connection is reopened, not doubled.
    cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})
    link.refresh_from_db()
    assert SubscriberService.objects.count() == 1 and link.disabled_on is None


def test_disconnect_by_the_connection_id(cab, w, sid):
    ip = w["services"]["ip"]
    link_id = cab("set_user_usluga", {"usluga_id": ip.pk, "suid": sid})["user_usluga_id"]
    answer = cab("remove_user_usluga", {"user_usluga_id": link_id, "suid": sid})
    assert answer["user_usluga_id"] == link_id


def test_disconnect_refusals(cab, w, sid, make_subscriber):
    from asr_billing.subscribers.services import subscriber_service_connect

    tv, ip = w["services"]["tv"], w["services"]["ip"]
    refused(cab, "remove_user_usluga", {"usluga_id": ip.pk, "suid": sid},
            "This service is not connected")
    cab("set_user_usluga", {"usluga_id": tv.pk, "suid": sid})
    refused(cab, "remove_user_usluga", {"usluga_id": tv.pk, "suid": sid},
            "Service IPTV cannot be disconnected from the cabinet")
    other = subscriber_service_connect(subscriber=make_subscriber(name="Другой"), service=ip,
                                       actor=ACTOR)
    refused(cab, "remove_user_usluga", {"user_usluga_id": other.pk, "suid": sid},
            "This service is not connected")
    refused(cab, "remove_user_usluga", {"suid": sid}, "Argument usluga_id is required")


# --- Voluntary block ---------------------------------------------------------------------------


def test_block_user_from_tomorrow(cab, w, sid):
    answer = cab("block_user", {"start_date": "11.05.2024", "end_date": "20.05.2024",
                                "suid": sid})
    block = VoluntaryBlock.objects.get()
    assert answer == {"status": "ok", "result": "ok",
                      "message": "Voluntary block from 11.05.2024 to 20.05.2024 is set",
                      "block_id": str(block.pk), "start_date": "11.05.2024",
                      "end_date": "20.05.2024", "cost": "0.00"}
    assert (block.subscriber_id, block.start_date, block.end_date, block.actor) == (
        w["subscriber"].pk, date(2024, 5, 11), date(2024, 5, 20), "cabinet:testlogin")
    assert cab("user_info", {"suid": sid})["in_block"] == "0"  # starts tomorrow


def test_block_user_from_today_blocks_at_once_and_unblock(cab, w, sid):
    cab("block_user", {"start_date": "10.05.2024", "end_date": "2024-05-12", "suid": sid})
    info = cab("user_info", {"suid": sid})
    assert (info["in_block"], info["own_blocked"]) == ("1", "1")
    assert cab("unblock_user", {"suid": sid}) == {
        "status": "ok", "message": "Добровольная блокировка успешно снята",
        "block_id": str(VoluntaryBlock.objects.get().pk)}
    assert not Subscriber.objects.get(pk=w["subscriber"].pk).voluntary_blocked
    refused(cab, "unblock_user", {"suid": sid}, "There is no voluntary block to lift")


@pytest.mark.parametrize("start, end, error", [
    ("09.05.2024", "12.05.2024", "Невозможно взять добровольную блокировку в прошлом"),
    ("11.05.2024", "18.08.2024", "Превышено максимально возможное количество дней блокировки: 90"),
    ("12.05.2024", "11.05.2024", "The block ends before it starts"),
    ("10.07.2024", "12.07.2024",  # billing['vblock.max_start_days'] = 60 by default
     "A voluntary block can start at most 60 days from today, on 09.07.2024 at the latest"),
    ("31.02.2024", "11.05.2024", "Argument start_date must be a date such as 31.12.2024, "
                                 "not 31.02.2024"),
    ("", "11.05.2024", "Argument start_date is required"),
])
def test_block_user_refusals(cab, w, sid, start, end, error):
    refused(cab, "block_user", {"start_date": start, "end_date": end, "suid": sid}, error)


def test_block_user_twice_and_its_cost(cab, w, sid, config_edit):
    config_edit("billing", "vblock.cost", "500.00")
    refused(cab, "block_user", {"start_date": "11.05.2024", "end_date": "12.05.2024",
                                "suid": sid},
            "Недостаточно средств на счете для добровольной блокировки. "
            "Стоимость добровольной блокировки: 500.00")
    config_edit("billing", "vblock.cost", "0.00")
    cab("block_user", {"start_date": "11.05.2024", "end_date": "12.05.2024", "suid": sid})
    refused(cab, "block_user", {"start_date": "20.05.2024", "end_date": "21.05.2024",
                                "suid": sid},
            "Вы уже заблокированы. Повторная блокировка запрещена.")


# --- Promised payment --------------------------------------------------------------


def test_take_a_promised_payment(cab, w, sid):
    cut_off(w["subscriber"])
    assert cab("user_info", {"suid": sid})["in_block"] == "1"
    answer = cab("set_promise_pay", {"suid": sid})
    promised = PromisedPayment.objects.get()
    assert answer == {"status": "ok",
                      "message": "A promised payment of 300.00 is added until 13.05.2024 12:00",
                      "pk": promised.pk, "summa": "300.00", "end_time": "2024-05-13T12:00:00"}
    assert promised.actor == "cabinet:testlogin"
    info = cab("user_info", {"suid": sid})
    assert (info["in_block"], info["promise_pay"]) == ("0", "300.00")
    refused(cab, "set_promise_pay", {"suid": sid}, "Обещанный платеж уже подключен")


def test_promised_payment_only_to_unblock(cab, w, sid):
    refused(cab, "set_promise_pay", {"suid": sid},
            "Обещанный платеж доступен только для разблокировки")


def test_promised_payment_once_a_month(cab, w, sid, frozen):
    cut_off(w["subscriber"])
    cab("set_promise_pay", {"suid": sid})
    frozen.shift(timedelta(days=4))  # it has ended by itself
    from asr_billing.billing.services import promised_payments_expire

    promised_payments_expire()
    sid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    refused(cab, "set_promise_pay", {"suid": sid},
            "Обещанный платеж уже был подключен в этом месяце 1 раз")


# --- Profile -------------------------------------------------------------------------


def test_change_password(cab, w, sid):
    other = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    assert cab("set_user_info", {"suid": sid, "user_password": "n3w-Pass_15chr"}) == {
        "message": "Сохранено"}
    login = Login.objects.get(pk=w["login"].pk)
    assert login_check_password(login, "n3w-Pass_15chr")
    # The other session ends; this one goes on.
    assert cab("user_info", {"suid": other}) == {"error": "Необходимо авторизоваться"}
    assert cab("user_info", {"suid": sid})["balance"] == "390.67"
    assert "session_id" in cab("login", {"login": LOGIN, "passwd": "n3w-Pass_15chr"})
    assert CabinetSession.objects.filter(closed_at__isnull=True).count() == 2


@pytest.mark.parametrize("password", ["with space", "1234567890123456", "", "tab\tx"])
def test_password_rule(cab, w, sid, password):
    refused(cab, "set_user_info", {"suid": sid, "user_password": password},
            "Пароль должен быть без пробелов и короче 16 символов")


def test_change_sms_and_email(cab, w, sid):
    assert cab("set_user_info", {"suid": sid, "sms": "+7 (916) 765-43-21"}) == {
        "message": "Сохранено"}
    assert cab("set_user_info", {"suid": sid, "email": "new@example.org"}) == {
        "message": "Сохранено"}
    subscriber = Subscriber.objects.get(pk=w["subscriber"].pk)
    assert (subscriber.sms_phone, subscriber.email) == ("+7 (916) 765-43-21", "new@example.org")
    assert cab("get_user", {"suid": sid})["user"]["abonent"]["sms"] == "+7 (916) 765-43-21"
    cab("set_user_info", {"suid": sid, "sms": ""})
    assert Subscriber.objects.get(pk=w["subscriber"].pk).sms_phone == ""


@pytest.mark.parametrize("arg1, error", [
    ({"sms": "12345"}, "Введен некорректный номер для оповещений"),
    ({"sms": "+7 916 abc"}, "Введен некорректный номер для оповещений"),
    ({"sms": "8" * 16}, "Введен некорректный номер для оповещений"),
    ({"email": "not-an-address"}, "not-an-address is not an e-mail address"),
    ({"user_password": "ok-password", "sms": "1"}, "Введен некорректный номер для оповещений"),
    ({"sms": "+79160000000", "email": "bad@"}, "bad@ is not an e-mail address"),
    ({}, "Nothing to change: send user_password, sms or email"),
])
def test_profile_refusals_change_nothing(cab, w, sid, arg1, error):
    refused(cab, "set_user_info", {"suid": sid, **arg1}, error)
