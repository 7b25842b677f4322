"""Sberbank's answers element by element (reference radius-and-payments §2.3): the bank
reads ``CODE`` (SberOnline) or ``result`` (protocol 2) to decide, shows ``FIO``/``fio``
and ``BALANCE``/``balance`` to the payer at check, offers ``REC_SUM`` as the sum, and
keeps ``EXT_ID``/``ext_id`` (our payment id) and ``REG_DATE``/``reg_date`` in its
registry, against which the daily reconciliation matches."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from asr_billing.finance.models import Operation
from asr_billing.finance.services import correction_post
from tests.conftest import db_state

from .conftest import AUTH, configure

pytestmark = pytest.mark.usefixtures("gateways")
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<response>\n'
# 10:23:59 in Moscow (app['time_zone']).
MOMENT = datetime(2026, 12, 3, 7, 23, 59, tzinfo=UTC)


def xml(*elements: str) -> bytes:
    return HEAD + "".join(f"{e}\n" for e in elements).encode() + b"</response>\n"


@pytest.fixture(autouse=True)
def no_auth(gateways, config_edit):
    """The bank sends no basic auth (Carbon's recommendation): the IP only."""
    config_edit("payments", "sberbank.test.auth.user", "")
    config_edit("payments", "sberbank.test.auth.password", "")


def get(client, **params):
    return client.get("/pay/sberbank/test/", params)


@pytest.fixture
def funded(payee):
    correction_post(subscriber=payee, amount=Decimal("154.88"), actor="t", description="x")
    return payee


def test_sberonline_check(client, funded):
    """FIO masked to surname and initials; REC_SUM covers the tariff's 600.00 month."""
    response = get(client, ACTION="check", ACCOUNT="BILL0000001")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content == xml(
        "<CODE>0</CODE>", "<MESSAGE>Успешное завершение операции</MESSAGE>",
        "<FIO>Иванов И. И.</FIO>", "<BALANCE>154.88</BALANCE>", "<REC_SUM>445.12</REC_SUM>")


def test_sberonline_check_of_a_company_shows_its_name(client, make_subscriber):
    make_subscriber(name="ООО «Ромашка»", is_company=True)
    response = get(client, ACTION="check", ACCOUNT="BILL0000001")
    assert b"<FIO>\xd0\x9e\xd0\x9e\xd0\x9e \xc2\xab" in response.content


def test_sberonline_payment_and_its_replay(client, funded):
    with time_machine.travel(MOMENT, tick=False):
        response = get(client, ACTION="payment", ACCOUNT="BILL0000001", AMOUNT="200.00",
                       PAY_ID="3001", PAY_DATE="01.05.2024_12:32:00")
    payment = Operation.objects.get(external_id="3001")
    expected = xml("<CODE>0</CODE>", "<MESSAGE>Успешное завершение операции</MESSAGE>",
                   f"<EXT_ID>{payment.pk}</EXT_ID>", "<SUM>200.00</SUM>",
                   "<REG_DATE>03.12.2026_10:23:59</REG_DATE>")
    assert response.content == expected
    later = get(client, ACTION="payment", ACCOUNT="BILL0000001", AMOUNT="200.00",
                PAY_ID="3001", PAY_DATE="01.05.2024_12:32:00")
    assert later.content == expected


def test_sberonline_duplicate_with_another_sum_names_the_original(client, funded):
    with time_machine.travel(MOMENT, tick=False):
        get(client, ACTION="payment", ACCOUNT="BILL0000001", AMOUNT="200.00", PAY_ID="3002",
            PAY_DATE="01.05.2024_12:32:00")
    payment = Operation.objects.get(external_id="3002")
    before = db_state()
    response = get(client, ACTION="payment", ACCOUNT="BILL0000001", AMOUNT="201.00",
                   PAY_ID="3002", PAY_DATE="01.05.2024_12:32:00")
    assert response.content == xml(
        "<CODE>8</CODE>", "<MESSAGE>Дублирование транзакции</MESSAGE>",
        f"<EXT_ID>{payment.pk}</EXT_ID>", "<REG_DATE>03.12.2026_10:23:59</REG_DATE>",
        "<AMOUNT>200.00</AMOUNT>")
    assert db_state() == before


@pytest.mark.parametrize(("params", "code", "message"), [
    ({"ACTION": "status"}, 2, "Неизвестный тип запроса"),
    ({"ACTION": "check", "ACCOUNT": "BILL0000999"}, 3, "Абонент не найден"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "10", "PAY_ID": "ab",
      "PAY_DATE": "01.05.2024_12:32:00"}, 6, "Неверное значение идентификатора транзакции"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "10,5,5", "PAY_ID": "1",
      "PAY_DATE": "01.05.2024_12:32:00"}, 9, "Неверная сумма платежа"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "9.99", "PAY_ID": "1",
      "PAY_DATE": "01.05.2024_12:32:00"}, 10, "Сумма слишком мала"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "5000.01", "PAY_ID": "1",
      "PAY_DATE": "01.05.2024_12:32:00"}, 11, "Сумма слишком велика"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "10", "PAY_ID": "1",
      "PAY_DATE": "2024-05-01 12:32:00"}, 12, "Неверное значение даты"),
    ({"ACTION": "payment", "ACCOUNT": "BILL0000001", "AMOUNT": "10", "PAY_ID": "1"}, 12,
     "Неверное значение даты"),
])
def test_sberonline_refusals(client, payee, params, code, message):
    before = db_state()
    response = get(client, **params)
    assert response.content == xml(f"<CODE>{code}</CODE>", f"<MESSAGE>{message}</MESSAGE>")
    assert db_state() == before


