"""The story demo's ledger: charges as the billing engine would post them, payments a
subscriber of a given habit would make, corrections and reversals, then ids and balances.

Charges carry the engine's exactly-once keys (billing/rules.py): tariff or service +
period start. Monthly: the 1st..last day of each month, charged on the 1st; the month of
the connection is a part from the connection day to the month's end, pro rata. Daily and
spread-by-day: one row per day with period_start = period_end = that day, the spread
parts from ``split_largest_remainder`` so the days of a month add up to the fee. Once:
the day the tariff or service started.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache

from asr_billing.core.money import ZERO, money, split_largest_remainder
from asr_billing.demo.common import local_dt
from asr_billing.finance.models import OperationType as T
from asr_billing.tariffs.models import ChargeMethod as M

MONTHS = [
    "", "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
    "сентябрь", "октябрь", "ноябрь", "декабрь",
]
PAY_TEXT = {
    "SBERBANK_OSMP": "Платёж через Сбербанк (терминал / СберБанк Онлайн)",
    "SBERBANK_ACQ": "Оплата банковской картой в личном кабинете",
    "QIWI": "Платёж через терминал QIWI",
    "CASH": "Оплата наличными в кассе офиса",
}
PAY_ACTOR = {
    "SBERBANK_OSMP": "system_api:asr_fiscal",
    "SBERBANK_ACQ": "cabinet",
    "QIWI": "system_api:asr_fiscal",
    "CASH": "admin:kassa",
    "BANK": "system_api:api_1c",
}
QIWI_END = dt.date(2024, 2, 21)  # QIWI Bank lost its licence; terminals stopped taking money


@dataclass(eq=False, slots=True)
class Event:
    """One future Operation row."""

    sub_id: int
    time: dt.datetime
    type: int
    amount: Decimal
    description: str
    actor: str
    operator: str = ""  # PaymentOperator code
    external_id: str = ""
    code1c: str = ""
    synced: bool = False
    to_1c: bool = False  # a company's document 1C has taken (code1c given in the id pass)
    tariff: object = None
    service: object = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    reverses: Event | None = None
    reversed: bool = False
    seq: int = 0
    id: int = 0
    balance_after: Decimal = ZERO


@lru_cache(maxsize=512)
def spread_parts(fee: Decimal, year: int, month: int) -> tuple[Decimal, ...]:
    days = calendar.monthrange(year, month)[1]
    return tuple(split_largest_remainder(fee, [1] * days))


def month_label(day: dt.date) -> str:
    return f"{MONTHS[day.month]} {day.year}"


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def charges(
    *, sub_id: int, item, is_service: bool, start: dt.datetime, end: dt.date
) -> list[Event]:
    """The charges the engine would post for a tariff or a service from ``start`` (the
    connection moment) to ``end`` inclusive."""
    fee, method = item.fee, item.charge_method
    if fee <= 0 or start.date() > end:
        return []
    key = {"service": item} if is_service else {"tariff": item}
    what = f"Услуга «{item.name}»" if is_service else f"Абонентская плата, тариф «{item.name}»"
    actor = "billing"
    out: list[Event] = []
    first = start.date()
    if method == M.ONCE:
        return [Event(sub_id, start, T.CHARGE, -fee, what, actor, period_start=first,
                      period_end=first, **key)]
    if method == M.MONTHLY:
        # The first month is a part from the connection day, pro rata by day shares
        # (the engine's default; a tariff with partial_month="full" pays it whole).
        full = getattr(item, "partial_month", "prorata") == "full"
        month = first.replace(day=1)
        while month <= end:
            part_start, amount, when = month, fee, local_dt(month, 0, 5, sub_id % 60)
            if month <= first:  # the month of the connection
                part_start, when = first, start
                if not full:
                    amount = sum(spread_parts(fee, month.year, month.month)[first.day - 1:])
            if amount > 0:
                out.append(Event(sub_id, when, T.CHARGE, -amount,
                                 f"{what} за {month_label(month)}", actor,
                                 period_start=part_start, period_end=month_end(month), **key))
            month = next_month(month)
        return out
    day = first
    while day <= end:
        daily = method == M.DAILY
        amount = fee if daily else spread_parts(fee, day.year, day.month)[day.day - 1]
        if amount > 0:
            when = start if day == first else local_dt(day, 0, 10, sub_id % 60)
            out.append(Event(sub_id, when, T.CHARGE, -amount,
                             f"{what} за {day:%d.%m.%Y}", actor, period_start=day,
                             period_end=day, **key))
        day += dt.timedelta(days=1)
    return out


@dataclass
class Payer:
    """How a subscriber pays. ``months`` is how many months a top-up covers; ``late``
    payers pay a few days after the charge (briefly negative); ``invoice`` payers (companies)
    pay each month's total by bank transfer some days after the 1st."""

    channel: str
    months: int = 1
    late: bool = False
    invoice: bool = False
    stop: dt.date | None = None  # pays nothing from this day on
    tolerance: Decimal = ZERO  # how far below zero they let it go before paying
    extra_channels: list[str] = field(default_factory=list)

    def pays_on(self, day: dt.date) -> bool:
        return self.stop is None or day < self.stop


