"""Finding the events subscribers are told about, in the database, on the scheduler's tick.

Like the disconnects of network/coa.py, events are found by reading what happened rather
than by hooking every place that makes it happen: payments post in one SQL function on
PostgreSQL and arrive by the thousand from terminals, and that path must not wait for a
template lookup. Each tick reads the payments posted since the last one it read (a
watermark on the operation id), renders each subscriber's message and asks for its
delivery through the background tasks, keyed by event and channel: the same payment is
one message per channel however often it is read.

A payment is read once it is SETTLE old: ids are handed out when a transaction inserts,
and one that commits later than a higher id would otherwise be passed by the watermark.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import number_format

from asr_billing.core import runtime
from asr_billing.finance.models import Operation, OperationType
from asr_billing.notify.announce import announce, claim_mark
from asr_billing.notify.models import Event

SETTLE = timedelta(seconds=60)
STALE = timedelta(days=1)  # payments dated earlier than this are not announced
BATCH = 2000  # payments read per tick at most; the rest on the next tick
WATERMARK = "notify.payments"


def payments_notify(*, now: datetime | None = None) -> int:
    """Ask for the messages of payments posted since the last call; returns how many
    messages were asked for. The first call only notes where the ledger is: the payments
    of the past are not announced."""
    now = now or timezone.now()
    with transaction.atomic():
        mark, created = claim_mark(WATERMARK)
        if mark is None:
            return 0
        if created:
            last = Operation.objects.order_by("-pk").values_list("pk", flat=True).first()
            mark.value = last or 0
            mark.save(update_fields=["value"])
            return 0
        payments = list(
            Operation.objects.filter(pk__gt=mark.value, type=OperationType.PAYMENT)
            .select_related("account__subscriber", "pay_operator").order_by("pk")[:BATCH])
        ready = []
        for payment in payments:
            if payment.created_at > now - SETTLE:
                break
            ready.append(payment)
        if not ready:
            return 0
        # A payment dated days ago (an import of another billing's history, a bank's late
        # registry) is not news to the subscriber.
        recent = [p for p in ready if p.op_date >= now - STALE]
        asked = announce(Event.PAYMENT_RECEIVED, [
            (p.account.subscriber, p.pk, lambda language, p=p: _payment_fields(p, language))
            for p in recent], now)
        mark.value = ready[-1].pk
        mark.save(update_fields=["value"])
    return asked


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
            "date": local.strftime("%d.%m.%Y %H:%M") if language == "ru"
            else local.strftime("%Y-%m-%d %H:%M"),
            "operator": payment.pay_operator.name if payment.pay_operator else "",
        }


HELPDESK_MARK = "notify.helpdesk"


def helpdesk_notify(*, now: datetime | None = None) -> int:
    """Ask for the messages of support's replies in helpdesk tickets written since the
    last call (a watermark on the message id, like payments). The first call only notes
    where the tickets are."""
    from asr_billing.cabinet.models_helpdesk import MessageAuthor, TicketMessage

    now = now or timezone.now()
    with transaction.atomic():
        mark, created = claim_mark(HELPDESK_MARK)
        if mark is None:
            return 0
        if created:
            last = TicketMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
            mark.value = last or 0
            mark.save(update_fields=["value"])
            return 0
        replies = list(TicketMessage.objects.filter(pk__gt=mark.value)
                       .select_related("ticket__subscriber").order_by("pk")[:BATCH])
        ready = []
        for reply in replies:
            if reply.created_at > now - SETTLE:
                break
            ready.append(reply)
        if not ready:
            return 0
        asked = announce(Event.HELPDESK_REPLY, [
            (r.ticket.subscriber, r.pk, lambda language, r=r: _reply_fields(r))
            for r in ready if r.author == MessageAuthor.OPERATOR], now)
        mark.value = ready[-1].pk
        mark.save(update_fields=["value"])
    return asked


def _reply_fields(reply) -> dict:
    """{{ name }}, {{ contract }}, {{ ticket }} (its number), {{ subject }}, {{ text }}
    (the reply, at most 500 characters)."""
    subscriber = reply.ticket.subscriber
    text = reply.text if len(reply.text) <= 500 else reply.text[:499] + "…"
    return {"name": subscriber.name, "contract": subscriber.contract_number,
            "ticket": reply.ticket_id, "subject": reply.ticket.subject, "text": text}


SAMPLE_FIELDS = {
    Event.PAYMENT_RECEIVED: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                             "amount": "600,00", "balance": "754,88",
                             "date": "05.03.2026 14:20", "operator": "Сбербанк"},
    Event.RUNS_OUT: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                     "balance": "45,00", "date": "08.03.2026", "days": 3},
    Event.CUT_OFF: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                    "balance": "-12,40", "minimum": "12,40"},
    Event.VBLOCK_ENDS: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                        "start": "01.03.2026", "end": "14.03.2026"},
    Event.TARIFF_CHANGE: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                          "tariff": "Домашний 200", "old_tariff": "Домашний 100",
                          "fee": "750,00", "date": "01.04.2026"},
    Event.HELPDESK_REPLY: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                           "ticket": 41, "subject": "Не работает интернет",
                           "text": "Проверили линию, перезагрузите роутер."},
}
