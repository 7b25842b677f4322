"""Worked examples with exact Decimals: one subscriber's March, day by day.

Runs at 12:00 Moscow time every day, on SQLite through the portable path and on
PostgreSQL through the set-based path (the subscriber becomes "special" — full rules in
Python — only while a tariff change or a voluntary block is near).
"""

from __future__ import annotations

from datetime import date, timedelta

from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.periods import daterange
from asr_billing.billing.run import billing_run
from asr_billing.billing.services import promised_payment_take, voluntary_block_create
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Operation, OperationType
from asr_billing.finance.services import operation_reverse, payment_register
from asr_billing.subscribers.models import Subscriber
from asr_billing.subscribers.services import subscriber_tariff_schedule
from tests.billing.conftest import D, assert_chain, assert_ledger_ok, at, balance, charges

MARCH = date(2026, 3, 1)


def run_days(first: date, last: date, hour: int = 12):
    for day in daterange(first, last):
        with at(day, hour):
            run = billing_run()
        assert run.fallback_batches == 0
        assert run.status == RunStatus.DONE and run.errors == 0, list(
            run.error_rows.values_list("stage", "message")
        )


def negbal_audit(subscriber):
    return list(
        AuditEntry.objects.filter(subscriber=subscriber, action__startswith="negbal")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_a_subscribers_march(make_subscriber, make_tariff, operator):
    a = make_tariff("600.00", name="A")  # 19.36 on days 1-15, 19.35 on days 16-31
    b = make_tariff("900.00", name="B", voluntary_block_fee=D("31.00"))  # 29.04 / 29.03
    with at(MARCH, 10):
        sub = make_subscriber(tariff=a, connected_on=MARCH)
        payment_register(subscriber=sub, amount=D("300.00"), operator=operator,
                         external_id="p1", actor="test")
    run_days(MARCH, date(2026, 3, 4))
    assert balance(sub) == D("300.00") - 4 * D("19.36")

    with at(date(2026, 3, 5), 9):  # scheduled before the 5th's run
        subscriber_tariff_schedule(subscriber=sub, tariff=b, on=date(2026, 3, 10), actor="test")
    run_days(date(2026, 3, 5), date(2026, 3, 11))
    sub.refresh_from_db()
    assert (sub.tariff_id, sub.tariff_next_id, sub.tariff_next_date) == (b.pk, None, None)
    assert balance(sub) == D("67.70")  # 300 - 9 x 19.36 - 2 x 29.03

    with at(date(2026, 3, 12), 14):
        voluntary_block_create(subscriber=sub, start_date=date(2026, 3, 15),
                               end_date=date(2026, 3, 21), actor="cabinet")
    run_days(date(2026, 3, 12), date(2026, 3, 14))
    sub.refresh_from_db()
    assert balance(sub) == D("-19.39") and sub.negbal  # cut off by the 14th's charge

    with at(date(2026, 3, 14), 13):
        promised = promised_payment_take(subscriber=sub, actor="cabinet")
    sub.refresh_from_db()
    assert promised.amount == D("300.00") and not sub.negbal  # service back at once

    run_days(date(2026, 3, 15), date(2026, 3, 17))
    sub.refresh_from_db()
    assert sub.voluntary_blocked and not sub.negbal
    assert balance(sub) == D("-22.39")  # block days cost B's block fee: 31.00 / 31 = 1.00

    run_days(date(2026, 3, 18), date(2026, 3, 25))  # promised payment ends on the 17th, 13:00
    sub.refresh_from_db()
    assert sub.negbal and not sub.voluntary_blocked
    assert balance(sub) == D("-142.51")  # -22.39 - 4 x 1.00 - 4 x 29.03

    with at(date(2026, 3, 25), 15):
        payment_register(subscriber=sub, amount=D("500.00"), operator=operator,
                         external_id="p2", actor="test")
    sub.refresh_from_db()
    assert not sub.negbal  # the payment restores service at once, not at the next run

    run_days(date(2026, 3, 26), date(2026, 3, 31))
    assert balance(sub) == D("183.31")

    day14 = Operation.objects.get(account_id=sub.pk, type=OperationType.CHARGE,
                                  period_start=date(2026, 3, 14))
    with at(date(2026, 3, 31), 18):
        operation_reverse(operation=day14, actor="test", description="goodwill")
    assert balance(sub) == D("212.34")

    rows = charges(sub)
    assert len(rows) == 31
    assert [r[0] for r in rows] == list(daterange(MARCH, date(2026, 3, 31)))
    assert sum(r[2] for r in rows) == D("-616.69")
    by_day = {r[0].day: r[2] for r in rows}
    assert {by_day[d] for d in range(1, 10)} == {D("-19.36")}
    assert {by_day[d] for d in range(10, 15)} == {D("-29.03")}
    assert {by_day[d] for d in range(15, 22)} == {D("-1.00")}
    assert {by_day[d] for d in range(22, 32)} == {D("-29.03")}
    tariffs = [op.tariff_id for op in Operation.objects.filter(
        account_id=sub.pk, type=OperationType.CHARGE).order_by("period_start")]
    assert tariffs == [a.pk] * 9 + [b.pk] * 22
    assert negbal_audit(sub) == ["negbal_on", "negbal_off", "negbal_on", "negbal_off"]
    assert_chain(sub.pk)
    assert_ledger_ok()
    assert BillingRun.objects.filter(status=RunStatus.DONE).count() == 31


def test_run_twice_and_catch_up(make_subscriber, make_tariff):
    tariff = make_tariff("310.00")  # 10.00 a day in March
    with at(MARCH, 1):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH)
    run_days(MARCH, MARCH)
    run_days(MARCH, MARCH)  # the same day again: nothing new
    assert balance(sub) == D("-10.00")
    with at(date(2026, 3, 6), 12):  # no runs on the 2nd..5th: this one catches up
        run = billing_run()
    assert (run.first_date, run.date, run.charges_made) == (date(2026, 3, 2), date(2026, 3, 6), 5)
    assert run.amount == D("50.00") and run.subscribers_seen == 1
    assert balance(sub) == D("-60.00")
    assert_chain(sub.pk)


