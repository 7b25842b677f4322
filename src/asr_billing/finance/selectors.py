"""Reads about money."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BigIntegerField, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

from asr_billing.core.db import prepared_cursor
from asr_billing.core.money import CENT, ZERO
from asr_billing.finance.models import Account, Operation, PaymentOperator
from asr_billing.subscribers.selectors import SubscriberRef, subscriber_ref_sql


@dataclass(frozen=True)
class PaymentTarget:
    """Who pays and through whom. ``operator``: the ENABLED operator with the code (a
    disabled one counts as unknown); ``subscriber``: found by contract, login or IP."""

    operator: PaymentOperator | None
    subscriber: SubscriberRef | None


NO_SUBSCRIBER_SQL = "SELECT NULL AS id, NULL AS contract_number, NULL AS name, NULL AS rank"


def payment_target(*, operator_code: str, subscriber_key: str) -> PaymentTarget:
    """The payment operator and the subscriber of a payment in one query: the payment
    intake's first round trip (DESIGN.md §5), before the posting."""
    sql, params = subscriber_ref_sql(subscriber_key) or (NO_SUBSCRIBER_SQL, [])
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.code, o.name, s.* FROM (SELECT 1 AS one) AS one"  # noqa: S608
            " LEFT JOIN finance_paymentoperator o ON o.code = %s AND o.enabled"
            f" LEFT JOIN ({sql}) AS s ON 1 = 1",  # fixed SQL of ours; input is in params
            [operator_code or "", *params],
        )
        op_id, op_code, op_name, sub_id, contract, name, _rank = cursor.fetchone()
    return PaymentTarget(
        operator=(
            PaymentOperator(id=op_id, code=op_code, name=op_name, enabled=True)
            if op_id is not None else None
        ),
        subscriber=SubscriberRef(sub_id, contract, name) if sub_id is not None else None,
    )


@dataclass(frozen=True)
class BalanceMismatch:
    subscriber_id: int
    contract_number: str
    balance: Decimal
    ledger_sum: Decimal

    @property
    def difference(self) -> Decimal:
        return self.balance - self.ledger_sum


def _cents(expression):
    """An amount as a whole number of kopecks. SQLite keeps decimals as floats, so sums
    of them drift by fractions of a kopeck; sums of whole kopecks stay exact (up to
    2**53 kopecks) there, and PostgreSQL's numeric is exact anyway."""
    return Cast(Round(expression * Value(100)), BigIntegerField())


