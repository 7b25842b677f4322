"""Tariff changes: each part of the month charged on its own tariff, unused prepaid days
refunded once, the change applied once however often it is attempted."""

from __future__ import annotations

from datetime import date

from asr_billing.billing.models import Recalculation, TariffChange
from asr_billing.billing.periods import daterange
from asr_billing.billing.run import billing_run
from asr_billing.billing.services import tariff_change_apply_scheduled, tariff_change_now
from asr_billing.finance.models import Operation, OperationType
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_tariff_schedule
from tests.billing.conftest import D, assert_chain, at, balance, charges


def run_days(first, last, hour=12):
    for day in daterange(first, last):
        with at(day, hour):
            assert billing_run().errors == 0


def refunds(sub):
    return list(
        Operation.objects.filter(account_id=sub.pk, type=OperationType.CORRECTION)
        .order_by("pk")
        .values_list("amount", "description")
    )


def test_immediate_change_mid_month_refunds_unused_days(make_subscriber, make_tariff):
    a = make_tariff("600.00", method="monthly", name="A")
    b = make_tariff("900.00", method="monthly", name="B")
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=a, connected_on=date(2026, 2, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 15))
    with at(date(2026, 3, 15), 14):
        change = tariff_change_now(subscriber=sub, tariff=b, actor="admin")
    assert change.effective_date == date(2026, 3, 16)  # today stays on A
    # A's 600.00 over 31 days: days 16-31 are 16 x 19.35
    assert refunds(sub) == [(D("309.60"), "A: refund for unused days 16.03.2026–31.03.2026")]
    run_days(date(2026, 3, 16), date(2026, 3, 31))
    assert charges(sub) == [
        (date(2026, 3, 1), date(2026, 3, 31), D("-600.00")),
        (date(2026, 3, 16), date(2026, 3, 31), D("-464.48")),  # B: 16 x 29.03
    ]
    assert balance(sub) == D("-754.88")
    assert Recalculation.objects.get().first_day == date(2026, 3, 16)
    assert_chain(sub.pk)


def test_there_and_back_again(make_subscriber, make_tariff):
    a = make_tariff("600.00", method="monthly", name="A")
    b = make_tariff("900.00", method="monthly", name="B")
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=a, connected_on=date(2026, 2, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 10))
    with at(date(2026, 3, 10), 14):
        tariff_change_now(subscriber=sub, tariff=b, actor="admin")
    run_days(date(2026, 3, 11), date(2026, 3, 20))
    with at(date(2026, 3, 20), 14):
        tariff_change_now(subscriber=sub, tariff=a, actor="admin")
    run_days(date(2026, 3, 21), date(2026, 3, 31))
    assert charges(sub) == [
        (date(2026, 3, 1), date(2026, 3, 31), D("-600.00")),
        (date(2026, 3, 11), date(2026, 3, 31), D("-609.63")),
        (date(2026, 3, 21), date(2026, 3, 31), D("-212.85")),
    ]
    assert [r[0] for r in refunds(sub)] == [D("406.40"), D("319.33")]
    # = A days 1-10 (193.60) + B days 11-20 (290.30) + A days 21-31 (212.85)
    assert balance(sub) == D("-696.75")
    assert_chain(sub.pk)


def test_full_month_tariff_is_not_refunded(make_subscriber, make_tariff):
    a = make_tariff("600.00", method="monthly", name="A", partial_month="full")
    b = make_tariff("900.00", method="monthly", name="B")
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=a, connected_on=date(2026, 2, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 1))
    with at(date(2026, 3, 15), 14):
        tariff_change_now(subscriber=sub, tariff=b, actor="admin")
    assert refunds(sub) == []


def test_scheduled_change_on_an_already_charged_day(make_subscriber, make_tariff):
    a = make_tariff("310.00", name="A")  # 10.00 a day
    b = make_tariff("620.00", name="B")  # 20.00 a day
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=a, connected_on=date(2026, 3, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 5), hour=3)
    with at(date(2026, 3, 5), 10):  # after the 5th was charged on A
        subscriber_tariff_schedule(subscriber=sub, tariff=b, on=date(2026, 3, 5), actor="rest")
    run_days(date(2026, 3, 5), date(2026, 3, 7), hour=11)
    assert [(r[0].day, r[2]) for r in charges(sub)] == [
        (1, D("-10.00")), (2, D("-10.00")), (3, D("-10.00")), (4, D("-10.00")),
        (5, D("-10.00")), (6, D("-20.00")), (7, D("-20.00")),
    ]
    assert refunds(sub) == []
    assert Subscriber.objects.get(pk=sub.pk).tariff_id == b.pk


def test_scheduled_change_is_applied_once(make_subscriber, make_tariff):
    a = make_tariff("600.00", method="monthly", name="A")
    b = make_tariff("900.00", method="monthly", name="B")
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=a, connected_on=date(2026, 2, 1))
        subscriber_tariff_schedule(subscriber=sub, tariff=b, on=date(2026, 3, 20), actor="t")
    run_days(date(2026, 3, 1), date(2026, 3, 1))
    with at(date(2026, 3, 19), 23):  # not due yet
        assert tariff_change_apply_scheduled(subscriber_id=sub.pk, actor="t") is None
    with at(date(2026, 3, 20), 0, 5):
        first = tariff_change_apply_scheduled(subscriber_id=sub.pk, actor="t")
        again = tariff_change_apply_scheduled(subscriber_id=sub.pk, actor="t")
    assert first is not None and again is None
    assert TariffChange.objects.count() == 1 and Recalculation.objects.count() == 1
    run_days(date(2026, 3, 20), date(2026, 3, 20))
    # A: days 20-31 refunded (12 x 19.35); B: days 20-31 (12 x 29.03)
    assert refunds(sub)[0][0] == D("232.20")
    assert charges(sub)[-1] == (date(2026, 3, 20), date(2026, 3, 31), D("-348.36"))
    assert balance(sub) == D("-600.00") + D("232.20") - D("348.36")
