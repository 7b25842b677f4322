"""Calendar arithmetic of charging: months, charge days, day shares of a monthly fee.

A monthly fee split over the days of its month by largest remainder (core.money) gives
every day ``q`` kopecks and the first ``r`` days one kopeck more, where
``q, r = divmod(fee in kopecks, days in month)``. So the share of day ``i`` (1-based) and
the sum over any run of days have closed forms that the SQL of the set-based run uses too;
tests prove they equal ``split_largest_remainder``. All dates are local dates
(app['time_zone']); nothing here knows about time zones.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from asr_billing.core.money import CENT, money

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @classmethod
    def of(cls, day: date) -> Month:
        days = calendar.monthrange(day.year, day.month)[1]
        return cls(day.replace(day=1), day.replace(day=days))

    @property
    def days(self) -> int:
        return self.last.day

    def day(self, number: int) -> date:
        """Day ``number`` of the month; past its end means the last day (31 -> Feb 28)."""
        return self.first.replace(day=min(number, self.days))


def cents(amount: Decimal) -> int:
    return int(money(amount) / CENT)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) * CENT).quantize(CENT)


def day_share(fee: Decimal, day: date) -> Decimal:
    """The part of a monthly ``fee`` that falls on ``day`` (spread charging)."""
    return days_share(fee, day, day)


def days_share(fee: Decimal, first: date, last: date) -> Decimal:
    """Sum of the day shares of a monthly ``fee`` over ``first..last`` (one month,
    inclusive): the pro-rata fee of a partial month. The whole month gives the fee."""
    month = Month.of(first)
    if Month.of(last) != month or last < first:
        raise ValueError("first..last must be an ordered range inside one month")
    q, r = divmod(cents(fee), month.days)
    n = (last - first).days + 1
    extra = max(0, min(last.day, r) - first.day + 1)
    return from_cents(n * q + extra)


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today in the billing's time zone (app['time_zone'])."""
    return timezone.localtime(now or timezone.now(), ZoneInfo(tz_name)).date()


def local_date(moment: datetime, tz_name: str) -> date:
    return timezone.localtime(moment, ZoneInfo(tz_name)).date()


def add_local_days(moment: datetime, days: int, tz_name: str) -> datetime:
    """``moment`` plus ``days`` calendar days at the same local wall-clock time (so 3 days
    over a DST change are 71 or 73 hours), as an aware datetime."""
    zone = ZoneInfo(tz_name)
    local = timezone.localtime(moment, zone)
    naive = local.replace(tzinfo=None) + timedelta(days=days)
    return timezone.make_aware(naive, zone)


def daterange(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += ONE_DAY