def ledger_mismatches() -> list[BalanceMismatch]:
    """Accounts whose cached balance differs from the sum of their operations (one query)."""
    sums = (
        Operation.objects.filter(account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(total=Sum(_cents(F("amount"))))
        .values("total")
    )
    rows = (
        Account.objects.annotate(
            balance_cents=_cents(F("balance")),
            ledger_cents=Coalesce(
                Subquery(sums, output_field=BigIntegerField()), Value(0),
                output_field=BigIntegerField(),
            ),
        )
        .filter(~Q(balance_cents=F("ledger_cents")))
        .values_list("pk", "subscriber__contract_number", "balance_cents", "ledger_cents")
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    return [
        BalanceMismatch(pk, contract, Decimal(balance) * CENT, Decimal(total) * CENT)
        for pk, contract, balance, total in rows
    ]


@dataclass(frozen=True)
class Turnover:
    """An account's totals: ``credit`` = sum of the rows that raised the balance,
    ``debit`` = sum of those that lowered it (a positive number), so
    ``balance == credit - debit``."""

    balance: Decimal
    debit: Decimal
    credit: Decimal


def account_turnover(subscriber_id: int) -> Turnover | None:
    """Balance and turnover of one account in one query; None when there is no account."""
    money_field = DecimalField(max_digits=14, decimal_places=2)
    positive = Sum("operations__amount", filter=Q(operations__amount__gt=0))
    negative = Sum("operations__amount", filter=Q(operations__amount__lt=0))
    row = (
        Account.objects.filter(pk=subscriber_id)
        .annotate(
            credit=Coalesce(positive, Value(ZERO), output_field=money_field),
            debit=Coalesce(negative, Value(ZERO), output_field=money_field),
        )
        .values_list("balance", "debit", "credit")
        .first()
    )
    if row is None:
        return None
    balance, debit, credit = (Decimal(v) for v in row)
    return Turnover(balance=balance, debit=abs(debit), credit=credit)


# --- What a subscriber should pay, and how long the money lasts (REST v2, cabinet) ---


def money_available(*, balance: Decimal, credit_limit: Decimal, promised: Decimal,
                    threshold: Decimal) -> Decimal:
    """What can be spent before the balance cut-off: balance + credit + promised payment
    − the tariff's disconnect threshold. Negative exactly when the subscriber is negbal."""
    return balance + credit_limit + promised - threshold


def minimal_payment(*, balance: Decimal, credit_limit: Decimal, promised: Decimal,
                    threshold: Decimal) -> Decimal:
    """The least payment (roubles, ≥ 0) that lifts the balance cut-off; 0 when not cut off."""
    available = money_available(
        balance=balance, credit_limit=credit_limit, promised=promised, threshold=threshold
    )
    return max(ZERO, -available)


def tariff_month_fee(tariff, day) -> Decimal:
    """The fee of ``tariff`` for the month of ``day``: the monthly fee, or the daily fee
    times the days of that month; 0 for one-off tariffs and without a tariff."""
    import calendar

    if tariff is None:
        return ZERO
    method = tariff.charge_method
    if method == "daily":
        return tariff.fee * calendar.monthrange(day.year, day.month)[1]
    if method in ("monthly", "monthly_spread"):
        return tariff.fee
    return ZERO


def recommended_payment(*, balance: Decimal, credit_limit: Decimal, promised: Decimal,
                        tariff, day) -> Decimal:
    """A payment (roubles, ≥ 0) after which the money, without the promised payment that
    expires, covers a month's fee above the disconnect threshold; never below the minimal
    payment."""
    threshold = tariff.disconnect_threshold if tariff is not None else ZERO
    minimal = minimal_payment(
        balance=balance, credit_limit=credit_limit, promised=promised, threshold=threshold
    )
    own = money_available(
        balance=balance, credit_limit=credit_limit, promised=ZERO, threshold=threshold
    )
    return max(minimal, tariff_month_fee(tariff, day) - own, ZERO)


def tariff_day_cost(tariff, day, _cache: dict | None = None) -> Decimal:
    """What ``tariff`` charges for ``day`` (roubles, ≥ 0): the daily fee; the monthly fee on
    the month's charge day; the month's fee split over its days by largest remainder for
    the spread method; nothing for one-off tariffs."""
    import calendar

    from asr_billing.core.money import split_largest_remainder

    method = tariff.charge_method
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    if method == "daily":
        return tariff.fee
    if method == "monthly":
        charge_day = min(getattr(tariff, "monthly_charge_day", 1) or 1, days_in_month)
        return tariff.fee if day.day == charge_day else ZERO
    if method == "monthly_spread":
        key = (day.year, day.month)
        cache = _cache if _cache is not None else {}
        if key not in cache:
            cache[key] = split_largest_remainder(tariff.fee, [1] * days_in_month)
        return cache[key][day.day - 1]
    return ZERO


MONEY_HORIZON_DAYS = 3660  # look ten years ahead at most


@dataclass(frozen=True)
class MoneyLasts:
    """``until``: the last day the money pays for (None: no fee to pay, it lasts);
    ``days``: days from today to that day (0: the money has run out)."""

    until: object
    days: int | None


def money_lasts_until(*, balance: Decimal, credit_limit: Decimal, promised: Decimal,
                      tariff, today) -> MoneyLasts:
    """How long the money lasts at the tariff's fee, charges taken day by day from
    tomorrow (today's are taken already) while balance + credit + promised payment stays
    at or above the disconnect threshold."""
    from datetime import timedelta

    if tariff is None or tariff.fee <= 0 or tariff.charge_method not in (
        "daily", "monthly", "monthly_spread"
    ):
        return MoneyLasts(None, None)
    remaining = money_available(
        balance=balance, credit_limit=credit_limit, promised=promised,
        threshold=tariff.disconnect_threshold,
    )
    if remaining < 0:
        return MoneyLasts(today, 0)
    if tariff.charge_method == "daily":
        days = min(int(remaining // tariff.fee), MONEY_HORIZON_DAYS)
        return MoneyLasts(today + timedelta(days=days), days)
    cache: dict = {}
    day = today
    for _step in range(MONEY_HORIZON_DAYS):
        following = day + timedelta(days=1)
        cost = tariff_day_cost(tariff, following, cache)
        if remaining - cost < 0:
            break
        remaining -= cost
        day = following
    return MoneyLasts(day, (day - today).days)
