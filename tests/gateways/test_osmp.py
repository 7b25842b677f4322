"""The OSMP / QIWI answers element by element, byte for byte (QIWI's provider protocol,
reference carbon-api §7.1): QIWI reads ``result`` (0 = done, 1 = retry, others fatal) and
``prv_txn`` (our payment id, kept in its registry), and matches ``osmp_txn_id`` to its
request; ``sum`` is the sum we credited; ``comment`` goes to its support logs."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError

from asr_billing.finance.models import Operation
from tests.conftest import db_state, on_postgres

from .conftest import AUTH, OsmpDriver, configure

pytestmark = pytest.mark.usefixtures("gateways")
osmp = OsmpDriver()
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<response>\n'


def xml(*elements: str) -> bytes:
    return HEAD + "".join(f"{e}\n" for e in elements).encode() + b"</response>\n"


def get(client, **params):
    return client.get("/pay/osmp/test/", params, headers={"Authorization": basic()})


def basic() -> str:
    import base64

    return "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()


def test_check_answer(client, payee):
    response = get(client, command="check", txn_id="1234567", account="BILL0000001",
                   sum="100.00")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content == xml("<osmp_txn_id>1234567</osmp_txn_id>", "<result>0</result>",
                                   "<comment>OK</comment>")


def test_check_without_txn_id_has_no_osmp_txn_id(client, payee):
    response = get(client, command="check", account="BILL0000001")
    assert response.content == xml("<result>0</result>", "<comment>OK</comment>")


def test_pay_answer(client, payee):
    response = get(client, command="pay", txn_id="1234567", account="BILL0000001",
                   sum="10.45", txn_date="20240501120000")
    operation = Operation.objects.get()
    assert response.content == xml(
        "<osmp_txn_id>1234567</osmp_txn_id>", f"<prv_txn>{operation.pk}</prv_txn>",
        "<sum>10.45</sum>", "<result>0</result>", "<comment>OK</comment>")


def test_pay_by_post_form_is_the_same(client, payee):
    response = client.post("/pay/osmp/test", {"command": "pay", "txn_id": "77",
                                              "account": "BILL0000001", "sum": "10.45"},
                           headers={"Authorization": basic()})
    operation = Operation.objects.get()
    assert response.content == xml(
        "<osmp_txn_id>77</osmp_txn_id>", f"<prv_txn>{operation.pk}</prv_txn>",
        "<sum>10.45</sum>", "<result>0</result>", "<comment>OK</comment>")


def test_a_replay_sends_the_stored_sum_not_the_requested_one(client, payee):
    """Ubilling's frontend echoed the request's sum on a duplicate (reference §2.1):
    ``sum`` is what we credited. ``100`` and ``100.00`` are the same payment."""
    get(client, command="pay", txn_id="55", account="BILL0000001", sum="100")
    response = get(client, command="pay", txn_id="55", account="BILL0000001", sum="100.00")
    assert b"<sum>100.00</sum>" in response.content
    assert b"<result>0</result>" in response.content


@pytest.mark.parametrize(("params", "result", "comment"), [
    ({"command": "check", "txn_id": "1", "account": "BILL0000999"}, 5,
     "Абонент не найден! (BILL0000999)"),
    ({"command": "refund", "txn_id": "1"}, 300, "Неизвестная команда! (refund)"),
    ({"command": "pay", "txn_id": "1", "account": "BILL0000001", "sum": "1e3"}, 300,
     "Неверно введена сумма платежа"),
    ({"command": "pay", "txn_id": "1", "account": "BILL0000001", "sum": "1.00"}, 241,
     "Сумма слишком мала"),
    ({"command": "pay", "txn_id": "1", "account": "BILL0000001", "sum": "9999.00"}, 242,
     "Сумма слишком велика"),
    ({"command": "pay", "txn_id": "1", "account": "BILL0000001", "sum": "10",
      "txn_date": "20241301120000"}, 300, "Неверное значение даты"),
    ({"command": "cancel", "txn_id": "404"}, 251, "Платеж не найден"),
])
def test_refusals(client, payee, params, result, comment):
    before = db_state()
    response = get(client, **params)
    echo = [f"<osmp_txn_id>{params['txn_id']}</osmp_txn_id>"] if "txn_id" in params else []
    assert response.content == xml(*echo, f"<result>{result}</result>",
                                   f"<comment>{comment}</comment>")
    assert db_state() == before


def test_a_pay_without_txn_id_is_refused(client, payee):
    response = get(client, command="pay", account="BILL0000001", sum="10")
    assert response.content == xml(
        "<result>300</result>", "<comment>Неверное значение идентификатора транзакции</comment>")


def test_mismatch_comments_say_what_differs(client, payee, make_subscriber):
    other = make_subscriber(name="Петров Пётр")
    get(client, command="pay", txn_id="9", account="BILL0000001", sum="100")
    by_sum = get(client, command="pay", txn_id="9", account="BILL0000001", sum="101")
    assert by_sum.content == xml("<osmp_txn_id>9</osmp_txn_id>", "<result>300</result>",
                                 "<comment>Сумма дублирующего платежа не совпадает с "
                                 "оригиналом!</comment>")
    by_account = get(client, command="pay", txn_id="9", account=other.contract_number,
                     sum="100")
    assert by_account.content == xml("<osmp_txn_id>9</osmp_txn_id>", "<result>300</result>",
                                     "<comment>Платеж уже создан</comment>")


def test_cancel_answer(client, payee):
    get(client, command="pay", txn_id="31", account="BILL0000001", sum="100")
    payment = Operation.objects.get()
    response = get(client, command="cancel", txn_id="31")
    assert response.content == xml(
        "<osmp_txn_id>31</osmp_txn_id>", f"<prv_txn>{payment.pk}</prv_txn>",
        "<sum>100.00</sum>", "<result>0</result>", "<comment>OK</comment>")


def test_echoed_values_are_escaped(client, payee):
    response = get(client, command="check", account="<b>&amp;")
    assert response.content == xml("<result>5</result>",
                                   "<comment>Абонент не найден! (&lt;b&gt;&amp;amp;)</comment>")


def test_refused_ip_and_credentials(client, payee):
    response = client.get("/pay/osmp/test/", {"command": "check"}, REMOTE_ADDR="10.9.9.9",
                          headers={"Authorization": basic()})
    assert (response.status_code, response.content) == (
        403, xml("<result>7</result>", "<comment>Доступ запрещен</comment>"))
    response = client.get("/pay/osmp/test/", {"command": "check"})
    assert (response.status_code, response.content) == (
        401, xml("<result>7</result>", "<comment>Доступ запрещен</comment>"))
    assert response["WWW-Authenticate"] == 'Basic realm="asr-billing payments"'


def test_without_auth_settings_no_credentials_are_asked(client, payee, config_edit):
    config_edit("payments", "osmp.test.auth.user", "")
    response = client.get("/pay/osmp/test/", {"command": "check", "account": "BILL0000001"})
    assert response.content == xml("<result>0</result>", "<comment>OK</comment>")


def test_other_http_methods_are_refused(client, payee):
    response = client.put("/pay/osmp/test/")
    assert (response.status_code, response["Allow"]) == (405, "GET, POST")


def test_a_database_that_does_not_answer_asks_for_a_retry(client, payee, monkeypatch, caplog):
    def away(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("asr_billing.gateways.intake.payer_find", away)
    before = db_state()
    with caplog.at_level(logging.ERROR, logger="asr_billing.system_api.gateways"):
        response = get(client, command="pay", txn_id="3", account="BILL0000001", sum="10")
    assert response.content == xml(
        "<osmp_txn_id>3</osmp_txn_id>", "<result>1</result>",
        "<comment>Временная ошибка. Повторите запрос позже</comment>")
    assert "gateway osmp.test: database error" in caplog.text
    assert db_state() == before


def test_an_unexpected_failure_is_300_and_logged(client, payee, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("asr_billing.gateways.intake.payer_find", broken)
    with caplog.at_level(logging.ERROR, logger="asr_billing.system_api.gateways"):
        response = get(client, command="check", txn_id="3", account="BILL0000001")
    assert response.content == xml("<osmp_txn_id>3</osmp_txn_id>", "<result>300</result>",
                                   "<comment>Внутренняя ошибка</comment>")
    assert "RuntimeError: boom" in caplog.text


def test_every_call_is_one_line_in_the_api_log(client, payee, config_edit, caplog):
    config_edit("app", "django.loglevel", "info")
    with caplog.at_level(logging.INFO, logger="asr_billing.system_api.gateways"):
        get(client, command="pay", txn_id="8", account="BILL0000001", sum="10.00")
        get(client, command="pay", txn_id="8", account="BILL0000001", sum="10.00")
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("gateways")]
    assert [line.rsplit(" ms=", 1)[0] for line in lines] == [
        "ip=127.0.0.1 gateway=osmp.test command=pay txn=8 account=BILL0000001 sum=10.00 "
        "status=200 result=ok",
        "ip=127.0.0.1 gateway=osmp.test command=pay txn=8 account=BILL0000001 sum=10.00 "
        "status=200 result=ok replay",
    ]
    assert all(AUTH[1] not in line for line in lines)


@pytest.mark.skipif(not on_postgres(), reason="the count is PostgreSQL's lean posting")
def test_a_payment_is_two_queries(client, payee, django_assert_num_queries):
    """The payer's lookup and the posting (one function call): the intake's budget."""
    get(client, command="check", account="BILL0000001")  # warm up the config cache
    with django_assert_num_queries(2):
        get(client, command="pay", txn_id="11", account="BILL0000001", sum="10.00")


def test_two_instances_of_one_type_coexist(client, payee, config_edit):
    from asr_billing.finance.models import PaymentOperator

    PaymentOperator.objects.create(code="GW_OSMP_2", name="Second agent")
    configure(config_edit, "osmp", "second", operator="GW_OSMP_2")
    first = get(client, command="pay", txn_id="21", account="BILL0000001", sum="10")
    second = osmp.send(client, "pay", txn="21", account="BILL0000001", amount="10",
                       name="second")
    assert b"<result>0</result>" in first.content and second.code == 0
    assert sorted(Operation.objects.values_list("pay_operator__code", "actor")) == [
        ("GW_OSMP", "gateway:osmp.test"), ("GW_OSMP_2", "gateway:osmp.second")]
