"""Cabinet reads: the subscriber's money picture, blocks, services, payments.

Every function here takes objects the session already loaded (login, subscriber,
account, tariff) and adds at most one query, so a cabinet page stays within a handful
of queries whatever the subscriber's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import F, Q
from django.utils import timezone

from asr_billing.billing.models import PromisedPayment
from asr_billing.billing.periods import Month, local_today
from asr_billing.core import runtime
from asr_billing.core.money import ZERO
from asr_billing.finance.models import Operation, OperationType
from asr_billing.finance.selectors import (
    MoneyLasts,
    minimal_payment,
    money_lasts_until,
    recommended_payment,
    tariff_day_cost,
)
from asr_billing.subscribers.models import SubscriberService
from asr_billing.tariffs.models import ChargeMethod, Service


def time_zone() -> str:
    return runtime.current().time_zone


def today() -> date:
    """Today in the operator's time zone (app['time_zone'])."""
    return local_today(time_zone())


def local(moment: datetime) -> datetime:
    """A stored (UTC) moment in the operator's time zone."""
    return timezone.localtime(moment, ZoneInfo(time_zone()))


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), ZoneInfo(time_zone()))


@dataclass(frozen=True)
class MoneyState:
    """A subscriber's money as the cabinet shows it (roubles; see finance.selectors)."""

    balance: Decimal
    credit: Decimal
    promised: Decimal
    minimal_pay: Decimal  # least payment that lifts a cut-off (0 when not cut off)
    recommended_pay: Decimal  # a payment that covers a month's fee
    lasts: MoneyLasts  # the last day the money pays for
    fee_today: Decimal  # what the tariff charges for today


def money_state(subscriber, day: date) -> MoneyState:
    """From the loaded account and tariff: no query."""
    account, tariff = subscriber.account, subscriber.tariff
    threshold = tariff.disconnect_threshold if tariff is not None else ZERO
    values = {"balance": account.balance, "credit_limit": account.credit_limit,
              "promised": account.promised_amount}
    return MoneyState(
        balance=account.balance,
        credit=account.credit_limit,
        promised=account.promised_amount,
        minimal_pay=minimal_payment(threshold=threshold, **values),
        recommended_pay=recommended_payment(tariff=tariff, day=day, **values),
        lasts=money_lasts_until(tariff=tariff, today=day, **values),
        fee_today=tariff_day_cost(tariff, day) if tariff is not None else ZERO,
    )


def next_charge_date(tariff, day: date) -> date | None:
    """The next day after ``day`` on which the tariff's fee is charged; None for a
    one-off tariff, no tariff or no fee."""
    if tariff is None or tariff.fee <= 0:
        return None
    method = tariff.charge_method
    if method in (ChargeMethod.DAILY, ChargeMethod.MONTHLY_SPREAD):
        return day + timedelta(days=1)
    if method != ChargeMethod.MONTHLY:
        return None
    month = Month.of(day)
    for candidate_month in (month, Month.of(month.last + timedelta(days=1))):
        candidate = candidate_month.day(tariff.monthly_charge_day)
        if candidate > day:
            return candidate
    return None  # unreachable: next month's charge day is always after today


# --- Payments ----------------------------------------------------------------------------


def pay_log(*, subscriber_id: int, first: date | None, last: date | None, offset: int,
            limit: int) -> tuple[list[Operation], int]:
    """The subscriber's payments from ``first`` to ``last`` (local days, inclusive, either
    may be open), newest first, without those reversed; and how many there are in all
    (two queries)."""
    payments = Operation.objects.filter(account_id=subscriber_id, type=OperationType.PAYMENT,
                                        reversed_by__isnull=True)
    if first is not None:
        payments = payments.filter(op_date__gte=day_start(first))
    if last is not None:
        payments = payments.filter(op_date__lt=day_start(last + timedelta(days=1)))
    count = payments.count()
    rows = list(
        payments.select_related("pay_operator").order_by("-op_date", "-id")[offset:offset + limit]
    ) if count > offset else []
    return rows, count


