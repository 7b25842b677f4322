"""api_1c_manager: every function with the field names and types the 1C module reads."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote_from_bytes

import pytest
import time_machine

from asr_billing.finance.models import Operation
from asr_billing.finance.services import charge_post, operation_reverse, payment_register
from asr_billing.subscribers.models import Attribute, AttributeValue, Group, Subscriber
from asr_billing.subscribers.services import subscriber_create

from .conftest import db_state, url

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def at(*args):
    return datetime(*args, tzinfo=MSK)


@pytest.fixture
def attributes(db):
    for pk, code, name in [(4, "inn", "ИНН"), (5, "kpp", "КПП"), (25, "legal_address", "Юр"),
                           (26, "actual_address", "Факт")]:
        Attribute.objects.get_or_create(pk=pk, defaults={"code": code, "name": name})


@pytest.fixture
def books(db, group, tariff, operator, make_login, attributes):
    """root group > district > house; subscribers in each, payments and charges."""
    district = Group.objects.create(name="District", parent=group)
    house = Group.objects.create(name="House 1", parent=district)
    other = Group.objects.create(name="Elsewhere")
    company = subscriber_create(name="ООО Ромашка", group=district, tariff=tariff, actor="t",
                                is_company=True, email="buh@romashka.example",
                                sms_phone="+79001234567")
    person = subscriber_create(name="Петров Пётр", group=house, tariff=tariff, actor="t")
    synced = subscriber_create(name="Synced", group=district, actor="t", code1c="K-0001")
    Subscriber.objects.filter(pk=synced.pk).update(synced_1c=True)
    outsider = subscriber_create(name="Outsider", group=other, actor="t")
    AttributeValue.objects.create(subscriber=company, attribute_id=4, value="7701234567")
    AttributeValue.objects.create(subscriber=company, attribute_id=25, value="Москва, ул. 1")
    make_login(company, "romashka", ip="10.20.30.50")
    make_login(company, "romashka2")
    p1 = payment_register(subscriber=company, amount=Decimal("1500.00"), actor="t",
                          operator=operator, external_id="T-1", op_date=at(2023, 3, 5, 12, 30))
    p2 = payment_register(subscriber=company, amount=Decimal("200.50"), actor="t",
                          op_date=at(2023, 4, 3, 23, 59), description="Касса")
    payment_register(subscriber=company, amount=Decimal("7.00"), actor="t",
                     op_date=at(2023, 4, 4, 0, 0))
    c1 = charge_post(subscriber=company, amount=Decimal("600.00"), actor="t", tariff=tariff,
                     period_start=date(2023, 3, 1), period_end=date(2023, 3, 31),
                     op_date=at(2023, 3, 1, 0, 5))
    refunded = payment_register(subscriber=company, amount=Decimal("10.00"), actor="t",
                                op_date=at(2023, 3, 10))
    operation_reverse(operation=refunded.operation, actor="t")
    return {"district": district, "house": house, "other": other, "company": company,
            "person": person, "synced": synced, "outsider": outsider,
            "p1": p1.operation, "p2": p2.operation, "c1": c1.operation, "root": group}


def c1(call_api, fn, arg1=None, **kwargs):
    kwargs.setdefault("fmt", "json")
    return call_api(f"api_1c_manager.{fn}", arg1, context="api_1c", **kwargs)


def abonent(s, company=0, code1c=""):
    return {"pk": s.pk, "fields": {"name": s.name, "account": s.pk, "code1c": code1c,
                                   "email": s.email, "company": company, "sms": s.sms_phone,
                                   "contract_number": s.contract_number}}


def test_get_abonents_includes_subgroups_and_defaults_to_unsynced(call_api, books):
    b = books
    answer = c1(call_api, "api_1c_get_abonents", {"parent_id": str(b["district"].pk)}).json()
    assert answer == [abonent(b["company"], company=1), abonent(b["person"])]
    assert answer[0]["fields"]["email"] == "buh@romashka.example"
    assert answer[0]["fields"]["sms"] == "+79001234567"  # raw "+" in the URL stays a plus
    assert c1(call_api, "api_1c_get_abonents",
              {"parent_id": b["house"].pk, "sync1c": "0"}).json() == [abonent(b["person"])]
    assert c1(call_api, "api_1c_get_abonents",
              {"parent_id": b["district"].pk, "sync1c": "1"}).json() == [
        abonent(b["synced"], code1c="K-0001")]


def test_get_abonents_without_parent_and_unknown_parent(call_api, books):
    everyone = c1(call_api, "api_1c_get_abonents", {}).json()
    assert [row["pk"] for row in everyone] == sorted(
        s.pk for s in (books["company"], books["person"], books["outsider"]))
    assert c1(call_api, "api_1c_get_abonents", {"parent_id": "999999"}).json() == []


def test_get_abonents_group_0_is_every_group(call_api, books):
    # The module sends its "group id" field as typed: left empty it is the number 0, and
    # Строка(0) is "0" (carbon_1c8_sync, ПрочитатьКонтрагентов / ПрочитатьПКО).
    everyone = c1(call_api, "api_1c_get_abonents", {}).json()
    assert c1(call_api, "api_1c_get_abonents", {"parent_id": "0", "sync1c": "0"}).json() == (
        everyone)
    assert c1(call_api, "api_1c_get_abonents", {"parent_id": 0, "sync1c": 1}).json() == [
        abonent(books["synced"], code1c="K-0001")]


@pytest.mark.parametrize("arg1, text", [
    ({"parent_id": "abc"}, "Argument parent_id must be a whole number, not abc"),
    ({"parent_id": "-1"}, "Argument parent_id must be a positive whole number, not -1"),
    ({"parent_id": "1", "sync1c": "maybe"}, "Argument sync1c must be 1 or 0, not maybe"),
])
def test_get_abonents_errors(call_api, books, arg1, text):
    assert c1(call_api, "api_1c_get_abonents", arg1).json() == {"error_text": text, "error": text}


def test_numbers_with_nbsp_group_separators(call_api, books):
    # 1C's Строка(1225) is "1 225" with a non-breaking space; the module strips it in most
    # calls but not all. Group 1225 is the operator notes' example.
    group = Group.objects.create(pk=1225, name="Not synced yet", parent=books["root"])
    subscriber = subscriber_create(name="Nbsp", group=group, actor="t")
    answer = c1(call_api, "api_1c_get_abonents", {"parent_id": "1\u00a0225"}).json()
    assert [row["pk"] for row in answer] == [subscriber.pk]


def test_get_abonent_attr_lists_every_kind(call_api, books):
    company = books["company"]
    inn = AttributeValue.objects.get(subscriber=company, attribute_id=4)
    legal = AttributeValue.objects.get(subscriber=company, attribute_id=25)
    answer = c1(call_api, "api_1c_get_abonent_attr", {"abonent_id": str(company.pk)}).json()
    assert answer == [
        {"pk": inn.pk, "fields": {"abonent": company.pk, "attribute": 4,
                                  "attribute_value": "7701234567"}},
        {"pk": "NULL", "fields": {"abonent": company.pk, "attribute": 5,
                                  "attribute_value": "NULL"}},
        {"pk": legal.pk, "fields": {"abonent": company.pk, "attribute": 25,
                                    "attribute_value": "Москва, ул. 1"}},
        {"pk": "NULL", "fields": {"abonent": company.pk, "attribute": 26,
                                  "attribute_value": "NULL"}},
    ]


def test_get_abonent_users(call_api, books):
    company = books["company"]
    answer = c1(call_api, "api_1c_get_abonent_users", {"abonent_id": company.pk}).json()
    assert [row["fields"] for row in answer] == [
        {"abonent": company.pk, "login": "romashka", "ip": "10.20.30.50", "mac": "NULL",
         "enabled": 1},
        {"abonent": company.pk, "login": "romashka2", "ip": "NULL", "mac": "NULL",
         "enabled": 1},
    ]
    assert "password" not in str(answer)


def test_get_account(call_api, books):
    company = books["company"]
    answer = c1(call_api, "api_1c_get_account", {"abonent_id": str(company.pk)}).json()
    # credit: 1500 + 200.50 + 7 + 10 (the reversed payment) = 1717.50
    # debit: 600 (charge) + 10 (reversal) = 610.00; ostatok = credit - debit
    assert answer == [{"pk": company.pk, "fields": {"abonent": company.pk, "ostatok": "1107.50",
                                                    "debit": "610.00", "credit": "1717.50"}}]
    fresh = books["person"]
    assert c1(call_api, "api_1c_get_account", {"abonent_id": fresh.pk}).json()[0]["fields"] == {
        "abonent": fresh.pk, "ostatok": "0.00", "debit": "0.00", "credit": "0.00"}


@pytest.mark.parametrize("fn", ["api_1c_get_abonent_attr", "api_1c_get_abonent_users",
                                "api_1c_get_account", "api_1c_get_fin_opers_with_context"])
def test_unknown_or_missing_abonent(call_api, books, fn):
    assert c1(call_api, fn, {"abonent_id": "987654"}).json()["error_text"] == (
        "Subscriber 987654 not found")
    assert c1(call_api, fn, {}).json()["error_text"] == "Argument abonent_id is required"


def test_sync_abonent(call_api, books):
    person = books["person"]
    # The module's own request: un-encoded, every value a string.
    body = c1(call_api, "api_1c_sync_abonent",
              f'{{"pk":"{person.pk}","code1c":"00-000042","sync1c":"1"}}')
    assert body.json() == {"result": "ok", "pk": person.pk, "code1c": "00-000042", "sync1c": 1}
    person.refresh_from_db()
    assert (person.code1c, person.synced_1c) == ("00-000042", True)
    listed = c1(call_api, "api_1c_get_abonents", {"parent_id": books["house"].pk}).json()
    assert listed == []
    # Repeat: no change, no new audit row.
    before = db_state()
    c1(call_api, "api_1c_sync_abonent", {"pk": person.pk, "code1c": "00-000042", "sync1c": "1"})
    assert db_state() == before


def test_sync_abonent_refusals_change_nothing(call_api, books):
    before = db_state()
    taken = c1(call_api, "api_1c_sync_abonent",
               {"pk": books["person"].pk, "code1c": "K-0001", "sync1c": "1"}).json()
    assert taken["error_text"] == "1C code K-0001 is taken"
    missing = c1(call_api, "api_1c_sync_abonent", {"pk": books["person"].pk}).json()
    assert missing["error_text"] == "Argument code1c is required"
    unknown = c1(call_api, "api_1c_sync_abonent", {"pk": "999999", "code1c": "x"}).json()
    assert unknown["error_text"] == "Subscriber 999999 not found"
    assert db_state() == before


def test_create_abonent_is_idempotent_on_code1c(call_api, books):
    arg1 = {"code1c": "code1c_589895403", "name": "Иванов Иван Иванович"}
    first = c1(call_api, "api_1c_create_abonent", arg1).json()
    created = Subscriber.objects.get(code1c="code1c_589895403")
    assert first == {**abonent(created, code1c="code1c_589895403"), "created": True}
    assert created.group == books["root"] and created.synced_1c and created.account.balance == 0
    before = db_state()
    assert c1(call_api, "api_1c_create_abonent", arg1).json() == {**first, "created": False}
    assert db_state() == before
    other = c1(call_api, "api_1c_create_abonent", {**arg1, "name": "Сидоров"}).json()
    assert other["error_text"] == (
        f"1C code code1c_589895403 belongs to subscriber {created.contract_number} "
        "named Иванов Иван Иванович")
    assert db_state() == before


def test_create_abonent_in_a_group_and_errors(call_api, books):
    made = c1(call_api, "api_1c_create_abonent",
              {"code1c": "Z1", "name": "Z", "parent_id": books["house"].pk}).json()
    assert Subscriber.objects.get(pk=made["pk"]).group == books["house"]
    before = db_state()
    for arg1, text in [
        ({"name": "No code"}, "Argument code1c is required"),
        ({"code1c": "Z2"}, "Argument name is required"),
        ({"code1c": "Z2", "name": "Z", "parent_id": 999999}, "Group 999999 not found"),
        ({"code1c": "Z" * 65, "name": "Z"}, "1C code is longer than 64 characters"),
        ({"code1c": True, "name": "Z"}, "Argument code1c must be a string"),  # not "1"
    ]:
        assert c1(call_api, "api_1c_create_abonent", arg1).json()["error_text"] == text
    assert db_state() == before


def fin(op, **overrides):
    row = {
        "op_id": op.pk, "op_type_id": op.type, "op_summa": str(abs(op.amount)),
        "op_card_id": "NULL", "number": "NULL", "balance_buh": str(op.balance_after),
        "operator_result": "NULL", "code1c": "", "act_services": [],
    }
    row.update(overrides)
    return row


def test_fin_opers_with_context_seed_request(call_api, books, operator):
    """The operator notes' wget example: numbers unquoted, ISO dates; edate 2023-04-03T00:00
    is a point in time, so the payment late on April 3 is outside."""
    b = books
    arg1 = (f'{{"abonent_id": {b["company"].pk}, "op_type": 2, "sdate": "2023-03-01T00:00:00", '
            '"edate": "2023-04-03T00:00:00"}')
    response = call_api("api_1c_manager.api_1c_get_fin_opers_with_context", arg1,
                        context="api_1c", model="FinanceOperations", fmt="json")
    assert response.json() == [fin(
        b["p1"], op_date="2023-03-05 12:30:00", descr=b["p1"].description,
        operator_pay_id=operator.pk, operator_name="Sberbank (OSMP)",
        operator_pay_id_str="T-1")]


def test_fin_opers_with_1c_dates_and_strings(call_api, books):
    """What the module sends: every value a string, dates as Строка(Дата); the end of the
    period is КонецДня, and a date without time covers the whole day."""
    b = books
    expected = [b["p1"].pk, b["p2"].pk]
    for sdate, edate in [("01.03.2023 0:00:00", "03.04.2023 23:59:59"),
                         ("01.03.2023", "03.04.2023"), ("2023-03-01", "2023-04-03")]:
        rows = c1(call_api, "api_1c_get_fin_opers_with_context",
                  {"abonent_id": str(b["company"].pk), "op_type": "2", "sdate": sdate,
                   "edate": edate}).json()
        assert [row["op_id"] for row in rows] == expected, (sdate, edate)
    p2 = rows[1]
    assert p2 == fin(b["p2"], op_date="2023-04-03 23:59:00", descr="Касса",
                     operator_pay_id="NULL", operator_name="NULL", operator_pay_id_str="NULL")


def test_empty_1c_date_means_no_bound(call_api, books):
    rows = c1(call_api, "api_1c_get_fin_opers_with_context",
              {"abonent_id": books["company"].pk, "op_type": "2",
               "sdate": "01.01.0001 0:00:00", "edate": "01.01.0001 0:00:00"}).json()
    # p1, p2, the 7.00 payment; the 10.00 payment reversed before 1C took it is left out.
    assert [row["op_summa"] for row in rows] == ["1500.00", "200.50", "7.00"]


def test_acts_carry_their_services(call_api, books, tariff):
    rows = c1(call_api, "api_1c_get_fin_opers_with_context",
              {"abonent_id": books["company"].pk, "op_type": "1",
               "sdate": "01.03.2023 0:00:00", "edate": "31.03.2023 23:59:59"}).json()
    assert rows == [fin(books["c1"], op_date="2023-03-01 00:05:00",
                        descr="01.03.2023 - 31.03.2023", operator_pay_id="NULL",
                        operator_name="NULL", operator_pay_id_str="NULL",
                        act_services=[{"name": "Home 100", "v": 1, "price": "600.00"}])]
    # balance_buh is the balance after the row was posted (after the three payments).
    assert rows[0]["op_summa"] == "600.00" and rows[0]["balance_buh"] == "1107.50"


def test_fin_opers_errors(call_api, books):
    company = books["company"].pk
    for arg1, text in [
        ({"abonent_id": company, "op_type": "5"},
         "op_type must be 1 (act), 2 (payment) or 11 (agent invoice), not 5"),
        ({"abonent_id": company, "sdate": "32.01.2023"},
         "Argument sdate must be a date such as 2023-03-01, 2023-03-01T00:00:00 or "
         "01.03.2023 0:00:00, not 32.01.2023"),
        ({"abonent_id": company, "edate": "yesterday"},
         "Argument edate must be a date such as 2023-03-01, 2023-03-01T00:00:00 or "
         "01.03.2023 0:00:00, not yesterday"),
    ]:
        assert c1(call_api, "api_1c_get_fin_opers_with_context", arg1).json() == {
            "error_text": text, "error": text}


def test_old_get_fin_opers(call_api, books):
    rows = c1(call_api, "api_1c_get_fin_opers",
              {"abonent_id": str(books["company"].pk), "op_type": "1"}).json()
    assert [(row["op_id"], row["op_type"], row["op_type_id"]) for row in rows] == [
        (books["c1"].pk, 1, 1)]


def _sync(call_api, op, code):
    # The module's ПровестиСинхронизацию(suid, 2): {"pk": op_id, "code1c": "<year>_<number>"}.
    body = c1(call_api, "api_1c_sync_fin_oper", {"pk": str(op.pk), "code1c": code}).json()
    assert body["result"] == "ok"


def test_reversal_of_a_payment_1c_took_is_its_own_storno_row(call_api, books, operator):
    """carbonsoft1c8 (ПрочитатьКонтрагентов): asks api_1c_get_fin_opers with op_type 2 per
    subscriber, books every row with an empty code1c as a cash order whose sum is
    Число(op_summa), then sends {"pk", "code1c"} back. A payment it booked and the billing
    then reversed must reach it as a storno row of its own, or its books keep the money."""
    p1, company = books["p1"], books["company"]
    _sync(call_api, p1, "2023_00017")
    with time_machine.travel(at(2023, 3, 20, 10, 0), tick=False):
        reversal = operation_reverse(operation=p1, actor="t")
    ask = {"abonent_id": str(company.pk), "op_type": "2"}
    rows = c1(call_api, "api_1c_get_fin_opers", ask).json()
    assert [row["op_id"] for row in rows] == [p1.pk, reversal.pk, books["p2"].pk,
                                              books["p2"].pk + 1]
    assert rows[0]["code1c"] == "2023_00017"  # the original: the module skips it
    assert rows[1] == {
        "op_id": reversal.pk, "op_type_id": 2, "op_type": 2,
        "op_date": "2023-03-20 10:00:00", "op_summa": "-1500.00",
        "op_card_id": "NULL", "number": "NULL", "balance_buh": "-392.50",
        "descr": f"Reversal of operation #{p1.pk}", "operator_pay_id": "NULL",
        "operator_name": "NULL", "operator_result": "NULL", "operator_pay_id_str": "NULL",
        "code1c": "", "act_services": [],
        "storno_op_id": p1.pk, "storno_code1c": "2023_00017",
    }
    # The newer module's call, by date: the storno falls on the reversal's own day.
    march = c1(call_api, "api_1c_get_fin_opers_with_context",
               {**ask, "sdate": "01.03.2023", "edate": "31.03.2023"}).json()
    assert [(row["op_id"], row["op_summa"]) for row in march] == [
        (p1.pk, "1500.00"), (reversal.pk, "-1500.00")]
    assert [row["op_id"] for row in c1(call_api, "api_1c_get_fin_opers",
                                       {**ask, "op_type": "1"}).json()] == [books["c1"].pk]
    # 1C booked the storno: it is listed with its code, which the module skips.
    _sync(call_api, reversal, "2023_00018")
    rows = c1(call_api, "api_1c_get_fin_opers", ask).json()
    assert [(row["op_id"], row["code1c"]) for row in rows[:2]] == [
        (p1.pk, "2023_00017"), (reversal.pk, "2023_00018")]
    detail = c1(call_api, "api_1c_get_fin_detail", {"op_id": reversal.pk}).json()
    assert (detail["op_type_id"], detail["op_summa"], detail["storno_op_id"],
            detail["storno"]) == (2, "-1500.00", p1.pk, 0)


def test_reversal_of_an_act_1c_took_is_a_negative_act(call_api, books):
    c, company = books["c1"], books["company"]
    _sync(call_api, c, "2023_A001")
    reversal = operation_reverse(operation=c, actor="t")
    rows = c1(call_api, "api_1c_get_fin_opers",
              {"abonent_id": company.pk, "op_type": "1"}).json()
    assert [(row["op_id"], row["op_type"], row["op_summa"], row["act_services"])
            for row in rows] == [
        (c.pk, 1, "600.00", [{"name": "Home 100", "v": 1, "price": "600.00"}]),
        (reversal.pk, 1, "-600.00", [{"name": "Home 100", "v": 1, "price": "-600.00"}]),
    ]


def test_reversals_1c_need_not_see(call_api, books):
    """A row reversed before 1C took it: neither it nor its reversal (the fixture's 10.00
    payment). A reversal of a correction: 1C has no such document."""
    from asr_billing.finance.services import correction_post

    company = books["company"]
    correction = correction_post(subscriber=company, amount=Decimal("5.00"), actor="t",
                                 description="fix")
    operation_reverse(operation=correction, actor="t")
    rows = c1(call_api, "api_1c_get_fin_opers", {"abonent_id": company.pk}).json()
    assert [(row["op_type"], row["op_summa"]) for row in rows] == [
        (1, "600.00"), (2, "1500.00"), (2, "200.50"), (2, "7.00")]


def test_get_fin_detail(call_api, books, operator):
    p1, company = books["p1"], books["company"]
    body = c1(call_api, "api_1c_get_fin_detail", {"op_id": str(p1.pk)}, model="FinanceOperations")
    assert body.json() == {
        **fin(p1, op_date="2023-03-05 12:30:00", descr=p1.description,
              operator_pay_id=operator.pk, operator_name="Sberbank (OSMP)",
              operator_pay_id_str="T-1"),
        "abonent_id": company.pk, "contract_number": company.contract_number,
        "abonent_name": "ООО Ромашка", "abonent_code1c": "", "storno": 0,
    }
    missing = c1(call_api, "api_1c_get_fin_detail", {"op_id": "54894"}).json()
    assert missing == {"error_text": "Operation 54894 not found",
                       "error": "Operation 54894 not found"}


def test_sync_fin_oper_marks_an_operation(call_api, books):
    p1 = books["p1"]
    # The module's request for a cash order it created: {"pk": op_id, "code1c": year_number}
    body = c1(call_api, "api_1c_sync_fin_oper", f'{{"pk":"{p1.pk}","code1c":"2023_00017"}}')
    assert body.json() == {"result": "ok", "op_id": p1.pk, "code1c": "2023_00017",
                           "created": False}
    p1.refresh_from_db()
    assert (p1.code1c, p1.synced_1c) == ("2023_00017", True)
    rows = c1(call_api, "api_1c_get_fin_opers_with_context",
              {"abonent_id": books["company"].pk, "op_type": "2"}).json()
    assert rows[0]["code1c"] == "2023_00017"
    before = db_state()
    assert c1(call_api, "api_1c_sync_fin_oper",
              {"pk": p1.pk, "code1c": "2023_00017"}).json()["result"] == "ok"
    for arg1, text in [
        ({"pk": p1.pk, "code1c": "2023_00099"},
         f"Operation #{p1.pk} is already synced with 1C code 2023_00017"),
        ({"pk": books["p2"].pk, "code1c": "2023_00017"},
         "An operation with 1C code 2023_00017 exists already"),
        ({"pk": "54894", "code1c": "x"}, "Operation 54894 not found"),
        ({"pk": p1.pk}, "Argument code1c is required"),
        ({}, "Argument pk is required"),
    ]:
        assert c1(call_api, "api_1c_sync_fin_oper", arg1).json()["error_text"] == text
    assert db_state() == before


def one_c_urlencode(text: str) -> str:
    """1C's URLEncode from the module: every character %XX, Cyrillic as cp1251 bytes."""
    return quote_from_bytes(text.encode("cp1251"), safe="")


