"""The helpdesk and notification functions answer on REST v2's cabinet bridge too
(``POST /rest_api/v2/Users/`` with ``method1=web_cabinet.<function>``), as the Laravel
client reads every web_cabinet answer: ``{"result": ["<the JSON as a string>"]}``."""

from __future__ import annotations

import json

import pytest

from asr_billing.cabinet.models import Ticket
from asr_billing.cabinet.notifications import notification_create

from .conftest import db_state


@pytest.fixture
def suid(rest, subscriber, make_login):
    make_login(subscriber, "testlogin", password="testpsw")
    _status, body = rest("Users", ("web_cabinet.login", {"login": "testlogin",
                                                         "passwd": "testpsw"}))
    return json.loads(body["result"][0])["session_id"]


def cabinet(rest, function, arg):
    status, body = rest("Users", (f"web_cabinet.{function}", arg))
    assert status == 200 and set(body) == {"call", "result"}
    return json.loads(body["result"][0])


def test_tickets_through_rest(rest, suid, subscriber):
    answer = cabinet(rest, "create_ticket", {"suid": suid, "subj": "Тема", "ticket_text": "Текст"})
    ticket = Ticket.objects.get()
    assert answer == {"message": "Заявка создана.", "ticket_id": str(ticket.pk)}
    answer = cabinet(rest, "create_ticket", {"suid": suid, "ticket_text": "Ещё",
                                             "parent_id": str(ticket.pk)})
    assert answer["message"] == "Комментарий создан."
    dialogs = cabinet(rest, "get_helpdesk_dialogs", {"suid": suid, "parent_id": None})
    assert [(i["subj"], i["child_count"]) for i in dialogs["items"]] == [("Тема", "1")]
    comments = cabinet(rest, "get_helpdesk_comments", {"suid": suid, "parent_id": ticket.pk})
    assert [c["text"] for c in comments] == ["Ещё"]


def test_notifications_through_rest(rest, suid):
    notice = notification_create(text="Плановые работы", everyone=True, actor="test")
    answer = cabinet(rest, "get_notifications_for_user", {"suid": suid})
    assert [(n["text"], n["type"], n["id"]) for n in answer["notifications"]] == [
        ("Плановые работы", "info", str(notice.pk))]
    assert cabinet(rest, "set_notification_read", {"suid": suid, "id": notice.pk})["status"] == "ok"
    assert cabinet(rest, "get_notifications_for_user", {"suid": suid}) == {"notifications": []}


def test_refusals_through_rest_change_nothing(rest, suid):
    before = db_state()
    tickets = Ticket.objects.count()
    assert cabinet(rest, "create_ticket", {"suid": suid, "ticket_text": " "}) == {
        "error": "Необходимо заполнить текст сообщения."}
    assert cabinet(rest, "create_ticket", {"suid": suid, "ticket_text": "x",
                                           "parent_id": 999}) == {
        "error": "У вас нет прав на создание комментария к этой заявке."}
    assert (db_state(), Ticket.objects.count()) == (before, tickets)
