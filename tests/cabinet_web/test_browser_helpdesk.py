"""Helpdesk and notifications end to end in Chromium: a ticket opened from the form,
support's answer read in the dialog, a reply, the ticket closed; a notification marked
read — the database checked after each step; English on a desktop, Russian on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from asr_billing.cabinet.helpdesk import ticket_answer
from asr_billing.cabinet.models import NotificationRead, Ticket, TicketMessage, TicketStatus
from asr_billing.cabinet.notifications import notification_create
from tests.cabinet_web.browser import logged_in, logged_in_ru_phone, open_from_menu
from tests.cabinet_web.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ticket_from_question_to_close(web, shots, cab_world):
    base, page = logged_in(web)
    open_from_menu(page, base, "Helpdesk", "/cabinet/helpdesk/")
    page.get_by_label("Subject").fill("No Internet")
    page.get_by_label("Your question").fill("Since 8 am the router shows no link.")
    page.get_by_role("button", name="Send").click()
    ticket = Ticket.objects.get()
    page.wait_for_url(f"{base}/cabinet/helpdesk/{ticket.pk}/")
    assert (ticket.subject, ticket.status) == ("No Internet", TicketStatus.OPEN)
    answer = ticket_answer(ticket=ticket, text="A technician comes at 2 pm.", actor="op")
    page.reload()
    expect(page.locator("main")).to_contain_text("A technician comes at 2 pm.")
    assert page.locator(f'[data-message="{answer.pk}"].new').count() == 1
    shots(page, "ticket")
    page.get_by_label("Your message").fill("Thank you, it works now.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{base}/cabinet/helpdesk/{ticket.pk}/")
    assert TicketMessage.objects.filter(ticket=ticket, author="subscriber").count() == 1
    page.get_by_role("button", name="Close the ticket").click()
    page.wait_for_url(f"{base}/cabinet/helpdesk/{ticket.pk}/")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    page.goto(base + "/cabinet/helpdesk/")
    shots(page, "helpdesk")


def test_notification_marked_read(web, shots, cab_world):
    notice = notification_create(text="Planned works tonight from 2 to 4 am.", actor="op",
                                 everyone=True, kind="warning")
    base, page = logged_in(web)
    open_from_menu(page, base, "Notifications", "/cabinet/notifications/")
    expect(page.locator("main")).to_contain_text("Planned works tonight")
    shots(page, "notifications")
    page.get_by_role("button", name="Mark as read").click()
    page.wait_for_url(base + "/cabinet/notifications/")
    assert NotificationRead.objects.filter(notification=notice,
                                           subscriber=cab_world["subscriber"]).exists()
    assert page.locator(f'[data-read="{notice.pk}"]').count() == 1


def test_helpdesk_in_russian_on_a_phone(web, shots, cab_world):
    base, page = logged_in_ru_phone(web)
    page.goto(base + "/cabinet/helpdesk/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Ваш вопрос").fill("Нет интернета с утра")
    page.get_by_role("button", name="Отправить").click()
    page.wait_for_url(f"{base}/cabinet/helpdesk/{Ticket.objects.get().pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shots(page, "ticket-ru-phone")
