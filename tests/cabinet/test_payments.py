"""add_payment_operation (a pending online payment) and its confirmation by the bank:
money arrives only on confirmation, exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asr_billing.cabinet.models import PendingPayment, PendingStatus
from asr_billing.cabinet.payments import pending_payment_cancel, pending_payment_confirm
from asr_billing.core.errors import Conflict, NotFound, PaymentMismatch
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator

from .conftest import db_state

D = Decimal


def start(cab, suid, world, amount="100.00", **extra):
    arg1 = {"suid": suid, "src_ip": "10.20.30.41",
            "contract_number": world["subscriber"].contract_number, "summa_in": amount,
            "operator": "SBERBANK_ACQ", **extra}
    return cab("add_payment_operation", arg1)


def test_add_payment_operation(cab, suid, world):
    operations = Operation.objects.count()
    answer = start(cab, suid, world, amount="250.50")
    pending = PendingPayment.objects.get()
    assert answer == {"operation_id_out": pending.pk, "summa_in": "250.50",
                      "operator": "SBERBANK_ACQ",
                      "contract_number": world["subscriber"].contract_number,
                      "status": "pending"}
    assert (pending.subscriber_id, pending.login_id, pending.amount, pending.src_ip,
            pending.status, pending.operation_id) == (
        world["subscriber"].pk, world["login"].pk, D("250.50"), "10.20.30.41", "pending", None)
    # No money yet: the bank has not confirmed.
    assert Operation.objects.count() == operations
    assert Account.objects.get(pk=world["subscriber"].pk).balance == D("390.67")
    audit = AuditEntry.objects.get(action="online_payment_start")
    assert audit.actor == "cabinet:testlogin"


def test_the_account_number_may_stand_for_the_contract(cab, suid, world):
    """The JS cabinet sends the number it cut out of "__account" as contract_number."""
    answer = start(cab, suid, world, contract_number=str(world["subscriber"].pk))
    assert answer["status"] == "pending"
    answer = start(cab, suid, world, contract_number="")
    assert answer["status"] == "pending"


@pytest.mark.parametrize("extra, error", [
    ({"summa_in": "abc"}, "Неверно введена сумма платежа"),
    ({"summa_in": "1.234"}, "Неверно введена сумма платежа"),
    ({"summa_in": "9" * 29}, "Неверно введена сумма платежа"),  # past Decimal's precision
    ({"summa_in": "1e13"}, "Неверно введена сумма платежа"),  # past the column
    ({"summa_in": "1" * 30}, "Неверно введена сумма платежа"),
    ({"summa_in": 10**13}, "Неверно введена сумма платежа"),
    ({"summa_in": "1000000000000"}, "Неверно введена сумма платежа"),
    ({"summa_in": "-5"}, "Неверно введена сумма платежа"),
    ({"summa_in": None}, "Неверно введена сумма платежа"),
    ({"summa_in": "0"}, "Сумма платежа не должна быть нулевой"),
    ({"summa_in": "0.00"}, "Сумма платежа не должна быть нулевой"),
    ({"operator": "SBERBANK_OSMP"},
     "Payments through SBERBANK_OSMP cannot be started from the cabinet"),
    ({"operator": ""}, "Payments through - cannot be started from the cabinet"),
    ({"contract_number": "BILL9999999"}, "Contract BILL9999999 is not this subscriber's"),
])
def test_refusals_change_nothing(cab, suid, world, extra, error):
    before = db_state()
    assert start(cab, suid, world, **extra) == {"error": error}
    assert db_state() == before


def test_an_operator_that_is_allowed_but_does_not_exist(cab, suid, world, config_edit):
    config_edit("cabinet", "payment.operators", "SBERBANK_ACQ NEWBANK")
    assert start(cab, suid, world, operator="NEWBANK") == {
        "error": "Unknown payment operator: NEWBANK"}
    PaymentOperator.objects.filter(code="SBERBANK_ACQ").update(enabled=False)
    assert start(cab, suid, world) == {"error": "Unknown payment operator: SBERBANK_ACQ"}


def test_sum_with_a_comma_and_as_a_number(cab, suid, world):
    assert start(cab, suid, world, amount="99,90")["summa_in"] == "99.90"
    assert cab("add_payment_operation", f'{{"suid":"{suid}","summa_in":15.5,'
               '"operator":"SBERBANK_ACQ"}')["summa_in"] == "15.50"


# --- Confirmation by the bank -------------------------------------------------------------------


def test_confirm_credits_once(cab, suid, world):
    order = start(cab, suid, world)["operation_id_out"]
    first = pending_payment_confirm(payment_id=order, actor="gateway:sberbank",
                                    amount=D("100.00"), bank_reference="a8e38d00")
    assert first.created
    operation = first.operation
    assert (operation.type, operation.amount, operation.pay_operator.code,
            operation.external_id, operation.actor) == (
        OperationType.PAYMENT, D("100.00"), "SBERBANK_ACQ", f"cabinet:{order}",
        "gateway:sberbank")
    assert Account.objects.get(pk=world["subscriber"].pk).balance == D("490.67")
    pending = PendingPayment.objects.get()
    assert (pending.status, pending.operation_id, pending.bank_reference) == (
        PendingStatus.PAID, operation.pk, "a8e38d00")
    again = pending_payment_confirm(payment_id=order, actor="gateway:sberbank")
    assert (again.created, again.operation.pk) == (False, operation.pk)
    assert Account.objects.get(pk=world["subscriber"].pk).balance == D("490.67")
    # The cabinet shows it among the payments.
    log = cab("get_pay_log", {"suid": suid})
    assert log["items"][0]["op_id"] == operation.pk and log["items"][0]["op_summa"] == "100.00"


def test_confirm_refusals(cab, suid, world):
    order = start(cab, suid, world)["operation_id_out"]
    before = db_state()
    with pytest.raises(PaymentMismatch) as error:
        pending_payment_confirm(payment_id=order, actor="gw", amount=D("10.00"))
    assert str(error.value) == f"Online payment {order} is for 100.00, not 10.00"
    with pytest.raises(NotFound):
        pending_payment_confirm(payment_id=order + 1, actor="gw")
    assert db_state() == before


def test_cancel_and_a_late_confirmation(cab, suid, world):
    order = start(cab, suid, world)["operation_id_out"]
    cancelled = pending_payment_cancel(payment_id=order, actor="gw")
    assert cancelled.status == PendingStatus.CANCELLED
    # The bank took the money after all: it is credited.
    result = pending_payment_confirm(payment_id=order, actor="gw")
    assert result.created and PendingPayment.objects.get().status == PendingStatus.PAID
    with pytest.raises(Conflict) as error:
        pending_payment_cancel(payment_id=order, actor="gw")
    assert str(error.value) == f"Online payment {order} is paid already"
