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

from django.db.models import Count, Q, Sum
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
    from asr_billing.subscribers.models import Subscriber

    return Subscriber.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(negbal=False, admin_blocked=False,
                                    voluntary_blocked=False)),
        negbal=Count("pk", filter=Q(negbal=True)),
        blocked=Count("pk", filter=Q(admin_blocked=True)),
        voluntary=Count("pk", filter=Q(voluntary_blocked=True)),
    )


def _payments(now: datetime) -> tuple[list[OperatorPayments], OperatorPayments]:
    """Payments (not reversed or not: the ledger's payment rows) by operator, with sums
    for the local day and month of ``now``. Amounts are positive roubles."""
    from asr_billing.finance.models import Operation, OperationType

    tz = now.tzinfo
    day_start = datetime.combine(now.date(), time.min, tzinfo=tz)
    month_start = datetime.combine(now.date().replace(day=1), time.min, tzinfo=tz)
    today = Q(op_date__gte=day_start)
    rows = (
        Operation.objects.filter(type=OperationType.PAYMENT, op_date__gte=month_start,
                                 op_date__lte=now)
        .values("pay_operator__code", "pay_operator__name")
        .annotate(month_count=Count("pk"), month_amount=Sum("amount"),
                  today_count=Count("pk", filter=today), today_amount=Sum("amount", filter=today))
        .order_by("-month_amount", "pay_operator__code")
    )
    result, total = [], OperatorPayments(code="", name="")
    for row in rows:
        item = OperatorPayments(
            code=row["pay_operator__code"] or "—", name=row["pay_operator__name"] or "",
            today_count=row["today_count"], today_amount=row["today_amount"] or ZERO,
            month_count=row["month_count"], month_amount=row["month_amount"] or ZERO)
        result.append(item)
        total.today_count += item.today_count
        total.today_amount += item.today_amount
        total.month_count += item.month_count
        total.month_amount += item.month_amount
    return result, total
