"""Messages an operator writes to one subscriber, a group or everyone (issue 14).

``broadcast_create`` checks and records the message and asks for one background task;
that task (``notify.broadcast``) asks for each subscriber's deliveries in batches, each
keyed by message, subscriber and channel, so a task run twice (a worker that died
half-way) delivers nothing twice. The cabinet feed gets one notification for the whole
audience (the cabinet's own group / everyone notifications), not a row per subscriber.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.errors import InvalidInput
from asr_billing.core.tasks import task_enqueue, task_handler
from asr_billing.notify.announce import announce
from asr_billing.notify.models import Broadcast, Channel, MessageTemplate
from asr_billing.notify.render import TemplateError, render
from asr_billing.subscribers.models import Subscriber

TEXT_MAX = 1000  # characters, as the cabinet's notifications
BATCH = 2000


def broadcast_create(*, text: str, actor: Actor, subject: str = "", email: bool = False,
                     sms: bool = False, feed: bool = True, subscriber=None, group=None,
                     everyone: bool = False) -> Broadcast:
    """Record a message to exactly one of ``subscriber``, ``group`` (and its subgroups),
    ``everyone``, by at least one channel, and ask for its sending. Audited."""
    text = broadcast_check(text=text, subject=subject, email=email, sms=sms, feed=feed,
                           subscriber=subscriber, group=group, everyone=everyone)
    with transaction.atomic():
        message = Broadcast.objects.create(
            subject=subject.strip(), text=text, email=email, sms=sms, feed=feed,
            subscriber=subscriber, group=group, everyone=bool(everyone),
            created_by=actor_fields(actor)["actor"])
        audit_record(actor=actor, action="broadcast_create", obj=message,
                     subscriber=subscriber, message=text[:200],
                     new={"group": group.pk if group is not None else None,
                          "everyone": bool(everyone), "email": email, "sms": sms,
                          "feed": feed})
        task_enqueue(name="notify.broadcast", key=f"broadcast:{message.pk}",
                     payload={"id": message.pk})
    return message


def broadcast_check(*, text: str, subject: str = "", email: bool = False, sms: bool = False,
                    feed: bool = True, subscriber=None, group=None,
                    everyone: bool = False) -> str:
    """Raise InvalidInput for a message that cannot be sent; returns the text stripped."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("The message has no text"), code="broadcast_empty")
    if len(text) > TEXT_MAX:
        raise InvalidInput(_("The message is longer than %(max)d characters")
                           % {"max": TEXT_MAX}, code="broadcast_long")
    if [subscriber is not None, group is not None, bool(everyone)].count(True) != 1:
        raise InvalidInput(_("Send a message to one subscriber, one group or everyone"),
                           code="broadcast_audience")
    if not (email or sms or feed):
        raise InvalidInput(_("Choose at least one channel"), code="broadcast_channel")
    for part in (subject, text):
        try:
            render(part or "", {})
        except TemplateError as exc:
            raise InvalidInput(_("Not a valid template: %(error)s") % {"error": exc},
                               code="broadcast_template") from None
    return text


def audience(message: Broadcast):
    """The subscribers a message reaches."""
    from asr_billing.subscribers.selectors import group_descendant_ids

    if message.subscriber_id is not None:
        return Subscriber.objects.filter(pk=message.subscriber_id)
    if message.group_id is not None:
        return Subscriber.objects.filter(group_id__in=group_descendant_ids(message.group_id))
    return Subscriber.objects.all()


@task_handler("notify.broadcast")
def broadcast_send(payload: dict) -> str:
    from asr_billing.cabinet.notifications import notification_create

    message = Broadcast.objects.filter(pk=payload["id"]).first()
    if message is None:
        return "the message no longer exists"
    now = timezone.now()
    with transaction.atomic():
        # The first attempt claims the message: a retry (or a second worker) asks again
        # for the e-mails and SMS (their keys make that harmless) but never posts the
        # feed notification twice.
        first = Broadcast.objects.filter(pk=message.pk, sent_at__isnull=True) \
            .update(sent_at=now)
        if first and message.feed:
            fields = {"name": "", "contract": "", "balance": ""}
            notification_create(text=render(message.text, fields)[:TEXT_MAX],
                                actor=message.created_by or "notify",
                                subscriber=message.subscriber, group=message.group,
                                everyone=message.everyone, now=now)
    # The operator's text in every language: it is one message, written once.
    templates = {(channel, language): MessageTemplate(subject=message.subject,
                                                      body=message.text)
                 for channel, wanted in ((Channel.EMAIL, message.email),
                                         (Channel.SMS, message.sms)) if wanted
                 for language in ("ru", "en")}
    asked = 0
    if templates:
        batch = []
        for subscriber in audience(message).select_related("account").order_by("pk") \
                .iterator(chunk_size=BATCH):
            batch.append((subscriber, f"{message.pk}:{subscriber.pk}",
                          lambda language, s=subscriber: _fields(s)))
            if len(batch) >= BATCH:
                asked += announce("broadcast", batch, now, templates)
                batch = []
        asked += announce("broadcast", batch, now, templates)
    # Deliveries written by this run (a run again after a worker died writes only what
    # the first one had not): the message's count is the sum, each delivery once.
    Broadcast.objects.filter(pk=message.pk).update(asked=F("asked") + asked)
    return f"{asked} e-mail/SMS deliveries asked for" + (", cabinet feed" if first and
                                                         message.feed else "")


def _fields(subscriber) -> dict:
    account = getattr(subscriber, "account", None)
    return {"name": subscriber.name, "contract": subscriber.contract_number,
            "balance": number_format(account.balance, 2) if account else ""}
