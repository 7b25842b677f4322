"""The helpdesk and notifications under concurrency, on a real PostgreSQL: a subscriber's
messages racing an operator's close never land in a closed ticket; a notification read
from many requests at once is marked once."""

from __future__ import annotations

import pytest

from asr_billing.cabinet.helpdesk import ticket_close, ticket_comment, ticket_create
from asr_billing.cabinet.models import NotificationRead, Ticket, TicketMessage
from asr_billing.cabinet.notifications import notification_create, notification_mark_read
from asr_billing.core.errors import Conflict
from tests.conftest import requires_postgres
from tests.finance.test_concurrency import run_together

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_messages_racing_a_close_never_land_in_a_closed_ticket(world):
    subscriber = world["subscriber"]
    ticket = ticket_create(subscriber=subscriber, subject="Тема", text="Текст")

    def work(i):
        if i == THREADS // 2:
            return ticket_close(ticket=Ticket.objects.get(pk=ticket.pk), actor="test")
        return ticket_comment(subscriber=subscriber, ticket_id=ticket.pk, text=f"Сообщение {i}")

    results = run_together(THREADS, work)
    written = [r for r in results if isinstance(r, TicketMessage)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, Conflict) and r.message == "Нельзя писать комментарии к закрытой "
               "заявке." for r in refused), refused
    assert len(written) + len(refused) == THREADS - 1
    ticket.refresh_from_db()
    # A message after the close would have reopened the ticket ("open" with closed_at set
    # is refused by a constraint): the close is the last word.
    assert ticket.status == "closed"
    assert TicketMessage.objects.filter(ticket=ticket).count() == len(written)


def test_one_notification_read_from_20_requests_is_marked_once(world):
    subscriber = world["subscriber"]
    notice = notification_create(text="Всем", everyone=True, actor="test")

    results = run_together(THREADS, lambda i: notification_mark_read(
        subscriber=subscriber, notification_id=notice.pk))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert NotificationRead.objects.filter(notification=notice).count() == 1
