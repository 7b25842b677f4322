"""Operators answer tickets and publish notifications in the admin; every write goes
through the services (audited), a refusal comes back on the form and changes nothing."""

from __future__ import annotations

import pytest

from asr_billing.cabinet.helpdesk import ticket_close, ticket_create
from asr_billing.cabinet.models import Notification, Ticket, TicketMessage
from asr_billing.cabinet.notifications import notification_create
from asr_billing.core.models import AuditEntry

from .conftest import LOGIN, PASSWORD, db_state


@pytest.fixture
def ticket(world):
    return ticket_create(subscriber=world["subscriber"], subject="Нет интернета",
                         text="Не работает со вчера")


def management(response) -> dict:
    """The inline formsets' management fields of an admin change page, as a browser
    would post them back."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        form = inline.formset.management_form
        data.update({f"{form.prefix}-{name}": value for name, value in form.initial.items()})
    return data


def answer_page(admin_client, ticket, **fields):
    url = f"/admin/cabinet/ticket/{ticket.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    return admin_client.post(url, {**management(page), **fields})


def test_lists_and_pages_render(admin_client, ticket, world):
    notification_create(text="Плановые работы", everyone=True, actor="test")
    for path in ("ticket", "notification", "notification/add"):
        assert admin_client.get(f"/admin/cabinet/{path}/").status_code == 200, path
    page = admin_client.get(f"/admin/cabinet/ticket/{ticket.pk}/change/")
    assert "Не работает со вчера" in page.content.decode()
    notice = Notification.objects.get()
    assert admin_client.get(f"/admin/cabinet/notification/{notice.pk}/change/"
                            ).status_code == 200


def test_answer_in_the_admin_reaches_the_cabinet(admin_client, cab, ticket, world):
    response = answer_page(admin_client, ticket, answer="Перезагрузите роутер")
    assert response.status_code == 302
    message = TicketMessage.objects.get()
    ticket.refresh_from_db()
    assert (message.author, message.text, message.operator.username, ticket.status) == (
        "operator", "Перезагрузите роутер", "admin", "answered")
    audit = AuditEntry.objects.get(action="ticket_answer")
    assert (audit.actor, audit.object_id, audit.subscriber_id) == (
        "admin:admin", str(ticket.pk), world["subscriber"].pk)
    suid = cab("login", {"login": LOGIN, "passwd": PASSWORD})["session_id"]
    comment = cab("get_helpdesk_comments", {"suid": suid, "parent_id": ticket.pk})[0]
    assert (comment["text"], comment["__creator_abonent"]) == ("Перезагрузите роутер", "root")


def test_answer_and_close_or_just_close(admin_client, ticket, world):
    answer_page(admin_client, ticket, answer="Готово", close="on")
    ticket.refresh_from_db()
    assert (ticket.status, TicketMessage.objects.count()) == ("closed", 1)
    second = ticket_create(subscriber=world["subscriber"], subject="Ещё", text="Вопрос")
    answer_page(admin_client, second, close="on")
    second.refresh_from_db()
    assert (second.status, TicketMessage.objects.count()) == ("closed", 1)
    assert AuditEntry.objects.filter(action="ticket_close").count() == 1


def test_admin_refusals_change_nothing(admin_client, ticket):
    before = db_state()
    response = answer_page(admin_client, ticket, answer="  ")
    assert response.status_code == 200
    assert "Write an answer or close the ticket." in response.content.decode()
    ticket_close(ticket=ticket, actor="test")
    before = db_state()
    response = answer_page(admin_client, ticket, answer="Поздно")
    assert response.status_code == 200
    assert f"Ticket #{ticket.pk} is closed" in response.content.decode()
    assert db_state() == before


def test_no_adding_or_deleting_tickets(admin_client, ticket):
    assert admin_client.get("/admin/cabinet/ticket/add/").status_code == 403
    assert admin_client.post(f"/admin/cabinet/ticket/{ticket.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert Ticket.objects.count() == 1


def test_publish_a_notification_to_a_group(admin_client, world, group):
    response = admin_client.post("/admin/cabinet/notification/add/", {
        "text": "Работы в вашем районе", "type": "warning", "audience": "group",
        "group": group.pk, "subscriber": world["subscriber"].pk,  # ignored: a group
        "starts_at_0": "", "starts_at_1": "", "ends_at_0": "", "ends_at_1": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notification.objects.get()
    assert (notice.text, notice.type, notice.audience, notice.group_id, notice.subscriber_id,
            notice.ends_at, notice.created_by) == (
        "Работы в вашем районе", "warning", "group", group.pk, None, None, "admin:admin")
    assert AuditEntry.objects.get(action="notification_create").object_id == str(notice.pk)


def test_publish_refusals(admin_client, world):
    before = db_state()
    response = admin_client.post("/admin/cabinet/notification/add/", {
        "text": "Вам", "type": "info", "audience": "subscriber",
        "starts_at_0": "", "starts_at_1": "", "ends_at_0": "", "ends_at_1": ""})
    assert response.status_code == 200
    assert "Choose the subscriber." in response.content.decode()
    response = admin_client.post("/admin/cabinet/notification/add/", {
        "text": "Всем", "type": "info", "audience": "everyone",
        "starts_at_0": "2024-05-10", "starts_at_1": "12:00:00",
        "ends_at_0": "2024-05-10", "ends_at_1": "11:00:00"})
    assert response.status_code == 200
    assert "The notification ends before it starts" in response.content.decode()
    assert db_state() == before


def test_a_published_notification_is_not_edited_but_ended(admin_client, world):
    notice = notification_create(text="Всем", everyone=True, actor="test")
    url = f"/admin/cabinet/notification/{notice.pk}/change/"
    assert admin_client.post(url, {"text": "Другое"}).status_code == 403
    admin_client.post("/admin/cabinet/notification/", {
        "action": "end_selected", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert (notice.text, notice.ends_at is not None) == ("Всем", True)
    assert AuditEntry.objects.get(action="notification_end").actor == "admin:admin"


def test_a_closed_ticket_reads_closed_in_russian_not_the_filters_plural(
        admin_client, ticket, config_edit, settings):
    """"Closed" is a list filter's "Закрытые" elsewhere; a ticket's status has its own
    context. In Russian, the default language (this module's fixture sets English)."""
    config_edit("app", "language", "ru")
    settings.LANGUAGE_CODE = "ru"
    ticket_close(ticket=ticket, actor="test")
    page = admin_client.get("/admin/cabinet/ticket/", {"status__exact": "closed"})
    assert page.status_code == 200
    assert '<td class="field-status">Закрыта</td>' in page.content.decode()
