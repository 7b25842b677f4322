"""Every gateway under concurrency on PostgreSQL (real row locks, one connection per
thread): a duplicate storm posts once, parallel payments all post with exact balances."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client

from asr_billing.finance.models import Account, Operation
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("gateways")]


def at_once(count: int, send) -> list:
    """``send(client, i)`` from ``count`` threads released together; the answers."""
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def worker(i: int) -> None:
        try:
            client = Client()
            barrier.wait()
            answers[i] = send(client, i)
        except Exception as exc:  # checked by the test
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_duplicate_storm_from_20_threads_posts_once(driver, payee):
    answers = at_once(20, lambda client, i: driver.send(
        client, "pay", txn="7001", account="BILL0000001", amount="100.00"))
    operation = Operation.objects.get()
    assert [a.code for a in answers] == [driver.codes["ok"]] * 20
    assert {driver.payment_id(a) for a in answers} == {operation.pk}
    assert Account.objects.get(pk=payee.pk).balance == Decimal("100.00")


def test_15_parallel_connections_each_post_their_payment(driver, payee):
    """QIWI opens 10-15 connections at once at volume; each payment posts, exactly."""
    answers = at_once(15, lambda client, i: driver.send(
        client, "pay", txn=str(7100 + i), account="BILL0000001", amount=f"{10 + i}.00"))
    assert [a.code for a in answers] == [driver.codes["ok"]] * 15
    assert Operation.objects.count() == 15
    assert len({driver.payment_id(a) for a in answers}) == 15
    total = sum(Decimal(f"{10 + i}.00") for i in range(15))
    assert Account.objects.get(pk=payee.pk).balance == total
    running = Decimal("0.00")
    for operation in Operation.objects.filter(account_id=payee.pk).order_by("pk"):
        running += operation.amount
        assert operation.balance_after == running


def test_a_cancel_storm_reverses_once(driver, payee):
    driver.send(Client(), "pay", txn="7201", account="BILL0000001", amount="100.00")
    answers = at_once(10, lambda client, i: driver.send(client, "cancel", txn="7201"))
    assert [a.code for a in answers] == [driver.codes["ok"]] * 10
    assert Operation.objects.filter(reverses__isnull=False).count() == 1
    assert Account.objects.get(pk=payee.pk).balance == Decimal("0.00")