def test_catch_up_is_bounded_by_catchup_days(make_subscriber, make_tariff, cfg):
    cfg("billing", "catchup.days", "3")
    tariff = make_tariff("310.00")
    with at(MARCH, 1):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH)
    run_days(MARCH, MARCH)
    with at(date(2026, 3, 10), 12):
        run = billing_run()
    assert run.first_date == date(2026, 3, 8)
    assert [r[0].day for r in charges(sub)] == [1, 8, 9, 10]


def test_first_run_ever_charges_only_its_day(make_subscriber, make_tariff):
    tariff = make_tariff("310.00")
    with at(MARCH, 1):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH)
    with at(date(2026, 3, 5), 12):
        run = billing_run()
    assert run.first_date == run.date == date(2026, 3, 5)
    assert [r[0].day for r in charges(sub)] == [5]


def test_month_boundary_and_28_day_february(make_subscriber, make_tariff):
    spread = make_tariff("100.00")  # Jan: 3.23 x 7 + 3.22 x 24; Feb: 3.58 x 4 + 3.57 x 24
    monthly = make_tariff("280.00", method="monthly", monthly_charge_day=31)  # last day
    with at(date(2026, 1, 30), 1):
        s1 = make_subscriber(tariff=spread, connected_on=date(2026, 1, 1))
        s2 = make_subscriber(tariff=monthly, connected_on=date(2026, 1, 1))
    run_days(date(2026, 1, 30), date(2026, 1, 30))
    with at(date(2026, 2, 2), 12):
        run = billing_run()  # catches up Jan 31, Feb 1, Feb 2
    assert run.first_date == date(2026, 1, 31)
    assert charges(s1) == [
        (date(2026, 1, 30), date(2026, 1, 30), D("-3.22")),
        (date(2026, 1, 31), date(2026, 1, 31), D("-3.22")),
        (date(2026, 2, 1), date(2026, 2, 1), D("-3.58")),
        (date(2026, 2, 2), date(2026, 2, 2), D("-3.58")),
    ]
    # Charge day 31: January's fee on Jan 31 (for the whole month: connected Jan 1).
    assert charges(s2) == [(date(2026, 1, 1), date(2026, 1, 31), D("-280.00"))]
    run_days(date(2026, 2, 3), date(2026, 2, 28))
    feb = [r for r in charges(s1) if r[0].month == 2]
    assert len(feb) == 28 and sum(r[2] for r in feb) == D("-100.00")
    # February has 28 days: "day 31" is the 28th.
    assert charges(s2)[-1] == (date(2026, 2, 1), date(2026, 2, 28), D("-280.00"))
    assert_chain(s1.pk)
    assert_chain(s2.pk)


