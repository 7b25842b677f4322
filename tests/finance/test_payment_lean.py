"""The lean payment path (finance/posting.py): what payment_register returns without a
re-read, the rows it writes, the balance column's limit, and its query count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from asr_billing.core.errors import Conflict, InvalidInput, NotFound
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.selectors import payment_target
from asr_billing.finance.services import charge_post, correction_post, payment_register
from asr_billing.network.services import login_create
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.selectors import (
    SubscriberRef,
    subscriber_find,
    subscriber_ref_find,
)

ALMOST_TOO_LARGE = Decimal("999999999999.99")  # the largest a MoneyField holds


def _db_row(pk: int) -> dict:
    return Operation.objects.filter(pk=pk).values().get()


def _fields(operation: Operation) -> dict:
    return {f.attname: getattr(operation, f.attname) for f in Operation._meta.concrete_fields}


def test_the_result_is_the_row_written(subscriber, operator):
    result = payment_register(
        subscriber=subscriber.contract_number,
        amount=Decimal("100.50"),
        operator=operator,
        external_id="T-1",
        actor="system_api:asr_fiscal",
        description="Payment via SBERBANK_OSMP",
    )
    assert result.created is True
    assert result.contract_number == subscriber.contract_number
    assert _fields(result.operation) == _db_row(result.operation.pk)
    assert result.operation.account_id == subscriber.pk
    assert result.operation.balance_after == Decimal("100.50")
    assert Account.objects.get(pk=subscriber.pk).balance == Decimal("100.50")


def test_the_replay_result_names_the_contract(subscriber, operator):
    first = payment_register(subscriber=subscriber, amount=Decimal("5.00"), operator=operator,
                             external_id="T-2", actor="test")
    again = payment_register(subscriber=subscriber.contract_number, amount=Decimal("5"),
                             operator=operator, external_id="T-2", actor="test")
    assert again.created is False
    assert again.contract_number == subscriber.contract_number
    assert _fields(again.operation) == _fields(first.operation)


def test_a_staff_user_is_recorded_on_the_row_and_the_audit(subscriber, operator):
    user = get_user_model().objects.create_user("cashier", password="x" * 12)
    result = payment_register(subscriber=subscriber, amount=Decimal("7.00"), actor=user)
    row = _db_row(result.operation.pk)
    assert row["created_by_id"] == user.pk
    assert row["actor"] == "admin:cashier"
    entry = AuditEntry.objects.get(action="payment")
    assert (entry.actor_user_id, entry.actor) == (user.pk, "admin:cashier")


def test_the_audit_rows_of_a_payment_that_lifts_the_cut_off(subscriber, operator):
    charge_post(subscriber=subscriber, amount=Decimal("600.00"), actor="billing",
                period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                tariff=subscriber.tariff)
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is True
    AuditEntry.objects.all().delete()  # only what the payment writes, below
    result = payment_register(subscriber=subscriber, amount=Decimal("600.00"),
                              operator=operator, external_id="T-3", actor="gateway:demo")
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is False
    payment, negbal_off = AuditEntry.objects.order_by("id")
    assert (payment.action, payment.object_type, payment.object_id) == (
        "payment", "operation", str(result.operation.pk))
    assert payment.subscriber_id == subscriber.pk
    assert payment.new == {"amount": "600.00", "operator": "SBERBANK_OSMP",
                           "external_id": "T-3", "balance": "0.00"}
    assert (negbal_off.action, negbal_off.actor, negbal_off.object_id) == (
        "negbal_off", "gateway:demo", str(subscriber.pk))
    assert negbal_off.old == {"negbal": True}
    assert negbal_off.new == {"negbal": False, "balance": "0.00"}


def test_no_state_audit_when_the_state_stays(subscriber, operator):
    AuditEntry.objects.all().delete()
    payment_register(subscriber=subscriber, amount=Decimal("1.00"), actor="test")
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["payment"]


def _unchanged(subscriber) -> tuple:
    return (Account.objects.get(pk=subscriber.pk).balance, Operation.objects.count(),
            AuditEntry.objects.count())


def test_a_balance_past_the_column_is_refused_and_changes_nothing(subscriber, operator):
    payment_register(subscriber=subscriber, amount=ALMOST_TOO_LARGE, actor="test")
    before = _unchanged(subscriber)
    with pytest.raises(InvalidInput) as refused:
        payment_register(subscriber=subscriber, amount=Decimal("0.01"), operator=operator,
                         external_id="T-4", actor="test")
    assert refused.value.code == "too_large"
    with pytest.raises(InvalidInput) as refused:
        correction_post(subscriber=subscriber, amount=Decimal("0.01"), actor="test",
                        description="too much")
    assert refused.value.code == "too_large"
    assert str(refused.value) == "Баланс стал бы слишком большим"  # Russian by default
    assert _unchanged(subscriber) == before
    # The refusal left the transaction usable: the same payment with a smaller sum
    # after a charge goes through.
    correction_post(subscriber=subscriber, amount=Decimal("-1.00"), actor="test",
                    description="room")
    assert payment_register(subscriber=subscriber, amount=Decimal("0.01"), operator=operator,
                            external_id="T-4", actor="test").created


def test_a_debit_past_the_column_is_refused(subscriber):
    correction_post(subscriber=subscriber, amount=-ALMOST_TOO_LARGE, actor="test",
                    description="debt")
    before = _unchanged(subscriber)
    with pytest.raises(InvalidInput) as refused:
        correction_post(subscriber=subscriber, amount=Decimal("-0.01"), actor="test",
                        description="more debt")
    assert refused.value.code == "too_large"
    assert _unchanged(subscriber) == before


def test_a_subscriber_without_an_account_is_not_found(subscriber):
    Account.objects.filter(pk=subscriber.pk).delete()
    with pytest.raises(NotFound):
        payment_register(subscriber=subscriber, amount=Decimal("1.00"), actor="test")
    assert Operation.objects.count() == 0


def test_a_second_1c_code_is_a_conflict_and_changes_nothing(subscriber, make_subscriber):
    payment_register(subscriber=subscriber, amount=Decimal("1.00"), actor="1c", code1c="D-1")
    other = make_subscriber(name="Петров Пётр Петрович")
    before = _unchanged(other)
    with pytest.raises(Conflict):
        payment_register(subscriber=other, amount=Decimal("2.00"), actor="1c", code1c="D-1")
    assert _unchanged(other) == before


@pytest.mark.parametrize("key", ["contract", "login", "ip", "mapped ip", "missing"])
def test_ref_find_follows_subscriber_find(subscriber, make_subscriber, nas, key):
    login_create(subscriber=subscriber, login="ivanov", password="pw-123456", nas=nas,
                 ip="10.20.30.41", actor="test")
    # A disabled login with a contract-looking login must not win over the contract.
    decoy = make_subscriber(name="Decoy")
    login_create(subscriber=decoy, login=subscriber.contract_number + "x", password="pw-123456",
                 nas=nas, actor="test")
    text = {
        "contract": subscriber.contract_number,
        "login": "ivanov",
        "ip": "10.20.30.41",
        "mapped ip": "::ffff:10.20.30.41",
        "missing": "nobody",
    }[key]
    found = subscriber_find(text)
    ref = subscriber_ref_find(text)
    if key == "missing":
        assert found is None and ref is None
    else:
        assert ref == SubscriberRef(found.pk, found.contract_number, found.name)


def test_ref_find_skips_the_ip_of_a_disabled_login(subscriber, nas):
    login = login_create(subscriber=subscriber, login="ivanov", password="pw-123456", nas=nas,
                         ip="10.20.30.42", actor="test")
    type(login).objects.filter(pk=login.pk).update(enabled=False)
    assert subscriber_ref_find("10.20.30.42") is None
    assert subscriber_find("10.20.30.42") is None


def test_a_new_payment_costs_few_queries(subscriber, operator):
    with CaptureQueriesContext(connection) as queries:
        payment_register(subscriber=subscriber.contract_number, amount=Decimal("1.00"),
                         operator=operator, external_id="T-5", actor="test")
    statements = [q["sql"] for q in queries.captured_queries
                  if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    if connection.vendor == "postgresql":
        # one call of finance_payment_post: find, lock, insert, balance, state, audit
        assert len(statements) == 1, statements
    assert not any(q["sql"].startswith("SAVEPOINT") for q in queries.captured_queries
                   if connection.vendor == "postgresql")
    assert Operation.objects.filter(type=OperationType.PAYMENT).count() == 1


def test_payment_target_finds_operator_and_subscriber_in_one_query(subscriber, operator):
    with CaptureQueriesContext(connection) as queries:
        target = payment_target(operator_code="SBERBANK_OSMP",
                                subscriber_key=subscriber.contract_number)
    assert len(queries.captured_queries) == 1
    assert (target.operator.pk, target.operator.code, target.operator.enabled) == (
        operator.pk, "SBERBANK_OSMP", True)
    assert target.subscriber == SubscriberRef(subscriber.pk, subscriber.contract_number,
                                              subscriber.name)


@pytest.mark.parametrize(("code", "key", "has_operator", "has_subscriber"), [
    ("SBERBANK_OSMP", "nobody", True, False),
    ("SBERBANK_OSMP", "", True, False),
    ("UNKNOWN", "contract", False, True),
    ("", "contract", False, True),
    ("DISABLED", "contract", False, True),  # a disabled operator counts as unknown
])
def test_payment_target_misses(subscriber, operator, code, key, has_operator, has_subscriber):
    type(operator).objects.create(code="DISABLED", name="off", enabled=False)
    target = payment_target(operator_code=code,
                            subscriber_key=subscriber.contract_number if key == "contract" else key)
    assert (target.operator is not None, target.subscriber is not None) == (
        has_operator, has_subscriber)


def test_the_prepared_statements_are_logged_like_any_query(subscriber):
    with CaptureQueriesContext(connection) as queries:
        subscriber_ref_find(subscriber.contract_number)
    assert len(queries.captured_queries) == 1
    assert "contract_number" in queries.captured_queries[0]["sql"]