def promised_payments(subscriber_id: int, limit: int = 100) -> list[PromisedPayment]:
    """The subscriber's promised payments, newest first."""
    return list(PromisedPayment.objects.filter(subscriber_id=subscriber_id)
                .order_by("-created_at", "-id")[:limit])


# --- Services -------------------------------------------------------------------------------


def services_offered(name_filter: str = "") -> list[Service]:
    """Services the cabinet shows for connecting, whose name contains ``name_filter``
    in any case (one query). Matched in Python: SQLite's LIKE folds only ASCII letters,
    and a price list is short."""
    services = Service.objects.filter(is_active=True, is_show_web=True).order_by("name", "id")
    needle = name_filter.strip().casefold()
    return [service for service in services if needle in service.name.casefold()]


def services_connected(subscriber_id: int, day: date) -> list[SubscriberService]:
    """The subscriber's services running today or later (one query)."""
    return list(
        SubscriberService.objects.select_related("service")
        .filter(Q(disabled_on__isnull=True) | Q(disabled_on__gt=day),
                subscriber_id=subscriber_id)
        .order_by(F("enabled_on").asc(), "id")
    )


# --- The home page: state, how long the money lasts, the balance over time -------------------


class State:
    """What a subscriber's Internet is doing, as the cabinet names it (several can hold
    at once: a promised payment while active, an ISP block over a voluntary one)."""

    ACTIVE = "active"
    NEGBAL = "negbal"  # cut off: not enough money
    ADMIN_BLOCKED = "admin_blocked"  # blocked by the ISP
    VOLUNTARY_BLOCK = "voluntary_block"  # a voluntary block in force
    VOLUNTARY_PLANNED = "voluntary_planned"  # one planned for later
    PROMISED = "promised"  # a promised payment is in force


def subscriber_states(subscriber, *, block, promised: Decimal) -> list[str]:
    """The states that hold now, most pressing first; ``block`` is
    billing.selectors.voluntary_block_current's answer, ``promised`` the account's
    promised amount. No query."""
    states = []
    if subscriber.admin_blocked:
        states.append(State.ADMIN_BLOCKED)
    if subscriber.voluntary_blocked:
        states.append(State.VOLUNTARY_BLOCK)
    if subscriber.negbal:
        states.append(State.NEGBAL)
    if not states:
        states.append(State.ACTIVE)
    if promised > 0:
        states.append(State.PROMISED)
    if block is not None and not subscriber.voluntary_blocked and block.start_date > today():
        states.append(State.VOLUNTARY_PLANNED)
    return states


def promised_payment_open(subscriber_id: int) -> PromisedPayment | None:
    """The promised payment in force (the latest not closed), else None. One query."""
    return (PromisedPayment.objects.filter(subscriber_id=subscriber_id, closed_at__isnull=True)
            .order_by("-created_at", "-id").first())


@dataclass(frozen=True)
class LastsUntil:
    """The date the money lasts until as the cabinet shows it: ``day`` (None: it cannot
    be said) and ``days`` from today, or ``reason`` why there is no date (a translated
    text). Both the pages and web_cabinet's ``enough_to_date`` use money_lasts_until."""

    day: date | None
    days: int | None
    reason: str = ""


def lasts_until(subscriber, money: MoneyState) -> LastsUntil:
    """The last day the money pays for at the tariff's fee (finance.selectors
    .money_lasts_until), or why that cannot be said: no tariff, no regular fee, a one-off
    tariff, an ISP block that stops charges, a voluntary block (its own fee, until it ends),
    money already run out. The subscriber's services are not counted. No query."""
    from django.utils.translation import gettext as _

    tariff = subscriber.tariff
    if subscriber.admin_blocked and runtime.current().get(
            "billing", "charge.admin_blocked") != "yes":
        return LastsUntil(None, None, _("Nothing is charged while the ISP blocks the account."))
    if subscriber.voluntary_blocked:
        return LastsUntil(None, None, _(
            "During a voluntary block the tariff's block fee is charged; the date depends on "
            "when the block ends."))
    if tariff is None:
        return LastsUntil(None, None, _("No tariff is set."))
    if tariff.charge_method == ChargeMethod.ONCE:
        return LastsUntil(None, None, _("The tariff is paid once, not by the month or day."))
    if tariff.fee <= 0:
        return LastsUntil(None, None, _("The tariff has no fee."))
    if money.minimal_pay > 0:
        return LastsUntil(None, None, _("The money has run out."))
    return LastsUntil(money.lasts.until, money.lasts.days)


