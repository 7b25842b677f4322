"""Billing test helpers: a clock in app['time_zone'] and shortcuts for the worked
examples (exact Decimals everywhere); ``cfg`` for the billing section of cfg/config is in
tests/conftest.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.tariffs.models import ChargeMethod, Tariff

D = Decimal


@pytest.fixture(autouse=True)
def english(english):
    """Our own messages are asserted in English (the catalogue translates them to
    Russian, the default); Carbon's texts are byte-exact Russian constants anyway."""
    return english


def at(day: date, hour: int = 12, minute: int = 0, tz: str = "Europe/Moscow"):
    """Freeze the clock at a local wall-clock time (time-machine, not ticking)."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
    return time_machine.travel(moment, tick=False)


def balance(subscriber) -> Decimal:
    return Account.objects.get(pk=subscriber.pk).balance


def charges(subscriber):
    """(period_start, period_end, amount) of the subscriber's charges, in posting order."""
    return [
        (op.period_start, op.period_end, op.amount)
        for op in Operation.objects.filter(
            account_id=subscriber.pk, type=OperationType.CHARGE
        ).order_by("pk")
    ]


def assert_chain(subscriber_id: int) -> None:
    """balance_after is the running sum of the ledger and ends at the cached balance."""
    running = D("0.00")
    for op in Operation.objects.filter(account_id=subscriber_id).order_by("pk"):
        running += op.amount
        assert op.balance_after == running, op
    assert Account.objects.get(pk=subscriber_id).balance == running


def assert_ledger_ok() -> None:
    """finance.selectors.ledger_mismatches() finds nothing.

    On SQLite that selector compares the cached balance with a SUM that SQLite computes
    in binary floating point (212.34 vs 212.34000000000003) and reports false mismatches
    once an account has enough rows; reported to the lead (fix: round the sum to 2
    places in SQL). Until then, on SQLite only, a difference below a kopeck is ignored.
    """
    from django.db import connection

    from asr_billing.finance.selectors import ledger_mismatches

    found = ledger_mismatches()
    if connection.vendor == "sqlite":
        found = [m for m in found if abs(m.difference) >= D("0.01")]
    assert found == []


@pytest.fixture
def make_tariff(db):
    counter = iter(range(1, 1000))

    def make(fee="600.00", method=ChargeMethod.MONTHLY_SPREAD, **kwargs):
        kwargs.setdefault("name", f"Tariff {next(counter)}")
        return Tariff.objects.create(fee=D(fee), charge_method=method, **kwargs)

    return make
