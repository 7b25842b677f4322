"""``web_cabinet.*`` functions of the helpdesk and the notifications (registered when
system_api_functions imports this module). Shapes: reference carbon-api.md §4.2, as the
Android cabinet (EnotVonTot/CarbonApp: SupportActivity, TicketDetailActivity,
NewTicketActivity) and the Go cabinet (llchhh/spektr-account-api: repair and notification
repositories) read them; see cabinet.wire for each field.

- get_helpdesk_dialogs {"parent_id": null} -> a page of the subscriber's tickets
- get_helpdesk_comments {"parent_id": <ticket>} -> its messages; marks support's read
- create_ticket {"subj", "ticket_text"} -> a new ticket; with "parent_id": <ticket>, a
  message in that ticket (the same call: Carbon's catalogue answers both from it)
- get_notifications_for_user -> {"notifications": [{"text", "type"}]}
- set_notification_read {"id"} (ours) -> the notification leaves the feed
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from asr_billing.cabinet import selectors, texts, wire
from asr_billing.cabinet.helpdesk import (
    ticket_comment,
    ticket_create,
    ticket_mark_read,
)
from asr_billing.cabinet.notifications import notification_mark_read
from asr_billing.cabinet.selectors_helpdesk import (
    cabinet_notices,
    ticket_for,
    ticket_messages,
    tickets_page,
)
from asr_billing.cabinet.system_api_functions import _page_numbers, _session, cabinet
from asr_billing.core.errors import NotFound


def _text_arg(call, name: str):
    """A text as sent; anything else (a number, a list) is no text."""
    value = call.args.get(name)
    return value if isinstance(value, str) else ""


@cabinet("get_helpdesk_dialogs")
def get_helpdesk_dialogs(call):
    """{"parent_id": null, "page_number", "per_page"} -> a page of tickets, latest activity
    first. A parent_id asks for sub-tickets, which ours never have: an empty page."""
    login = _session(call).login
    page, per_page = _page_numbers(call)
    if call.args.present("parent_id"):
        call.args.object_id("parent_id")
        rows, count = [], 0
    else:
        rows, count = tickets_page(subscriber_id=login.subscriber_id,
                                   offset=(page - 1) * per_page, limit=per_page)
    pages = max(1, -(-count // per_page))
    return {
        "count": str(count),
        "num_pages": str(pages),
        "current_page": str(page),
        "per_page": str(per_page),
        "has_next_page": wire.flag(page < pages),
        "has_previous_page": wire.flag(page > 1),
        "items": [wire.ticket(item) for item in rows],
    }


@cabinet("get_helpdesk_comments", writes=True)
def get_helpdesk_comments(call):
    """{"parent_id": <ticket id>} -> its messages after the opening text, oldest first.
    Support's messages count as read from now on (``read_comment`` shows the state before
    this call)."""
    session = _session(call)
    subscriber = session.login.subscriber
    ticket_id = call.args.object_id("parent_id")
    ticket = ticket_for(subscriber.pk, ticket_id)
    if ticket is None:  # missing or another's: one answer
        raise NotFound(_("There is no ticket %(id)s") % {"id": ticket_id}, code="no_ticket")
    messages = ticket_messages(ticket.pk)
    if any(m.author == "operator" and m.read_at is None for m in messages):
        ticket_mark_read(subscriber=subscriber, ticket_id=ticket.pk)
    return [wire.ticket_comment(message, subscriber.name) for message in messages]


@cabinet("create_ticket", writes=True)
def create_ticket(call):
    """{"subj", "ticket_text", "parent_id": null, "status": 1} -> a new ticket;
    {"ticket_text", "parent_id": <ticket id>} -> a message in that ticket. ``status`` is
    ignored: a new ticket waits for support."""
    session = _session(call)
    subscriber = session.login.subscriber
    if call.args.present("parent_id"):
        ticket_id = call.args.object_id("parent_id")
        message = ticket_comment(subscriber=subscriber, ticket_id=ticket_id,
                                 text=_text_arg(call, "ticket_text"))
        return {"message": texts.COMMENT_CREATED, "ticket_id": wire.id_text(ticket_id),
                "comment_id": wire.id_text(message.pk)}
    ticket = ticket_create(subscriber=subscriber, subject=_text_arg(call, "subj"),
                           text=_text_arg(call, "ticket_text"))
    return {"message": texts.TICKET_CREATED, "ticket_id": wire.id_text(ticket.pk)}


@cabinet("get_notifications_for_user")
def get_notifications_for_user(call):
    """{"suid"} -> {"notifications": [{"text", "type", "id", "date"}]}: the operators'
    notifications shown now and not read yet, then notices about the subscriber's state."""
    subscriber = _session(call).login.subscriber
    notices = cabinet_notices(subscriber, day=selectors.today())
    return {"notifications": [wire.notice(item) for item in notices]}


@cabinet("set_notification_read", writes=True)
def set_notification_read(call):
    """{"id"} (ours; Carbon's name for it is not known) -> the notification is no longer
    in the subscriber's feed."""
    subscriber = _session(call).login.subscriber
    notification = notification_mark_read(subscriber=subscriber,
                                           notification_id=call.args.object_id("id"))
    return {"status": "ok", "message": _("Notification %(id)s is marked read")
            % {"id": notification.pk}, "id": wire.id_text(notification.pk)}
