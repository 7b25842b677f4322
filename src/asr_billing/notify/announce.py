"""Turning found events into deliveries: each subscriber's message, rendered in their
language, asked of the background tasks once per event and channel (a unique key)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import translation

from asr_billing.core import runtime
from asr_billing.core.tasks import tasks_enqueue_many
from asr_billing.notify.models import Channel, MessageTemplate, Preference
from asr_billing.notify.quiet import send_after
from asr_billing.notify.render import TemplateError, render
from asr_billing.notify.sms import phone_number

logger = logging.getLogger("asr_billing.notify")
TASKS = {Channel.EMAIL: "notify.email", Channel.SMS: "notify.sms", Channel.FEED: "notify.feed"}


def enabled_templates(event: str) -> dict[tuple[str, str], MessageTemplate]:
    """(channel, language) → the enabled template of ``event``."""
    return {(t.channel, t.language): t
            for t in MessageTemplate.objects.filter(event=event, enabled=True)}


def claim_mark(name: str):
    """The counter row of a notification step, locked for this transaction; None when
    another scheduler holds it right now (that one does the step: this one moves on
    rather than wait). Returns (row, first) — first: the row was just made."""
    from asr_billing.core.models import Counter

    _row, first = Counter.objects.get_or_create(name=name)
    row = Counter.objects.select_for_update(skip_locked=True).filter(name=name).first()
    return (row, first) if row is not None else (None, False)


def announce(event: str, found: list[tuple], now: datetime,
             templates: dict | None = None) -> int:
    """``found``: (subscriber, key, fields) — ``key`` names the occurrence (a payment's
    id, a cut-off's start), ``fields(language)`` gives the template's fields in a
    language. Returns how many deliveries were asked for: tasks newly written (a key
    that exists — the event read again — is not counted)."""
    templates = enabled_templates(event) if templates is None else templates
    if not templates or not found:
        return 0
    choices = Preference.objects.in_bulk([subscriber.pk for subscriber, _k, _f in found])
    snap = runtime.current()
    default_language = snap.get("app", "language") or "ru"
    sms_on = bool(snap.get("notify", "sms.provider"))
    items: dict[str, list] = {name: [] for name in TASKS.values()}
    for subscriber, key, fields_in in found:
        choice = choices.get(subscriber.pk)
        language = choice.language if choice and choice.language else default_language
        fields = None
        for channel, task in TASKS.items():
            template = templates.get((channel, language))
            if template is None or (choice and getattr(choice, f"{channel}_off")):
                continue
            to = _address(subscriber, channel, sms_on)
            if not to:
                continue  # no address for this channel
            try:
                with translation.override(language):
                    fields = fields if fields is not None else fields_in(language)
                    subject = render(template.subject, fields) if template.subject else ""
                    body = render(template.body, fields)
            except TemplateError:
                continue  # the admin refuses such texts; one saved before is skipped
            except Exception:
                # One subscriber's message must not stop the event for everyone (it
                # would be read again, and fail again, every tick): logged, skipped.
                logger.exception("notify: the %s message of subscriber %s could not be made",
                                 event, subscriber.pk)
                continue
            items[task].append((f"notify:{event}:{key}:{channel}",
                                {"to": to, "subject": subject, "body": body,
                                 "subscriber": subscriber.pk, "event": event},
                                send_after(channel, now)))
    return sum(tasks_enqueue_many(name=name, items=batch)
               for name, batch in items.items() if batch)


def _address(subscriber, channel: str, sms_on: bool) -> str:
    """Where ``channel`` reaches the subscriber; "" when it does not (no e-mail, no
    mobile number, no SMS gateway configured)."""
    if channel == Channel.EMAIL:
        return subscriber.email
    if channel == Channel.SMS:
        return phone_number(subscriber.sms_phone or subscriber.phone) if sms_on else ""
    return str(subscriber.pk)
