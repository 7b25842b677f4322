"""Finding the events subscribers are told about, in the database, on the scheduler's tick.

Like the disconnects of network/coa.py, events are found by reading what happened rather
than by hooking every place that makes it happen: payments post in one SQL function on
PostgreSQL and arrive by the thousand from terminals, and that path must not wait for a
template lookup. Each tick reads the payments (and support's replies in helpdesk tickets)
it has not read yet, renders each subscriber's message and asks for its delivery through
the background tasks, keyed by event and channel: the same payment is one message per
channel however often it is read.

Why not a watermark on the id: ids are handed out when a transaction inserts, and one
that commits later than a higher id is passed by any watermark (a payment whose
transaction took longer than the settling delay was never told). So every tick reads
the whole window an event may still be told in (a payment dated within the last day,
STALE) *minus the rows already read* (``Seen``, one row per row read, forgotten two
days after it was posted): a payment that commits an hour late is read on the next
tick. The window is a range of an index (payments: ``operation_type_date``; replies:
their ids above the floor) and the rows read are an anti-join on ``notify_seen_once``
(figures at a million subscribers in docs/notifications.md). The counter row of each
reader is its floor: ids at or below it are never read — where the ledger was when
notifications were first enabled, then the highest id forgotten (a row posted over
FORGET ago: one below it that commits now was inserted before it, so is older than
STALE and not told anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format

from asr_billing.core import runtime
from asr_billing.finance.models import Operation, OperationType
from asr_billing.notify.announce import announce, claim_mark
from asr_billing.notify.models import Event, Seen

STALE = timedelta(days=1)  # payments dated (replies written) earlier are not announced
FORGET = 2 * STALE  # a row read is remembered this long after it was posted
BATCH = 2000  # rows read per tick at most; the rest on the next tick
WATERMARK = "notify.payments"
HELPDESK_MARK = "notify.helpdesk"


def read_unseen(*, mark_name: str, event: str, window: Callable[[int], QuerySet],
                tell: Callable[[object], tuple], now: datetime) -> int:
    """The one reader of row events (payments, helpdesk replies): the rows of
    ``window(floor)`` (the event's rows above the floor that may still be told, by an
    index of the event's choosing) not read yet, oldest first, BATCH at most;
    ``tell(row)`` gives (subscriber, key, fields) for announce(). Each row read is
    remembered in the same transaction as the tasks asked for. Returns the deliveries
    asked for (tasks newly written). The first call only notes where the table is: the
    past is not announced."""
    with transaction.atomic():
        mark, first = claim_mark(mark_name)
        if mark is None:
            return 0  # another scheduler is at it
        if first:
            model = window(0).model
            mark.value = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            mark.save(update_fields=["value"])
            return 0
        _forget(mark, event, now)
        # The ids first, with no ORDER BY … LIMIT: so the database takes the window's own
        # index (payments: type, op_date) instead of walking the primary key through every
        # charge since the floor to find the first unread ones.
        seen = Seen.objects.filter(event=event, ref=OuterRef("pk"))
        ids = sorted(window(mark.value).exclude(Exists(seen))
                     .order_by().values_list("pk", flat=True))[:BATCH]
        if not ids:
            return 0
        rows = list(window(mark.value).filter(pk__in=ids).order_by("pk"))
        asked = announce(event, [tell(row) for row in rows], now)
        Seen.objects.bulk_create([Seen(event=event, ref=row.pk, posted=row.created_at)
                                  for row in rows], ignore_conflicts=True, batch_size=1000)
    return asked


def _forget(mark, event: str, now: datetime) -> None:
    """Forget the rows posted over FORGET ago and raise the floor over them."""
    old = Seen.objects.filter(event=event, posted__lt=now - FORGET)
    highest = old.aggregate(top=Max("ref"))["top"]
    if highest is None:
        return
    old.delete()
    if highest > mark.value:
        mark.value = highest
        mark.save(update_fields=["value"])


# The actor of the operations asr_billing.carbon_import posts (its ACTOR, and
# "carbon_import:opening" for opening balances).
IMPORT_ACTOR = "carbon_import"


def payments_notify(*, now: datetime | None = None) -> int:
    """Ask for the messages of the payments not read yet; returns how many deliveries
    were asked for. A payment dated more than STALE before now (an import of another
    billing's history, a bank's late registry) is not news to the subscriber."""
    now = now or timezone.now()

    def window(floor: int) -> QuerySet:
        # By the (type, op_date) index: the floor as ``id + 0`` keeps a database (SQLite)
        # from walking the primary key from it through every charge instead.
        return (Operation.objects.alias(id0=F("pk") + 0)
                .filter(type=OperationType.PAYMENT, op_date__gte=now - STALE, id0__gt=floor)
                # A payment `import carbon` brings over (actor "carbon_import") was told
                # by the billing it came from: its last day must not be told again.
                .exclude(actor__startswith=IMPORT_ACTOR)
                .select_related("account__subscriber", "pay_operator"))

    return read_unseen(mark_name=WATERMARK, event=Event.PAYMENT_RECEIVED, window=window,
                       now=now, tell=_payment_told)


def _payment_told(payment: Operation) -> tuple:
    return (payment.account.subscriber, payment.pk,
            lambda language: _payment_fields(payment, language))


def moment(local: datetime, language: str) -> str:
    """05.03.2026 14:20 in Russian; 2026-03-05 14:20 in English."""
    return local.strftime("%d.%m.%Y %H:%M" if language == "ru" else "%Y-%m-%d %H:%M")


def _payment_fields(payment: Operation, language: str) -> dict:
    """What a payment message may say: {{ name }}, {{ contract }}, {{ amount }},
    {{ balance }}, {{ date }}, {{ operator }} (money in the language's format)."""
    subscriber = payment.account.subscriber
    zone = ZoneInfo(runtime.current().get("app", "time_zone"))
    with translation.override(language):
        local = timezone.localtime(payment.op_date, zone)
        return {
            "name": subscriber.name,
            "contract": subscriber.contract_number,
            "amount": number_format(payment.amount, 2),
            "balance": number_format(payment.balance_after, 2),
            "date": moment(local, language),
            "operator": payment.pay_operator.name if payment.pay_operator else "",
        }


def helpdesk_notify(*, now: datetime | None = None) -> int:
    """Ask for the messages of support's replies in helpdesk tickets not read yet (the
    same reader as payments); a reply written more than STALE ago is not told."""
    from asr_billing.cabinet.models_helpdesk import MessageAuthor, TicketMessage

    now = now or timezone.now()

    def window(floor: int) -> QuerySet:
        # By the primary key from the floor (about two days of messages).
        return (TicketMessage.objects.filter(pk__gt=floor, author=MessageAuthor.OPERATOR,
                                             created_at__gte=now - STALE)
                .select_related("ticket__subscriber"))

    return read_unseen(mark_name=HELPDESK_MARK, event=Event.HELPDESK_REPLY, window=window,
                       now=now, tell=lambda r: (r.ticket.subscriber, r.pk,
                                                lambda language: _reply_fields(r)))


def _reply_fields(reply) -> dict:
    """{{ name }}, {{ contract }}, {{ ticket }} (its number), {{ subject }}, {{ text }}
    (the reply, at most 500 characters)."""
    subscriber = reply.ticket.subscriber
    text = reply.text if len(reply.text) <= 500 else reply.text[:499] + "…"
    return {"name": subscriber.name, "contract": subscriber.contract_number,
            "ticket": reply.ticket_id, "subject": reply.ticket.subject, "text": text}
