"""What is due for one subscriber on one day: the reference rules of charging.

``charges_due`` is plain Python over plain data (``SubscriberDay``), used by the portable
run (SQLite, and subscribers with tariff changes or voluntary blocks on PostgreSQL). The
set-based run (run_sql.py) implements the same rules in SQL for subscribers without
such events; the tests run the same worked examples through both.

Rules (docs/billing.md explains them to operators):

- Charging starts on ``connected_on`` (or the local date the subscriber was created).
- The tariff of a day is the one in force on it: a tariff change effective on day X
  makes every day before X the old tariff's, whenever the run looks at it.
- daily: the fee every day. monthly_spread: the day's share of the monthly fee.
  A day in a voluntary block costs the tariff's block fee instead (per day / per month's
  share). Key: (tariff, that day).
- monthly: charged once a month on the charge day (or on the first day of a part that
  starts later), for [part start .. month end]; the part starts on the 1st, or later on
  the connection day or the tariff change day. A partial month is charged pro rata or in
  full (tariff option). Days of a voluntary block known at that moment cost the block
  fee's shares instead. Key: (tariff, part start); one charge per part.
- once: the fee once, on the day the tariff starts, looked back at most catchup.days.
- Services: the same per method, without block fee (no charge on block days) and
  without the partial-month option (pro rata). A one-time service fee is per link (a
  reconnection is charged again, one link of a service a day) and not charged for a
  link disconnected before it started (disabled_on == enabled_on: a cancelled one).
- Charge-when-negative policy: compared with balance + credit + promised payment before
  the day's charges. Administrator block: no charges at all when the option says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from asr_billing.billing.periods import Month, day_share, days_share
from asr_billing.core.money import ZERO
from asr_billing.tariffs.models import ChargeMethod, NegativePolicy, PartialMonth

TARIFF_ORDER = 0  # the tariff's charge comes before the services' in a day's rows


@dataclass(frozen=True)
class Change:
    effective_date: date
    old_tariff_id: int | None
    new_tariff_id: int | None
    order: int = 0  # id: the later of two changes on one date wins


@dataclass(frozen=True)
class Block:
    first: date
    last: date  # last blocked day (the end date, or the day it was lifted early)


@dataclass(frozen=True)
class ServiceLink:
    service_id: int
    enabled_on: date
    disabled_on: date | None  # first day without the service

    def active(self, day: date) -> bool:
        return self.enabled_on <= day and (self.disabled_on is None or day < self.disabled_on)

    @property
    def cancelled(self) -> bool:
        """Disconnected before it started (subscriber_service_disconnect of a link not
        started yet sets disabled_on = enabled_on): it never ran a day."""
        return self.disabled_on is not None and self.disabled_on <= self.enabled_on


@dataclass
class SubscriberDay:
    """What the rules need to know about one subscriber (loaded per batch)."""

    subscriber_id: int
    tariff_id: int | None
    start: date
    admin_blocked: bool
    balance: Decimal
    credit_limit: Decimal
    promised_amount: Decimal
    negbal: bool = False
    changes: list[Change] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    services: list[ServiceLink] = field(default_factory=list)
    # (tariff_id, service_id, period_start) of existing charges near the day.
    charged: set[tuple[int | None, int | None, date]] = field(default_factory=set)

    @property
    def available(self) -> Decimal:
        return self.balance + self.credit_limit + self.promised_amount

    def tariff_on(self, day: date) -> int | None:
        later = [c for c in self.changes if c.effective_date > day]
        if later:
            return min(later, key=lambda c: (c.effective_date, c.order)).old_tariff_id
        return self.tariff_id

    def tariff_since(self, tariff_id: int, day: date) -> date | None:
        """The latest day up to ``day`` on which the subscriber moved to ``tariff_id``."""
        dates = [
            c.effective_date
            for c in self.changes
            if c.new_tariff_id == tariff_id and c.effective_date <= day
        ]
        return max(dates) if dates else None

    def blocked(self, day: date) -> bool:
        return any(b.first <= day <= b.last for b in self.blocks)


@dataclass(frozen=True)
class Due:
    """One charge to post: ``amount`` positive roubles (posted negative)."""

    tariff_id: int | None
    service_id: int | None
    period_start: date
    period_end: date
    amount: Decimal
    description: str

    @property
    def key(self):
        return (self.tariff_id, self.service_id, self.period_start)

    @property
    def order(self):
        return (TARIFF_ORDER, 0) if self.tariff_id is not None else (1, self.service_id)


def describe(kind: str, name: str, method: str, day: date) -> str:
    """The ledger text of a charge; the set-based run passes the same strings to SQL."""
    if kind == "block":
        return _("%(name)s: voluntary block, %(day)s") % {
            "name": name,
            "day": day.strftime("%d.%m.%Y") if method != ChargeMethod.MONTHLY else "",
        }
    if method == ChargeMethod.MONTHLY:
        return _("%(name)s: fee for %(month)s") % {"name": name, "month": day.strftime("%m.%Y")}
    if method == ChargeMethod.ONCE:
        return _("%(name)s: one-time fee") % {"name": name}
    return _("%(name)s: fee for %(day)s") % {"name": name, "day": day.strftime("%d.%m.%Y")}


def lookback_start(day: date, catchup_days: int) -> date:
    """The earliest period start the rules of ``day`` can produce."""
    return min(Month.of(day).first, day - timedelta(days=catchup_days))


def _monthly_amount(fee, vb_fee, base, month, full, blocked_days) -> Decimal:
    amount = fee if (base == month.first or full) else days_share(fee, base, month.last)
    for day in blocked_days:
        amount += day_share(vb_fee, day) - day_share(fee, day)
    return amount


def _tariff_due(ctx: SubscriberDay, tariff, day: date, catchup_days: int) -> Due | None:
    method = tariff.charge_method
    if method in (ChargeMethod.DAILY, ChargeMethod.MONTHLY_SPREAD):
        if day < ctx.start:
            return None
        # One tariff charge per day: a change dated today, applied after today's charge
        # on the old tariff, must not charge the day again on the new one.
        if any(t is not None and p == day for t, _s, p in ctx.charged):
            return None
        spread = method == ChargeMethod.MONTHLY_SPREAD
        if ctx.blocked(day):
            fee = tariff.voluntary_block_fee
            fee = day_share(fee, day) if spread else fee
            text = describe("block", tariff.name, method, day)
        else:
            fee = day_share(tariff.fee, day) if spread else tariff.fee
            text = describe("fee", tariff.name, method, day)
        return Due(tariff.pk, None, day, day, fee, text)
    since = ctx.tariff_since(tariff.pk, day)
    if method == ChargeMethod.ONCE:
        start = max(ctx.start, since) if since else ctx.start
        if not (day - timedelta(days=catchup_days) <= start <= day):
            return None
        if (tariff.pk, None, start) in ctx.charged:
            return None
        text = describe("fee", tariff.name, method, day)
        return Due(tariff.pk, None, start, start, tariff.fee, text)
    month = Month.of(day)
    base = max(month.first, ctx.start, since or month.first)
    charge_day = max(month.day(tariff.monthly_charge_day), base)
    if day < charge_day:
        return None
    if any(t == tariff.pk and s is None and base <= p <= month.last for t, s, p in ctx.charged):
        return None
    blocked = [d for d in _days(base, month.last) if ctx.blocked(d)]
    full = tariff.partial_month == PartialMonth.FULL
    amount = _monthly_amount(tariff.fee, tariff.voluntary_block_fee, base, month, full, blocked)
    return Due(tariff.pk, None, base, month.last, amount, describe("fee", tariff.name, method, day))


def _service_due(ctx: SubscriberDay, link: ServiceLink, service, day: date, catchup_days: int):
    method = service.charge_method
    if method == ChargeMethod.ONCE:
        start = link.enabled_on
        # Charged even when the link has ended since (a one-time fee is for connecting),
        # but not for a cancelled connection: that one never ran.
        if link.cancelled or not (day - timedelta(days=catchup_days) <= start <= day):
            return None
        if (None, service.pk, start) in ctx.charged:
            return None
        return Due(None, service.pk, start, start, service.fee,
                   describe("fee", service.name, method, day))
    if not link.active(day) or day < ctx.start:
        return None
    if method in (ChargeMethod.DAILY, ChargeMethod.MONTHLY_SPREAD):
        if ctx.blocked(day) or (None, service.pk, day) in ctx.charged:
            return None
        fee = day_share(service.fee, day) if method == ChargeMethod.MONTHLY_SPREAD else service.fee
        return Due(None, service.pk, day, day, fee, describe("fee", service.name, method, day))
    month = Month.of(day)
    base = max(month.first, ctx.start, link.enabled_on)
    if any(s == service.pk and month.first <= p <= month.last for _t, s, p in ctx.charged):
        return None
    blocked = [d for d in _days(base, month.last) if ctx.blocked(d)]
    amount = _monthly_amount(service.fee, ZERO, base, month, False, blocked)
    return Due(None, service.pk, base, month.last, amount,
               describe("fee", service.name, method, day))


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def policy_allows(policy: str, available: Decimal, amount: Decimal) -> bool:
    if policy == NegativePolicy.NOT_NEGATIVE:
        return available >= 0
    if policy == NegativePolicy.NOT_BELOW_FEE:
        return available >= amount
    return True


def charges_due(
    ctx: SubscriberDay,
    day: date,
    *,
    tariffs: dict,
    services: dict,
    policy: str,
    charge_admin_blocked: bool,
    catchup_days: int,
) -> list[Due]:
    """The charges to post for ``day``, in posting order (tariff first, then services by
    id). Already posted charges, zero amounts and charges the policy forbids are left out."""
    if ctx.admin_blocked and not charge_admin_blocked:
        return []
    found: list[Due] = []
    tariff_id = ctx.tariff_on(day)
    if tariff_id is not None:
        due = _tariff_due(ctx, tariffs[tariff_id], day, catchup_days)
        if due is not None:
            found.append(due)
    for link in sorted(ctx.services, key=lambda s: (s.service_id, s.enabled_on)):
        due = _service_due(ctx, link, services[link.service_id], day, catchup_days)
        # One charge per service a day, from its earliest link that has one due (the
        # SQL path's DISTINCT ON); another link's charge comes on a later day.
        if due is not None and all(d.service_id != due.service_id for d in found):
            found.append(due)
    available = ctx.available
    return sorted(
        (d for d in found if d.amount > 0 and policy_allows(policy, available, d.amount)),
        key=lambda d: d.order,
    )
