"""Voluntary blocks: Carbon's refusal texts with nothing changed, the cost, the block
flag following the dates, early unblock, and what the days of a block cost."""

from __future__ import annotations

from datetime import date

import pytest

from asr_billing.billing.models import VoluntaryBlock
from asr_billing.billing.periods import daterange
from asr_billing.billing.run import billing_run
from asr_billing.billing.services import (
    voluntary_block_create,
    voluntary_block_end,
    voluntary_blocks_apply,
)
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.finance.models import Operation, OperationType
from asr_billing.finance.services import payment_register
from asr_billing.subscribers.models import Subscriber, SubscriberService
from asr_billing.tariffs.models import Service
from tests.billing.conftest import D, assert_chain, at, balance, charges

TODAY = date(2026, 3, 5)


def snapshot(sub):
    return (
        list(VoluntaryBlock.objects.filter(subscriber=sub).values_list("pk", "ended_at")),
        Subscriber.objects.get(pk=sub.pk).voluntary_blocked,
        balance(sub),
        Operation.objects.count(),
        AuditEntry.objects.count(),
    )


def refused(sub, error, text, start, end):
    before = snapshot(sub)
    with at(TODAY, 12), pytest.raises(error) as caught:
        voluntary_block_create(subscriber=sub, start_date=start, end_date=end, actor="cabinet")
    assert caught.value.message == text
    assert snapshot(sub) == before


def test_refusals(subscriber, cfg):
    cfg("billing", "vblock.min_days", "7")
    cfg("billing", "vblock.max_days", "30")
    refused(subscriber, InvalidInput, "Невозможно взять добровольную блокировку в прошлом",
            date(2026, 3, 4), date(2026, 3, 20))
    refused(subscriber, InvalidInput,
            "Превышено максимально возможное количество дней блокировки: 30",
            date(2026, 3, 5), date(2026, 4, 4))
    refused(subscriber, InvalidInput,
            "Ошибка. Минимальное возможное количество дней блокировки: 7",
            date(2026, 3, 6), date(2026, 3, 11))
    refused(subscriber, InvalidInput, "The block ends before it starts",
            date(2026, 3, 9), date(2026, 3, 8))
    cfg("billing", "vblock.cost", "50.00")
    refused(subscriber, InvalidInput,
            "Недостаточно средств на счете для добровольной блокировки. "
            "Стоимость добровольной блокировки: 50.00",
            date(2026, 3, 10), date(2026, 3, 20))


def test_start_at_most_max_start_days_ahead(make_subscriber, cfg):
    # Default billing['vblock.max_start_days'] = 60: 2026-05-04 is the last day to start on.
    far = make_subscriber()
    refused(far, InvalidInput,
            "A voluntary block can start at most 60 days from today, on 04.05.2026 at the "
            "latest", date(2026, 5, 5), date(2026, 5, 10))
    with at(TODAY, 12):
        block = voluntary_block_create(subscriber=far, start_date=date(2026, 5, 4),
                                       end_date=date(2026, 5, 10), actor="cabinet")
    assert (block.start_date, block.end_date) == (date(2026, 5, 4), date(2026, 5, 10))
    cfg("billing", "vblock.max_start_days", "0")  # only today
    today_only = make_subscriber()
    refused(today_only, InvalidInput,
            "A voluntary block can start at most 0 days from today, on 05.03.2026 at the "
            "latest", date(2026, 3, 6), date(2026, 3, 10))
    with at(TODAY, 12):
        voluntary_block_create(subscriber=today_only, start_date=TODAY,
                               end_date=date(2026, 3, 10), actor="cabinet")
    assert Subscriber.objects.get(pk=today_only.pk).voluntary_blocked is True


def test_already_blocked_and_month_limit(subscriber):
    with at(TODAY, 12):
        block = voluntary_block_create(subscriber=subscriber, start_date=date(2026, 3, 10),
                                       end_date=date(2026, 3, 20), actor="cabinet")
    refused(subscriber, Conflict, "Вы уже заблокированы. Повторная блокировка запрещена.",
            date(2026, 3, 25), date(2026, 3, 28))
    with at(TODAY, 13):
        voluntary_block_end(block=block, actor="cabinet")  # cancelled before it started
    refused(subscriber, Conflict, "Превышено максимальное количество блокировок в текущем месяце.",
            date(2026, 3, 25), date(2026, 3, 28))
    with at(TODAY, 14):  # April is another month
        voluntary_block_create(subscriber=subscriber, start_date=date(2026, 4, 1),
                               end_date=date(2026, 4, 3), actor="cabinet")


def test_cost_is_charged_once(subscriber, operator, cfg):
    cfg("billing", "vblock.cost", "50.00")
    payment_register(subscriber=subscriber, amount=D("70.00"), operator=operator,
                     external_id="1", actor="test")
    with at(TODAY, 12):
        block = voluntary_block_create(subscriber=subscriber, start_date=date(2026, 3, 10),
                                       end_date=date(2026, 3, 20), actor="cabinet")
    assert balance(subscriber) == D("20.00")
    assert block.cost == D("50.00")
    op = block.cost_operation
    assert (op.type, op.amount, op.description) == (
        OperationType.CORRECTION, D("-50.00"), "Voluntary block 10.03.2026–20.03.2026")
    assert_chain(subscriber.pk)


