"""Money-moving services: exact Decimals, the ledger chain, audit rows, negbal, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from asr_billing.core.errors import Conflict, InvalidInput, NotFound, PaymentMismatch
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType, PaymentOperator
from asr_billing.finance.services import (
    account_lock,
    charge_post,
    correction_post,
    operation_reverse,
    payment_register,
)
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_credit_set
from asr_billing.tariffs.models import Service, Tariff
from tests.conftest import ACTOR, db_state

pytestmark = pytest.mark.usefixtures("english")

D = Decimal
MARCH = date(2023, 3, 1)
MARCH_END = date(2023, 3, 31)


def balance(subscriber) -> Decimal:
    return Account.objects.get(pk=subscriber.pk).balance


def negbal(subscriber) -> bool:
    return Subscriber.objects.get(pk=subscriber.pk).negbal


def audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def pay(subscriber, amount="100.00", **kwargs):
    kwargs.setdefault("actor", ACTOR)
    return payment_register(subscriber=subscriber, amount=D(amount), **kwargs)


def charge(subscriber, amount="600.00", *, tariff=None, start=MARCH, end=MARCH_END, **kwargs):
    kwargs.setdefault("actor", ACTOR)
    if tariff is None and "service" not in kwargs:
        tariff = subscriber.tariff
    return charge_post(
        subscriber=subscriber,
        amount=D(amount),
        tariff=tariff,
        period_start=start,
        period_end=end,
        **kwargs,
    )


def assert_chain(subscriber) -> None:
    """balance_after of each row == the previous one + its amount; the last == balance."""
    running = D("0.00")
    for op in Operation.objects.filter(account_id=subscriber.pk).order_by("pk"):
        running += op.amount
        assert op.balance_after == running, op
    assert balance(subscriber) == running


# -- payment_register ----------------------------------------------------------------------


def test_payment_credits_the_account_and_writes_audit(subscriber, operator):
    op_date = datetime(2023, 3, 15, 10, 20, 30, tzinfo=UTC)
    result = pay(
        subscriber,
        "150.50",
        operator=operator,
        external_id="SB-1",
        op_date=op_date,
        description="Терминал №5",
        actor="system_api:asr_fiscal",
    )
    assert result.created is True
    op = Operation.objects.get()
    assert op == result.operation
    assert op.type == OperationType.PAYMENT
    assert op.amount == D("150.50")
    assert op.balance_after == D("150.50")
    assert op.op_date == op_date
    assert op.description == "Терминал №5"
    assert (op.pay_operator, op.external_id) == (operator, "SB-1")
    assert (op.actor, op.created_by) == ("system_api:asr_fiscal", None)
    assert (op.code1c, op.synced_1c) == ("", False)
    assert balance(subscriber) == D("150.50")
    [entry] = audit("payment")
    assert entry.actor == "system_api:asr_fiscal"
    assert entry.subscriber_id == subscriber.pk
    assert (entry.object_type, entry.object_id) == ("operation", str(op.pk))
    assert entry.new == {
        "amount": "150.50",
        "operator": "SBERBANK_OSMP",
        "external_id": "SB-1",
        "balance": "150.50",
    }


def test_payments_add_up_exactly(subscriber):
    for amount in ["0.10", "0.20", "0.01", "999.99", "33.33", "33.33", "33.34"]:
        pay(subscriber, amount)
    assert balance(subscriber) == D("1100.30")
    assert_chain(subscriber)


def test_payment_by_staff_user_records_the_user(subscriber, django_user_model):
    user = django_user_model.objects.create_user("kassir", password="x")
    op = pay(subscriber, actor=user).operation
    assert (op.created_by, op.actor) == (user, "admin:kassir")
    assert audit("payment")[0].actor_user == user


def test_payment_with_1c_code_is_synced(subscriber):
    op = pay(subscriber, code1c="ПП-000123").operation
    assert (op.code1c, op.synced_1c) == ("ПП-000123", True)


def test_payment_found_by_contract_number(subscriber):
    result = pay(f"  {subscriber.contract_number} ")
    assert result.operation.account_id == subscriber.pk
    assert balance(subscriber) == D("100.00")


def test_payment_found_by_login(subscriber, make_login):
    make_login(subscriber, "testlogin", ip="10.20.30.41")
    assert pay("testlogin").operation.account_id == subscriber.pk


def test_payment_found_by_ip_of_an_enabled_login(subscriber, make_login):
    make_login(subscriber, "testlogin", ip="10.20.30.41")
    assert pay("10.20.30.41").operation.account_id == subscriber.pk
    make_login(subscriber, "v6", ip="2001:db8::41")
    assert pay("2001:DB8:0::41").operation.account_id == subscriber.pk
    assert pay("::ffff:10.20.30.41").operation.account_id == subscriber.pk
    assert balance(subscriber) == D("300.00")


def test_payment_does_not_match_the_ip_of_a_disabled_login(subscriber, make_login):
    make_login(subscriber, "old", ip="10.20.30.41", enabled=False)
    before = db_state()
    with pytest.raises(NotFound) as info:
        pay("10.20.30.41")
    assert str(info.value) == "Subscriber not found: 10.20.30.41"
    assert db_state() == before


def test_contract_number_wins_over_a_login_of_the_same_name(make_subscriber, make_login):
    first = make_subscriber()
    second = make_subscriber("Петров")
    make_login(second, first.contract_number)
    assert pay(first.contract_number).operation.account_id == first.pk


def test_payment_to_an_unknown_subscriber_is_refused(subscriber, operator):
    before = db_state()
    with pytest.raises(NotFound) as info:
        pay("BILL9999999", operator=operator, external_id="1")
    assert str(info.value) == "Subscriber not found: BILL9999999"
    assert info.value.code == "not_found"
    assert db_state() == before


def test_replay_returns_the_original(subscriber, operator):
    first = pay(subscriber.contract_number, "100.00", operator=operator, external_id="777")
    before = db_state()
    again = pay(subscriber, "100", operator="SBERBANK_OSMP", external_id=" 777 ")
    assert again.created is False
    assert again.operation.pk == first.operation.pk
    assert again.operation.amount == D("100.00")
    assert db_state() == before
    assert balance(subscriber) == D("100.00")


@pytest.mark.parametrize("other", ["amount", "subscriber"])
def test_replay_with_another_amount_or_subscriber_is_refused(make_subscriber, operator, other):
    subscriber = make_subscriber()
    someone_else = make_subscriber("Петров Пётр")
    original = pay(subscriber, "100.00", operator=operator, external_id="777").operation
    before = db_state()
    with pytest.raises(PaymentMismatch) as info:
        if other == "amount":
            pay(subscriber, "100.01", operator=operator, external_id="777")
        else:
            pay(someone_else, "100.00", operator=operator, external_id="777")
    assert str(info.value) == "Payment 777 was already made with another amount or subscriber"
    assert info.value.code == "payment_mismatch"
    assert info.value.extra["operation"].pk == original.pk
    assert db_state() == before


def test_same_external_id_from_another_operator_is_another_payment(subscriber, operator):
    other = PaymentOperator.objects.create(code="QIWI", name="QIWI")
    pay(subscriber, operator=operator, external_id="1")
    assert pay(subscriber, operator=other, external_id="1").created is True
    assert balance(subscriber) == D("200.00")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"operator": "NOPE"}, NotFound, "Unknown payment operator: NOPE"),
        ({"operator": "OFF"}, InvalidInput, "Payment operator OFF is disabled"),
        ({"operator": "<off>"}, InvalidInput, "Payment operator OFF is disabled"),
        ({"external_id": "5"}, InvalidInput, "A payment id needs a payment operator"),
        (
            {"operator": "SBERBANK_OSMP", "external_id": "x" * 101},
            InvalidInput,
            "The payment id is longer than 100 characters",
        ),
    ],
)
def test_bad_operator_or_payment_id_is_refused(subscriber, operator, kwargs, error, message):
    disabled = PaymentOperator.objects.create(code="OFF", name="Off", enabled=False)
    if kwargs.get("operator") == "<off>":
        kwargs["operator"] = disabled
    before = db_state()
    with pytest.raises(error) as info:
        pay(subscriber, **kwargs)
    assert str(info.value) == message
    assert db_state() == before


def test_a_disabled_operator_cannot_replay_either(subscriber, operator):
    pay(subscriber, operator=operator, external_id="1")
    PaymentOperator.objects.filter(pk=operator.pk).update(enabled=False)
    before = db_state()
    with pytest.raises(InvalidInput):
        pay(subscriber, operator="SBERBANK_OSMP", external_id="1")
    assert db_state() == before


POSITIVE_2DP = "The amount must be positive with at most 2 decimal places"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("0"), POSITIVE_2DP),
        (D("0.00"), POSITIVE_2DP),
        (D("-100.00"), POSITIVE_2DP),
        (D("100.001"), POSITIVE_2DP),
        (D("0.001"), POSITIVE_2DP),
        (D("NaN"), POSITIVE_2DP),
        (D("Infinity"), POSITIVE_2DP),
        (D("1000000000000.00"), "The amount is too large"),
        (D("1e30"), "The amount is too large"),
    ],
)
def test_bad_amounts_are_refused(subscriber, operator, amount, message):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        payment_register(
            subscriber=subscriber, amount=amount, operator=operator, external_id="1", actor=ACTOR
        )
    assert str(info.value) == message
    assert db_state() == before


@pytest.mark.parametrize("amount", [100.0, 100, "100.00", None])
def test_amounts_that_are_not_decimal_raise_type_error(subscriber, amount):
    before = db_state()
    with pytest.raises(TypeError, match="amount must be a Decimal"):
        payment_register(subscriber=subscriber, amount=amount, actor=ACTOR)
    assert db_state() == before


def test_largest_storable_amount(subscriber):
    pay(subscriber, "999999999999.99")
    assert balance(subscriber) == D("999999999999.99")


def test_duplicate_1c_code_is_refused(make_subscriber):
    first = make_subscriber()
    pay(first, code1c="ПП-1")
    second = make_subscriber("Петров")
    before = db_state()
    with pytest.raises(Conflict) as info:
        pay(second, code1c="ПП-1")
    assert str(info.value) == "An operation with 1C code ПП-1 exists already"
    assert db_state() == before


# -- negbal -----------------------------------------------------------------------------------


def test_charge_sets_negbal_and_payment_lifts_it_in_the_same_transaction(subscriber):
    assert negbal(subscriber) is False
    charge(subscriber, "600.00")
    assert balance(subscriber) == D("-600.00")
    assert negbal(subscriber) is True
    [on] = audit("negbal_on")
    assert on.subscriber_id == subscriber.pk
    assert on.old == {"negbal": False}
    assert on.new == {"negbal": True, "balance": "-600.00"}
    pay(subscriber, "599.99")
    assert balance(subscriber) == D("-0.01")
    assert negbal(subscriber) is True
    assert audit("negbal_off") == []
    pay(subscriber, "0.01")
    assert balance(subscriber) == D("0.00")
    assert negbal(subscriber) is False  # 0 is not below the threshold 0
    [off] = audit("negbal_off")
    assert off.new == {"negbal": False, "balance": "0.00"}
    assert len(audit("negbal_on")) == 1
    assert_chain(subscriber)


def test_negbal_moves_in_the_payment_transaction(subscriber):
    charge(subscriber, "600.00")
    with pytest.raises(RuntimeError), transaction.atomic():
        pay(subscriber, "600.00")
        assert (balance(subscriber), negbal(subscriber)) == (D("0.00"), False)
        raise RuntimeError("roll back")
    # Rolled back together: neither the money nor the state moved on its own.
    assert (balance(subscriber), negbal(subscriber)) == (D("-600.00"), True)
    assert audit("negbal_off") == []


def test_threshold_counts(make_subscriber, group):
    strict = Tariff.objects.create(name="Strict", fee=D("300"), disconnect_threshold=D("10.00"))
    subscriber = make_subscriber(tariff=strict)
    pay(subscriber, "50.00")
    assert negbal(subscriber) is False
    charge(subscriber, "40.00")
    assert balance(subscriber) == D("10.00")
    assert negbal(subscriber) is False  # 10 is not below 10
    correction_post(subscriber=subscriber, amount=D("-0.01"), actor=ACTOR, description="fix")
    assert negbal(subscriber) is True


def test_a_new_subscriber_below_the_threshold_is_negbal_at_once(make_subscriber):
    strict = Tariff.objects.create(name="Strict", fee=D("300"), disconnect_threshold=D("10.00"))
    subscriber = make_subscriber(tariff=strict)
    assert negbal(subscriber) is True
    pay(subscriber, "10.00")
    assert negbal(subscriber) is False


def test_credit_limit_counts(make_subscriber):
    subscriber = make_subscriber(credit_limit=D("500.00"))
    charge(subscriber, "500.00")
    assert balance(subscriber) == D("-500.00")
    assert negbal(subscriber) is False
    charge(subscriber, "0.01", start=date(2023, 4, 1), end=date(2023, 4, 30))
    assert negbal(subscriber) is True
    subscriber_credit_set(subscriber=subscriber, credit_limit=D("600.00"), actor=ACTOR)
    assert negbal(subscriber) is False
    [entry] = audit("credit_change")
    assert (entry.old, entry.new) == ({"credit_limit": "500.00"}, {"credit_limit": "600.00"})


def test_promised_payment_counts(subscriber):
    Account.objects.filter(pk=subscriber.pk).update(promised_amount=D("600.00"))
    charge(subscriber, "600.00")
    assert negbal(subscriber) is False
    Account.objects.filter(pk=subscriber.pk).update(promised_amount=D("599.99"))
    pay(subscriber, "0.01")
    correction_post(subscriber=subscriber, amount=D("-0.02"), actor=ACTOR, description="fee")
    assert balance(subscriber) == D("-600.01")
    assert negbal(subscriber) is True


def test_subscriber_without_tariff_uses_threshold_zero(make_subscriber):
    subscriber = make_subscriber(tariff=None)
    correction_post(subscriber=subscriber, amount=D("-1.00"), actor=ACTOR, description="x")
    assert negbal(subscriber) is True


# -- charge_post --------------------------------------------------------------------------------


def test_charge_posts_a_negative_operation(subscriber, tariff):
    result = charge(subscriber, "600.00", description="Абонентская плата за март")
    assert result.created is True
    op = result.operation
    assert op.type == OperationType.CHARGE
    assert op.amount == D("-600.00")
    assert op.balance_after == D("-600.00")
    assert (op.tariff, op.service) == (tariff, None)
    assert (op.period_start, op.period_end) == (MARCH, MARCH_END)
    assert op.description == "Абонентская плата за март"
    [entry] = audit("charge")
    assert entry.new == {"amount": "-600.00", "balance": "-600.00"}


def test_charge_happens_exactly_once_per_tariff_and_period(subscriber):
    first = charge(subscriber, "600.00")
    before = db_state()
    again = charge(subscriber, "600.00")
    assert again.created is False
    assert again.operation.pk == first.operation.pk
    # A rerun that computes another amount still gets the charge already made.
    assert charge(subscriber, "599.00", end=date(2023, 3, 30)).operation.pk == first.operation.pk
    assert db_state() == before
    assert balance(subscriber) == D("-600.00")


def test_next_period_and_another_tariff_are_charged(subscriber):
    charge(subscriber, "600.00")
    charge(subscriber, "600.00", start=date(2023, 4, 1), end=date(2023, 4, 30))
    other = Tariff.objects.create(name="Other", fee=D("10.00"))
    charge(subscriber, "10.00", tariff=other)
    assert balance(subscriber) == D("-1210.00")
    assert_chain(subscriber)


def test_service_charge_once(subscriber):
    service = Service.objects.create(name="Static IP", fee=D("150.00"))
    first = charge_post(subscriber=subscriber, amount=D("150.00"), service=service,
                        period_start=MARCH, period_end=MARCH_END, actor=ACTOR)
    again = charge_post(subscriber=subscriber, amount=D("150.00"), service=service,
                        period_start=MARCH, period_end=MARCH_END, actor=ACTOR)
    assert (first.created, again.created) == (True, False)
    assert first.operation.service == service
    assert balance(subscriber) == D("-150.00")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tariff": None}, "A charge is for exactly one tariff or one service"),
        ({"service": "<service>"}, "A charge is for exactly one tariff or one service"),
        ({"end": date(2023, 2, 28)}, "The period ends before it starts"),
        ({"amount": "0.00"}, POSITIVE_2DP),
        ({"amount": "-600.00"}, POSITIVE_2DP),
        ({"amount": "600.001"}, POSITIVE_2DP),
    ],
)
def test_bad_charge_is_refused(subscriber, tariff, kwargs, message):
    service = Service.objects.create(name="TV", fee=D("1"))
    if kwargs.get("service") == "<service>":
        kwargs["service"] = service
    args = {"subscriber": subscriber, "amount": D(kwargs.pop("amount", "600.00")),
            "tariff": kwargs.pop("tariff", tariff), "period_start": MARCH,
            "period_end": kwargs.pop("end", MARCH_END), "actor": ACTOR, **kwargs}
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        charge_post(**args)
    assert str(info.value) == message
    assert db_state() == before


def test_charge_refuses_float(subscriber, tariff):
    before = db_state()
    with pytest.raises(TypeError, match="amount must be a Decimal"):
        charge_post(subscriber=subscriber, amount=600.0, tariff=tariff, period_start=MARCH,
                    period_end=MARCH_END, actor=ACTOR)
    assert db_state() == before


# -- correction_post -------------------------------------------------------------------------------


def test_corrections_are_signed(subscriber):
    plus = correction_post(subscriber=subscriber, amount=D("50.00"), actor=ACTOR,
                           description="  Перерасчёт за аварию  ")
    minus = correction_post(subscriber=subscriber, amount=D("-30.25"), actor=ACTOR,
                            description="Ошибка кассира")
    assert (plus.type, plus.amount, plus.balance_after) == (
        OperationType.CORRECTION, D("50.00"), D("50.00"))
    assert (minus.amount, minus.balance_after) == (D("-30.25"), D("19.75"))
    assert plus.description == "Перерасчёт за аварию"
    entries = audit("correction")
    assert [e.message for e in entries] == ["Перерасчёт за аварию", "Ошибка кассира"]
    assert entries[1].new == {"amount": "-30.25", "balance": "19.75"}
    assert balance(subscriber) == D("19.75")


@pytest.mark.parametrize(
    ("amount", "description", "message"),
    [
        (D("10.00"), "", "A correction needs a description"),
        (D("10.00"), "   ", "A correction needs a description"),
        (D("0.00"), "x", "The amount must be non-zero with at most 2 decimal places"),
        (D("10.005"), "x", "The amount must be non-zero with at most 2 decimal places"),
        (D("-1E+12"), "x", "The amount is too large"),
    ],
)
def test_bad_correction_is_refused(subscriber, amount, description, message):
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        correction_post(subscriber=subscriber, amount=amount, actor=ACTOR, description=description)
    assert str(info.value) == message
    assert db_state() == before


def test_correction_refuses_float(subscriber):
    with pytest.raises(TypeError, match="amount must be a Decimal"):
        correction_post(subscriber=subscriber, amount=-1.5, actor=ACTOR, description="x")


# -- operation_reverse ---------------------------------------------------------------------------


def test_reversal_cancels_a_payment_once(subscriber, operator):
    payment = pay(subscriber, "100.00", operator=operator, external_id="9").operation
    reversal = operation_reverse(operation=payment, actor=ACTOR)
    assert reversal.type == OperationType.REVERSAL
    assert reversal.amount == D("-100.00")
    assert reversal.balance_after == D("0.00")
    assert reversal.reverses == payment
    assert reversal.description == f"Reversal of operation #{payment.pk}"
    assert (reversal.pay_operator, reversal.external_id) == (None, "")
    payment.refresh_from_db()
    assert payment.is_reversed
    assert balance(subscriber) == D("0.00")
    [entry] = audit("reversal")
    assert entry.old == {"operation": payment.pk, "amount": "100.00"}
    assert entry.new == {"amount": "-100.00", "balance": "0.00"}

    before = db_state()
    with pytest.raises(Conflict) as info:
        operation_reverse(operation=payment, actor=ACTOR)
    assert str(info.value) == f"Operation #{payment.pk} is already reversed"
    assert db_state() == before
    # The payment id stays used: a replay returns the (reversed) original.
    assert pay(subscriber, "100.00", operator=operator, external_id="9").created is False
    assert db_state() == before


def test_reversal_is_never_reversed(subscriber):
    payment = pay(subscriber).operation
    reversal = operation_reverse(operation=payment, actor=ACTOR, description="Ошибочный платёж")
    assert reversal.description == "Ошибочный платёж"
    before = db_state()
    with pytest.raises(InvalidInput) as info:
        operation_reverse(operation=reversal, actor=ACTOR)
    assert str(info.value) == "A reversal cannot be reversed"
    assert db_state() == before


def test_reversing_a_charge_lifts_negbal(subscriber):
    op = charge(subscriber).operation
    assert negbal(subscriber) is True
    reversal = operation_reverse(operation=op, actor=ACTOR)
    assert reversal.amount == D("600.00")
    assert balance(subscriber) == D("0.00")
    assert negbal(subscriber) is False
    # The charge stays taken for its period: billing will not post it again.
    assert charge(subscriber).created is False
    assert balance(subscriber) == D("0.00")
    assert_chain(subscriber)


def test_reversing_a_stale_operation_object_is_refused(subscriber):
    payment = pay(subscriber).operation
    stale = Operation.objects.get(pk=payment.pk)
    operation_reverse(operation=payment, actor=ACTOR)
    before = db_state()
    with pytest.raises(Conflict):
        operation_reverse(operation=stale, actor=ACTOR)
    assert db_state() == before


# -- account_lock ---------------------------------------------------------------------------------


def test_account_lock_returns_a_fresh_row(subscriber):
    account = subscriber.account
    Account.objects.filter(pk=subscriber.pk).update(balance=D("5.00"))
    locked = account_lock(subscriber.pk)
    assert locked.balance == D("5.00")
    assert account.balance == D("0.00")
    assert locked.subscriber.tariff == subscriber.tariff
