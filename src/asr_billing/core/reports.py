"""The admin's reports (issue 14): read-only selectors, each a few set-based queries.

- ``payments_report``: payments per local day or month by payment operator, with counts,
  amounts, row totals and a grand total — one GROUP BY over the operations index by
  (type, op_date). A payment that was later reversed (storno) is not counted: the report
  shows the money that stayed.
- ``debtors_summary`` / ``debtors_queryset``: accounts whose balance is below zero, by how
  much and since when, in age buckets. The model keeps no "went below zero at" timestamp
  (``negbal`` is a different rule: balance + credit + promised below the tariff's
  threshold), so "since" comes from the ledger: the date of the first operation after the
  last one that left the balance at zero or above (``balance_after >= 0``), or of the
  account's first operation when it never was. Two correlated subqueries per debtor,
  evaluated by the database.

Dates are local dates in the deployment's time zone (app['time_zone']).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from asr_billing.core.money import ZERO, money

DAY, MONTH = "day", "month"
# Age buckets of a debt, in whole local days since the balance went below zero:
# (lowest day, highest day or None). Their labels are the pages' (core/admin_reports.py).
BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 7), (8, 30), (31, 90), (91, None))
# A LIMIT no table reaches: an optimisation fence for a subquery (debtors_summary).
NO_LIMIT = 2**62


def local_start(day: date) -> datetime:
    """The first instant of a local day in the deployment's time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def group_ids(group) -> list[int] | None:
    """A group and every group below it; None for no group filter."""
    if group is None:
        return None
    from asr_billing.subscribers.selectors import group_descendant_ids

    return group_descendant_ids(group.pk)


def not_reversed(type_: int, start: datetime, end: datetime):
    """The operations of ``type_`` less those reversed (storno), for a report over
    [start, end). Reversals are few (none in most months), and testing each of a million
    rows for one costs a lookup a row (a third of a report's time on SQLite), so the test
    is made only when a row of the range was reversed: one query through the reversals'
    own rows."""
    from asr_billing.finance.models import Operation, OperationType

    queryset = Operation.objects.filter(type=type_)
    reversals = Operation.objects.filter(type=OperationType.REVERSAL)
    if reversals.filter(reverses__type=type_, reverses__op_date__gte=start,
                        reverses__op_date__lt=end).exists():
        queryset = queryset.exclude(pk__in=reversals.values("reverses_id"))
    return queryset


def next_period(day: date, grouping: str) -> date:
    if grouping == DAY:
        return day + timedelta(days=1)
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def per_period(queryset, periods_: list[date], grouping: str, keys: tuple[str, ...],
               *, start: datetime | None = None, end: datetime | None = None,
               **aggregates) -> list[dict]:
    """``aggregates`` of ``queryset`` grouped by ``keys`` for each local day or month of
    ``periods_``, in one query: a UNION ALL of one branch a period, each a range of
    ``op_date`` (the operations' (type, op_date, ...) covering index) with a GROUP BY of
    its own. The period is the branch, not a function of every row: Django's ``TruncDay``
    with a time zone is a Python function a row on SQLite, and on both databases the rows
    need no sort by a computed key. The bounds are local midnights worked out in Python
    with the zone's rules, so daylight-saving changes are right. Rows: dicts with
    ``period``, the keys and the aggregates, in no order. ``start`` / ``end`` clip the
    first and last period to the report's range (a range from the 15th grouped by month
    counts from the 15th, not from the 1st)."""
    parts = []
    for n, day in enumerate(periods_):
        lower = local_start(day)
        upper = local_start(next_period(day, grouping))
        if start is not None:
            lower = max(lower, start)
        if end is not None:
            upper = min(upper, end)
        parts.append(queryset.filter(op_date__gte=lower, op_date__lt=upper)
                     .annotate(n=Value(n, output_field=IntegerField()))
                     .values("n", *keys).annotate(**aggregates).order_by())
    rows = []
    for batch in _batches(parts, queryset.db):
        union = batch[0].union(*batch[1:], all=True) if len(batch) > 1 else batch[0]
        for row in union:
            row["period"] = periods_[row.pop("n")]
            rows.append(row)
    return rows