def round_up(amount: Decimal, step: int) -> Decimal:
    return money((amount / step).to_integral_value(rounding=ROUND_CEILING) * step)


def _channel(payer: Payer, day: dt.date, rng: random.Random) -> str:
    channel = payer.channel
    if payer.extra_channels and rng.random() < 0.15:
        channel = rng.choice(payer.extra_channels)
    if channel == "QIWI" and day >= QIWI_END:
        channel = "SBERBANK_OSMP"
    return channel


def payment_event(sub_id, when, amount, channel, *, to_1c=False) -> Event:
    if channel == "BANK":
        return Event(sub_id, when, T.PAYMENT, amount, "", PAY_ACTOR["BANK"], operator="BANK",
                     to_1c=True)
    return Event(sub_id, when, T.PAYMENT, amount, PAY_TEXT[channel], PAY_ACTOR[channel],
                 operator=channel, to_1c=to_1c)


def payments(
    *, sub_id: int, events: list[Event], payer: Payer, monthly_cost: Decimal,
    connected: dt.datetime, now: dt.datetime, rng: random.Random, to_1c: bool,
) -> list[Event]:
    """Top-ups following the payer's habit, given the subscriber's charges (sorted)."""
    out: list[Event] = []
    floor_time = connected + dt.timedelta(minutes=5)

    def at(day: dt.date) -> dt.datetime:
        when = local_dt(day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
        return min(max(when, floor_time), now - dt.timedelta(minutes=rng.randint(5, 600)))

    if payer.invoice:
        totals: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
        for ev in events:
            if ev.type == T.CHARGE:
                totals[ev.time.date().replace(day=1)] += -ev.amount
        for month, total in sorted(totals.items()):
            day = month + dt.timedelta(days=rng.randint(4, 19))
            if not payer.pays_on(day) or local_dt(day, 21) >= now:
                continue
            out.append(payment_event(sub_id, at(day), money(total), _channel(payer, day, rng),
                                to_1c=to_1c))
        return out

    balance = ZERO
    for ev in events:
        day = ev.time.date()
        if ev.amount < 0 and payer.pays_on(day) and balance + ev.amount < -payer.tolerance:
            deficit = -(balance + ev.amount)
            amount = max(deficit, monthly_cost * payer.months)
            amount = round_up(amount, 100 if rng.random() < 0.8 else 10)
            if payer.late:
                pay_day = day + dt.timedelta(days=rng.randint(1, 6))
            else:
                pay_day = day - dt.timedelta(days=rng.randint(0, 4))
            if local_dt(pay_day, 0) < now:
                out.append(payment_event(sub_id, at(pay_day), amount, _channel(payer, pay_day, rng),
                                    to_1c=to_1c))
                balance += amount
        balance += ev.amount
    return out


def reversal(original: Event, *, when: dt.datetime, description: str, actor: str) -> Event:
    original.reversed = True
    return Event(original.sub_id, when, T.REVERSAL, -original.amount, description, actor,
                 reverses=original)


class IdPass:
    """Orders every event in time, gives external ids and 1C codes in that order (so
    receipt and document numbers grow with the date), then operation ids and balances."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def number(self, events: list[Event]) -> None:
        counters: dict[str, int] = defaultdict(int)
        osmp = 4_410_000_000_000
        qiwi = 23_000_000_000
        for ev in events:
            year = ev.time.year
            if ev.operator == "SBERBANK_OSMP":
                osmp += self.rng.randint(1_000, 900_000)
                ev.external_id = str(osmp)
            elif ev.operator == "QIWI":
                qiwi += self.rng.randint(100, 90_000)
                ev.external_id = str(qiwi)
            elif ev.operator == "SBERBANK_ACQ":
                ev.external_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            elif ev.operator == "CASH":
                counters[f"cash{year}"] += 1
                ev.external_id = f"ПКО-{year}-{counters[f'cash{year}']:05d}"
            if ev.to_1c:
                counters[f"1c{year}"] += 1
                ev.code1c = f"{year}_{counters[f'1c{year}']:06d}"
                ev.synced = True
                if ev.operator == "BANK":
                    ev.description = f"Из 1С:{ev.code1c}"

    @staticmethod
    def assign_ids(events: list[Event], *, first_id: int) -> dict[int, Decimal]:
        """Ids from ``first_id`` in time order; balance_after is each account's running
        balance in id order. Returns the final balance per subscriber."""
        balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for offset, ev in enumerate(events):
            ev.id = first_id + offset
            balances[ev.sub_id] += ev.amount
            ev.balance_after = balances[ev.sub_id]
        return dict(balances)


def order(events: list[Event], now: dt.datetime) -> list[Event]:
    """Clamp anything in the future to just before now, then sort by time."""
    latest = now - dt.timedelta(seconds=1)
    for seq, ev in enumerate(events):
        ev.seq = seq
        if ev.time > latest:
            ev.time = latest
    events.sort(key=lambda e: (e.time, e.sub_id, e.seq))
    for ev in events:
        if ev.reverses is not None and ev.reverses.time >= ev.time:
            raise AssertionError("a reversal must come after the operation it cancels")
    return events
