"""Helpdesk writes: a subscriber opens a ticket and writes in it; an operator answers and
closes it (each operator action with an audit row); reading marks messages read.

A ticket's state follows who wrote last: ``open`` (waiting for support) after the
subscriber, ``answered`` after an operator, ``closed`` when an operator closed it — the
subscriber cannot write in a closed ticket. Writes to a ticket lock its row first, so a
message and a close racing each other never leave a message in a closed ticket.

Refusals the cabinet clients show are the product's texts (cabinet.texts): an empty
message, someone else's (or no such) ticket, a closed ticket.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.cabinet import texts
from asr_billing.cabinet.models import MessageAuthor, Ticket, TicketMessage, TicketStatus
from asr_billing.core.audit import Actor, audit_record
from asr_billing.core.errors import ApplicationError, Conflict, InvalidInput

SUBJECT_MAX = 200  # characters
TEXT_MAX = 5000  # characters of one message
_SPACES = re.compile(r"\s+")


class NotYourTicket(ApplicationError):
    """No such ticket, or another subscriber's: one answer for both, so ticket ids of
    other subscribers cannot be probed."""

    code = "ticket_not_yours"

    def __init__(self):
        super().__init__(texts.TICKET_NOT_YOURS)


def clean_text(value) -> str:
    """A message's text: not empty (the product's ``Необходимо заполнить текст
    сообщения.``), at most TEXT_MAX characters; outer white space dropped."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(texts.TICKET_TEXT_EMPTY, code="ticket_text_empty")
    if len(text) > TEXT_MAX:
        raise InvalidInput(_("The message is longer than %(max)d characters") % {"max": TEXT_MAX},
                           code="ticket_text_long")
    return text


def clean_subject(value) -> str:
    """One line of at most SUBJECT_MAX characters; empty: the product's ``Запрос из
    кабинета``."""
    subject = _SPACES.sub(" ", value).strip() if isinstance(value, str) else ""
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput(
            _("The subject is longer than %(max)d characters") % {"max": SUBJECT_MAX},
            code="ticket_subject_long",
        )
    return subject or texts.TICKET_DEFAULT_SUBJECT


def _locked_ticket_of(subscriber_id: int, ticket_id: int) -> Ticket:
    ticket = (Ticket.objects.select_for_update()
              .filter(pk=ticket_id, subscriber_id=subscriber_id).first())
    if ticket is None:
        raise NotYourTicket()
    return ticket


# --- The subscriber -----------------------------------------------------------------------


def ticket_create(*, subscriber, subject, text, now: datetime | None = None) -> Ticket:
    """Open a ticket as the subscriber; it waits for support."""
    text = clean_text(text)
    subject = clean_subject(subject)
    now = now or timezone.now()
    return Ticket.objects.create(subscriber=subscriber, subject=subject, text=text,
                                 status=TicketStatus.OPEN, created_at=now, updated_at=now)


def ticket_comment(*, subscriber, ticket_id: int, text,
                   now: datetime | None = None) -> TicketMessage:
    """The subscriber writes in their ticket (not a closed one); it waits for support
    again, and support's messages so far count as read. Another subscriber's or a missing
    ticket is refused with one text."""
    text = clean_text(text)
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked_ticket_of(subscriber.pk, ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(texts.TICKET_CLOSED_NO_COMMENTS, code="ticket_closed")
        message = TicketMessage.objects.create(ticket=ticket, author=MessageAuthor.SUBSCRIBER,
                                               text=text, created_at=now)
        # Who answers has read what came before (as an operator's answer does).
        TicketMessage.objects.filter(ticket=ticket, author=MessageAuthor.OPERATOR,
                                     read_at__isnull=True).update(read_at=now)
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.OPEN, updated_at=now)
    return message


def ticket_mark_read(*, subscriber, ticket_id: int, now: datetime | None = None) -> int:
    """The subscriber has seen the ticket: operators' messages in it are read. Returns how
    many were unread. Not the subscriber's ticket: NotYourTicket."""
    if not Ticket.objects.filter(pk=ticket_id, subscriber_id=subscriber.pk).exists():
        raise NotYourTicket()
    return TicketMessage.objects.filter(
        ticket_id=ticket_id, author=MessageAuthor.OPERATOR, read_at__isnull=True
    ).update(read_at=now or timezone.now())


def ticket_close_own(*, subscriber, ticket_id: int, actor: Actor,
                     now: datetime | None = None) -> Ticket:
    """The subscriber closes their ticket (the question is settled): no more messages in
    it, from either side. A closed one is refused; another's or a missing one is
    NotYourTicket. Audited, as an operator's close is."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked_ticket_of(subscriber.pk, ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("Ticket #%(id)d is closed") % {"id": ticket.pk},
                           code="ticket_closed")
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED,
                                                   updated_at=now, closed_at=now)
        TicketMessage.objects.filter(ticket=ticket, author=MessageAuthor.OPERATOR,
                                     read_at__isnull=True).update(read_at=now)
        audit_record(actor=actor, action="ticket_close", obj=ticket, subscriber=subscriber,
                     old={"status": ticket.status},
                     new={"status": TicketStatus.CLOSED.value})
    ticket.refresh_from_db()
    return ticket


# --- Operators ----------------------------------------------------------------------------


def _operator_user(actor: Actor):
    return None if actor is None or isinstance(actor, str) else actor


def ticket_answer(*, ticket: Ticket, text, actor: Actor, close: bool = False,
                  now: datetime | None = None) -> TicketMessage:
    """An operator answers (and, with ``close``, closes the ticket). The subscriber's
    messages so far count as read by support. A closed ticket is refused. Audited."""
    text = clean_text(text)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == TicketStatus.CLOSED:
            raise Conflict(_("Ticket #%(id)d is closed") % {"id": locked.pk},
                           code="ticket_closed")
        message = TicketMessage.objects.create(
            ticket=locked, author=MessageAuthor.OPERATOR, operator=_operator_user(actor),
            text=text, created_at=now,
        )
        TicketMessage.objects.filter(ticket=locked, author=MessageAuthor.SUBSCRIBER,
                                     read_at__isnull=True).update(read_at=now)
        status = TicketStatus.CLOSED if close else TicketStatus.ANSWERED
        Ticket.objects.filter(pk=locked.pk).update(
            status=status, updated_at=now, closed_at=now if close else None)
        audit_record(actor=actor, action="ticket_answer", obj=locked,
                     subscriber=locked.subscriber, message=text[:200],
                     old={"status": locked.status},
                     new={"status": str(status), "message": message.pk})
    ticket.refresh_from_db()
    return message


def ticket_close(*, ticket: Ticket, actor: Actor, now: datetime | None = None) -> Ticket:
    """An operator closes the ticket without answering. Closing a closed ticket is
    refused. Audited."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == TicketStatus.CLOSED:
            raise Conflict(_("Ticket #%(id)d is closed") % {"id": locked.pk},
                           code="ticket_closed")
        Ticket.objects.filter(pk=locked.pk).update(status=TicketStatus.CLOSED,
                                                   updated_at=now, closed_at=now)
        audit_record(actor=actor, action="ticket_close", obj=locked,
                     subscriber=locked.subscriber, old={"status": locked.status},
                     new={"status": TicketStatus.CLOSED.value})
    ticket.refresh_from_db()
    return ticket