def query_parameter_limit(alias: str) -> int:
    """How many parameters one statement may carry on this database: the SQLite library's
    limit (32,766 by default; Debian's is built with 250,000); PostgreSQL's protocol limit
    (65,535: Django binds parameters on the client by default, so it applies only with
    server-side binding, but batching below it costs nothing)."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 65_535


def _batches(parts: list, alias: str) -> list[list]:
    """The branches in as few UNION ALL statements as the parameter limit allows. Each
    branch repeats its filter's parameters — a group filter with hundreds of subgroups is
    hundreds of ids —, so a by-day report over a year for such a group would be one
    statement with more parameters than the database takes."""
    per_branch = max(1, len(parts[0].query.sql_with_params()[1]))
    size = max(1, (query_parameter_limit(alias) - 100) // per_branch)
    return [parts[i:i + size] for i in range(0, len(parts), size)]


# ---------------------------------------------------------------- payments


@dataclass
class Cell:
    count: int = 0
    amount: Decimal = ZERO

    def add(self, count: int, amount: Decimal) -> None:
        self.count += count
        self.amount += amount


@dataclass
class PaymentOperatorColumn:
    pk: int | None
    code: str
    name: str


@dataclass
class PaymentsRow:
    period: date
    cells: list[Cell]  # one per operator column, in the report's order
    total: Cell


@dataclass
class PaymentsReport:
    grouping: str
    operators: list[PaymentOperatorColumn]
    rows: list[PaymentsRow]
    totals: list[Cell]  # per operator column
    grand: Cell = field(default_factory=Cell)


def periods(date_from: date, date_to: date, grouping: str) -> list[date]:
    """Every day (or first of month) from ``date_from`` to ``date_to`` inclusive."""
    if grouping == DAY:
        return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    result, current = [], date_from.replace(day=1)
    while current <= date_to:
        result.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return result


def payment_rows(*, date_from: date, date_to: date, grouping: str, group=None,
                 operator=None):
    """The aggregated rows, one per (period, operator) that has payments, ordered by
    period then operator code: dicts with period (a local date), pay_operator_id, code,
    name, count, amount. Three queries: the reversals' test (not_reversed), the payments
    (per_period), the operators' names."""
    from asr_billing.finance.models import OperationType, PaymentOperator

    start, end = local_start(date_from), local_start(date_to + timedelta(days=1))
    queryset = not_reversed(OperationType.PAYMENT, start, end)
    ids = group_ids(group)
    if ids is not None:
        queryset = queryset.filter(account__subscriber__group_id__in=ids)
    if operator is not None:
        queryset = queryset.filter(pay_operator=operator)
    data = per_period(queryset, periods(date_from, date_to, grouping), grouping,
                      ("pay_operator_id",), start=start, end=end,
                      count=Count("*"), amount=Sum("amount"))
    operators = {op.pk: op for op in PaymentOperator.objects.filter(
        pk__in={row["pay_operator_id"] for row in data} - {None})}
    # The cash desk (no operator) first, then by code.
    data.sort(key=lambda row: (row["period"], row["pay_operator_id"] is not None,
                               operators[row["pay_operator_id"]].code
                               if row["pay_operator_id"] is not None else ""))
    for row in data:
        operator_ = operators.get(row["pay_operator_id"])
        yield {
            "period": row["period"],
            "pay_operator_id": row["pay_operator_id"],
            "code": operator_.code if operator_ else "",
            "name": operator_.name if operator_ else "",
            "count": row["count"],
            "amount": row["amount"] or ZERO,
        }


def payments_report(*, date_from: date, date_to: date, grouping: str, group=None,
                    operator=None) -> PaymentsReport:
    """Periods × operators with row totals, column totals and a grand total. Every period
    of the range has a row, with zeros where nothing was paid."""
    data = list(payment_rows(date_from=date_from, date_to=date_to, grouping=grouping,
                             group=group, operator=operator))
    columns: dict[int | None, PaymentOperatorColumn] = {}
    for row in data:
        columns.setdefault(row["pay_operator_id"], PaymentOperatorColumn(
            pk=row["pay_operator_id"], code=row["code"], name=row["name"]))
    operators = sorted(columns.values(), key=lambda column: (column.pk is None, column.code))
    index = {column.pk: n for n, column in enumerate(operators)}
    rows = {period: PaymentsRow(period=period, cells=[Cell() for _ in operators],
                                total=Cell())
            for period in periods(date_from, date_to, grouping)}
    totals = [Cell() for _ in operators]
    grand = Cell()
    for row in data:
        line = rows[row["period"]]
        n = index[row["pay_operator_id"]]
        line.cells[n].add(row["count"], row["amount"])
        line.total.add(row["count"], row["amount"])
        totals[n].add(row["count"], row["amount"])
        grand.add(row["count"], row["amount"])
    return PaymentsReport(grouping=grouping, operators=operators, rows=list(rows.values()),
                          totals=totals, grand=grand)


# ---------------------------------------------------------------- debtors


def _below_zero_since():
    """For an Account row: when its balance last went below zero (see the module text)."""
    from asr_billing.finance.models import Operation

    # Posting order is id order, but ``ORDER BY id LIMIT 1`` with an account filter makes
    # PostgreSQL walk the primary key through the whole ledger for each debtor (minutes
    # at 100,000 subscribers). Ordering by ``id + 0`` keeps the same order while the
    # rows are found by the (account, op_date) index: the account's own few hundred.
    posting_order = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    last_not_negative = (
        Operation.objects.filter(account_id=OuterRef(OuterRef("pk")), balance_after__gte=0)
        .order_by(posting_order.desc()).values("id")[:1]
    )
    return Subquery(
        Operation.objects.filter(
            account_id=OuterRef("pk"),
            id__gt=Coalesce(Subquery(last_not_negative), Value(0),
                            output_field=IntegerField()),
        ).order_by(posting_order.asc()).values("op_date")[:1]
    )


