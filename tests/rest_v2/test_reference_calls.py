"""Every call of reference carbon-api.md §5, sent the way its client sends it, with the
answer read the way that client reads it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.services import operation_reverse, payment_register
from asr_billing.network.selectors import login_check_password
from asr_billing.subscribers.models import AttributeValue, Group, Subscriber, SubscriberService
from asr_billing.tariffs.models import ChargeMethod, Service, Tariff
from tests.rest_v2.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_tariff(db):
    return Tariff.objects.create(name="Home 200", fee=Decimal("900.00"))


def test_schedule_tariff_change(rest, subscriber, other_tariff):
    # DOC D-REST2: objects.get {"id":"1321"} + set {"tarif_next_id","tarif_next_date"} + save
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    status, body = rest(
        "Abonents",
        ("objects.get", {"id": str(subscriber.pk)}),
        ("set", {"tarif_next_id": str(other_tariff.pk), "tarif_next_date": day}),
        ("save", {}),
    )
    assert status == 200, body
    assert body["call"] == "/rest_api/v2/Abonents/"
    assert body["result"]["pk"] == subscriber.pk
    assert body["result"]["fields"]["tarif_next_id"] == other_tariff.pk
    assert body["result"]["fields"]["tarif_next_date"] == day
    subscriber.refresh_from_db()
    assert subscriber.tariff_next_id == other_tariff.pk
    assert subscriber.tariff_next_date.isoformat() == day
    assert subscriber.tariff_id != other_tariff.pk  # scheduled, not applied
    entry = AuditEntry.objects.filter(action="tariff_schedule").get()
    assert entry.actor == "rest_v2:127.0.0.1"
    assert entry.new == {"tariff_next": other_tariff.pk, "tariff_next_date": day}


def test_schedule_accepts_a_date_with_time_and_a_cancel(rest, subscriber, other_tariff):
    day = timezone.localdate() + dt.timedelta(days=1)
    status, body = rest(
        "Abonents",
        ("objects.get", {"id": subscriber.pk}),
        ("set", {"tarif_next": other_tariff.pk,
                 "tarif_next_date": f"{day.isoformat()} 00:00:00"}),
        ("save", {}),
        fields=["tarif_next__name", "tarif_next_date"],
    )
    assert status == 200, body
    assert body["result"]["fields"] == {
        "tarif_next": {"pk": other_tariff.pk, "model": "Tarif", "fields": {"name": "Home 200"}},
        "tarif_next_id": other_tariff.pk,
        "tarif_next_date": day.isoformat(),
    }
    status, body = rest(
        "Abonents",
        ("objects.get", {"id": subscriber.pk}),
        ("set", {"tarif_next_id": None, "tarif_next_date": None}),
        ("save", {}),
    )
    assert status == 200, body
    subscriber.refresh_from_db()
    assert (subscriber.tariff_next_id, subscriber.tariff_next_date) == (None, None)


def test_list_subscribers_and_groups(rest, make_subscriber, group):
    # CODE C-RESTEX get_all_abonents.py: objects.filter {"is_folder":0} -> result[i].fields.name
    make_subscriber(name="Петров Пётр")
    make_subscriber(name="Сидоров Сидор")
    child = Group.objects.create(name="Дом 5", parent=group)
    status, body = rest("Abonents", ("objects.filter", '{"is_folder":0}'))
    assert status == 200
    assert [row["fields"]["name"] for row in body["result"]] == ["Петров Пётр", "Сидоров Сидор"]
    assert {row["fields"]["is_folder"] for row in body["result"]} == {0}
    status, body = rest("Abonents", ("objects.filter", {"is_folder": 1}))
    assert [(row["pk"], row["model"], row["fields"]) for row in body["result"]] == [
        (group.pk, "Abonents",
         {"id": group.pk, "name": "Test group", "is_folder": 1, "parent_id": None}),
        (child.pk, "Abonents",
         {"id": child.pk, "name": "Дом 5", "is_folder": 1, "parent_id": group.pk}),
    ]
    status, body = rest("Abonents", ("objects.get", {"is_folder": 1, "id": child.pk}),
                        fields=["name", "parent__name"])
    assert body["result"]["fields"] == {
        "name": "Дом 5",
        "parent": {"pk": group.pk, "model": "Abonents", "fields": {"name": "Test group"}},
        "parent_id": group.pk,
    }


def test_version(client):
    # CODE C-RESTEX get_version_and_time.py: POST {"get_version": True} to Version
    response = client.post("/rest_api/v2/Version/", {"get_version": True})
    assert response.status_code == 200
    assert response.json() == {"call": "/rest_api/v2/Version/", "result": "0.1.0"}
    response = client.post("/rest_api/v2/Version/", {"method1": "get_version"})
    assert response.json()["result"] == "0.1.0"


def test_find_login(rest, subscriber, make_login):
    # CODE C-NETSP / C-PYH: Users objects.filter {"login"} -> result[0].fields.abonent_id
    make_login(subscriber, "testlogin", ip="10.20.30.41", mac="00-1A-2B-3C-4D-5E")
    status, body = rest("Users", ("objects.filter", {"login": "testlogin"}))
    assert status == 200
    fields = body["result"][0]["fields"]
    assert fields["abonent_id"] == subscriber.pk
    assert fields["login"] == "testlogin"
    assert fields["ip"] == "10.20.30.41"
    assert fields["mac"] == "00:1a:2b:3c:4d:5e"
    assert fields["ostatok"] == "0.00"
    assert fields["debit"] == "0.00"
    assert fields["gen_pwd"] == 0
    assert fields["a_home_number"] == ""
    assert fields["sms"] == ""
    assert "password" not in json.dumps(body)
    status, body = rest("Users", ("objects.filter", {"abonent__pk": str(subscriber.pk)}))
    assert [row["fields"]["login"] for row in body["result"]] == ["testlogin"]


def test_check_pass(rest, subscriber, make_login):
    # CODE C-NETSP AuthController: objects.get {"login"} + check_pass {"passwd"} -> truthy
    make_login(subscriber, "testlogin", password="testpsw")
    status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("check_pass", {"passwd": "testpsw"}))
    assert (status, body["result"]) == (200, True)
    status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("check_pass", {"passwd": "wrong"}))
    assert (status, body["result"]) == (200, False)


def test_set_password(rest, subscriber, make_login):
    # CODE C-NETSP changePass: set_password {"psw", "dontshow": false}
    login = make_login(subscriber, "testlogin", password="testpsw")
    status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("set_password", {"psw": "n3wpass", "dontshow": False}))
    assert (status, body) == (200, {"call": "/rest_api/v2/Users/", "result": True})
    login.refresh_from_db()
    assert login_check_password(login, "n3wpass")
    entry = AuditEntry.objects.filter(action="password_change").get()
    assert entry.actor == "rest_v2:127.0.0.1"
    assert "n3wpass" not in json.dumps([entry.old, entry.new, entry.message])


def test_change_phone_on_users_and_apartment_on_abonents(rest, subscriber, make_login):
    # CODE C-NETSP changePhone: Users set {"sms"} + save; Abonents set {"a_home_number"} + save
    make_login(subscriber, "testlogin")
    status, body = rest("Users", ("objects.get", {"login": "testlogin"}),
                        ("set", {"sms": "+79991234567"}), ("save", "{}"))
    assert status == 200, body
    assert body["result"]["fields"]["sms"] == "+79991234567"
    status, body = rest("Abonents", ("objects.get", {"id": str(subscriber.pk)}),
                        ("set", {"a_home_number": "3"}), ("save", "{}"))
    assert status == 200, body
    assert body["result"]["fields"]["a_home_number"] == "3"
    subscriber.refresh_from_db()
    assert (subscriber.sms_phone, subscriber.apartment) == ("+79991234567", "3")
    assert [e.new for e in AuditEntry.objects.filter(action="contacts_change").order_by("pk")] == [
        {"sms_phone": "+79991234567"}, {"apartment": "3"}
    ]


def test_balance(rest, subscriber):
    # CODE C-NETSP, C-PYH: AdminAccounts objects.get {"account_id_abonents"} fields ["balance"]
    payment_register(subscriber=subscriber, amount=Decimal("390.67"), actor=ACTOR)
    status, body = rest("AdminAccounts",
                        ("objects.get", {"account_id_abonents": str(subscriber.pk)}),
                        fields=["balance"])
    assert status == 200
    assert body["result"] == {"pk": subscriber.pk, "model": "AdminAccounts",
                              "fields": {"balance": "390.67"}}


def test_subscriber_data_with_tariff(rest, subscriber):
    # CODE C-NETSP GetAbonentData: fields [...] -> result.fields.tarif.fields.name
    status, body = rest(
        "Abonents", ("objects.get", {"id": subscriber.pk}),
        fields=["name", "promise_pay", "promise_date_end", "recomend_pay_sum",
                "minimal_pay_sum", "allow_internet", "tarif"],
    )
    assert status == 200, body
    fields = body["result"]["fields"]
    assert fields["name"] == "Иванов Иван Иванович"
    assert (fields["promise_pay"], fields["promise_date_end"]) == (0, None)
    assert (fields["recomend_pay_sum"], fields["minimal_pay_sum"]) == ("600.00", "0.00")
    assert fields["allow_internet"] == 1
    assert fields["tarif_id"] == subscriber.tariff_id
    assert fields["tarif"]["fields"]["name"] == "Home 100"
    assert fields["tarif"]["fields"]["summa"] == "600.00"
    # C-PYH reads fields=["tarif_id"] alone
    status, body = rest("Abonents", ("objects.get", {"id": str(subscriber.pk)}),
                        fields=["tarif_id"])
    assert body["result"]["fields"] == {"tarif_id": subscriber.tariff_id}


def test_money_lasts_until(rest, make_subscriber):
    # CODE C-NETSP: objects.get + get_balance_until_date -> result.enough_to_date, .days_until
    daily = Tariff.objects.create(name="Daily", fee=Decimal("20.00"),
                                  charge_method=ChargeMethod.DAILY)
    subscriber = make_subscriber(tariff=daily)
    payment_register(subscriber=subscriber, amount=Decimal("110.00"), actor=ACTOR)
    with time_machine.travel(dt.datetime(2024, 5, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                            ("get_balance_until_date", None))
    assert status == 200, body
    # 110.00 pays 5 more days at 20.00 (the 6th would leave -10.00)
    assert body["result"] == {"enough_to_date": "2024-05-15", "days_until": 5}


def test_money_lasts_until_monthly_and_without_fee(rest, make_subscriber):
    monthly = Tariff.objects.create(name="Monthly", fee=Decimal("600.00"))
    free = Tariff.objects.create(name="Free", fee=Decimal("0.00"))
    subscriber = make_subscriber(tariff=monthly)
    payment_register(subscriber=subscriber, amount=Decimal("1300.00"), actor=ACTOR)
    with time_machine.travel(dt.datetime(2024, 5, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                             ("get_balance_until_date", {}))
        # June and July are paid (2 × 600.00); August's fee would leave -500.00
        assert body["result"] == {"enough_to_date": "2024-07-31", "days_until": 82}
        other = make_subscriber(tariff=free)
        _status, body = rest("Abonents", ("objects.get", {"id": other.pk}),
                            ("get_balance_until_date", {}))
        assert body["result"] == {"enough_to_date": None, "days_until": None}


def test_add_payment(rest, subscriber):
    # CODE C-NETSP addBalance: add_payment {"SUM_IN": "600"} -> result.fields.balance
    status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                        ("add_payment", {"SUM_IN": "600"}))
    assert status == 200, body
    assert body["result"]["model"] == "AdminAccounts"
    assert body["result"]["fields"]["balance"] == "600.00"
    # PHP's json_encode sends a float; it is read as a decimal, never through float
    status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                        ("add_payment", '{"SUM_IN": 150.5}'))
    assert body["result"]["fields"]["balance"] == "750.50"
    operations = list(Operation.objects.order_by("pk"))
    assert [(o.type, o.amount, o.actor) for o in operations] == [
        (OperationType.PAYMENT, Decimal("600.00"), "rest_v2:127.0.0.1"),
        (OperationType.PAYMENT, Decimal("150.50"), "rest_v2:127.0.0.1"),
    ]
    assert operations[0].description == "Payment through REST API v2 from 127.0.0.1"
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("750.50")


def test_add_payment_exactly_once_with_operator_and_id(rest, subscriber, operator):
    arg = {"SUM_IN": "100", "pay_operator": "SBERBANK_OSMP", "pay_id_str": "42"}
    for _attempt in range(2):
        _status, body = rest("Abonents", ("objects.get", {"id": subscriber.pk}),
                            ("add_payment", arg), fields=["balance"])
        assert body["result"]["fields"] == {"balance": "100.00"}
    assert Operation.objects.count() == 1


def test_voluntary_block(rest, subscriber):
    # CODE C-LARA changeBlocking: set {"own_disabled_start","own_disabled_end"} + save
    payment_register(subscriber=subscriber, amount=Decimal("1000.00"), actor=ACTOR)
    start = timezone.localdate() + dt.timedelta(days=1)
    end = start + dt.timedelta(days=9)
    status, body = rest(
        "Abonents", ("objects.get", {"id": subscriber.pk}),
        ("set", {"own_disabled_start": start.isoformat(), "own_disabled_end": end.isoformat()}),
        ("save", "{}"),
    )
    assert status == 200, body
    assert body["result"]["fields"]["own_disabled_start"] == start.isoformat()
    assert body["result"]["fields"]["own_disabled_end"] == end.isoformat()
    block = subscriber.voluntary_blocks.get()
    assert (block.start_date, block.end_date, block.ended_at) == (start, end, None)
    # both null: lift it (the Laravel client sends nulls)
    status, body = rest(
        "Abonents", ("objects.get", {"id": subscriber.pk}),
        ("set", {"own_disabled_start": None, "own_disabled_end": None}), ("save", "{}"),
    )
    assert status == 200, body
    assert body["result"]["fields"]["own_disabled_start"] is None
    block.refresh_from_db()
    assert block.ended_at is not None


def test_payment_history(rest, subscriber):
    # CODE C-LARA getLastFinanceOperation:
    # {"abonent_id","storno":0,"op_date__range":[d1,d2]} -> result[0].fields.{op_date,op_summa}
    tz = timezone.get_current_timezone()
    first = payment_register(subscriber=subscriber, amount=Decimal("100.00"), actor=ACTOR,
                             op_date=dt.datetime(2023, 3, 5, 10, 0, tzinfo=tz)).operation
    second = payment_register(subscriber=subscriber, amount=Decimal("250.00"), actor=ACTOR,
                              op_date=dt.datetime(2023, 3, 20, 18, 30, tzinfo=tz)).operation
    payment_register(subscriber=subscriber, amount=Decimal("70.00"), actor=ACTOR,
                     op_date=dt.datetime(2023, 4, 2, 9, 0, tzinfo=tz))
    operation_reverse(operation=second, actor=ACTOR)
    status, body = rest("FinanceOperations", ("objects.filter", {
        "abonent_id": subscriber.pk, "storno": 0,
        "op_date__range": ["2023-03-01 00:00:00", "2023-03-31 23:59:59"]}))
    assert status == 200, body
    assert [(r["pk"], r["fields"]["op_date"], r["fields"]["op_summa"], r["fields"]["storno"])
            for r in body["result"]] == [(first.pk, "2023-03-05T10:00:00", "100.00", 0)]
    status, body = rest("FinanceOperations", ("objects.filter", {
        "abonent_id": str(subscriber.pk), "storno": 1}),
        fields=["op_type_id", "op_summa", "balance_change", "storno_op_id"])
    assert [r["fields"] for r in body["result"]] == [
        {"op_type_id": 21, "op_summa": "250.00", "balance_change": "-250.00",
         "storno_op_id": second.pk},
        {"op_type_id": 2, "op_summa": "250.00", "balance_change": "250.00",
         "storno_op_id": None},
    ]


def test_balance_history(rest, subscriber):
    # CODE C-NETSP getArches: ArchAccountStack objects.filter
    # {"abonent_id", "change_balance_time__range": [start, end], "storno": 0}
    tz = timezone.get_current_timezone()
    first = payment_register(subscriber=subscriber, amount=Decimal("100.00"), actor=ACTOR,
                             op_date=dt.datetime(2023, 3, 5, 10, 0, tzinfo=tz)).operation
    second = payment_register(subscriber=subscriber, amount=Decimal("250.00"), actor=ACTOR,
                              op_date=dt.datetime(2023, 3, 20, 18, 30, tzinfo=tz)).operation
    third = payment_register(subscriber=subscriber, amount=Decimal("70.00"), actor=ACTOR,
                             op_date=dt.datetime(2023, 4, 2, 9, 0, tzinfo=tz)).operation
    operation_reverse(operation=second, actor=ACTOR)
    status, body = rest("ArchAccountStack", ("objects.filter", {
        "abonent_id": str(subscriber.pk), "storno": 0,
        "change_balance_time__range": ["2023-03-01", "2023-04-30"]}))
    assert status == 200, body
    assert [(r["pk"], r["model"], r["fields"]["change_balance_time"], r["fields"]["balance_before"],
             r["fields"]["balance_change"], r["fields"]["balance"], r["fields"]["storno"])
            for r in body["result"]] == [
        (third.pk, "ArchAccountStack", "2023-04-02T09:00:00", "350.00", "70.00", "420.00", 0),
        (first.pk, "ArchAccountStack", "2023-03-05T10:00:00", "0.00", "100.00", "100.00", 0),
    ]
    status, body = rest("ArchAccountStack", ("objects.filter", {"abonent_id": subscriber.pk}),
                        ("count", None))
    assert body["result"] == 4  # with the reversed payment and its reversal


def test_services_with_usluga_name(rest, subscriber):
    # CODE C-PYH abon_usluga: UsersUsluga objects.filter {"abonent_id"}
    # fields ["usluga__name","usluga__comments","comment"] -> result[i].fields.usluga.fields.name
    tv = Service.objects.create(name="ТВ", fee=Decimal("150.00"), comments="120 каналов")
    ip = Service.objects.create(name="Белый IP", fee=Decimal("100.00"))
    for service in (tv, ip):
        SubscriberService.objects.create(subscriber=subscriber, service=service,
                                         enabled_on=dt.date(2024, 1, 1), comment="c")
    status, body = rest("UsersUsluga", ("objects.filter", f'{{"abonent_id":{subscriber.pk}}}'),
                        fields='["usluga__name","usluga__comments","comment"]')
    assert status == 200, body
    assert [r["fields"]["usluga"]["fields"]["name"] for r in body["result"]] == ["ТВ", "Белый IP"]
    assert body["result"][0]["fields"] == {
        "usluga": {"pk": tv.pk, "model": "Usluga",
                   "fields": {"name": "ТВ", "comments": "120 каналов"}},
        "usluga_id": tv.pk,
        "comment": "c",
    }


def test_attribute_write_unencoded_body(client, subscriber, attributes):
    # CODE C-PYH tg_id: the body is glued together without URL-encoding
    body = ('method1=objects.create&arg1={"abonent_id":"' + str(subscriber.pk)
            + '","attribute_id":"1012","attribute_value":"+79990001122"}')
    response = client.post("/rest_api/v2/AttributeValues/", body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["model"] == "AttributeValues"
    assert result["fields"]["attribute_value"] == "+79990001122"  # the + is not a space
    record = AttributeValue.objects.get()
    assert (record.subscriber_id, record.attribute_id, record.value) == (
        subscriber.pk, 1012, "+79990001122")
    assert AuditEntry.objects.filter(action="attribute_set").count() == 1


def test_attribute_change_with_set_and_save(rest, subscriber, attributes):
    status, body = rest("AttributeValues", ("objects.create", {
        "abonent_id": subscriber.pk, "attribute_id": 4, "attribute_value": "7701234567"}))
    assert status == 200, body
    status, body = rest("AttributeValues",
                        ("objects.get", {"abonent_id": subscriber.pk, "attribute_id": 4}),
                        ("set", {"attribute_value": "7709876543"}), ("save", {}))
    assert body["result"]["fields"]["attribute_value"] == "7709876543"
    assert AttributeValue.objects.get().value == "7709876543"


def test_tariff_name(rest, tariff):
    # CODE C-PYH abon_tarif: Tarif objects.get {"id"} fields ["name"]
    status, body = rest("Tarif", ("objects.get", {"id": str(tariff.pk)}), fields='["name"]')
    assert (status, body) == (200, {"call": "/rest_api/v2/Tarif/", "result": {
        "pk": tariff.pk, "model": "Tarif", "fields": {"name": "Home 100"}}})


def test_model_name_is_case_insensitive(rest, tariff):
    _status, body = rest("tarif", ("objects.get", {"id": tariff.pk}), fields=["name"])
    assert body["call"] == "/rest_api/v2/tarif/"
    assert body["result"]["fields"] == {"name": "Home 100"}


def test_get_for_read_only_chains(rest, subscriber):
    status, body = rest("Abonents", ("objects.filter", {"id": subscriber.pk}),
                        ("count", None), get=True)
    assert (status, body["result"]) == (200, 1)


def test_subscriber_is_found_by_contract(rest, make_subscriber):
    target = make_subscriber(contract_number="BILL0000003")
    _status, body = rest("Abonents", ("objects.get", {"contract_number": "BILL0000003"}),
                        fields=["name", "account__balance"])
    assert body["result"] == {"pk": target.pk, "model": "Abonents", "fields": {
        "name": "Иванов Иван Иванович",
        "account": {"pk": target.pk, "model": "AdminAccounts", "fields": {"balance": "0.00"}},
        "account_id": target.pk,
    }}
    assert Subscriber.objects.count() == 1
