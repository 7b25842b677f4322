"""Billing writes besides the charging run: tariff changes, promised payments, voluntary
blocks. Each runs in one transaction, locks the account row first (then the subscriber
row: always in this order, so two services never deadlock), recomputes the negbal and
block state in that transaction and leaves audit rows.

Errors a cabinet client compares carry Carbon's byte-exact texts (billing/texts.py); the
others are ours, through gettext.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.billing import texts
from asr_billing.billing.models import PromisedPayment, Recalculation, TariffChange, VoluntaryBlock
from asr_billing.billing.options import billing_options, promised_terms
from asr_billing.billing.periods import Month, add_local_days, local_date, local_today
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import Conflict, InvalidInput
from asr_billing.core.money import (
    ZERO,
    MoneyError,
    amount_too_large,
    fmt,
    money,
    split_largest_remainder,
    too_large,
)
from asr_billing.finance.models import Operation, OperationType
from asr_billing.finance.services import account_lock, correction_post
from asr_billing.finance.state import subscriber_state_refresh
from asr_billing.subscribers.models import Subscriber
from asr_billing.tariffs.models import ChargeMethod, PartialMonth, Tariff


def _lock(subscriber_id: int):
    account = account_lock(subscriber_id)
    subscriber = Subscriber.objects.select_for_update(of=("self",)).select_related("tariff").get(
        pk=subscriber_id
    )
    account.subscriber = subscriber
    return account, subscriber


# --- Tariff changes -------------------------------------------------------------------


def _refund_unused(*, account, tariff: Tariff, effective: date, actor: Actor) -> list[Operation]:
    """Refund the days from ``effective`` on of the old tariff's charges that cover them
    (a monthly fee charged in advance), once per charge (Recalculation.charge is unique)."""
    if tariff.charge_method == ChargeMethod.MONTHLY and tariff.partial_month == PartialMonth.FULL:
        return []
    charges = Operation.objects.filter(
        account=account,
        type=OperationType.CHARGE,
        tariff=tariff,
        period_end__gte=effective,
        recalculation__isnull=True,
        reversed_by__isnull=True,
    ).order_by("period_start", "id")
    refunds = []
    for charge in charges:
        if charge.period_start < effective and tariff.charge_method != ChargeMethod.MONTHLY:
            continue
        if tariff.charge_method != ChargeMethod.MONTHLY and charge.period_start == effective:
            continue  # the day of the change was charged on the old tariff: it stays so
        first = max(effective, charge.period_start)
        days = (charge.period_end - charge.period_start).days + 1
        unused = (charge.period_end - first).days + 1
        parts = split_largest_remainder(-charge.amount, [1] * days)
        amount = sum(parts[days - unused :], ZERO)
        if amount <= 0:
            continue
        refund = correction_post(
            subscriber=account.subscriber,
            amount=amount,
            actor=actor,
            description=_("%(name)s: refund for unused days %(first)s–%(last)s")
            % {
                "name": tariff.name,
                "first": first.strftime("%d.%m.%Y"),
                "last": charge.period_end.strftime("%d.%m.%Y"),
            },
        )
        Recalculation.objects.create(
            charge=charge, refund=refund, first_day=first, last_day=charge.period_end
        )
        refunds.append(refund)
    return refunds


def _apply_change(*, account, subscriber, tariff, effective: date, actor: Actor, scheduled: bool):
    old = subscriber.tariff
    change = TariffChange.objects.create(
        subscriber=subscriber,
        effective_date=effective,
        old_tariff=old,
        new_tariff=tariff,
        scheduled=scheduled,
        actor=audit_actor(actor),
    )
    subscriber.tariff = tariff
    fields = ["tariff"]
    if scheduled:
        subscriber.tariff_next, subscriber.tariff_next_date = None, None
        fields += ["tariff_next", "tariff_next_date"]
    subscriber.save(update_fields=fields)
    if old is not None:
        _refund_unused(account=account, tariff=old, effective=effective, actor=actor)
    audit_record(
        actor=actor,
        action="tariff_change",
        obj=subscriber,
        subscriber=subscriber,
        old={"tariff": old.pk if old else None},
        new={"tariff": tariff.pk if tariff else None, "from": effective.isoformat()},
    )
    subscriber_state_refresh(subscriber_id=subscriber.pk, actor=actor)
    # Speeds follow the subscriber's tariff from now (authorize reads it): open sessions
    # get the new rates by CoA after commit (network.coa_rates).
    from asr_billing.network.coa_rates import sessions_rates_changed

    sessions_rates_changed(subscriber_id=subscriber.pk, old_tariff=old, new_tariff=tariff,
                           change_id=change.pk)
    return change


def audit_actor(actor: Actor) -> str:
    from asr_billing.core.audit import actor_fields

    return actor_fields(actor)["actor"]


def tariff_change_apply_scheduled(*, subscriber_id: int, actor: Actor) -> TariffChange | None:
    """Apply a subscriber's scheduled change (tariff_next from tariff_next_date), as the
    run and the scheduler do on that date. None when there is nothing due any more
    (another run applied it, or it was cancelled): safe to call twice."""
    with transaction.atomic():
        account, subscriber = _lock(subscriber_id)
        options = billing_options()
        due = subscriber.tariff_next_date
        if subscriber.tariff_next_id is None or due is None or due > local_today(
            options.time_zone
        ):
            return None
        return _apply_change(
            account=account,
            subscriber=subscriber,
            tariff=subscriber.tariff_next,
            effective=due,
            actor=actor,
            scheduled=True,
        )


def tariff_change_now(*, subscriber: Subscriber, tariff: Tariff | None, actor: Actor):
    """Change the tariff at once: speeds follow now; charging follows from tomorrow
    (today was charged, or will be, on the old tariff), with unused prepaid days of a
    monthly fee refunded. Returns the TariffChange, or None when it is the same tariff."""
    with transaction.atomic():
        account, locked = _lock(subscriber.pk)
        if locked.tariff_id == (tariff.pk if tariff else None):
            return None
        tomorrow = local_today(billing_options().time_zone) + timedelta(days=1)
        return _apply_change(
            account=account,
            subscriber=locked,
            tariff=tariff,
            effective=tomorrow,
            actor=actor,
            scheduled=False,
        )


def tariff_changes_due(*, day: date) -> list[int]:
    """Subscribers whose scheduled change is due on or before ``day``."""
    return list(
        Subscriber.objects.filter(tariff_next__isnull=False, tariff_next_date__lte=day)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- Promised payments ----------------------------------------------------------------


def _month_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    month = Month.of(local_date(now, tz_name))
    start = timezone.make_aware(datetime.combine(month.first, datetime.min.time()), _zone(tz_name))
    nxt = month.last + timedelta(days=1)
    end = timezone.make_aware(datetime.combine(nxt, datetime.min.time()), _zone(tz_name))
    return start, end


def _zone(tz_name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz_name)


def promised_payment_take(
    *,
    subscriber: Subscriber,
    actor: Actor,
    amount: Decimal | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> PromisedPayment:
    """Give the subscriber a promised payment: ``amount`` roubles of extra money for
    ``days`` days (defaults: the tariff's terms, else billing['promised.*']). It lifts a
    cut-off at once and ends by itself (promised_payments_expire). Refusals carry
    Carbon's texts; nothing changes then."""
    now = now or timezone.now()
    options = billing_options()
    if amount is not None:
        if too_large(amount):
            raise amount_too_large(_("Promised payment amount"))
        try:
            amount = money(amount)
        except MoneyError:
            raise InvalidInput(_("The promised payment amount is not a valid amount")) from None
    with transaction.atomic():
        account, locked = _lock(subscriber.pk)
        terms = promised_terms(options, locked.tariff)
        value = terms.amount if amount is None else amount
        length = terms.days if days is None else days
        if locked.tariff_id is None or value <= 0 or length < 1 or locked.admin_blocked:
            raise InvalidInput(texts.PROMISED_NOT_AVAILABLE, code="promised_not_available")
        if PromisedPayment.objects.filter(subscriber=locked, closed_at__isnull=True).exists():
            raise Conflict(texts.PROMISED_ALREADY_ACTIVE, code="promised_active")
        if terms.only_when_cut_off and not locked.negbal:
            raise InvalidInput(texts.PROMISED_ONLY_TO_UNBLOCK, code="promised_only_to_unblock")
        if terms.max_per_month:
            start, end = _month_bounds(now, options.time_zone)
            taken = PromisedPayment.objects.filter(
                subscriber=locked, created_at__gte=start, created_at__lt=end
            ).count()
            if taken >= terms.max_per_month:
                raise Conflict(texts.PROMISED_MONTH_LIMIT % taken, code="promised_month_limit")
        try:
            with transaction.atomic():
                promised = PromisedPayment.objects.create(
                    subscriber=locked,
                    amount=value,
                    created_at=now,
                    expires_at=add_local_days(now, length, options.time_zone),
                    actor=audit_actor(actor),
                )
        except IntegrityError:  # a concurrent take won (one active, by constraint)
            raise Conflict(texts.PROMISED_ALREADY_ACTIVE, code="promised_active") from None
        account.promised_amount += value
        account.save(update_fields=["promised_amount", "updated_at"])
        audit_record(
            actor=actor,
            action="promised_payment_take",
            obj=promised,
            subscriber=locked,
            new={
                "amount": fmt(value),
                "expires_at": promised.expires_at.isoformat(),
                "promised_amount": fmt(account.promised_amount),
            },
        )
        subscriber_state_refresh(subscriber_id=locked.pk, actor=actor, account=account)
    return promised


def _promised_close(promised_id: int, *, now: datetime, actor: Actor, action: str) -> bool:
    with transaction.atomic():
        subscriber_id = PromisedPayment.objects.values_list("subscriber_id", flat=True).get(
            pk=promised_id
        )
        account, subscriber = _lock(subscriber_id)
        promised = PromisedPayment.objects.select_for_update().get(pk=promised_id)
        if promised.closed_at is not None:
            return False
        promised.closed_at = now
        promised.save(update_fields=["closed_at"])
        account.promised_amount = max(ZERO, account.promised_amount - promised.amount)
        account.save(update_fields=["promised_amount", "updated_at"])
        audit_record(
            actor=actor,
            action=action,
            obj=promised,
            subscriber=subscriber,
            old={"promised_amount": fmt(account.promised_amount + promised.amount)},
            new={"promised_amount": fmt(account.promised_amount)},
        )
        subscriber_state_refresh(subscriber_id=subscriber.pk, actor=actor, account=account)
    return True


def promised_payments_expire(*, now: datetime | None = None, actor: Actor = "billing") -> int:
    """End every promised payment whose time is up; the subscriber is cut off again at
    once if the money is still short. Returns how many ended. Safe to run concurrently."""
    now = now or timezone.now()
    due = PromisedPayment.objects.filter(closed_at__isnull=True, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(
        _promised_close(pk, now=now, actor=actor, action="promised_payment_expire")
        for pk in list(due)
    )


# --- Voluntary blocks -----------------------------------------------------------------


def block_last_day(block: VoluntaryBlock, tz_name: str) -> date:
    """The last day the block pauses the service: its end date, or the day it was lifted
    (that day stays free: the day's charge was decided while it was blocked)."""
    if block.ended_at is None:
        return block.end_date
    return min(block.end_date, local_date(block.ended_at, tz_name))


def _set_voluntary_flag(subscriber: Subscriber, value: bool, *, actor: Actor, block) -> None:
    if subscriber.voluntary_blocked == value:
        return
    Subscriber.objects.filter(pk=subscriber.pk).update(voluntary_blocked=value)
    subscriber.voluntary_blocked = value
    audit_record(
        actor=actor,
        action="voluntary_block_on" if value else "voluntary_block_off",
        obj=block,
        subscriber=subscriber,
        old={"voluntary_blocked": not value},
        new={"voluntary_blocked": value},
    )


def _open_blocks(subscriber: Subscriber):
    return VoluntaryBlock.objects.filter(subscriber=subscriber, ended_at__isnull=True)


@dataclass(frozen=True)
class BlockResult:
    block: VoluntaryBlock
    message: str


def voluntary_block_create(
    *,
    subscriber: Subscriber,
    start_date: date,
    end_date: date,
    actor: Actor,
    now: datetime | None = None,
) -> VoluntaryBlock:
    """Pause the service from ``start_date`` to ``end_date`` inclusive (local dates; start
    today or later, at most billing['vblock.max_start_days'] ahead). Checks min/max days,
    blocks per month and the one-time cost (billing['vblock.*']) with Carbon's texts;
    charges the cost; sets the block flag now when it starts today."""
    now = now or timezone.now()
    options = billing_options()
    today = local_today(options.time_zone, now)
    if end_date < start_date:
        raise InvalidInput(_("The block ends before it starts"), code="vblock_dates")
    if start_date < today:
        raise InvalidInput(texts.VBLOCK_IN_PAST, code="vblock_in_past")
    latest_start = today + timedelta(days=options.vblock_max_start_days)
    if start_date > latest_start:
        # A block planned years ahead would hold the subscriber's "one block" slot (and
        # the month's count) for nothing, and a typo in the year would go unnoticed.
        raise InvalidInput(
            _("A voluntary block can start at most %(days)s days from today, on "
              "%(latest)s at the latest")
            % {"days": options.vblock_max_start_days,
               "latest": latest_start.strftime("%d.%m.%Y")},
            code="vblock_too_far",
        )
    days = (end_date - start_date).days + 1
    if days > options.vblock_max_days:
        raise InvalidInput(texts.VBLOCK_TOO_LONG % options.vblock_max_days, code="vblock_too_long")
    if days < options.vblock_min_days:
        raise InvalidInput(
            texts.VBLOCK_TOO_SHORT % options.vblock_min_days, code="vblock_too_short"
        )
    with transaction.atomic():
        account, locked = _lock(subscriber.pk)
        planned = _open_blocks(locked).filter(end_date__gte=today).exists()
        if locked.voluntary_blocked or planned:
            raise Conflict(texts.VBLOCK_ALREADY, code="vblock_already")
        if options.vblock_max_per_month:
            month = Month.of(start_date)
            taken = VoluntaryBlock.objects.filter(
                subscriber=locked, start_date__gte=month.first, start_date__lte=month.last
            ).count()
            if taken >= options.vblock_max_per_month:
                raise Conflict(texts.VBLOCK_MONTH_LIMIT, code="vblock_month_limit")
        cost = options.vblock_cost
        if cost > 0 and account.balance < cost:
            raise InvalidInput(texts.VBLOCK_NO_FUNDS % fmt(cost), code="vblock_no_funds")
        block = VoluntaryBlock.objects.create(
            subscriber=locked,
            start_date=start_date,
            end_date=end_date,
            cost=cost,
            actor=audit_actor(actor),
        )
        if cost > 0:
            block.cost_operation = correction_post(
                subscriber=locked,
                amount=-cost,
                actor=actor,
                description=_("Voluntary block %(first)s–%(last)s") % {
                    "first": start_date.strftime("%d.%m.%Y"),
                    "last": end_date.strftime("%d.%m.%Y"),
                },
            )
            block.save(update_fields=["cost_operation"])
        audit_record(
            actor=actor,
            action="voluntary_block_create",
            obj=block,
            subscriber=locked,
            new={
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "cost": fmt(cost),
            },
        )
        if start_date == today:
            _set_voluntary_flag(locked, True, actor=actor, block=block)
    return block


def voluntary_block_end(
    *, block: VoluntaryBlock, actor: Actor, now: datetime | None = None
) -> BlockResult:
    """Lift a block early (or cancel one that has not started). The day it is lifted
    stays free; service returns at once. Returns Carbon's success text."""
    now = now or timezone.now()
    options = billing_options()
    today = local_today(options.time_zone, now)
    with transaction.atomic():
        _account, locked = _lock(block.subscriber_id)
        current = VoluntaryBlock.objects.select_for_update().get(pk=block.pk)
        if current.ended_at is not None or current.end_date < today:
            raise Conflict(_("This voluntary block has already ended"), code="vblock_ended")
        current.ended_at = now
        current.save(update_fields=["ended_at"])
        audit_record(
            actor=actor,
            action="voluntary_block_end",
            obj=current,
            subscriber=locked,
            old={"end_date": current.end_date.isoformat()},
            new={"ended_on": today.isoformat()},
        )
        _set_voluntary_flag(locked, False, actor=actor, block=current)
    return BlockResult(current, texts.VBLOCK_LIFTED)


def voluntary_block_lift(
    *, subscriber: Subscriber, actor: Actor, now: datetime | None = None
) -> BlockResult:
    """Lift the subscriber's voluntary block in force today, else cancel the next planned
    one (billing.selectors.voluntary_block_current), as voluntary_block_end does."""
    from asr_billing.billing.selectors import voluntary_block_current

    now = now or timezone.now()
    block = voluntary_block_current(subscriber.pk, local_today(billing_options().time_zone, now))
    if block is None:
        raise InvalidInput(_("There is no voluntary block to lift"), code="no_block")
    return voluntary_block_end(block=block, actor=actor, now=now)


def voluntary_blocks_apply(*, now: datetime | None = None, actor: Actor = "billing") -> int:
    """Make every subscriber's block flag match the blocks' dates today: start the ones
    that begin, end the ones whose last day has passed. Returns how many flags moved."""
    now = now or timezone.now()
    options = billing_options()
    today = local_today(options.time_zone, now)
    active = set(
        VoluntaryBlock.objects.filter(
            ended_at__isnull=True, start_date__lte=today, end_date__gte=today
        ).values_list("subscriber_id", flat=True)
    )
    flagged = set(
        Subscriber.objects.filter(voluntary_blocked=True).values_list("pk", flat=True)
    )
    moved = 0
    for subscriber_id in sorted(active ^ flagged):
        with transaction.atomic():
            _account, locked = _lock(subscriber_id)
            blocks = VoluntaryBlock.objects.filter(
                subscriber=locked, ended_at__isnull=True, start_date__lte=today
            ).order_by("-start_date")
            block = blocks.first()
            value = blocks.filter(end_date__gte=today).exists()
            if value != locked.voluntary_blocked:
                _set_voluntary_flag(locked, value, actor=actor, block=block or locked)
                moved += 1
    return moved


def billing_housekeeping(*, now: datetime | None = None, actor: Actor = "billing") -> dict:
    """What the scheduler does every few minutes: end promised payments, move block
    flags, apply scheduled tariff changes due today, delete the failed-login counters
    whose window has passed, close RADIUS sessions that stopped sending accounting and
    trim the RADIUS refusal log. Returns counts."""
    from asr_billing.cabinet.throttle import throttle_purge
    from asr_billing.network.radius_config import radius_settings
    from asr_billing.network.sessions import radius_refusals_trim, sessions_close_stale

    now = now or timezone.now()
    today = local_today(billing_options().time_zone, now)
    radius = radius_settings()
    changes = 0
    for subscriber_id in tariff_changes_due(day=today):
        applied = tariff_change_apply_scheduled(subscriber_id=subscriber_id, actor=actor)
        changes += applied is not None
    return {
        "promised_expired": promised_payments_expire(now=now, actor=actor),
        "block_flags": voluntary_blocks_apply(now=now, actor=actor),
        "tariff_changes": changes,
        "login_counters_purged": throttle_purge(now=now),
        "sessions_stale": sessions_close_stale(
            now=now, stale_after_seconds=radius.stale_after
        ),
        "radius_refusals_trimmed": radius_refusals_trim(
            now=now, keep_days=radius.auth_log_keep_days
        ),
    }
