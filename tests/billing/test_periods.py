"""Calendar and money arithmetic of charging: the closed forms equal largest remainder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from asr_billing.billing.periods import Month, add_local_days, day_share, days_share
from asr_billing.core.money import split_largest_remainder

D = Decimal


def test_march_600_split():
    # 60000 kopecks over 31 days: 1935 each, the first 15 days one kopeck more.
    assert day_share(D("600.00"), date(2026, 3, 1)) == D("19.36")
    assert day_share(D("600.00"), date(2026, 3, 15)) == D("19.36")
    assert day_share(D("600.00"), date(2026, 3, 16)) == D("19.35")
    assert day_share(D("600.00"), date(2026, 3, 31)) == D("19.35")
    assert days_share(D("600.00"), date(2026, 3, 1), date(2026, 3, 31)) == D("600.00")
    assert days_share(D("600.00"), date(2026, 3, 10), date(2026, 3, 31)) == D("425.76")


def test_february_28_days():
    # 10000 kopecks over 28 days: 357 each, the first 4 days 358.
    shares = [day_share(D("100.00"), date(2026, 2, d)) for d in range(1, 29)]
    assert shares[:4] == [D("3.58")] * 4
    assert shares[4:] == [D("3.57")] * 24
    assert sum(shares) == D("100.00")
    assert Month.of(date(2026, 2, 10)).day(31) == date(2026, 2, 28)
    assert Month.of(date(2028, 2, 10)).day(31) == date(2028, 2, 29)


def test_days_share_refuses_two_months():
    try:
        days_share(D("1.00"), date(2026, 1, 31), date(2026, 2, 1))
    except ValueError as exc:
        assert "one month" in str(exc)
    else:
        raise AssertionError("expected ValueError")


months = st.tuples(st.integers(1990, 2100), st.integers(1, 12))
fees = st.integers(0, 10**9).map(lambda c: (D(c) / 100).quantize(D("0.01")))


@given(months, fees)
def test_spread_days_add_up_to_the_fee(month, fee):
    """For any month and fee, the days' shares add up to the fee exactly and equal
    core.money.split_largest_remainder."""
    m = Month.of(date(month[0], month[1], 1))
    shares = [day_share(fee, m.day(n)) for n in range(1, m.days + 1)]
    assert sum(shares) == fee
    assert shares == split_largest_remainder(fee, [1] * m.days)


@given(months, fees, st.integers(1, 31), st.integers(1, 31))
def test_partial_month_is_the_sum_of_its_days(month, fee, a, b):
    m = Month.of(date(month[0], month[1], 1))
    first, last = m.day(min(a, b)), m.day(max(a, b))
    expected = sum((day_share(fee, first + timedelta(days=i))
                    for i in range((last - first).days + 1)), D("0.00"))
    assert days_share(fee, first, last) == expected


def hours(a: datetime, b: datetime) -> timedelta:
    """Elapsed time (Python subtracts aware datetimes of one tzinfo by wall clock)."""
    return b.astimezone(UTC) - a.astimezone(UTC)


def test_local_days_over_dst_berlin():
    # 2026-03-29 02:00 CET -> 03:00 CEST: three local days from noon are 71 hours.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    end = add_local_days(start, 3, "Europe/Berlin")
    assert end == datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert hours(start, end) == timedelta(hours=71)
    autumn = datetime(2026, 10, 24, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert hours(autumn, add_local_days(autumn, 3, "Europe/Berlin")) == timedelta(hours=73)


def test_local_days_over_dst_moscow_2010():
    # Moscow still moved clocks in 2010: 2010-03-28 02:00 MSK -> 03:00 MSD.
    start = datetime(2010, 3, 27, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert hours(start, add_local_days(start, 3, "Europe/Moscow")) == timedelta(hours=71)
    # Since 2014 Moscow has no DST: three days are 72 hours in March 2026.
    now = datetime(2026, 3, 27, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert hours(now, add_local_days(now, 3, "Europe/Moscow")) == timedelta(hours=72)
