"""The admin's monthly reports (issue 14): read-only selectors, each a few set-based
queries (GROUP BY in the database, months cut in the deployment's time zone).

- ``charges_report``: charges (Operation type CHARGE) per local month by tariff and by
  service, with counts, amounts, totals, the subscribers charged and ARPU. A charge that
  was later reversed (storno) is not counted, as in the payments report: the report shows
  the money that stayed. Refunds of unused days after a tariff change are corrections,
  not charges, and are not subtracted. ARPU = the month's charges / the subscribers
  (accounts) charged anything that month; the range's ARPU is per subscriber-month.
- ``movement_report``: per month, subscribers connected (``connected_on``, or the local
  day the record was created when it is empty), disconnected (their tariff removed — a
  TariffChange to no tariff: the model keeps no other "disconnected" record; an
  administrator's block is only in the audit log and is not a disconnection), reconnected
  (a tariff given to a subscriber who had none), and on voluntary block (subscribers with
  a VoluntaryBlock overlapping the month; a block lifted early ends on the day it was
  lifted, as billing.services.block_last_day has it; one cancelled before it began never
  overlaps).
- ``mix_report``: subscribers per tariff per month from the charges ledger — distinct
  accounts charged for each tariff that month (reversed charges left out). Set-based and
  exact for history, whatever tariff a subscriber has today; a subscriber who changed
  tariff within a month is counted under both, once in the month's total.

Months of a timestamp (``op_date``) are local months. The charges and the mix are read
one month per branch of a ``UNION ALL`` (``_per_month``): each branch is a range of
``op_date`` between two local midnights worked out in Python with the zone's rules (so
daylight-saving changes are right), read from the operations' covering index by (type,
op_date, ...) and grouped by ids. Cutting the month with a function of every row was most
of the time: Django's ``TruncMonth`` with a time zone is a Python function per row on
SQLite (11 s for 1.2 million charges), a ``CASE`` over the month bounds 2.9 s, and on
PostgreSQL ``date_trunc`` ... ``AT TIME ZONE`` plus a sort of the rows by the tariff's name
(docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DateField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least, TruncDate, TruncMonth
from django.utils import timezone

from asr_billing.core.money import ZERO, money
from asr_billing.core.reports import (
    MONTH,
    Cell,
    group_ids,
    local_start,
    not_reversed,
    per_period,
    periods,
)

# The longest range of a monthly report: ten years.
MAX_MONTHS = 120
TARIFF, SERVICE = "tariff", "service"


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def months(month_from: date, month_to: date) -> list[date]:
    """The first day of every month from ``month_from`` to ``month_to`` inclusive."""
    return periods(month_from.replace(day=1), month_to, MONTH)


def _month(value) -> date:
    """A TruncMonth value as the first day of a local month."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_current_timezone())
        return value.date().replace(day=1)
    return value.replace(day=1)


def _charges(month_from: date, month_to: date, group):
    """The charges that stayed (not reversed) in the range, by the group; no month yet."""
    from asr_billing.finance.models import OperationType

    queryset = not_reversed(OperationType.CHARGE, local_start(month_from.replace(day=1)),
                            local_start(next_month(month_to)))
    ids = group_ids(group)
    if ids is not None:
        queryset = queryset.filter(account__subscriber__group_id__in=ids)
    return queryset


def _per_month(queryset, month_from: date, month_to: date, keys: tuple[str, ...],
               **aggregates) -> list[dict]:
    """``aggregates`` by ``keys`` for each local month, in one query (reports.per_period)."""
    return per_period(queryset, months(month_from, month_to), MONTH, keys, **aggregates)


def _charged_per_month(queryset, month_from: date, month_to: date) -> dict[date, int]:
    """Distinct accounts charged per month: one query."""
    return {row["period"]: row["subscribers"] for row in _per_month(
        queryset, month_from, month_to, (), subscribers=Count("account_id", distinct=True))}


def _names(tariff_ids, service_ids) -> dict[tuple[str, int], str]:
    """The names of the tariffs and services by (kind, pk): one query (none for none)."""
    from asr_billing.tariffs.models import Service, Tariff

    parts = [model.objects.filter(pk__in=ids).annotate(kind=Value(kind))
             .values_list("kind", "pk", "name").order_by()
             for kind, model, ids in ((TARIFF, Tariff, tariff_ids),
                                      (SERVICE, Service, service_ids)) if ids]
    if not parts:
        return {}
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {(kind, pk): name for kind, pk, name in union}


# ---------------------------------------------------------------- charges and ARPU