def test_sync_fin_oper_imports_a_1c_payment_once(client, books):
    synced = books["synced"]
    # ВыгрузитьПКО: Формат(Сумма,"ЧГ=0") writes a decimal comma; the whole arg1 goes
    # through the module's cp1251 URLEncode.
    arg1 = ('{"abon_code1c":"K-0001","op_date":"2023-03-15","op_summa":"1500,5",'
            '"descr":"Касса: оплата по счету №5","code1c":"2023_00021","op_type_id":"2"}')
    address = url("api_1c_manager.api_1c_sync_fin_oper", one_c_urlencode(arg1),
                  context="api_1c", model="FinanceOperations", fmt="json")
    body = client.get(address).json()
    operation = Operation.objects.get(code1c="2023_00021")
    assert body == {"result": "ok", "op_id": operation.pk, "code1c": "2023_00021",
                    "created": True}
    assert operation.amount == Decimal("1500.50")
    assert operation.description == "Касса: оплата по счету №5"
    assert operation.op_date == at(2023, 3, 15)
    assert operation.account_id == synced.pk and operation.synced_1c
    # 1C re-sends the period on every run: same answer, no second payment.
    before = db_state()
    assert client.get(address).json() == {**body, "created": False}
    assert db_state() == before


def test_sync_fin_oper_import_refusals(call_api, books):
    c1(call_api, "api_1c_sync_fin_oper",
       {"abon_code1c": "K-0001", "op_date": "2023-03-15", "op_summa": "100", "code1c": "D1"})
    before = db_state()
    base = {"abon_code1c": "K-0001", "op_date": "2023-03-15", "op_summa": "100",
            "code1c": "D2"}
    for change, text in [
        ({"code1c": "D1", "op_summa": "101"},
         "1C document D1 was already imported with another amount or subscriber"),
        ({"abon_code1c": "nobody"}, "No subscriber has 1C code nobody"),
        ({"op_summa": "-3"},
         "op_summa must be a positive amount with at most 2 decimals, not -3"),
        ({"op_summa": "9" * 29}, "op_summa is too large: at most 999999999999.99"),
        ({"op_summa": "1" * 30}, "op_summa is too large: at most 999999999999.99"),
        ({"op_summa": "1e13"}, "op_summa is too large: at most 999999999999.99"),
        ({"op_summa": 10**13}, "op_summa is too large: at most 999999999999.99"),
        ({"op_summa": "1 000 000 000 000,00"},  # 1C's Строка() with NBSP separators
         "op_summa is too large: at most 999999999999.99"),
        ({"op_summa": None}, "Argument op_summa is required"),
        ({"code1c": None}, "Argument code1c is required"),
        ({"op_type_id": "1"}, "Only payments (op_type_id 2) can be imported from 1C, not 1"),
        ({"op_date": "15/03/2023"},
         "Argument op_date must be a date such as 2023-03-01, 2023-03-01T00:00:00 or "
         "01.03.2023 0:00:00, not 15/03/2023"),
    ]:
        arg1 = {k: v for k, v in {**base, **change}.items() if v is not None}
        assert c1(call_api, "api_1c_sync_fin_oper", arg1).json()["error_text"] == text
    assert db_state() == before


def test_xml_without_format(call_api, books):
    response = c1(call_api, "api_1c_get_abonents", {"parent_id": books["house"].pk}, fmt=None)
    person = books["person"]
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="utf-8"?>\n<response><item>'
        f"<pk>{person.pk}</pk><fields><name>Петров Пётр</name><account>{person.pk}</account>"
        "<code1c></code1c><email></email><company>0</company><sms></sms>"
        f"<contract_number>{person.contract_number}</contract_number></fields>"
        "</item></response>\n")
    error = c1(call_api, "api_1c_get_abonents", {"parent_id": "x"}, fmt=None).content.decode()
    assert "<error_text>Argument parent_id must be a whole number, not x</error_text>" in error


def test_fields1_projection(call_api, books):
    rows = c1(call_api, "api_1c_get_abonents", {"parent_id": books["house"].pk},
              fields1='["name"]').json()
    assert rows == [{"pk": books["person"].pk, "fields": {"name": "Петров Пётр"}}]
