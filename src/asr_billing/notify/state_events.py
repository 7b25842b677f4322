"""Events found by comparing states, on the scheduler's tick: a subscriber cut off for
lack of money (every tick); once a day from notify['daily.time']: money that runs out
within notify['runs_out.days'] days, a voluntary block that ends, a tariff change that
takes effect tomorrow.

Both start quietly: the first time they run they note who is already cut off, or the
day, and announce nothing — turning notifications on does not message the backlog.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.formats import number_format

from asr_billing.core import runtime
from asr_billing.finance.selectors import minimal_payment, money_lasts_until
from asr_billing.notify.announce import announce, claim_mark, enabled_templates
from asr_billing.notify.models import CutOffNotice, Event
from asr_billing.subscribers.models import Subscriber

logger = logging.getLogger("asr_billing.notify")
BATCH = 5000  # subscribers announced per tick at most; the rest on the next ticks
CUT_OFF_MARK = "notify.cut_off"
DAILY_MARK = "notify.daily.day"


def cut_off_notify(*, now: datetime | None = None) -> int:
    """Announce the subscribers newly cut off for lack of money; forget those whose
    cut-off ended. Returns the deliveries asked for."""
    now = now or timezone.now()
    with transaction.atomic():
        mark, first = claim_mark(CUT_OFF_MARK)
        if mark is None:
            return 0
        # Both questions are of the cut-off subscribers only (the partial index
        # subscriber_cut_off, a few per cent of them) against the notes, as anti-joins:
        # no scan of all subscribers each tick (docs/notifications.md has the plans).
        # (The ended ones are selected first: a DELETE with the anti-join would read every
        # cut-off subscriber's row, not just the index, to recheck it.)
        cut_off = Subscriber.objects.filter(negbal=True)
        ended = list(CutOffNotice.objects.exclude(
            Exists(cut_off.filter(pk=OuterRef("subscriber_id"))))
            .values_list("subscriber_id", flat=True))
        for start in range(0, len(ended), 1000):
            CutOffNotice.objects.filter(subscriber_id__in=ended[start:start + 1000]).delete()
        unnoted = cut_off.exclude(
            Exists(CutOffNotice.objects.filter(subscriber_id=OuterRef("pk")))).order_by()
        if first:  # the backlog: noted whole, told nothing
            ids = list(unnoted.values_list("pk", flat=True))
            CutOffNotice.objects.bulk_create(
                [CutOffNotice(subscriber_id=pk, since=now) for pk in ids],
                ignore_conflicts=True, batch_size=2000)
            return 0
        ids = list(unnoted.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return 0
        new = list(Subscriber.objects.filter(pk__in=ids).select_related("account", "tariff")
                   .order_by("pk"))
        CutOffNotice.objects.bulk_create([CutOffNotice(subscriber=s, since=now) for s in new],
                                         ignore_conflicts=True)
        stamp = now.strftime("%Y%m%dT%H%M%S.%f")
        return announce(Event.CUT_OFF, [
            (s, f"{s.pk}:{stamp}", lambda language, s=s: _cut_off_fields(s, language))
            for s in new], now)


def _money(value: Decimal) -> str:
    return number_format(value, 2)


def _day(day, language: str) -> str:
    """05.03.2026 in Russian; 2026-03-05 in English (no month/day order to guess)."""
    return day.strftime("%d.%m.%Y") if language == "ru" else day.isoformat()


def _cut_off_fields(subscriber, language: str) -> dict:
    """{{ name }}, {{ contract }}, {{ balance }}, {{ minimum }} (the least payment that
    lifts the cut-off)."""
    account = subscriber.account
    threshold = subscriber.tariff.disconnect_threshold if subscriber.tariff else Decimal(0)
    with translation.override(language):
        return {"name": subscriber.name, "contract": subscriber.contract_number,
                "balance": _money(account.balance),
                "minimum": _money(minimal_payment(
                    balance=account.balance, credit_limit=account.credit_limit,
                    promised=account.promised_amount, threshold=threshold))}


def daily_notify(*, now: datetime | None = None) -> int:
    """Once a day, from notify['daily.time']: money that runs out within
    notify['runs_out.days'] days, voluntary blocks that end tomorrow, tariff changes that
    take effect tomorrow. Returns the deliveries asked for."""
    now = now or timezone.now()
    snap = runtime.current()
    zone = ZoneInfo(snap.get("app", "time_zone"))
    local = now.astimezone(zone)
    hours, minutes = (int(part) for part in snap.get("notify", "daily.time").split(":"))
    if (local.hour, local.minute) < (hours, minutes):
        return 0
    today = local.date()
    with transaction.atomic():
        mark, first = claim_mark(DAILY_MARK)
        if mark is None or mark.value >= today.toordinal():
            return 0  # done today (by this node or another)
        mark.value = today.toordinal()
        mark.save(update_fields=["value"])
        if first:
            return 0
        days = int(snap.get("notify", "runs_out.days") or 0)
        return (_runs_out(today, days, now) + _blocks_ending(today, now)
                + _tariff_changes(today, now))


def _runs_out(today, days: int, now: datetime) -> int:
    """Subscribers whose money lasts ``days`` days or fewer (at least one: none left is
    a cut-off); one message per subscriber and predicted day."""
    templates = enabled_templates(Event.RUNS_OUT)
    if days <= 0 or not templates:
        return 0
    found = []
    for subscriber in _candidates(days):
        account = subscriber.account
        lasts = money_lasts_until(balance=account.balance, credit_limit=account.credit_limit,
                                  promised=account.promised_amount, tariff=subscriber.tariff,
                                  today=today)
        if lasts.days is not None and 0 < lasts.days <= days:
            found.append((subscriber, f"{subscriber.pk}:{lasts.until.isoformat()}",
                          lambda language, s=subscriber, m=lasts:
                          _runs_out_fields(s, m, language)))
    return announce(Event.RUNS_OUT, found, now, templates)


def _blocks_ending(today, now: datetime) -> int:
    """Voluntary blocks in force whose last day is today: service comes back tomorrow."""
    from asr_billing.billing.models import VoluntaryBlock

    blocks = (VoluntaryBlock.objects.filter(end_date=today, ended_at__isnull=True,
                                            start_date__lte=today)
              .select_related("subscriber"))
    return announce(Event.VBLOCK_ENDS, [
        (b.subscriber, str(b.pk), lambda language, b=b: _block_fields(b, language))
        for b in blocks], now)


def _tariff_changes(today, now: datetime) -> int:
    """Scheduled tariff changes that take effect tomorrow."""
    tomorrow = today + timedelta(days=1)
    subscribers = (Subscriber.objects.filter(tariff_next__isnull=False,
                                             tariff_next_date=tomorrow)
                   .select_related("tariff", "tariff_next"))
    return announce(Event.TARIFF_CHANGE, [
        (s, f"{s.pk}:{tomorrow.isoformat()}:{s.tariff_next_id}",
         lambda language, s=s: _tariff_fields(s, language)) for s in subscribers], now)


def _block_fields(block, language: str) -> dict:
    """{{ name }}, {{ contract }}, {{ start }}, {{ end }} (the block's last day)."""
    with translation.override(language):
        return {"name": block.subscriber.name, "contract": block.subscriber.contract_number,
                "start": _day(block.start_date, language),
                "end": _day(block.end_date, language)}


def _tariff_fields(subscriber, language: str) -> dict:
    """{{ name }}, {{ contract }}, {{ tariff }} (the new one), {{ old_tariff }},
    {{ fee }} (the new tariff's fee), {{ date }} (when it takes effect)."""
    with translation.override(language):
        return {"name": subscriber.name, "contract": subscriber.contract_number,
                "tariff": subscriber.tariff_next.name,
                "old_tariff": subscriber.tariff.name if subscriber.tariff else "",
                "fee": _money(subscriber.tariff_next.fee),
                "date": _day(subscriber.tariff_next_date, language)}


def _candidates(days: int):
    """Subscribers whose money may run out within ``days``, narrowed in the database: a
    daily fee with less than days + 1 fees available, a monthly one with less than two
    months' fees (the exact day is worked out for these few in Python)."""
    available = (F("account__balance") + F("account__credit_limit")
                 + F("account__promised_amount") - F("tariff__disconnect_threshold"))
    return (Subscriber.objects
            .filter(negbal=False, admin_blocked=False, voluntary_blocked=False,
                    tariff__fee__gt=0)
            .alias(available=available)
            .filter(Q(tariff__charge_method="daily", available__lt=F("tariff__fee") * (days + 1))
                    | Q(tariff__charge_method__in=("monthly", "monthly_spread"),
                        available__lt=F("tariff__fee") * 2))
            .select_related("account", "tariff").order_by("pk").iterator(chunk_size=2000))


def _runs_out_fields(subscriber, lasts, language: str) -> dict:
    """{{ name }}, {{ contract }}, {{ balance }}, {{ date }} (the last day paid for),
    {{ days }}."""
    with translation.override(language):
        return {"name": subscriber.name, "contract": subscriber.contract_number,
                "balance": _money(subscriber.account.balance),
                "date": _day(lasts.until, language),
                "days": lasts.days}


def notify_tick(*, now: datetime | None = None) -> int:
    """The scheduler's notification step: every kind of event, each in its own
    transaction."""
    from asr_billing.notify.events import helpdesk_notify, payments_notify

    now = now or timezone.now()
    asked = (payments_notify(now=now) + helpdesk_notify(now=now) + cut_off_notify(now=now)
             + daily_notify(now=now))
    if asked:
        logger.info("notify: %d messages asked for", asked)
    return asked
