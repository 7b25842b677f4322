"""Concurrent requests against a real PostgreSQL: exactly once, exact balances.

Each thread has its own database connection (closed at its end); a barrier releases
them together so the requests really overlap.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from asr_billing.core.errors import Conflict, PaymentMismatch
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.services import charge_post, operation_reverse, payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_create, subscriber_tariff_set
from asr_billing.tariffs.models import Tariff
from tests.conftest import ACTOR, requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
THREADS = 20


def run_together(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads at once; return the results or the exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def assert_chain(subscriber_id: int) -> None:
    running = D("0.00")
    for op in Operation.objects.filter(account_id=subscriber_id).order_by("pk"):
        running += op.amount
        assert op.balance_after == running, op
    assert Account.objects.get(pk=subscriber_id).balance == running


def test_same_payment_from_20_threads_is_made_once(subscriber, operator):
    def pay(i):
        return payment_register(subscriber=subscriber.contract_number, amount=D("100.00"),
                                operator="SBERBANK_OSMP", external_id="SB-42", actor=ACTOR)

    results = run_together(THREADS, pay)
    assert [r for r in results if isinstance(r, Exception)] == []
    [operation] = Operation.objects.all()
    assert {r.operation.pk for r in results} == {operation.pk}
    assert sum(r.created for r in results) == 1
    assert Account.objects.get(pk=subscriber.pk).balance == D("100.00")
    assert_chain(subscriber.pk)


def test_20_threads_paying_different_amounts_leave_the_exact_balance(subscriber):
    amounts = [D(f"{i}.{i:02d}") for i in range(1, THREADS + 1)]

    def pay(i):
        return payment_register(subscriber=subscriber, amount=amounts[i], actor=ACTOR)

    results = run_together(THREADS, pay)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Operation.objects.count() == THREADS
    assert Account.objects.get(pk=subscriber.pk).balance == sum(amounts) == D("212.10")
    assert sorted(Operation.objects.values_list("amount", flat=True)) == amounts
    assert_chain(subscriber.pk)


def test_same_charge_from_20_threads_is_made_once(subscriber, tariff):
    def charge(i):
        return charge_post(subscriber=subscriber, amount=D("600.00"), tariff=tariff,
                           period_start=date(2023, 3, 1), period_end=date(2023, 3, 31),
                           actor=ACTOR)

    results = run_together(THREADS, charge)
    assert [r for r in results if isinstance(r, Exception)] == []
    [operation] = Operation.objects.all()
    assert operation.type == OperationType.CHARGE
    assert {r.operation.pk for r in results} == {operation.pk}
    assert sum(r.created for r in results) == 1
    assert Account.objects.get(pk=subscriber.pk).balance == D("-600.00")
    assert Subscriber.objects.get(pk=subscriber.pk).negbal is True


def test_same_payment_id_for_different_subscribers_is_made_once(make_subscriber, operator):
    subscribers = [make_subscriber(f"Абонент {i}") for i in range(THREADS)]

    def pay(i):
        return payment_register(subscriber=subscribers[i], amount=D("10.00"),
                                operator=operator, external_id="SB-7", actor=ACTOR)

    results = run_together(THREADS, pay)
    made = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(made) == 1 and made[0].created
    assert len(refused) == THREADS - 1
    assert all(isinstance(r, PaymentMismatch) for r in refused), refused
    assert Operation.objects.count() == 1
    assert sum(Account.objects.values_list("balance", flat=True)) == D("10.00")


def test_one_operation_reversed_from_many_threads_is_reversed_once(subscriber):
    payment = payment_register(subscriber=subscriber, amount=D("100.00"), actor=ACTOR).operation

    def reverse(i):
        return operation_reverse(operation=payment, actor=ACTOR)

    results = run_together(10, reverse)
    made = [r for r in results if isinstance(r, Operation)]
    assert len(made) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in made), results
    assert Operation.objects.filter(type=OperationType.REVERSAL).count() == 1
    assert Account.objects.get(pk=subscriber.pk).balance == D("0.00")
    assert_chain(subscriber.pk)


def test_concurrent_creations_get_distinct_contract_numbers(group):
    def create(i):
        return subscriber_create(name=f"Абонент {i}", group=group, actor=ACTOR).contract_number

    results = run_together(10, create)
    assert sorted(results) == [f"BILL{n:07d}" for n in range(1, 11)]


def _wait_until_blocked_or_done(thread: threading.Thread) -> None:
    """Poll until the other connection waits for a lock held by this transaction, or the
    thread has finished without waiting (what the old code did). Not a timed assertion:
    the deadline only keeps a broken build from hanging."""
    deadline = time.monotonic() + 60
    with connection.cursor() as cursor:
        while thread.is_alive() and time.monotonic() < deadline:
            # Activity statistics are a snapshot per transaction unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)


def pay_during(change, subscriber, amount: Decimal):
    """``change()`` in a transaction that keeps its locks while another connection
    registers a payment of ``amount`` for ``subscriber``; once both are done, the payment's
    result, or its exception."""
    outcome = {}

    def pay():
        try:
            outcome["result"] = payment_register(subscriber=subscriber, amount=amount,
                                                 actor=ACTOR)
        except Exception as exc:
            outcome["result"] = exc
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    with transaction.atomic():
        change()
        payer.start()
        _wait_until_blocked_or_done(payer)
    payer.join()
    return outcome["result"]


def test_payment_during_a_tariff_change_sees_the_new_tariff(make_subscriber, tariff):
    """A tariff change and a payment that overlap: negbal must follow both in the end.

    balance 0, threshold 0 -> not cut off. The change to a tariff with threshold 100 cuts
    the subscriber off; a payment of 150 made meanwhile must bring them back (150 >= 100).
    """
    strict = Tariff.objects.create(name="Strict", fee=D("300"), disconnect_threshold=D("100"))
    subscriber = make_subscriber()
    assert subscriber.negbal is False
    result = pay_during(
        lambda: subscriber_tariff_set(subscriber=subscriber, tariff=strict, actor=ACTOR),
        subscriber, D("150.00"))
    assert not isinstance(result, Exception), result
    fresh = Subscriber.objects.get(pk=subscriber.pk)
    assert fresh.tariff == strict
    assert Account.objects.get(pk=subscriber.pk).balance == D("150.00")
    assert fresh.negbal is False
