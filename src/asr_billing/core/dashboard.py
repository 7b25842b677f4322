"""The admin's first page: how the business is doing this morning (issue 14).

``dashboard(user)`` reads, in a handful of set-based queries whatever the size of the
base: subscribers by state (one pass over the subscriber table), payments today and this
month by operator (the operations index by type and date), the last charging run, open
RADIUS sessions and helpdesk tickets waiting for support. Each block shows only to
operators who may see what it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from django.db.models import Count, Sum, Value
from django.utils import timezone

from asr_billing.core.money import ZERO


@dataclass
class OperatorPayments:
    code: str
    name: str
    today_count: int = 0
    today_amount: Decimal = ZERO
    month_count: int = 0
    month_amount: Decimal = ZERO


@dataclass
class Dashboard:
    states: dict[str, int] | None = None  # total, active, negbal, blocked, voluntary
    payments: list[OperatorPayments] | None = None
    payments_total: OperatorPayments | None = None
    last_run: object | None = None
    sessions_open: int | None = None
    tickets_open: int | None = None
    visible: set[str] = field(default_factory=set)


def dashboard(user, *, now: datetime | None = None) -> Dashboard:
    """What ``user`` may see of the figures below; ``now`` for tests (default: now)."""
    now = timezone.localtime(now or timezone.now())
    board = Dashboard()
    if user.has_perm("subscribers.view_subscriber"):
        board.states = _states()
        board.visible.add("states")
    if user.has_perm("finance.view_operation"):
        board.payments, board.payments_total = _payments(now)
        board.visible.add("payments")
    if user.has_perm("billing.view_billingrun"):
        from asr_billing.billing.models import BillingRun

        board.last_run = BillingRun.objects.order_by("-started_at", "-pk").first()
        board.visible.add("run")
    if user.has_perm("network.view_onlinesession"):
        from asr_billing.network.models import OnlineSession

        board.sessions_open = OnlineSession.objects.filter(stopped_at__isnull=True).count()
        board.visible.add("sessions")
    if user.has_perm("cabinet.view_ticket"):
        from asr_billing.cabinet.models_helpdesk import Ticket, TicketStatus

        board.tickets_open = Ticket.objects.filter(status=TicketStatus.OPEN).count()
        board.visible.add("tickets")
    return board


def _states() -> dict[str, int]:
    """Subscribers by state: one GROUP BY of the three flags (at most eight rows), read from
    the subscriber_states index alone rather than the subscriber table."""
    from asr_billing.subscribers.models import Subscriber

    states = dict.fromkeys(("total", "active", "negbal", "blocked", "voluntary"), 0)
    for row in (Subscriber.objects.values("negbal", "admin_blocked", "voluntary_blocked")
                .annotate(n=Count("*")).order_by()):
        n = row["n"]
        states["total"] += n
        states["negbal"] += n if row["negbal"] else 0
        states["blocked"] += n if row["admin_blocked"] else 0
        states["voluntary"] += n if row["voluntary_blocked"] else 0
        if not (row["negbal"] or row["admin_blocked"] or row["voluntary_blocked"]):
            states["active"] += n
    return states


def _payments(now: datetime) -> tuple[list[OperatorPayments], OperatorPayments]:
    """Payments (not reversed or not: the ledger's payment rows) by operator, with sums
    for the local day and month of ``now``. Amounts are positive roubles.

    Two queries: the rows of the month before today and those of today, each counted and
    summed by operator id in its own branch of one UNION ALL (a range of the operations'
    (type, op_date, ...) covering index, each row read and summed once; a sum ``FILTER``ed
    to today on top of the month's would add a second sum a row), then the operators'
    codes and names — grouping by the joined code and name would carry two strings
    through the aggregate for every payment."""
    from asr_billing.finance.models import Operation, OperationType, PaymentOperator

    tz = now.tzinfo
    day_start = datetime.combine(now.date(), time.min, tzinfo=tz)
    month_start = datetime.combine(now.date().replace(day=1), time.min, tzinfo=tz)
    payments = Operation.objects.filter(type=OperationType.PAYMENT)
    parts = [
        payments.filter(op_date__gte=start, **bound)
        .annotate(today=Value(today)).values("today", "pay_operator_id")
        .annotate(count=Count("*"), amount=Sum("amount")).order_by()
        for today, start, bound in ((False, month_start, {"op_date__lt": day_start}),
                                    (True, day_start, {"op_date__lte": now}))
    ]
    by_id: dict[int | None, OperatorPayments] = {}
    for row in parts[0].union(parts[1], all=True):
        item = by_id.setdefault(row["pay_operator_id"], OperatorPayments(code="", name=""))
        amount = row["amount"] or ZERO
        item.month_count += row["count"]
        item.month_amount += amount
        if row["today"]:
            item.today_count += row["count"]
            item.today_amount += amount
    for operator in PaymentOperator.objects.filter(pk__in=set(by_id) - {None}):
        by_id[operator.pk].code, by_id[operator.pk].name = operator.code, operator.name
    if None in by_id:
        by_id[None].code = "—"
    result = sorted(by_id.values(), key=lambda item: (-item.month_amount, item.code))
    total = OperatorPayments(code="", name="")
    for item in result:
        total.today_count += item.today_count
        total.today_amount += item.today_amount
        total.month_count += item.month_count
        total.month_amount += item.month_amount
    return result, total
