"""The Helpdesk and Notifications pages: a ticket opened, followed, replied to and closed
through the services web_cabinet's helpdesk functions use; the ISP's notifications read
and marked; refusals on the form with nothing changed; another subscriber's ticket is a
404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from asr_billing.cabinet.helpdesk import ticket_answer, ticket_close, ticket_create
from asr_billing.cabinet.models import (
    NotificationRead,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from asr_billing.cabinet.notifications import notification_create
from asr_billing.core.models import AuditEntry


def helpdesk_state() -> dict:
    return {
        "tickets": list(Ticket.objects.order_by("pk").values_list(
            "pk", "subject", "text", "status", "closed_at")),
        "messages": list(TicketMessage.objects.order_by("pk").values_list(
            "pk", "author", "text", "read_at")),
        "reads": NotificationRead.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_open_a_ticket(logged_in, cab_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/helpdesk/")
    assert page.status_code == 200 and "You have not written to support yet." in (
        page.content.decode())
    done = logged_in.post("/cabinet/helpdesk/", {"subject": "  No   link ",
                                                 "text": "The light is off since morning."})
    [ticket] = Ticket.objects.all()
    assert done.status_code == 302 and done["Location"] == f"/cabinet/helpdesk/{ticket.pk}/"
    assert (ticket.subscriber_id, ticket.subject, ticket.text, ticket.status) == (
        cab_world["subscriber"].pk, "No link", "The light is off since morning.", "open")
    listed = logged_in.get("/cabinet/helpdesk/").content.decode()
    assert f"#{ticket.pk} No link" in listed and "Waiting for support" in listed


def test_empty_subject_gets_the_products_default(logged_in, cab_world):
    logged_in.post("/cabinet/helpdesk/", {"subject": "", "text": "Help"})
    assert Ticket.objects.get().subject == "Запрос из кабинета"


@pytest.mark.parametrize("data, error", [
    ({"subject": "x", "text": "   "}, "Write your question."),
    ({"subject": "x"}, "Write your question."),
    ({"subject": "x" * 201, "text": "t"}, "at most 200 characters"),
    ({"subject": "x", "text": "t" * 5001}, "at most 5000 characters"),
])
def test_bad_ticket_is_refused_on_the_form(logged_in, cab_world, data, error):
    before = helpdesk_state()
    response = logged_in.post("/cabinet/helpdesk/", data)
    assert response.status_code == 400 and error in response.content.decode()
    assert helpdesk_state() == before


def test_dialog_reply_and_read_marks(logged_in, cab_world, django_assert_max_num_queries):
    ticket = ticket_create(subscriber=cab_world["subscriber"], subject="Speed", text="Slow")
    answer = ticket_answer(ticket=ticket, text="We are checking the line.", actor="operator")
    listed = logged_in.get("/cabinet/helpdesk/").content.decode()
    assert "1 new answer" in listed and "Answered" in listed
    with django_assert_max_num_queries(10):
        page = logged_in.get(f"/cabinet/helpdesk/{ticket.pk}/")
    assert page.context["unread"] == {answer.pk}  # highlighted on this visit
    assert "We are checking the line." in page.content.decode()
    answer.refresh_from_db()
    assert answer.read_at is not None  # seeing it is reading it
    assert logged_in.get(f"/cabinet/helpdesk/{ticket.pk}/").context["unread"] == set()
    done = logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/", {"text": "Thanks, it works"})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert TicketMessage.objects.filter(ticket=ticket, author="subscriber",
                                        text="Thanks, it works").exists()


def test_empty_reply_refused(logged_in, cab_world):
    ticket = ticket_create(subscriber=cab_world["subscriber"], subject="S", text="T")
    before = helpdesk_state()
    response = logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/", {"text": " \n "})
    assert response.status_code == 400 and "Write your message." in response.content.decode()
    assert helpdesk_state() == before


def test_subscriber_closes_the_ticket(logged_in, cab_world):
    ticket = ticket_create(subscriber=cab_world["subscriber"], subject="S", text="T")
    done = logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/close/", follow=True)
    assert f"Ticket #{ticket.pk} is closed." in done.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    entry = AuditEntry.objects.filter(action="ticket_close").latest("pk")
    assert entry.actor == "cabinet:testlogin"
    page = logged_in.get(f"/cabinet/helpdesk/{ticket.pk}/").content.decode()
    assert "The ticket was closed" in page and "Close the ticket" not in page
    before = helpdesk_state()
    again = logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/close/", follow=True)
    assert f"Ticket #{ticket.pk} is closed" in again.content.decode()
    refused = logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/", {"text": "one more"})
    assert refused.status_code == 400
    assert "The ticket is closed: no more messages in it." in refused.content.decode()
    assert helpdesk_state() == before


def test_operator_closed_ticket_shows_closed(logged_in, cab_world):
    ticket = ticket_create(subscriber=cab_world["subscriber"], subject="S", text="T")
    ticket_close(ticket=ticket, actor="operator")
    assert "The ticket was closed" in logged_in.get(
        f"/cabinet/helpdesk/{ticket.pk}/").content.decode()


def test_another_subscribers_ticket_is_404(logged_in, cab_world, make_subscriber):
    other = make_subscriber(name="Петров Пётр")
    ticket = ticket_create(subscriber=other, subject="Private", text="Mine only")
    before = helpdesk_state()
    assert logged_in.get(f"/cabinet/helpdesk/{ticket.pk}/").status_code == 404
    assert logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/", {"text": "x"}).status_code == 404
    assert logged_in.post(f"/cabinet/helpdesk/{ticket.pk}/close/").status_code == 404
    assert logged_in.get("/cabinet/helpdesk/999999/").status_code == 404
    assert helpdesk_state() == before


def test_ticket_list_pages(logged_in, cab_world, django_assert_max_num_queries):
    for number in range(25):
        ticket_create(subscriber=cab_world["subscriber"], subject=f"Q{number}", text="t")
    with django_assert_max_num_queries(10):
        first = logged_in.get("/cabinet/helpdesk/")
    assert len(first.context["tickets"]) == 20 and first.context["pages"] == 2
    second = logged_in.get("/cabinet/helpdesk/?page=2")
    assert len(second.context["tickets"]) == 5
    assert logged_in.get("/cabinet/helpdesk/?page=junk").context["page"] == 1
    beyond = logged_in.get("/cabinet/helpdesk/?page=99")
    assert beyond.context["page"] == 2 and len(beyond.context["tickets"]) == 5


# --- Notifications -----------------------------------------------------------------------


def test_notifications_feed_and_read_marks(logged_in, cab_world, group,
                                           django_assert_max_num_queries):
    subscriber = cab_world["subscriber"]
    now = timezone.now()
    mine = notification_create(text="Your router firmware is updated", actor="op",
                               subscriber=subscriber, now=now - dt.timedelta(hours=2))
    everyone = notification_create(text="Works on the line tonight", actor="op",
                                   everyone=True, kind="warning", now=now - dt.timedelta(hours=1))
    with django_assert_max_num_queries(10):
        page = logged_in.get("/cabinet/notifications/")
    text = page.content.decode()
    assert "Works on the line tonight" in text and "Your router firmware" in text
    assert [n.notification.pk for n in page.context["notices"]] == [everyone.pk, mine.pk]
    done = logged_in.post(f"/cabinet/notifications/{everyone.pk}/read/")
    assert done.status_code == 302
    assert NotificationRead.objects.filter(subscriber=subscriber,
                                           notification=everyone).count() == 1
    after = logged_in.get("/cabinet/notifications/")
    assert [n.notification.pk for n in after.context["notices"]] == [mine.pk]
    assert [r.notification_id for r in after.context["read"]] == [everyone.pk]
    logged_in.post(f"/cabinet/notifications/{everyone.pk}/read/")  # twice: one mark
    assert NotificationRead.objects.filter(notification=everyone).count() == 1


def test_someone_elses_notification_cannot_be_marked(logged_in, cab_world, make_subscriber):
    other = make_subscriber(name="Петров Пётр")
    theirs = notification_create(text="For Petrov", actor="op", subscriber=other)
    assert "For Petrov" not in logged_in.get("/cabinet/notifications/").content.decode()
    before = helpdesk_state()
    assert logged_in.post(f"/cabinet/notifications/{theirs.pk}/read/").status_code == 404
    assert logged_in.post("/cabinet/notifications/999999/read/").status_code == 404
    assert helpdesk_state() == before


def test_state_notices_are_shown(logged_in, cab_world):
    ticket = ticket_create(subscriber=cab_world["subscriber"], subject="S", text="T")
    ticket_answer(ticket=ticket, text="Answer", actor="op")
    text = logged_in.get("/cabinet/notifications/").content.decode()
    assert f"#{ticket.pk}" in text  # Carbon's notice about support's unread answer
    assert "There is nothing new." not in text


def test_empty_feed(logged_in, cab_world):
    assert "There is nothing new." in logged_in.get("/cabinet/notifications/").content.decode()