def charged_subscribers(*, month_from: date, month_to: date, group=None) -> dict[date, int]:
    """Subscribers (accounts) charged anything, per month: ARPU's divisor. Two queries."""
    return _charged_per_month(_charges(month_from, month_to, group), month_from, month_to)


def charge_rows(*, month_from: date, month_to: date, group=None) -> list[dict]:
    """One dict per (month, tariff or service) charged: period, kind (TARIFF/SERVICE), pk,
    name, count, subscribers (distinct accounts), amount (positive roubles); ordered by
    month, tariffs before services, then name. Three queries: the reversals' test, the
    charges grouped (by ids: no join, no sort of names), the names."""
    data = _per_month(_charges(month_from, month_to, group), month_from, month_to,
                      ("tariff_id", "service_id"), count=Count("*"),
                      subscribers=Count("account_id", distinct=True), amount=Sum("amount"))
    names = _names({row["tariff_id"] for row in data if row["tariff_id"] is not None},
                   {row["service_id"] for row in data if row["service_id"] is not None})
    rows = []
    for row in data:
        tariff = row["tariff_id"] is not None
        kind = TARIFF if tariff else SERVICE
        pk = row["tariff_id"] if tariff else row["service_id"]
        rows.append({
            "period": row["period"],
            "kind": kind,
            "pk": pk,
            "name": names[(kind, pk)],
            "count": row["count"],
            "subscribers": row["subscribers"],
            "amount": -(row["amount"] or ZERO),
        })
    rows.sort(key=lambda r: (r["period"], r["kind"] != TARIFF, r["name"], r["pk"]))
    return rows


@dataclass
class ChargeColumn:
    kind: str
    pk: int
    name: str


@dataclass
class ChargesRow:
    period: date
    cells: list[Cell]
    total: Cell
    subscribers: int = 0
    arpu: Decimal | None = None


@dataclass
class ChargesReport:
    columns: list[ChargeColumn]
    rows: list[ChargesRow]
    totals: list[Cell]
    grand: Cell = field(default_factory=Cell)
    subscriber_months: int = 0
    arpu: Decimal | None = None


def arpu(amount: Decimal, subscribers: int) -> Decimal | None:
    return money(amount / subscribers) if subscribers else None


def charges_report(*, month_from: date, month_to: date, group=None) -> ChargesReport:
    """Months × (tariffs, then services) with totals, subscribers charged and ARPU; every
    month of the range has a row. Five queries (see charge_rows)."""
    data = charge_rows(month_from=month_from, month_to=month_to, group=group)
    charged = charged_subscribers(month_from=month_from, month_to=month_to, group=group)
    keys: dict[tuple[str, int], ChargeColumn] = {}
    for row in data:
        keys.setdefault((row["kind"], row["pk"]),
                        ChargeColumn(kind=row["kind"], pk=row["pk"], name=row["name"]))
    columns = sorted(keys.values(), key=lambda c: (c.kind != TARIFF, c.name, c.pk))
    index = {(c.kind, c.pk): n for n, c in enumerate(columns)}
    rows = {m: ChargesRow(period=m, cells=[Cell() for _ in columns], total=Cell())
            for m in months(month_from, month_to)}
    totals = [Cell() for _ in columns]
    grand = Cell()
    for row in data:
        line, n = rows[row["period"]], index[(row["kind"], row["pk"])]
        for cell in (line.cells[n], line.total, totals[n], grand):
            cell.add(row["count"], row["amount"])
    for line in rows.values():
        line.subscribers = charged.get(line.period, 0)
        line.arpu = arpu(line.total.amount, line.subscribers)
    subscriber_months = sum(line.subscribers for line in rows.values())
    return ChargesReport(columns=columns, rows=list(rows.values()), totals=totals, grand=grand,
                         subscriber_months=subscriber_months,
                         arpu=arpu(grand.amount, subscriber_months))


# ---------------------------------------------------------------- subscriber movement


@dataclass
class MovementRow:
    period: date
    connected: int = 0
    disconnected: int = 0
    reconnected: int = 0
    on_block: int = 0

    @property
    def net(self) -> int:
        return self.connected + self.reconnected - self.disconnected


@dataclass
class MovementReport:
    rows: list[MovementRow]
    total: MovementRow


