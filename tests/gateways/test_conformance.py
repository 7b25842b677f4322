"""The conformance suite every gateway passes (radius-and-payments §2.5): the same
scenarios through each wire — OSMP, Sberbank's protocol 2, SberOnline and the signed
webhook. Codes are each protocol's own (the drivers' tables in conftest.py); refusals
change nothing; ``asr-billing check`` runs after every test (conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.finance.models import Account, Operation, OperationType
from tests.conftest import db_state

from .conftest import OPERATORS, configure

pytestmark = pytest.mark.usefixtures("gateways")

MALFORMED_SUMS = ["-1", "0", "1e3", "NaN", "100.005", "1" * 30, ""]


def balance(subscriber) -> Decimal:
    return Account.objects.get(pk=subscriber.pk).balance


def test_check_of_an_existing_account(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "check", txn="5001", account="BILL0000001")
    assert (answer.status, answer.code) == (200, driver.codes["ok"])
    assert db_state() == before


def test_check_of_an_unknown_account(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "check", txn="5001", account="BILL0000999")
    assert (answer.status, answer.code) == (200 if driver.type != "webhook" else 404,
                                            driver.codes["not_found"])
    assert db_state() == before


def test_pay_credits_once(client, driver, payee):
    answer = driver.send(client, "pay", txn="5002", account="BILL0000001", amount="100.50")
    assert (answer.status, answer.code) == (200, driver.codes["ok"])
    operation = Operation.objects.get()
    assert driver.payment_id(answer) == operation.pk
    assert answer[driver.sum_field] == "100.50"
    assert (operation.type, operation.amount, operation.external_id) == (
        OperationType.PAYMENT, Decimal("100.50"), "5002")
    assert operation.pay_operator.code == OPERATORS[driver.type]
    assert operation.actor == f"gateway:{driver.type}.test"
    assert balance(payee) == Decimal("100.50")


def test_replay_returns_the_original_answer(client, driver, payee):
    first = driver.send(client, "pay", txn="5003", account="BILL0000001", amount="100.00")
    second = driver.send(client, "pay", txn="5003", account="BILL0000001", amount="100.00")
    assert second.code == driver.codes["ok"]
    assert driver.payment_id(second) == driver.payment_id(first)
    if driver.type != "webhook":  # the XML answer is the same byte for byte
        assert second.raw == first.raw
    else:
        assert {**second.fields, "replay": False} == first.fields
    assert Operation.objects.count() == 1
    assert balance(payee) == Decimal("100.00")


def test_replay_with_another_sum_is_refused(client, driver, payee):
    first = driver.send(client, "pay", txn="5004", account="BILL0000001", amount="100.00")
    before = db_state()
    answer = driver.send(client, "pay", txn="5004", account="BILL0000001", amount="150.00")
    assert answer.code == driver.codes["mismatch"]
    assert db_state() == before
    assert balance(payee) == Decimal("100.00")
    if driver.name in ("sberonline", "webhook"):  # both name the original payment
        assert driver.payment_id(answer) == driver.payment_id(first)


def test_replay_to_another_account_is_refused(client, driver, payee, make_subscriber):
    other = make_subscriber(name="Петров Пётр Петрович")
    driver.send(client, "pay", txn="5005", account="BILL0000001", amount="100.00")
    before = db_state()
    answer = driver.send(client, "pay", txn="5005", account=other.contract_number,
                         amount="100.00")
    assert answer.code == driver.codes["mismatch"]
    assert db_state() == before


@pytest.mark.parametrize(("amount", "reason"), [("9.99", "too_small"), ("5000.01", "too_large")])
def test_sums_outside_the_limits_are_refused(client, driver, payee, amount, reason):
    before = db_state()
    answer = driver.send(client, "pay", txn="5006", account="BILL0000001", amount=amount)
    assert answer.code == driver.codes[reason]
    assert db_state() == before


@pytest.mark.parametrize("amount", ["10.00", "5000.00"])
def test_the_limits_themselves_are_accepted(client, driver, payee, amount):
    answer = driver.send(client, "pay", txn="5007", account="BILL0000001", amount=amount)
    assert answer.code == driver.codes["ok"]
    assert balance(payee) == Decimal(amount)


@pytest.mark.parametrize("amount", MALFORMED_SUMS, ids=repr)
def test_malformed_sums_are_refused(client, driver, payee, amount):
    before = db_state()
    answer = driver.send(client, "pay", txn="5008", account="BILL0000001", amount=amount)
    assert answer.code == driver.codes["bad_amount"]
    assert db_state() == before


def test_a_pay_without_a_sum_is_refused(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "pay", txn="5009", account="BILL0000001")
    assert answer.code == driver.codes["bad_amount"]
    assert db_state() == before


def test_a_check_with_a_sum_outside_the_limits_is_refused(client, driver, payee):
    answer = driver.send(client, "check", txn="5010", account="BILL0000001", amount="5000.01")
    assert answer.code == driver.codes["too_large"]


def test_wrong_source_ip_is_refused(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "pay", txn="5011", account="BILL0000001", amount="100.00",
                         ip="10.9.9.9")
    assert (answer.status, answer.code) == (403, driver.codes["forbidden"])
    assert db_state() == before


def test_wrong_credentials_are_refused(client, driver, payee):
    before = db_state()
    # A wrong basic-auth password; for the webhook a signature under another key.
    wrong = "wrong-key" if driver.type == "webhook" else ("terminal", "guess")
    answer = driver.send(client, "pay", txn="5012", account="BILL0000001", amount="100.00",
                         auth=wrong)
    assert (answer.status, answer.code) == (401, driver.codes["unauthorized"])
    assert db_state() == before


def test_missing_credentials_are_refused(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "pay", txn="5013", account="BILL0000001", amount="100.00",
                         auth=False)
    assert (answer.status, answer.code) == (401, driver.codes["unauthorized"])
    assert db_state() == before


def test_a_malformed_transaction_id_is_refused(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "pay", txn="12 34", account="BILL0000001", amount="100.00")
    assert answer.code == driver.codes["bad_txn"]
    assert db_state() == before


def test_an_unknown_command_is_refused(client, driver, payee):
    answer = driver.send(client, "refund", txn="5014", account="BILL0000001")
    assert answer.code == driver.codes["unknown_command"]


def test_cancel_reverses_the_payment(client, driver, payee):
    paid = driver.send(client, "pay", txn="5015", account="BILL0000001", amount="100.00")
    answer = driver.send(client, "cancel", txn="5015")
    assert (answer.status, answer.code) == (200, driver.codes["ok"])
    payment = Operation.objects.get(type=OperationType.PAYMENT)
    reversal = Operation.objects.get(type=OperationType.REVERSAL)
    assert driver.payment_id(answer) == driver.payment_id(paid) == payment.pk
    assert (reversal.reverses_id, reversal.amount) == (payment.pk, Decimal("-100.00"))
    assert reversal.actor == f"gateway:{driver.type}.test"
    assert balance(payee) == Decimal("0.00")


def test_cancel_of_a_cancelled_payment_answers_the_same_and_reverses_once(
        client, driver, payee):
    driver.send(client, "pay", txn="5016", account="BILL0000001", amount="100.00")
    first = driver.send(client, "cancel", txn="5016")
    before = db_state()
    second = driver.send(client, "cancel", txn="5016")
    assert second.code == driver.codes["ok"]
    assert driver.payment_id(second) == driver.payment_id(first)
    assert db_state() == before
    assert Operation.objects.filter(type=OperationType.REVERSAL).count() == 1
    assert balance(payee) == Decimal("0.00")


def test_a_pay_after_its_cancel_is_the_original_answer_not_a_new_payment(
        client, driver, payee):
    paid = driver.send(client, "pay", txn="5017", account="BILL0000001", amount="100.00")
    driver.send(client, "cancel", txn="5017")
    again = driver.send(client, "pay", txn="5017", account="BILL0000001", amount="100.00")
    assert driver.payment_id(again) == driver.payment_id(paid)
    assert Operation.objects.filter(type=OperationType.PAYMENT).count() == 1
    assert balance(payee) == Decimal("0.00")


def test_cancel_of_an_unknown_payment_is_refused(client, driver, payee):
    before = db_state()
    answer = driver.send(client, "cancel", txn="5999")
    assert answer.code == driver.codes["cancel_not_found"]
    assert db_state() == before


def test_cancel_is_an_unknown_command_where_it_is_not_enabled(
        client, driver, payee, config_edit):
    driver.send(client, "pay", txn="5018", account="BILL0000001", amount="100.00")
    config_edit("payments", f"{driver.type}.test.cancel", "no")
    before = db_state()
    answer = driver.send(client, "cancel", txn="5018")
    assert answer.code == driver.codes["unknown_command"]
    assert db_state() == before


def test_a_disabled_instance_is_not_there(client, driver, payee, config_edit):
    config_edit("payments", f"{driver.type}.test.enabled", "no")
    response = client.get(driver.url(), {"command": "check"})
    assert (response.status_code, response.content) == (404, b"Not found\n")
    assert client.get(driver.url("nosuch")).status_code == 404


def test_the_payment_operator_switched_off_refuses_payments(client, driver, payee):
    from asr_billing.finance.models import PaymentOperator

    PaymentOperator.objects.filter(code=OPERATORS[driver.type]).update(enabled=False)
    before = db_state()
    assert driver.send(client, "check", txn="5019", account="BILL0000001").code == (
        driver.codes["refused"])
    answer = driver.send(client, "pay", txn="5019", account="BILL0000001", amount="100.00")
    assert answer.code == driver.codes["refused"]
    assert db_state() == before


@pytest.mark.parametrize(("setting", "state"), [("allow_blocked", {"admin_blocked": True}),
                                                ("allow_negative", "negative")])
def test_an_instance_may_refuse_blocked_or_negative_subscribers(
        client, driver, payee, config_edit, setting, state):
    from asr_billing.finance.services import correction_post
    from asr_billing.subscribers.models import Subscriber

    if state == "negative":
        correction_post(subscriber=payee, amount=Decimal("-50.00"), actor="t",
                        description="debt")
    else:
        Subscriber.objects.filter(pk=payee.pk).update(**state)
    # By default they may pay.
    assert driver.send(client, "check", txn="5020", account="BILL0000001").code == (
        driver.codes["ok"])
    configure(config_edit, driver.type, **{setting: "no"})
    before = db_state()
    assert driver.send(client, "check", txn="5020", account="BILL0000001").code == (
        driver.codes["inactive"])
    answer = driver.send(client, "pay", txn="5020", account="BILL0000001", amount="100.00")
    assert answer.code == driver.codes["inactive"]
    assert db_state() == before


def test_a_payment_made_before_a_block_is_still_answered_as_made(
        client, driver, payee, config_edit):
    from asr_billing.subscribers.models import Subscriber

    paid = driver.send(client, "pay", txn="5021", account="BILL0000001", amount="100.00")
    configure(config_edit, driver.type, allow_blocked="no")
    Subscriber.objects.filter(pk=payee.pk).update(admin_blocked=True)
    again = driver.send(client, "pay", txn="5021", account="BILL0000001", amount="100.00")
    assert again.code == driver.codes["ok"]
    assert driver.payment_id(again) == driver.payment_id(paid)
    assert Operation.objects.count() == 1


@pytest.mark.parametrize(("by", "account"), [
    ("contract", "BILL0000001"), ("login", "payer1"), ("ip", "10.20.30.41"), ("id", None)])
def test_the_account_is_found_the_configured_way(client, driver, payee, config_edit, by,
                                                 account):
    configure(config_edit, driver.type, account=by)
    account = account or str(payee.pk)
    answer = driver.send(client, "pay", txn="5022", account=account, amount="100.00")
    assert answer.code == driver.codes["ok"]
    assert Operation.objects.get().account_id == payee.pk
    # The other kinds of key do not find the subscriber under this setting.
    other = "payer1" if by != "login" else "BILL0000001"
    assert driver.send(client, "check", txn="5023", account=other).code in (
        driver.codes["not_found"], driver.codes["bad_account"])


@pytest.mark.parametrize(("by", "account"), [("ip", "10.20.30"), ("id", "12a"), ("id", "")])
def test_an_account_that_cannot_be_such_a_key_is_a_format_error(
        client, driver, payee, config_edit, by, account):
    configure(config_edit, driver.type, account=by)
    before = db_state()
    answer = driver.send(client, "pay", txn="5024", account=account, amount="100.00")
    assert answer.code == driver.codes["bad_account"]
    assert db_state() == before


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(client, driver, payee, config_edit):
    configure(config_edit, driver.type, allowed_ips="203.0.113.7")
    # From an untrusted peer the header is ignored.
    config_edit("network", "api.trusted_proxies", "")
    answer = _check_via(client, driver, "198.51.100.1", "203.0.113.7")
    assert answer.code == driver.codes["forbidden"]
    # From a trusted proxy the client is the address it forwards.
    config_edit("network", "api.trusted_proxies", "198.51.100.1")
    answer = _check_via(client, driver, "198.51.100.1", "203.0.113.7")
    assert answer.code == driver.codes["ok"]


def _check_via(client, driver, peer: str, forwarded: str):
    original = client.defaults.copy()
    client.defaults["HTTP_X_FORWARDED_FOR"] = forwarded
    try:
        return driver.send(client, "check", txn="5025", account="BILL0000001", ip=peer)
    finally:
        client.defaults = original


def test_a_config_edit_applies_to_the_next_request(client, driver, payee, config_edit):
    assert driver.send(client, "pay", txn="5026", account="BILL0000001",
                       amount="600.00").code == driver.codes["ok"]
    config_edit("payments", f"{driver.type}.test.max_sum", "500.00")
    answer = driver.send(client, "pay", txn="5027", account="BILL0000001", amount="600.00")
    assert answer.code == driver.codes["too_large"]