def test_sberonline_refused_ip(client, payee):
    response = client.get("/pay/sberbank/test/", {"ACTION": "check"}, REMOTE_ADDR="10.9.9.9")
    assert (response.status_code, response.content) == (403, xml(
        "<CODE>7</CODE>", "<MESSAGE>Прием платежа запрещен по техническим причинам</MESSAGE>"))


def test_protocol2_check(client, funded):
    response = get(client, command="check", txn_id="2001", account="BILL0000001")
    assert response.content == xml(
        "<osmp_txn_id>2001</osmp_txn_id>", "<result>0</result>", "<comment>OK</comment>",
        "<fio>Иванов И. И.</fio>", "<balance>154.88</balance>")


def test_protocol2_pay(client, funded):
    with time_machine.travel(MOMENT, tick=False):
        response = client.post("/pay/sberbank/test/", {
            "command": "pay", "txn_id": "2002", "account": "BILL0000001", "sum": "150.00",
            "txn_date": "20240501120000"})
    payment = Operation.objects.get(external_id="2002")
    assert response.content == xml(
        "<osmp_txn_id>2002</osmp_txn_id>", f"<prv_txn>{payment.pk}</prv_txn>",
        f"<ext_id>{payment.pk}</ext_id>", "<reg_date>20261203102359</reg_date>",
        "<sum>150.00</sum>", "<result>0</result>", "<comment>OK</comment>")


def test_protocol2_takes_the_upper_case_spellings_too(client, payee, config_edit):
    """Carbon's sbrf.php table lists both spellings of every parameter."""
    config_edit("payments", "sberbank.test.dialect", "protocol2")
    response = get(client, ACTION="payment", PAY_ID="2003", ACCOUNT="BILL0000001",
                   AMOUNT="10.00", PAY_DATE="01.05.2024_12:32:00")
    payment = Operation.objects.get(external_id="2003")
    assert payment.amount == Decimal("10.00")
    assert b"<result>0</result>" in response.content
    assert f"<prv_txn>{payment.pk}</prv_txn>".encode() in response.content


def test_sberonline_takes_the_lower_case_spellings_too(client, payee, config_edit):
    config_edit("payments", "sberbank.test.dialect", "sberonline")
    response = get(client, command="pay", txn_id="2004", account="BILL0000001", sum="10.00",
                   txn_date="20240501120000")
    payment = Operation.objects.get(external_id="2004")
    assert response.content.startswith(HEAD + b"<CODE>0</CODE>\n")
    assert f"<EXT_ID>{payment.pk}</EXT_ID>".encode() in response.content


def test_the_dialect_setting_decides_refusals_too(client, payee, config_edit):
    config_edit("payments", "sberbank.test.dialect", "sberonline")
    response = client.get("/pay/sberbank/test/", {"command": "check"}, REMOTE_ADDR="10.9.9.9")
    assert response.content.startswith(HEAD + b"<CODE>7</CODE>")


def test_basic_auth_where_configured(client, payee, config_edit):
    configure(config_edit, "sberbank", **{"auth.password": AUTH[1], "auth.user": AUTH[0]})
    response = get(client, ACTION="check", ACCOUNT="BILL0000001")
    assert (response.status_code, response.content) == (401, xml(
        "<CODE>7</CODE>", "<MESSAGE>Прием платежа запрещен по техническим причинам</MESSAGE>"))
