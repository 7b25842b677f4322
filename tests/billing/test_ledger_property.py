"""For any sequence of payments, reversals, tariff changes, promised payments and runs,
`asr-billing check` holds: every balance equals the sum of its ledger, and each row's
balance_after is the running sum (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr_billing.billing.run import billing_run
from asr_billing.billing.services import promised_payment_take, tariff_change_now
from asr_billing.core.errors import ApplicationError
from asr_billing.finance.models import Operation
from asr_billing.finance.services import operation_reverse, payment_register
from asr_billing.subscribers.services import subscriber_create
from asr_billing.tariffs.models import Tariff
from tests.billing.conftest import assert_chain, assert_ledger_ok, at


class Undo(Exception):
    pass


amounts = st.integers(1, 100_000).map(lambda c: Decimal(c) / 100)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 2), amounts),
        st.tuples(st.just("run"), st.integers(0, 3)),
        st.tuples(st.just("reverse"), st.integers(0, 50)),
        st.tuples(st.just("change"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("promise"), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=steps, first=st.dates(date(2026, 1, 20), date(2026, 3, 10)))
@pytest.mark.django_db
def test_any_sequence_keeps_the_ledger(group, steps, first):
    try:
        with transaction.atomic():
            replay(group, steps, first)
            raise Undo
    except Undo:
        pass


def replay(group, steps, first):
    plans = [
        Tariff.objects.create(name="spread", fee=Decimal("777.77"),
                              charge_method="monthly_spread"),
        Tariff.objects.create(name="monthly", fee=Decimal("999.99"), charge_method="monthly",
                              monthly_charge_day=10),
        Tariff.objects.create(name="daily", fee=Decimal("13.13"), charge_method="daily",
                              negative_policy="not_negative"),
    ]
    day = first
    with at(day, 1):
        subs = [subscriber_create(name=f"S{i}", group=group, actor="t", tariff=plans[i],
                                  connected_on=first - timedelta(days=40)) for i in range(3)]
    for step in steps:
        with at(day, 12):
            kind = step[0]
            try:
                if kind == "pay":
                    payment_register(subscriber=subs[step[1]], amount=step[2], actor="t",
                                     operator=None)
                elif kind == "run":
                    day += timedelta(days=step[1])
                    with at(day, 12):
                        billing_run(batch_size=2)
                elif kind == "reverse":
                    ops = list(Operation.objects.filter(reverses__isnull=True).order_by("pk"))
                    if ops:
                        operation_reverse(operation=ops[step[1] % len(ops)], actor="t")
                elif kind == "change":
                    tariff_change_now(subscriber=subs[step[1]], tariff=plans[step[2]],
                                      actor="t")
                elif kind == "promise":
                    promised_payment_take(subscriber=subs[step[1]], actor="t")
            except ApplicationError:
                pass  # a refusal (already reversed, not cut off ...) changes nothing
        assert_ledger_ok()
        for sub in subs:
            assert_chain(sub.pk)
