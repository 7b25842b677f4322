"""The portable charging batch: load subscribers, ask rules.charges_due, post the rows.

Runs on any database (SQLite's whole run goes through it) and, on PostgreSQL, for the
subscribers of a batch whose tariff changes or voluntary blocks need the full rules.
The caller holds the batch's account locks (PostgreSQL: SELECT ... FOR UPDATE in id
order; SQLite: the write lock of the IMMEDIATE transaction), so what is read here stays
true until commit. A subscriber that fails is recorded and left out; the others go on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.db.models import Q

from asr_billing.billing.models import BillingRunError, TariffChange, VoluntaryBlock
from asr_billing.billing.periods import Month, local_date
from asr_billing.billing.rules import (
    Block,
    Change,
    Due,
    ServiceLink,
    SubscriberDay,
    charges_due,
    lookback_start,
)
from asr_billing.billing.services import block_last_day
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import ZERO
from asr_billing.finance.models import Account, Operation, OperationType
from asr_billing.finance.state import is_negbal
from asr_billing.subscribers.models import Subscriber, SubscriberService

ACTOR = "billing"


@dataclass(frozen=True)
class NegbalMove:
    """A change of a subscriber's negbal state made by the run; ``balance`` after it."""

    subscriber_id: int
    negbal: bool
    balance: Decimal


@dataclass
class BatchTotals:
    seen: int = 0
    charges: int = 0
    amount: Decimal = ZERO  # positive roubles charged
    errors: int = 0
    fallbacks: int = 0
    error_rows: list = field(default_factory=list)
    # Moves whose audit rows are not written yet: the batch writes them all at its end,
    # in subscriber id order (see negbal_audit_write).
    moves: list[NegbalMove] = field(default_factory=list)

    def add(self, other: BatchTotals) -> None:
        self.seen += other.seen
        self.charges += other.charges
        self.amount += other.amount
        self.errors += other.errors
        self.fallbacks += other.fallbacks
        self.error_rows += other.error_rows
        self.moves += other.moves


def _where(prefix: str, lo: int | None, hi: int | None, ids) -> Q:
    if ids is not None:
        return Q(**{f"{prefix}__in": list(ids)})
    return Q(**{f"{prefix}__gte": lo, f"{prefix}__lte": hi})


def load_contexts(
    *, day: date, catchup_days: int, tz_name: str, lo=None, hi=None, ids=None
) -> dict[int, SubscriberDay]:
    """Everything the rules need for the subscribers with ids in lo..hi (or ``ids``):
    five queries whatever the batch size."""
    start = lookback_start(day, catchup_days)
    month = Month.of(day)
    contexts: dict[int, SubscriberDay] = {}
    rows = (
        Subscriber.objects.filter(_where("pk", lo, hi, ids), account__isnull=False)
        .order_by("pk")
        .values_list(
            "pk",
            "tariff_id",
            "connected_on",
            "created_at",
            "admin_blocked",
            "negbal",
            "account__balance",
            "account__credit_limit",
            "account__promised_amount",
        )
    )
    for pk, tariff_id, connected, created, admin, negbal, balance, credit, promised in rows:
        ctx = SubscriberDay(
            subscriber_id=pk,
            tariff_id=tariff_id,
            start=connected or local_date(created, tz_name),
            admin_blocked=admin,
            balance=balance,
            credit_limit=credit,
            promised_amount=promised,
            negbal=negbal,
        )
        contexts[pk] = ctx
    if not contexts:
        return contexts
    for sid, eff, old, new, pk in TariffChange.objects.filter(
        _where("subscriber_id", lo, hi, ids), effective_date__gte=start
    ).values_list("subscriber_id", "effective_date", "old_tariff_id", "new_tariff_id", "pk"):
        if sid in contexts:
            contexts[sid].changes.append(Change(eff, old, new, pk))
    for block in VoluntaryBlock.objects.filter(
        _where("subscriber_id", lo, hi, ids), end_date__gte=start, start_date__lte=month.last
    ).only("subscriber_id", "start_date", "end_date", "ended_at"):
        if block.subscriber_id in contexts:
            last = block_last_day(block, tz_name)
            if last >= block.start_date:
                contexts[block.subscriber_id].blocks.append(Block(block.start_date, last))
    for sid, service_id, enabled, disabled in SubscriberService.objects.filter(
        _where("subscriber_id", lo, hi, ids),
        Q(disabled_on__isnull=True) | Q(disabled_on__gt=start),
    ).values_list("subscriber_id", "service_id", "enabled_on", "disabled_on"):
        if sid in contexts:
            contexts[sid].services.append(ServiceLink(service_id, enabled, disabled))
    for sid, tariff_id, service_id, period_start in Operation.objects.filter(
        _where("account_id", lo, hi, ids),
        type=OperationType.CHARGE,
        period_start__gte=start,
        period_start__lte=month.last,
    ).values_list("account_id", "tariff_id", "service_id", "period_start"):
        if sid in contexts:
            contexts[sid].charged.add((tariff_id, service_id, period_start))
    return contexts