def movement_report(*, month_from: date, month_to: date, group=None) -> MovementReport:
    """Connected, disconnected, reconnected and on voluntary block per month (see the
    module text). Three queries."""
    from asr_billing.billing.models import TariffChange, VoluntaryBlock
    from asr_billing.subscribers.models import Subscriber

    tz = timezone.get_current_timezone()
    first, end = month_from.replace(day=1), next_month(month_to)
    all_months = months(month_from, month_to)
    rows = {m: MovementRow(period=m) for m in all_months}
    ids = group_ids(group)

    subscribers = Subscriber.objects.annotate(
        joined=Coalesce("connected_on", TruncDate("created_at", tzinfo=tz),
                        output_field=DateField()),
    ).filter(joined__gte=first, joined__lt=end)
    if ids is not None:
        subscribers = subscribers.filter(group_id__in=ids)
    for row in (subscribers.annotate(period=TruncMonth("joined", output_field=DateField()))
                .values("period").annotate(n=Count("pk")).order_by("period")):
        rows[_month(row["period"])].connected = row["n"]

    changes = TariffChange.objects.filter(effective_date__gte=first, effective_date__lt=end)
    if ids is not None:
        changes = changes.filter(subscriber__group_id__in=ids)
    removed = Q(new_tariff__isnull=True, old_tariff__isnull=False)
    given = Q(old_tariff__isnull=True, new_tariff__isnull=False)
    for row in (changes.filter(removed | given)
                .annotate(period=TruncMonth("effective_date"))
                .values("period")
                .annotate(off=Count("subscriber_id", distinct=True, filter=removed),
                          back=Count("subscriber_id", distinct=True, filter=given))
                .order_by("period")):
        line = rows[_month(row["period"])]
        line.disconnected, line.reconnected = row["off"], row["back"]

    # A block pauses from start_date to its last day: end_date, or the local day it was
    # lifted when that came first. One conditional count per month, in one query.
    blocks = VoluntaryBlock.objects.annotate(last_day=Case(
        When(ended_at__isnull=True, then=F("end_date")),
        default=Least("end_date", TruncDate("ended_at", tzinfo=tz)),
        output_field=DateField(),
    )).filter(Q(last_day__gte=F("start_date")),  # a block cancelled before it began
              start_date__lt=end, end_date__gte=first, last_day__gte=first)
    if ids is not None:
        blocks = blocks.filter(subscriber__group_id__in=ids)
    counts = blocks.aggregate(**{
        f"m{n}": Count("subscriber_id", distinct=True,
                       filter=Q(start_date__lt=next_month(m), last_day__gte=m))
        for n, m in enumerate(all_months)})
    for n, m in enumerate(all_months):
        rows[m].on_block = counts[f"m{n}"] or 0

    total = MovementRow(period=first)
    for line in rows.values():
        total.connected += line.connected
        total.disconnected += line.disconnected
        total.reconnected += line.reconnected
    return MovementReport(rows=list(rows.values()), total=total)


# ---------------------------------------------------------------- tariff mix


@dataclass
class TariffColumn:
    pk: int
    name: str


@dataclass
class MixRow:
    period: date
    cells: list[int]
    total: int = 0  # distinct subscribers charged for any tariff that month


@dataclass
class MixReport:
    tariffs: list[TariffColumn]
    rows: list[MixRow]


def mix_rows(*, month_from: date, month_to: date, group=None) -> list[dict]:
    """One dict per (month, tariff): period, pk, name, subscribers; ordered by month, then
    name. Three queries (as charge_rows)."""
    data = _per_month(_charges(month_from, month_to, group).filter(tariff__isnull=False),
                      month_from, month_to, ("tariff_id",),
                      subscribers=Count("account_id", distinct=True))
    names = _names({row["tariff_id"] for row in data}, ())
    rows = [{"period": row["period"], "pk": row["tariff_id"],
             "name": names[(TARIFF, row["tariff_id"])], "subscribers": row["subscribers"]}
            for row in data]
    rows.sort(key=lambda r: (r["period"], r["name"], r["pk"]))
    return rows


def mix_report(*, month_from: date, month_to: date, group=None) -> MixReport:
    """Months × tariffs: subscribers charged for each; every month has a row. Five
    queries."""
    data = mix_rows(month_from=month_from, month_to=month_to, group=group)
    totals = _charged_per_month(_charges(month_from, month_to, group)
                                .filter(tariff__isnull=False), month_from, month_to)
    names: dict[int, TariffColumn] = {}
    for row in data:
        names.setdefault(row["pk"], TariffColumn(pk=row["pk"], name=row["name"]))
    tariffs = sorted(names.values(), key=lambda t: (t.name, t.pk))
    index = {t.pk: n for n, t in enumerate(tariffs)}
    rows = {m: MixRow(period=m, cells=[0] * len(tariffs), total=totals.get(m, 0))
            for m in months(month_from, month_to)}
    for row in data:
        rows[row["period"]].cells[index[row["pk"]]] = row["subscribers"]
    return MixReport(tariffs=tariffs, rows=list(rows.values()))
