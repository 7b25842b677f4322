"""Charging options: charge-when-negative policies, the administrator block, charge day,
one-time fees, services; and the run's records, errors and refusals."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from asr_billing.billing import rules
from asr_billing.billing.models import BillingRun, RunStatus
from asr_billing.billing.periods import daterange
from asr_billing.billing.run import billing_run
from asr_billing.billing.services import tariff_change_now
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Account
from asr_billing.finance.services import correction_post
from asr_billing.subscribers.models import SubscriberService
from asr_billing.subscribers.services import (
    subscriber_block,
    subscriber_credit_set,
    subscriber_service_connect,
    subscriber_service_disconnect,
)
from asr_billing.tariffs.models import Service
from tests.billing.conftest import D, assert_chain, at, balance, charges
from tests.conftest import requires_postgres

MARCH = date(2026, 3, 1)


def run_days(first, last, hour=12):
    for day in daterange(first, last):
        with at(day, hour):
            run = billing_run()
    return run


def with_balance(make_subscriber, tariff, amount, **kwargs):
    with at(MARCH, 1):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH, **kwargs)
        if amount:
            correction_post(subscriber=sub, amount=D(amount), actor="t", description="start")
    return sub


def test_policies(make_subscriber, make_tariff, cfg):
    always = make_tariff("10.00", method="daily", name="always", negative_policy="always")
    not_neg = make_tariff("10.00", method="daily", name="nn", negative_policy="not_negative")
    below = make_tariff("10.00", method="daily", name="nb", negative_policy="not_below_fee")
    default = make_tariff("10.00", method="daily", name="default")
    cfg("billing", "charge.when_negative", "not_below_fee")
    s_always = with_balance(make_subscriber, always, "-5.00")
    s_neg = with_balance(make_subscriber, not_neg, "-5.00")
    s_neg_credit = with_balance(make_subscriber, not_neg, "-5.00")
    subscriber_credit_set(subscriber=s_neg_credit, credit_limit=D("5.00"), actor="t")
    s_below = with_balance(make_subscriber, below, "19.99")
    s_default = with_balance(make_subscriber, default, "10.00")
    run_days(MARCH, date(2026, 3, 3))
    assert balance(s_always) == D("-35.00")  # charged whatever the balance
    assert balance(s_neg) == D("-5.00")  # below zero: nothing
    assert balance(s_neg_credit) == D("-15.00")  # -5 + 5 credit = 0: charged once
    assert balance(s_below) == D("9.99")  # 19.99 -> 9.99, then below the fee: no more
    assert balance(s_default) == D("0.00")  # the config's not_below_fee
    for sub in (s_always, s_neg, s_neg_credit, s_below, s_default):
        assert_chain(sub.pk)


def test_admin_block_option(make_subscriber, make_tariff, cfg):
    daily = make_tariff("10.00", method="daily")
    sub = with_balance(make_subscriber, daily, "100.00")
    subscriber_block(subscriber=sub, actor="t", reason="check")
    run_days(MARCH, MARCH)
    assert balance(sub) == D("90.00")  # default: charged while blocked
    cfg("billing", "charge.admin_blocked", "no")
    run_days(date(2026, 3, 2), date(2026, 3, 3))
    assert balance(sub) == D("90.00")


def test_charge_day_and_once(make_subscriber, make_tariff):
    monthly = make_tariff("300.00", method="monthly", monthly_charge_day=15)
    once = make_tariff("1500.00", method="once")
    with at(date(2026, 2, 20), 1):
        s_monthly = make_subscriber(tariff=monthly, connected_on=date(2026, 2, 1))
        s_once = make_subscriber(tariff=once, connected_on=date(2026, 2, 20))
        s_old = make_subscriber(tariff=once, connected_on=date(2025, 1, 1))
    run_days(date(2026, 2, 20), date(2026, 2, 20))
    run_days(MARCH, date(2026, 3, 16))
    assert charges(s_monthly) == [
        (date(2026, 2, 1), date(2026, 2, 28), D("-300.00")),  # the 20th is past the 15th
        (date(2026, 3, 1), date(2026, 3, 31), D("-300.00")),  # on the 15th
    ]
    assert charges(s_once) == [(date(2026, 2, 20), date(2026, 2, 20), D("-1500.00"))]
    assert charges(s_old) == []  # connected long before the catch-up window


def test_services(make_subscriber, make_tariff):
    tariff = make_tariff("0.00", method="daily")
    tv = Service.objects.create(name="TV", fee=D("2.00"), charge_method="daily")
    ip = Service.objects.create(name="IP", fee=D("62.00"), charge_method="monthly")
    setup = Service.objects.create(name="Setup", fee=D("500.00"), charge_method="once")
    spread = Service.objects.create(name="Cam", fee=D("31.00"), charge_method="monthly_spread")
    with at(MARCH, 1):
        sub = make_subscriber(tariff=tariff, connected_on=MARCH)
        bare = make_subscriber(tariff=None, connected_on=MARCH)
    SubscriberService.objects.create(subscriber=sub, service=tv, enabled_on=date(2026, 3, 2),
                                     disabled_on=date(2026, 3, 4))
    SubscriberService.objects.create(subscriber=sub, service=ip, enabled_on=date(2026, 3, 11))
    SubscriberService.objects.create(subscriber=sub, service=setup, enabled_on=date(2026, 3, 3))
    SubscriberService.objects.create(subscriber=bare, service=spread, enabled_on=MARCH)
    run_days(MARCH, date(2026, 3, 12))
    assert charges(sub) == [
        (date(2026, 3, 2), date(2026, 3, 2), D("-2.00")),
        (date(2026, 3, 3), date(2026, 3, 3), D("-2.00")),  # disabled on the 4th
        (date(2026, 3, 3), date(2026, 3, 3), D("-500.00")),
        (date(2026, 3, 11), date(2026, 3, 31), D("-42.00")),  # 21 of 31 days of 62.00
    ]
    assert len(charges(bare)) == 12 and balance(bare) == D("-12.00")
    assert_chain(sub.pk)


def test_one_time_service_per_connection_not_when_cancelled(make_subscriber, make_tariff):
    """A one-time fee is charged for each connection, also one that has ended since, but
    not for a connection cancelled before its date (it never ran). The set-based run
    once charged such a link when its date was the first day of the look-back window."""
    setup = Service.objects.create(name="Setup", fee=D("331.77"), charge_method="once")
    with at(MARCH, 1):
        sub = make_subscriber(tariff=make_tariff("0.00", method="daily"), connected_on=MARCH)
        cancelled = subscriber_service_connect(subscriber=sub, service=setup, actor="t",
                                               on=date(2026, 3, 5))
    with at(date(2026, 3, 2), 1):
        subscriber_service_disconnect(link=cancelled, actor="t")  # before it started
    with at(date(2026, 3, 6), 1):
        one_day = subscriber_service_connect(subscriber=sub, service=setup, actor="t")
        subscriber_service_disconnect(link=one_day, actor="t")  # runs to the end of the 6th
    with at(date(2026, 3, 8), 1):
        subscriber_service_connect(subscriber=sub, service=setup, actor="t")
    run_days(MARCH, date(2026, 3, 10))
    assert (cancelled.enabled_on, SubscriberService.objects.get(pk=cancelled.pk).disabled_on
            ) == (date(2026, 3, 5), date(2026, 3, 5))
    assert charges(sub) == [
        (date(2026, 3, 6), date(2026, 3, 6), D("-331.77")),
        (date(2026, 3, 8), date(2026, 3, 8), D("-331.77")),
    ]
    assert_chain(sub.pk)


def test_run_record(make_subscriber, make_tariff):
    tariff = make_tariff("310.00")
    with at(MARCH, 1):
        for _ in range(3):
            make_subscriber(tariff=tariff, connected_on=MARCH)
    with at(MARCH, 12):
        run = billing_run(batch_size=2)
    assert (run.status, run.subscribers_seen, run.charges_made, run.amount, run.errors,
            run.fallback_batches) == (RunStatus.DONE, 3, 3, D("30.00"), 0, 0)
    assert run.started_at <= run.heartbeat_at <= run.finished_at
    assert run.first_date == run.date == MARCH


def test_one_subscribers_failure_does_not_stop_the_others(make_subscriber, make_tariff,
                                                          monkeypatch):
    tariff = make_tariff("310.00")
    with at(MARCH, 1):
        subs = [make_subscriber(tariff=tariff, connected_on=MARCH) for _ in range(3)]
    broken = subs[1].pk
    real = rules.charges_due

    def fragile(ctx, day, **kwargs):
        if ctx.subscriber_id == broken:
            raise ValueError("broken data")
        return real(ctx, day, **kwargs)

    monkeypatch.setattr("asr_billing.billing.run_portable.charges_due", fragile)
    with at(MARCH, 12):
        run = billing_run(strategy="portable")
    assert (run.status, run.charges_made, run.errors) == (RunStatus.DONE, 2, 1)
    error = run.error_rows.get()
    assert (error.subscriber_id, error.day, error.stage, error.message) == (
        broken, MARCH, "rules", "ValueError: broken data")
    assert [len(charges(s)) for s in subs] == [1, 0, 1]
    monkeypatch.setattr("asr_billing.billing.run_portable.charges_due", real)
    with at(date(2026, 3, 2), 12):
        run = billing_run()  # the last run had errors: it looks at March 1 again
    assert run.first_date == MARCH
    assert [len(charges(s)) for s in subs] == [2, 2, 2]


def test_future_date_is_refused(db):
    with at(MARCH, 12), pytest.raises(InvalidInput) as caught:
        billing_run(date=date(2026, 3, 2))
    assert caught.value.message == "The run date 2026-03-02 is in the future (today is 2026-03-01)"
    assert BillingRun.objects.count() == 0


def test_command(make_subscriber, make_tariff, capsys):
    tariff = make_tariff("310.00")
    with at(MARCH, 1):
        make_subscriber(tariff=tariff, connected_on=MARCH)
    with at(date(2026, 3, 2), 12):
        call_command("bill_run", date="2026-03-01")
    out = capsys.readouterr().out
    assert out.endswith("2026-03-01..2026-03-01: done, 1 subscribers, 1 charges, "
                        "10.00 charged, 0 errors\n")
    from django.core.management.base import CommandError

    with at(date(2026, 3, 2), 12), pytest.raises(CommandError) as caught:
        call_command("bill_run", date="2026-03-05")
    assert str(caught.value) == "The run date 2026-03-05 is in the future (today is 2026-03-02)"


@requires_postgres
def test_a_batch_the_sql_cannot_post_goes_one_by_one(make_subscriber, make_tariff):
    """A balance at the edge of numeric(14,2): its charge overflows, so the set-based
    statement fails for the whole batch; the batch is redone subscriber by subscriber
    and only that one is left out (recorded)."""
    tariff = make_tariff("10.00", method="daily")
    with at(MARCH, 1):
        subs = [make_subscriber(tariff=tariff, connected_on=MARCH) for _ in range(3)]
    Account.objects.filter(pk=subs[1].pk).update(balance=D("-999999999995.00"))
    with at(MARCH, 12):
        run = billing_run(strategy="sql")
    assert (run.status, run.charges_made, run.amount, run.errors, run.fallback_batches) == (
        RunStatus.DONE, 2, D("20.00"), 1, 1)
    error = run.error_rows.get()
    assert (error.subscriber_id, error.stage) == (subs[1].pk, "post")
    assert "numeric field overflow" in error.message
    assert [len(charges(s)) for s in subs] == [1, 0, 1]


@requires_postgres
def test_one_by_one_batch_keeps_audit_rows_in_subscriber_order(make_subscriber, make_tariff):
    """The batch's subscriber with a tariff change is charged by the portable rules
    before the statement; when the statement then fails, the rest goes one by one, and
    the negbal audit rows of both parts are still written in subscriber id order."""
    tariff, other = make_tariff("10.00", method="daily"), make_tariff("20.00", method="daily")
    with at(MARCH, 1):
        subs = [make_subscriber(tariff=tariff, connected_on=MARCH) for _ in range(4)]
        tariff_change_now(subscriber=subs[1], tariff=other, actor="t")  # from March 2
    Account.objects.filter(pk=subs[2].pk).update(balance=D("-999999999995.00"))
    with at(MARCH, 12):
        run = billing_run(strategy="sql")
    assert (run.status, run.charges_made, run.amount, run.errors, run.fallback_batches) == (
        RunStatus.DONE, 3, D("30.00"), 1, 1)
    assert [charges(s) for s in subs] == [[(MARCH, MARCH, D("-10.00"))]] * 2 + [[]] + [
        [(MARCH, MARCH, D("-10.00"))]]
    assert list(AuditEntry.objects.filter(action__startswith="negbal").order_by("pk")
                .values_list("subscriber_id", "action")) == [
        (subs[0].pk, "negbal_on"), (subs[1].pk, "negbal_on"), (subs[3].pk, "negbal_on")]