def debtors_queryset(*, group=None):
    """Accounts below zero with ``since`` (a datetime) and the subscriber's fields; the
    largest debt first. Lazy: page it or stream it with ``.iterator()``."""
    from asr_billing.finance.models import Account

    queryset = Account.objects.filter(balance__lt=0)
    ids = group_ids(group)
    if ids is not None:
        queryset = queryset.filter(subscriber__group_id__in=ids)
    return queryset.annotate(since=_below_zero_since()).order_by("balance", "pk")


def age_days(since: datetime | None, today: date) -> int | None:
    if since is None:
        return None
    return (today - timezone.localtime(since).date()).days


@dataclass
class Bucket:
    low: int
    high: int | None
    count: int
    debt: Decimal  # positive: how much is owed


def _debtor_figures(group, bounds: list[datetime | None]) -> dict:
    """c0.., s0.. (count and balance sum of each bucket), c and s (all debtors): one query.

    Each debtor's "since" is worked out once, in two steps, each a derived table fenced by
    a LIMIT no table reaches (without it both databases pull the inner query up into the
    aggregate and work the subqueries out again for every filter that reads them): first
    the id of the last operation that left the balance at zero or above, then the date of
    the first operation after it. Nested in one subquery instead (as debtors_queryset has
    it for a page), SQLite works the inner one out again for each operation the outer one
    looks at: 14 s instead of a few at 1,000,000 subscribers (docs/performance.md)."""
    from django.db import connection

    from asr_billing.finance.models import Account, Operation

    posting_order = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    debtors = Account.objects.filter(balance__lt=0)
    ids = group_ids(group)
    if ids is not None:
        debtors = debtors.filter(subscriber__group_id__in=ids)
    inner = debtors.annotate(last_ok=Subquery(
        Operation.objects.filter(account_id=OuterRef("pk"), balance_after__gte=0)
        .order_by(posting_order.desc()).values("id")[:1]
    ), debtor=F("pk"), owed=F("balance")).order_by().values("debtor", "owed",
                                                              "last_ok")[:NO_LIMIT]
    inner_sql, params = inner.query.sql_with_params()
    adapt = connection.ops.adapt_datetimefield_value
    columns, arguments = [], []
    for n in range(len(BUCKETS)):
        terms, values = [], []
        if bounds[n] is not None:
            terms.append("since < %s")
            values.append(adapt(bounds[n]))
        if n + 1 < len(BUCKETS):
            terms.append("since >= %s")
            values.append(adapt(bounds[n + 1]))
        condition = " AND ".join(terms)
        columns += [f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)",
                    f"SUM(CASE WHEN {condition} THEN balance END)"]
        arguments += values * 2
    sql = (
        f"SELECT {', '.join(columns)}, COUNT(*), SUM(balance) FROM ("  # noqa: S608
        "SELECT d.owed AS balance, (SELECT o.op_date FROM finance_operation o "
        "WHERE o.account_id = d.debtor AND o.id > COALESCE(d.last_ok, 0) "
        f"ORDER BY o.id + 0 LIMIT 1) AS since FROM ({inner_sql}) d LIMIT {NO_LIMIT}) e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arguments, *params])
        row = cursor.fetchone()

    def amount(value) -> Decimal:
        # SQLite sums the money column as a float: back to kopecks, as Django does.
        return ZERO if value is None else money(Decimal(str(value)))

    figures = {"c": row[-2], "s": amount(row[-1])}
    for n in range(len(BUCKETS)):
        figures[f"c{n}"] = row[2 * n] or 0
        figures[f"s{n}"] = amount(row[2 * n + 1])
    return figures


def debtors_summary(*, group=None, today: date | None = None) -> tuple[list[Bucket], Bucket]:
    """Count and debt per age bucket, and the total, in one aggregate query over the
    debtors with their "since" worked out once each."""
    today = today or timezone.localdate()
    # Bucket i holds debts of ``low`` days or more: they began before the first instant
    # of day (today - low + 1). Bucket 0 (from today) has no such bound.
    bounds = [local_start(today - timedelta(days=low - 1)) if low else None
              for low, _high in BUCKETS]
    figures = _debtor_figures(group, bounds)
    buckets = [
        Bucket(low=low, high=high, count=figures[f"c{n}"], debt=-(figures[f"s{n}"] or ZERO))
        for n, (low, high) in enumerate(BUCKETS)
    ]
    total = Bucket(low=0, high=None, count=figures["c"], debt=-(figures["s"] or ZERO))
    return buckets, total