def test_connected_mid_month_pro_rata_and_full(make_subscriber, make_tariff):
    prorata = make_tariff("600.00", method="monthly")
    full = make_tariff("600.00", method="monthly", partial_month="full")
    later = make_tariff("600.00", method="monthly", monthly_charge_day=20)
    with at(date(2026, 3, 10), 9):
        s1 = make_subscriber(tariff=prorata, connected_on=date(2026, 3, 10))
        s2 = make_subscriber(tariff=full, connected_on=date(2026, 3, 10))
        s3 = make_subscriber(tariff=later, connected_on=date(2026, 3, 10))
    run_days(date(2026, 3, 10), date(2026, 3, 19))
    # 10th..31st = 22 days: 22 x 19.35 + 6 one-kopeck extras (days 10-15) = 425.76
    assert charges(s1) == [(date(2026, 3, 10), date(2026, 3, 31), D("-425.76"))]
    assert charges(s2) == [(date(2026, 3, 10), date(2026, 3, 31), D("-600.00"))]
    assert charges(s3) == []  # charge day 20
    run_days(date(2026, 3, 20), date(2026, 4, 1))
    assert charges(s3) == [(date(2026, 3, 10), date(2026, 3, 31), D("-425.76"))]
    assert charges(s1)[-1] == (date(2026, 4, 1), date(2026, 4, 30), D("-600.00"))
    assert len(charges(s1)) == 2


def test_dst_day_in_berlin_uses_the_local_date(make_subscriber, make_tariff, cfg):
    cfg("app", "time_zone", "Europe/Berlin")
    tariff = make_tariff("310.00")
    with at(date(2026, 3, 28), 12, tz="Europe/Berlin"):
        sub = make_subscriber(tariff=tariff, connected_on=date(2026, 3, 28))
        billing_run()
    # 00:30 on the 29th in Berlin is still the 28th in UTC: the run charges the 29th.
    with at(date(2026, 3, 29), 0, 30, tz="Europe/Berlin"):
        run = billing_run()
    assert run.date == date(2026, 3, 29)
    # The DST day has 23 hours; the next local midnight is 23 h later, and is the 30th.
    with at(date(2026, 3, 29), 23, 59, tz="Europe/Berlin"):
        assert billing_run().charges_made == 0
    with at(date(2026, 3, 30), 0, 1, tz="Europe/Berlin"):
        billing_run()
    assert [r[0].day for r in charges(sub)] == [28, 29, 30]


def test_moscow_midnight_is_utc_evening(make_subscriber, make_tariff):
    tariff = make_tariff("310.00")
    with at(MARCH, 0, 5):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH)
        run = billing_run()  # 21:05 UTC on Feb 28: still March 1 for the billing
    assert run.date == MARCH and charges(sub)[0][0] == MARCH
    assert Subscriber.objects.get(pk=sub.pk).negbal  # -10.00 below the 0 threshold
    assert MARCH - timedelta(days=1) not in [r[0] for r in charges(sub)]


def test_moscow_dst_days_of_2010(make_subscriber, make_tariff):
    """Moscow still changed clocks in 2010 (23-hour March 28, 25-hour October 31): each
    local day is charged once, whatever its length."""
    tariff = make_tariff("310.00", method="daily", name="daily 310")
    with at(date(2010, 3, 27), 12):
        sub = make_subscriber(tariff=tariff, connected_on=date(2010, 3, 27))
        billing_run()
    for day, hour, minute in ((date(2010, 3, 28), 0, 1), (date(2010, 3, 28), 23, 59),
                              (date(2010, 3, 29), 0, 1)):
        with at(day, hour, minute):
            assert billing_run().date == day
    with at(date(2010, 10, 30), 12):
        billing_run()  # catches up March 30 .. October 30 at most catchup.days back
    for day, hour, minute in ((date(2010, 10, 31), 0, 1), (date(2010, 10, 31), 23, 59),
                              (date(2010, 11, 1), 0, 1)):
        with at(day, hour, minute):
            assert billing_run().date == day
    days = [r[0] for r in charges(sub)]
    assert days[:3] == [date(2010, 3, 27), date(2010, 3, 28), date(2010, 3, 29)]
    assert days[-3:] == [date(2010, 10, 30), date(2010, 10, 31), date(2010, 11, 1)]
    assert len(days) == len(set(days))  # no day twice
    assert_chain(sub.pk)