def lock_accounts(lo: int, hi: int) -> int:
    """Lock the accounts with ids lo..hi in id order; returns how many there are."""
    return len(
        Account.objects.select_for_update()
        .filter(pk__gte=lo, pk__lte=hi)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rows(ctx: SubscriberDay, dues: list[Due], now: datetime) -> list[Operation]:
    balance = ctx.balance
    rows = []
    for due in dues:
        balance -= due.amount
        rows.append(
            Operation(
                account_id=ctx.subscriber_id,
                type=OperationType.CHARGE,
                amount=-due.amount,
                balance_after=balance,
                op_date=now,
                created_at=now,
                description=due.description,
                actor=ACTOR,
                tariff_id=due.tariff_id,
                service_id=due.service_id,
                period_start=due.period_start,
                period_end=due.period_end,
            )
        )
    return rows


def error_row(run_id: int, subscriber_id, day: date, stage: str, exc: BaseException):
    text = f"{type(exc).__name__}: {exc}"[:2000]
    return BillingRunError(
        run_id=run_id, subscriber_id=subscriber_id, day=day, stage=stage, message=text
    )


def post_contexts(
    *,
    run_id: int,
    day: date,
    contexts: dict[int, SubscriberDay],
    options,
    tariffs: dict,
    services: dict,
    now: datetime,
) -> BatchTotals:
    """Post what is due on ``day`` for the (locked) subscribers in ``contexts``. The
    negbal moves are made but their audit rows are left to the caller (``moves``)."""
    totals = BatchTotals()
    per_subscriber: dict[int, list[Operation]] = {}
    for sid, ctx in contexts.items():
        try:
            dues = charges_due(
                ctx,
                day,
                tariffs=tariffs,
                services=services,
                policy=options.policy_of(tariffs.get(ctx.tariff_id)),
                charge_admin_blocked=options.charge_admin_blocked,
                catchup_days=options.catchup_days,
            )
        except Exception as exc:  # one subscriber's bad data must not stop the run
            totals.errors += 1
            totals.error_rows.append(error_row(run_id, sid, day, "rules", exc))
            continue
        if dues:
            per_subscriber[sid] = _rows(ctx, dues, now)
    posted = _insert(per_subscriber, run_id, day, totals)
    changed = []
    for sid, rows in posted.items():
        ctx = contexts[sid]
        ctx.balance = rows[-1].balance_after
        changed.append(Account(pk=sid, balance=ctx.balance, updated_at=now))
        totals.charges += len(rows)
        totals.amount -= sum((r.amount for r in rows), ZERO)
    if changed:
        Account.objects.bulk_update(changed, ["balance", "updated_at"], batch_size=500)
    totals.moves = _negbal_refresh([contexts[sid] for sid in posted], tariffs)
    return totals


def _insert(per_subscriber, run_id, day, totals) -> dict[int, list[Operation]]:
    """One INSERT for the batch; if the database refuses it, one per subscriber, so a
    bad row fails only its own subscriber."""
    everything = [row for rows in per_subscriber.values() for row in rows]
    if not everything:
        return {}
    try:
        with transaction.atomic():
            Operation.objects.bulk_create(everything, batch_size=1000)
        return per_subscriber
    except DatabaseError:
        pass
    posted = {}
    for sid, rows in per_subscriber.items():
        try:
            with transaction.atomic():
                Operation.objects.bulk_create(rows)
            posted[sid] = rows
        except DatabaseError as exc:
            totals.errors += 1
            totals.error_rows.append(error_row(run_id, sid, day, "post", exc))
    return posted


def _negbal_refresh(contexts: list[SubscriberDay], tariffs: dict) -> list[NegbalMove]:
    """finance.state's rule for each charged subscriber, written in bulk: one UPDATE per
    direction. Returns the transitions; each gets an audit row (negbal_audit_write)."""
    moved: dict[bool, list[int]] = defaultdict(list)
    moves = []
    for ctx in contexts:
        tariff = tariffs.get(ctx.tariff_id)
        threshold = tariff.disconnect_threshold if tariff is not None else ZERO
        negbal = is_negbal(
            balance=ctx.balance,
            credit_limit=ctx.credit_limit,
            promised=ctx.promised_amount,
            threshold=threshold,
        )
        if negbal == ctx.negbal:
            continue
        moved[negbal].append(ctx.subscriber_id)
        ctx.negbal = negbal
        moves.append(NegbalMove(ctx.subscriber_id, negbal, ctx.balance))
    for value, ids in moved.items():
        Subscriber.objects.filter(pk__in=ids).update(negbal=value)
    return moves


def negbal_audit_write(moves: list[NegbalMove], now: datetime) -> None:
    """One audit row per negbal move, in subscriber id order: the order an operator
    reading the log expects, and the order the set-based statement writes its rows in
    (run_sql.CHARGE_SQL, which also takes the moves of the batch's portable part)."""
    if not moves:
        return
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                created_at=now,
                actor=ACTOR,
                action="negbal_on" if move.negbal else "negbal_off",
                subscriber_id=move.subscriber_id,
                object_type="subscriber",
                object_id=str(move.subscriber_id),
                old={"negbal": not move.negbal},
                new={"negbal": move.negbal, "balance": str(move.balance)},
            )
            for move in sorted(moves, key=lambda m: m.subscriber_id)
        ],
        batch_size=1000,
    )