def test_flag_follows_the_dates_and_early_unblock(subscriber):
    with at(TODAY, 12):
        today = voluntary_block_create(subscriber=subscriber, start_date=TODAY,
                                       end_date=date(2026, 3, 7), actor="cabinet")
    subscriber.refresh_from_db()
    assert subscriber.voluntary_blocked and subscriber.is_blocked  # at once
    with at(date(2026, 3, 7), 23, 59):
        assert voluntary_blocks_apply() == 0
    with at(date(2026, 3, 8), 0, 1):
        assert voluntary_blocks_apply() == 1
    subscriber.refresh_from_db()
    assert not subscriber.voluntary_blocked
    today.refresh_from_db()
    assert today.ended_at is None  # ended by its date, not lifted

    with at(date(2026, 4, 1), 10):
        later = voluntary_block_create(subscriber=subscriber, start_date=date(2026, 4, 3),
                                       end_date=date(2026, 4, 20), actor="cabinet")
    with at(date(2026, 4, 3), 0, 1):
        assert voluntary_blocks_apply() == 1
    assert Subscriber.objects.get(pk=subscriber.pk).voluntary_blocked
    with at(date(2026, 4, 9), 15):
        result = voluntary_block_end(block=later, actor="cabinet")
    assert result.message == "Добровольная блокировка успешно снята"
    assert not Subscriber.objects.get(pk=subscriber.pk).voluntary_blocked
    with at(date(2026, 4, 9), 16), pytest.raises(Conflict) as caught:
        voluntary_block_end(block=later, actor="cabinet")
    assert caught.value.message == "This voluntary block has already ended"
    actions = list(AuditEntry.objects.filter(subscriber=subscriber, action__startswith="voluntary")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == [
        "voluntary_block_create", "voluntary_block_on", "voluntary_block_off",
        "voluntary_block_create", "voluntary_block_on", "voluntary_block_end",
        "voluntary_block_off",
    ]


def run_days(first, last):
    for day in daterange(first, last):
        with at(day, 12):
            assert billing_run().errors == 0


def test_block_days_cost(make_subscriber, make_tariff):
    daily = make_tariff("10.00", method="daily")
    spread = make_tariff("310.00", voluntary_block_fee=D("31.00"))
    monthly = make_tariff("600.00", method="monthly")
    monthly_fee = make_tariff("600.00", method="monthly", voluntary_block_fee=D("31.00"))
    tv = Service.objects.create(name="TV", fee=D("3.00"), charge_method="daily")
    ip = Service.objects.create(name="IP", fee=D("62.00"), charge_method="monthly")
    with at(date(2026, 2, 25), 12):
        subs = [make_subscriber(name=t.name, tariff=t, connected_on=date(2026, 2, 1))
                for t in (daily, spread, monthly, monthly_fee)]
        for sub in subs:
            voluntary_block_create(subscriber=sub, start_date=date(2026, 3, 10),
                                   end_date=date(2026, 3, 19), actor="cabinet")
        for service in (tv, ip):
            SubscriberService.objects.create(subscriber=subs[0], service=service,
                                             enabled_on=date(2026, 2, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 31))
    by_day = {r[0].day: r[2] for r in charges(subs[0]) if r[0].month == 3 and r[0] == r[1]}
    assert sorted(by_day) == [d for d in range(1, 32) if not 10 <= d <= 19]
    assert sum(r[2] for r in charges(subs[0])) == D("-210.00") - D("63.00") - D("42.00")
    # spread: 10.00 a day, 1.00 a day in the block
    assert sum(r[2] for r in charges(subs[1])) == D("-220.00")
    # monthly, block known on the charge day: its days' shares are not charged
    # (days 10-15: 6 x 19.36, days 16-19: 4 x 19.35 = 193.56)
    assert charges(subs[2]) == [(date(2026, 3, 1), date(2026, 3, 31), D("-406.44"))]
    assert charges(subs[3]) == [(date(2026, 3, 1), date(2026, 3, 31), D("-416.44"))]
    for sub in subs:
        assert_chain(sub.pk)


def test_block_after_the_monthly_charge_changes_nothing_this_month(make_subscriber,
                                                                    make_tariff):
    monthly = make_tariff("600.00", method="monthly")
    with at(date(2026, 3, 1), 1):
        sub = make_subscriber(tariff=monthly, connected_on=date(2026, 2, 1))
    run_days(date(2026, 3, 1), date(2026, 3, 1))
    with at(date(2026, 3, 2), 10):
        voluntary_block_create(subscriber=sub, start_date=date(2026, 3, 2),
                               end_date=date(2026, 4, 5), actor="cabinet")
    run_days(date(2026, 3, 2), date(2026, 4, 1))
    # March was paid in advance; April knows days 1-5 are blocked: 5 x 20.00 off
    assert charges(sub) == [
        (date(2026, 3, 1), date(2026, 3, 31), D("-600.00")),
        (date(2026, 4, 1), date(2026, 4, 30), D("-500.00")),
    ]
