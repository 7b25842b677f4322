"""asr_fiscal_manager.act_pay: PAY (exactly once), CHECK_ABONENT, CHECK, product errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.finance.models import Operation, PaymentOperator
from asr_billing.finance.services import operation_reverse, payment_register

from .conftest import db_state

PAY = "asr_fiscal_manager.act_pay"


@pytest.fixture
def payee(subscriber, make_login, operator):
    make_login(subscriber, "testlogin", ip="10.20.30.41")
    return subscriber


def pay(call_api, fmt="json", **arg1):
    body = {"contract_number": "BILL0000001", "sum_in": "100", "pay_operator": "SBERBANK_OSMP",
            "pay_id_str": "1238989213892", "act": "PAY"}
    body.update(arg1)
    body = {k: v for k, v in body.items() if v is not None}
    return call_api(PAY, body, context="asr_fiscal", fmt=fmt)


def test_pay_then_replay(call_api, payee):
    assert payee.contract_number == "BILL0000001"
    first = pay(call_api)
    assert first.status_code == 200
    answer = first.json()
    operation = Operation.objects.get()
    assert answer == {
        "result": "ok", "act": "PAY", "replay": False, "operation_id": operation.pk,
        "abonent_id": payee.pk, "contract_number": "BILL0000001", "sum": "100.00",
        "balance": "100.00", "pay_operator": "SBERBANK_OSMP", "pay_id_str": "1238989213892",
        "op_date": timezone.localtime(operation.op_date).isoformat(), "message": "",
    }
    assert answer["op_date"].endswith("+03:00")  # local time (app['time_zone'])
    assert operation.actor == "system_api:asr_fiscal"
    assert operation.amount == Decimal("100.00")
    # Another payment moves the balance; the replay still answers the original.
    payment_register(subscriber=payee, amount=Decimal("50.00"), actor="test")
    again = pay(call_api, sum_in="100.00").json()
    assert again == {**answer, "replay": True,
                     "message": "Платеж уже проведен, возвращаем старые данные!"}
    assert Operation.objects.count() == 2
    payee.account.refresh_from_db()
    assert payee.account.balance == Decimal("150.00")


@pytest.mark.parametrize("key", ["BILL0000001", "testlogin", "10.20.30.41"])
def test_subscriber_by_contract_login_or_ip(call_api, payee, key):
    answer = pay(call_api, contract_number=key, pay_id_str=f"id-{key}").json()
    assert answer["contract_number"] == "BILL0000001"
    assert answer["balance"] == "100.00"


def test_sums_with_kopecks_and_comma(call_api, payee):
    assert pay(call_api, sum_in="99.5", pay_id_str="a").json()["sum"] == "99.50"
    assert pay(call_api, sum_in="0,01", pay_id_str="b").json()["balance"] == "99.51"
    assert pay(call_api, sum_in=250, pay_id_str="c").json()["balance"] == "349.51"


def test_act_is_case_insensitive(call_api, payee):
    assert pay(call_api, act="pay").json()["result"] == "ok"


@pytest.mark.parametrize("arg1, text", [
    ({"act": "REFUND"}, "Неизвестная команда! (REFUND)"),
    ({"act": None}, "Неизвестная команда! ()"),
    ({"pay_operator": "NOBODY"}, "Неизвестный оператор! (NOBODY)"),
    ({"pay_operator": None}, "Неизвестный оператор! ()"),
    ({"contract_number": None}, "Не указан параметр для поиска абонента! (contract_number)"),
    ({"contract_number": "  "}, "Не указан параметр для поиска абонента! (contract_number)"),
    ({"contract_number": "BILL9999999"}, "Абонент не найден! (BILL9999999)"),
    ({"contract_number": "10.99.99.99"}, "Абонент не найден! (10.99.99.99)"),
    ({"sum_in": None}, "В платеже не указана сумма!"),
    ({"sum_in": ""}, "В платеже не указана сумма!"),
    ({"sum_in": "0"}, "Сумма платежа не должна быть нулевой"),
    ({"sum_in": "0.00"}, "Сумма платежа не должна быть нулевой"),
    ({"sum_in": "-5"}, "Неверно введена сумма платежа"),
    ({"sum_in": "10.005"}, "Неверно введена сумма платежа"),
    ({"sum_in": "1e3"}, "Неверно введена сумма платежа"),
    ({"sum_in": "сто"}, "Неверно введена сумма платежа"),
    ({"sum_in": "1000000000000"}, "Неверно введена сумма платежа"),
    ({"sum_in": "9" * 29}, "Неверно введена сумма платежа"),  # past Decimal's precision: a 500
    ({"sum_in": "1" * 30}, "Неверно введена сумма платежа"),  # past the column
    ({"sum_in": "1e13"}, "Неверно введена сумма платежа"),
    ({"sum_in": 10**13}, "Неверно введена сумма платежа"),
    ({"pay_id_str": None}, "The payment has no pay_id_str (the operator's payment id)"),
    ({"pay_id_str": "x" * 101}, "The payment id is longer than 100 characters"),
    # JSON true is not a sum nor an id: it used to be read as "1" (a payment of 1.00,
    # or the id "1" of another payment).
    ({"sum_in": True}, "Неверно введена сумма платежа"),
    ({"sum_in": ["5"]}, "Неверно введена сумма платежа"),
    ({"sum_in": {"a": 5}}, "Неверно введена сумма платежа"),
    ({"pay_id_str": True}, "Argument pay_id_str must be a string"),
    ({"contract_number": True}, "Argument contract_number must be a string"),
    ({"pay_operator": False}, "Argument pay_operator must be a string"),
])
def test_errors_change_nothing(call_api, payee, arg1, text):
    before = db_state()
    response = pay(call_api, **arg1)
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "error" and body["error"] == text
    assert db_state() == before


@pytest.mark.parametrize("arg1", [{"sum_in": True}, {"pay_id_str": [1]}, {"act": "pay",
                                                                     "contract_number": {}}])
def test_argument_errors_name_the_act(call_api, payee, arg1):
    assert pay(call_api, **arg1).json()["act"] == "PAY"


def test_disabled_operator_is_unknown(call_api, payee, operator):
    PaymentOperator.objects.filter(pk=operator.pk).update(enabled=False)
    assert pay(call_api).json()["error"] == "Неизвестный оператор! (SBERBANK_OSMP)"
    assert Operation.objects.count() == 0


def test_replay_with_another_sum_is_refused(call_api, payee):
    pay(call_api)
    before = db_state()
    body = pay(call_api, sum_in="100.01").json()
    assert body == {"result": "error", "act": "PAY",
                    "error": "Сумма дублирующего платежа не совпадает с оригиналом!"}
    assert db_state() == before


def test_replay_for_another_subscriber_is_refused(call_api, payee, make_subscriber):
    other = make_subscriber(name="Other")
    pay(call_api)
    before = db_state()
    body = pay(call_api, contract_number=other.contract_number).json()
    assert body["error"] == "Платеж уже создан"
    assert db_state() == before


def test_same_id_from_another_operator_is_another_payment(call_api, payee):
    PaymentOperator.objects.create(code="QIWI", name="QIWI")
    pay(call_api)
    assert pay(call_api, pay_operator="QIWI").json()["replay"] is False
    assert Operation.objects.count() == 2


def test_check_abonent(call_api, payee):
    body = pay(call_api, act="CHECK_ABONENT", sum_in=None, pay_id_str=None).json()
    assert body == {"result": "ok", "act": "CHECK_ABONENT", "abonent_id": payee.pk,
                    "contract_number": "BILL0000001", "name": "Иванов Иван Иванович",
                    "balance": "0.00"}
    assert pay(call_api, act="CHECK_ABONENT", contract_number="nobody").json()["error"] == (
        "Абонент не найден! (nobody)")


def test_check_with_payment_state(call_api, payee):
    assert pay(call_api, act="CHECK").json()["payment"] == {
        "pay_id_str": "1238989213892", "state": "not_found"}
    done = pay(call_api).json()
    check = pay(call_api, act="CHECK").json()
    assert check["balance"] == "100.00"
    assert check["payment"] == {
        "pay_id_str": "1238989213892", "state": "done", "operation_id": done["operation_id"],
        "sum": "100.00", "op_date": done["op_date"], "contract_number": "BILL0000001"}
    operation_reverse(operation=Operation.objects.get(pk=done["operation_id"]), actor="test")
    assert pay(call_api, act="CHECK").json()["payment"]["state"] == "reversed"
    assert "payment" not in pay(call_api, act="CHECK", pay_id_str=None).json()


def test_xml_without_format(call_api, payee):
    response = pay(call_api, fmt=None)
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    text = response.content.decode()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<response><result>ok</result>')
    assert "<sum>100.00</sum><balance>100.00</balance>" in text
    assert "<replay>false</replay>" in text
    error = pay(call_api, fmt=None, act="X").content.decode()
    assert error == ('<?xml version="1.0" encoding="utf-8"?>\n<response><result>error</result>'
                     "<act>X</act><error>Неизвестная команда! (X)</error></response>\n")
