"""Helpdesk and notification reads for the cabinet (web_cabinet.* and the cabinet pages).

Each function costs a fixed number of queries whatever the number of tickets, messages or
subscribers: a notification to everyone is one row, found with the subscriber's own
notifications by one query that leaves out what they have read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from asr_billing.billing.models import PromisedPayment
from asr_billing.billing.selectors import voluntary_block_current
from asr_billing.cabinet import texts
from asr_billing.cabinet.models import (
    Audience,
    MessageAuthor,
    Notification,
    NotificationRead,
    NotificationType,
    Ticket,
    TicketMessage,
)
from asr_billing.cabinet.selectors import local
from asr_billing.core.money import ZERO, fmt
from asr_billing.subscribers.selectors import group_ancestor_ids

FEED_MAX = 50  # notifications in one answer, newest first

# --- Tickets ------------------------------------------------------------------------------


def tickets_page(*, subscriber_id: int, offset: int, limit: int) -> tuple[list[Ticket], int]:
    """The subscriber's tickets, latest activity first, each with ``message_count`` (its
    messages after the opening text) and ``unread_count`` (operators' messages the
    subscriber has not read); and how many tickets there are (two queries)."""
    tickets = Ticket.objects.filter(subscriber_id=subscriber_id)
    count = tickets.count()
    if count <= offset:
        return [], count
    unread = Q(messages__author=MessageAuthor.OPERATOR, messages__read_at__isnull=True)
    rows = list(
        tickets.annotate(message_count=Count("messages"),
                         unread_count=Count("messages", filter=unread))
        .order_by("-updated_at", "-id")[offset:offset + limit]
    )
    return rows, count


def ticket_for(subscriber_id: int, ticket_id: int) -> Ticket | None:
    """The subscriber's ticket with that id; None for a missing or another's ticket."""
    return Ticket.objects.filter(pk=ticket_id, subscriber_id=subscriber_id).first()


def ticket_messages(ticket_id: int) -> list[TicketMessage]:
    """The ticket's messages after its opening text, oldest first (one query)."""
    return list(TicketMessage.objects.filter(ticket_id=ticket_id).order_by("created_at", "id"))


def unread_ticket_ids(subscriber_id: int) -> list[int]:
    """Ids of the subscriber's tickets with operators' messages they have not read."""
    return list(
        TicketMessage.objects.filter(ticket__subscriber_id=subscriber_id,
                                     author=MessageAuthor.OPERATOR, read_at__isnull=True)
        .values_list("ticket_id", flat=True).distinct().order_by("ticket_id")
    )


# --- Notifications ------------------------------------------------------------------------


def _shown_at(now: datetime) -> Q:
    return Q(starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def _my_group_ids(subscriber, now: datetime) -> set[int]:
    """Groups with notifications shown now that hold the subscriber (their group or one
    above it). One query; the walk up the tree only when there are such notifications."""
    targeted = set(
        Notification.objects.filter(_shown_at(now), audience=Audience.GROUP)
        .values_list("group_id", flat=True).distinct()
    )
    if not targeted:
        return set()
    return targeted & set(group_ancestor_ids(subscriber.group_id))


def notification_feed(subscriber, *, now: datetime | None = None,
                      limit: int = FEED_MAX) -> list[Notification]:
    """Notifications shown now to the subscriber (theirs, their groups', everyone's) that
    they have not marked read, newest first."""
    now = now or timezone.now()
    read = NotificationRead.objects.filter(notification=OuterRef("pk"),
                                           subscriber_id=subscriber.pk)
    mine = Q(audience=Audience.EVERYONE) | Q(subscriber_id=subscriber.pk)
    groups = _my_group_ids(subscriber, now)
    if groups:
        mine |= Q(group_id__in=groups)
    return list(
        Notification.objects.filter(_shown_at(now), mine).exclude(Exists(read))
        .order_by("-starts_at", "-id")[:limit]
    )


def notification_for(subscriber, notification_id: int) -> Notification | None:
    """The notification with that id if it is addressed to the subscriber, shown now or
    not; else None."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return None
    if notification.audience == Audience.EVERYONE:
        return notification
    if notification.audience == Audience.SUBSCRIBER:
        return notification if notification.subscriber_id == subscriber.pk else None
    return notification if notification.group_id in group_ancestor_ids(
        subscriber.group_id) else None


@dataclass(frozen=True)
class Notice:
    """One line of the cabinet's notifications: an operator's notification, or a notice
    about the subscriber's own state (``notification`` None)."""

    text: str
    type: str
    notification: Notification | None = None


def state_notices(subscriber, *, day: date) -> list[Notice]:
    """Carbon's cabinet notices about the subscriber's own state, in its words: a promised
    payment in force, a voluntary block planned, support's messages not read yet. Needs
    the subscriber's account loaded; at most three queries."""
    notices = []
    name = subscriber.name
    if subscriber.account.promised_amount > ZERO:
        promised = (PromisedPayment.objects.filter(subscriber_id=subscriber.pk,
                                                   closed_at__isnull=True)
                    .order_by("-created_at").first())
        if promised is not None:
            what = (f"Обещанный платёж {fmt(promised.amount)} до "
                    f"{local(promised.expires_at):%d.%m.%Y %H:%M}")
            notices.append(Notice(texts.NOTICE_PROMISED.format(name, what),
                                  NotificationType.WARNING))
    block = voluntary_block_current(subscriber.pk, day)
    if block is not None and block.start_date > day:
        notices.append(Notice(
            texts.NOTICE_VBLOCK_PLANNED.format(name, block.start_date.strftime("%d.%m.%Y")),
            NotificationType.INFO))
    unread = unread_ticket_ids(subscriber.pk)
    if unread:
        notices.append(Notice(
            texts.NOTICE_UNREAD_SUPPORT.format(name, ", ".join(f"#{pk}" for pk in unread)),
            NotificationType.INFO))
    return notices


def cabinet_notices(subscriber, *, day: date, now: datetime | None = None) -> list[Notice]:
    """What the cabinet shows as notifications: the operators' (newest first), then the
    notices about the subscriber's state."""
    feed = [Notice(n.text, n.type, n) for n in notification_feed(subscriber, now=now)]
    return feed + state_notices(subscriber, day=day)
