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

from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import number_format

from asr_billing.core import runtime
from asr_billing.core.models import Counter
from asr_billing.core.tasks import tasks_enqueue_many
from asr_billing.finance.models import Operation, OperationType
from asr_billing.notify.models import Channel, Event, MessageTemplate, Preference
from asr_billing.notify.quiet import send_after
from asr_billing.notify.render import TemplateError, render

SETTLE = timedelta(seconds=60)
BATCH = 2000  # payments read per tick at most; the rest on the next tick
WATERMARK = "notify.payments"
TASKS = {Channel.EMAIL: "notify.email", Channel.FEED: "notify.feed"}


def enabled_templates(event: str) -> dict[tuple[str, str], MessageTemplate]:
    """(channel, language) → the enabled template of ``event``."""
    return {(t.channel, t.language): t
            for t in MessageTemplate.objects.filter(event=event, enabled=True)}


def payments_notify(*, now: datetime | None = None) -> int:
    """Ask for the messages of payments posted since the last call; returns how many
    messages were asked for. The first call only notes where the ledger is: the payments
    of the past are not announced."""
    now = now or timezone.now()
    with transaction.atomic():
        mark, created = Counter.objects.select_for_update().get_or_create(name=WATERMARK)
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
        templates = enabled_templates(Event.PAYMENT_RECEIVED)
        asked = _ask(templates, ready, now) if templates else 0
        mark.value = ready[-1].pk
        mark.save(update_fields=["value"])
    return asked


def _ask(templates, payments: list[Operation], now: datetime) -> int:
    subscribers = {p.account.subscriber_id: p.account.subscriber for p in payments}
    choices = Preference.objects.in_bulk(list(subscribers))
    default_language = runtime.current().get("app", "language") or "ru"
    items: dict[str, list] = {name: [] for name in TASKS.values()}
    for payment in payments:
        subscriber = payment.account.subscriber
        choice = choices.get(subscriber.pk)
        language = (choice.language if choice and choice.language else default_language)
        fields = _payment_fields(payment, subscriber, language)
        for channel, task in TASKS.items():
            template = templates.get((channel, language))
            if template is None or (choice and getattr(choice, f"{channel}_off")):
                continue
            to = subscriber.email if channel == Channel.EMAIL else str(subscriber.pk)
            if not to:
                continue  # no address for this channel
            try:
                with translation.override(language):
                    subject = render(template.subject, fields) if template.subject else ""
                    body = render(template.body, fields)
            except TemplateError:
                continue  # the admin refuses such texts; one saved before is skipped
            key = f"notify:{Event.PAYMENT_RECEIVED}:{payment.pk}:{channel}"
            items[task].append((key, {"to": to, "subject": subject, "body": body,
                                      "subscriber": subscriber.pk,
                                      "event": Event.PAYMENT_RECEIVED},
                                send_after(channel, now)))
    return sum(tasks_enqueue_many(name=name, items=batch)
               for name, batch in items.items() if batch)


def _payment_fields(payment: Operation, subscriber, language: str) -> dict:
    """What a payment message may say: {{ name }}, {{ contract }}, {{ amount }},
    {{ balance }}, {{ date }}, {{ operator }} (money in the language's format)."""
    with translation.override(language):
        local = timezone.localtime(payment.op_date)
        return {
            "name": subscriber.name,
            "contract": subscriber.contract_number,
            "amount": number_format(payment.amount, 2),
            "balance": number_format(payment.balance_after, 2),
            "date": local.strftime("%d.%m.%Y %H:%M") if language == "ru"
            else local.strftime("%Y-%m-%d %H:%M"),
            "operator": payment.pay_operator.name if payment.pay_operator else "",
        }


SAMPLE_FIELDS = {
    Event.PAYMENT_RECEIVED: {"name": "Иванов Иван Иванович", "contract": "BILL0000003",
                             "amount": "600,00", "balance": "754,88",
                             "date": "05.03.2026 14:20", "operator": "Сбербанк"},
}