@dataclass(frozen=True)
class BalanceDay:
    day: date
    balance: Decimal  # at the end of the day (roubles)


def balance_history(*, subscriber_id: int, balance: Decimal, first: date,
                    last: date) -> tuple[list[BalanceDay], int]:
    """The balance at the end of each local day from ``first`` to ``last`` (inclusive;
    ``last`` is today), and how many operations fell in that time. One query: the
    operations from ``first`` on, walked back from ``balance`` (the account's, which is
    the sum of its operations) — so the start needs no sum over the whole history."""
    rows = list(
        Operation.objects.filter(account_id=subscriber_id, op_date__gte=day_start(first))
        .order_by("op_date", "id").values_list("op_date", "amount")
    )
    running = balance - sum((amount for _moment, amount in rows), ZERO)
    zone = ZoneInfo(time_zone())
    by_day: dict[date, Decimal] = {}
    for moment, amount in rows:
        day = timezone.localtime(moment, zone).date()
        by_day[day] = by_day.get(day, ZERO) + amount
    days, day = [], first
    while day <= last:
        running += by_day.get(day, ZERO)
        days.append(BalanceDay(day, running))
        day += timedelta(days=1)
    operations = sum(1 for moment, _amount in rows
                     if timezone.localtime(moment, zone).date() <= last)
    return days, operations


# --- Payments and charges (the cabinet's history page) ----------------------------------------


def _ledger_rows(subscriber_id: int, first: date | None, last: date | None):
    rows = Operation.objects.filter(account_id=subscriber_id)
    if first is not None:
        rows = rows.filter(op_date__gte=day_start(first))
    if last is not None:
        rows = rows.filter(op_date__lt=day_start(last + timedelta(days=1)))
    return rows


@dataclass(frozen=True)
class LedgerTotals:
    count: int
    paid: Decimal  # the sum of the rows that raised the balance (≥ 0)
    charged: Decimal  # the sum of those that lowered it, as a positive number


def ledger_totals(*, subscriber_id: int, first: date | None, last: date | None) -> LedgerTotals:
    """How many ledger rows the subscriber has from ``first`` to ``last`` (local days,
    inclusive, either open) and what they add up to. One query; sums in whole kopecks,
    so SQLite's float arithmetic cannot drift."""
    from django.db.models import BigIntegerField, Count, Sum, Value
    from django.db.models.functions import Cast, Coalesce, Round

    from asr_billing.core.money import CENT

    cents = Cast(Round(F("amount") * Value(100)), BigIntegerField())
    found = _ledger_rows(subscriber_id, first, last).aggregate(
        count=Count("id"),
        paid=Coalesce(Sum(cents, filter=Q(amount__gt=0)), Value(0)),
        charged=Coalesce(Sum(cents, filter=Q(amount__lt=0)), Value(0)),
    )
    return LedgerTotals(found["count"], Decimal(found["paid"]) * CENT,
                        -Decimal(found["charged"]) * CENT)


def ledger_page(*, subscriber_id: int, first: date | None, last: date | None, offset: int,
                limit: int) -> list[Operation]:
    """The subscriber's ledger rows (payments, charges, corrections, reversals) from
    ``first`` to ``last``, newest first, with the payment operator and any reversal
    loaded (one query)."""
    return list(_ledger_rows(subscriber_id, first, last)
                .select_related("pay_operator", "reversed_by", "tariff", "service")
                .order_by("-op_date", "-id")[offset:offset + limit])


def ledger_all(*, subscriber_id: int, first: date | None, last: date | None):
    """The same rows, oldest first, as an iterator in chunks (a CSV of any length)."""
    return (_ledger_rows(subscriber_id, first, last)
            .select_related("pay_operator", "reversed_by")
            .order_by("op_date", "id").iterator(chunk_size=2000))
