"""Ledger reads: the check that every balance equals the sum of its operations."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection

from asr_billing.finance.models import Account
from asr_billing.finance.selectors import BalanceMismatch, ledger_mismatches
from asr_billing.finance.services import correction_post, payment_register
from tests.conftest import ACTOR

D = Decimal


def test_no_mismatch_after_many_amounts_with_kopecks(make_subscriber):
    """SQLite stores decimals as floats: summing them in SQL drifts by fractions of a
    kopeck, which must not be reported as a mismatch."""
    rnd = random.Random(5)
    subscribers = [make_subscriber(f"Абонент {i}") for i in range(3)]
    expected = {s.pk: D("0.00") for s in subscribers}
    for _ in range(150):
        for s in subscribers:
            plus = D(rnd.randint(1, 10**9)) / 100
            minus = -D(rnd.randint(1, 10**9)) / 100
            payment_register(subscriber=s, amount=plus, actor=ACTOR)
            correction_post(subscriber=s, amount=minus, actor=ACTOR, description="x")
            expected[s.pk] += plus + minus
    assert {a.pk: a.balance for a in Account.objects.all()} == expected
    assert ledger_mismatches() == []


def test_tampered_balance_is_reported_exactly(make_subscriber):
    honest = make_subscriber()
    tampered = make_subscriber("Петров")
    empty = make_subscriber("Сидоров")
    for s in (honest, tampered):
        payment_register(subscriber=s, amount=D("100.10"), actor=ACTOR)
        payment_register(subscriber=s, amount=D("0.20"), actor=ACTOR)
    with connection.cursor() as cursor:
        table = Account._meta.db_table
        cursor.execute(f"UPDATE {table} SET balance = 1000.3 WHERE subscriber_id = %s",  # noqa: S608
                       [tampered.pk])
        cursor.execute(f"UPDATE {table} SET balance = -0.01 WHERE subscriber_id = %s",  # noqa: S608
                       [empty.pk])
    assert ledger_mismatches() == [
        BalanceMismatch(tampered.pk, tampered.contract_number, D("1000.30"), D("100.30")),
        BalanceMismatch(empty.pk, empty.contract_number, D("-0.01"), D("0.00")),
    ]
    assert ledger_mismatches()[0].difference == D("900.00")
