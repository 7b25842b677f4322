"""The helpdesk through web_cabinet.*: create_ticket (and a message in a ticket: the same
call with parent_id), get_helpdesk_dialogs, get_helpdesk_comments — exact answers, a test
per field naming the client that reads it, refusals with an unchanged database.

Clients: the Android cabinet (EnotVonTot/CarbonApp: NewTicketActivity, SupportActivity,
TicketDetailActivity, model/TicketResponse.kt, CommentResponse.kt) and the Go cabinet
(llchhh/spektr-account-api: the repair repository's CreateRepair)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from asr_billing.cabinet.helpdesk import ticket_answer, ticket_close
from asr_billing.cabinet.models import MessageAuthor, Ticket, TicketMessage
from asr_billing.core.models import AuditEntry

from .conftest import NOW, db_state

NOT_YOURS = "У вас нет прав на создание комментария к этой заявке."


@pytest.fixture
def other(make_subscriber, make_login):
    """Another subscriber with a ticket of their own."""
    subscriber = make_subscriber(name="Петров Пётр")
    make_login(subscriber, "petrov", "petrov1", ip=None)
    return Ticket.objects.create(subscriber=subscriber, subject="Чужая", text="Не ваша",
                                 created_at=NOW, updated_at=NOW)


def android_new_ticket(sid, subject, text) -> str:
    """arg1 exactly as NewTicketActivity glues it (not JSON-encoded: quotes unescaped)."""
    return ('{"suid":"' + sid + '","ticket_text":"' + text + '","subj":"' + subject
            + '","parent_id":null,"status":1}')


def open_ticket(cab, sid, subject="Нет интернета", text="Со вчерашнего вечера не работает"):
    answer = cab("create_ticket", android_new_ticket(sid, subject, text))
    return Ticket.objects.get(pk=int(answer["ticket_id"]))


def refused(cab, method, arg1, error, **kwargs):
    before = db_state()
    assert cab(method, arg1, **kwargs) == {"error": error}
    assert db_state() == before


# --- create_ticket -------------------------------------------------------------------------------


def test_create_ticket_as_the_android_app_sends_it(cab, w, sid):
    answer = cab("create_ticket", android_new_ticket(sid, "Нет интернета", "Не работает"))
    ticket = Ticket.objects.get()
    # NewTicketActivity shows result.message in a toast
    assert answer == {"message": "Заявка создана.", "ticket_id": str(ticket.pk)}
    assert (ticket.subscriber_id, ticket.subject, ticket.text, ticket.status,
            ticket.created_at, ticket.updated_at, ticket.closed_at) == (
        w["subscriber"].pk, "Нет интернета", "Не работает", "open", NOW, NOW, None)
    assert TicketMessage.objects.count() == 0


def test_create_ticket_as_the_go_cabinet_sends_it(cab, w, sid):
    # CreateRepair: url.Values-encoded {"suid","ticket_text","subj","status":"1"}; it reads
    # only "error" (empty means success).
    answer = cab("create_ticket", {"suid": sid, "ticket_text": "Медленно", "subj": "Скорость",
                                   "status": "1"}, encode=True)
    assert "error" not in answer
    assert answer["message"] == "Заявка создана."
    assert Ticket.objects.get().subject == "Скорость"


def test_a_ticket_without_a_subject_gets_carbons(cab, w, sid):
    cab("create_ticket", {"suid": sid, "ticket_text": "Текст", "subj": "  "})
    cab("create_ticket", {"suid": sid, "ticket_text": "Текст"})
    assert [t.subject for t in Ticket.objects.order_by("pk")] == ["Запрос из кабинета"] * 2


def test_a_subject_is_one_line(cab, w, sid):
    cab("create_ticket", {"suid": sid, "ticket_text": " Текст\nвторая строка ",
                          "subj": " Тема\n\tдлинная  "})
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.text) == ("Тема длинная", "Текст\nвторая строка")


@pytest.mark.parametrize(("arg1", "error"), [
    ({"subj": "Тема", "ticket_text": ""}, "Необходимо заполнить текст сообщения."),
    ({"subj": "Тема", "ticket_text": " \n\t"}, "Необходимо заполнить текст сообщения."),
    ({"subj": "Тема"}, "Необходимо заполнить текст сообщения."),
    ({"subj": "Тема", "ticket_text": 123}, "Необходимо заполнить текст сообщения."),
    ({"subj": "Тема", "ticket_text": "я" * 5001}, "The message is longer than 5000 characters"),
    ({"subj": "Т" * 201, "ticket_text": "Текст"}, "The subject is longer than 200 characters"),
])
def test_create_ticket_refusals(cab, w, sid, arg1, error):
    refused(cab, "create_ticket", {"suid": sid, **arg1}, error)


def test_create_ticket_needs_a_session(cab, w):
    refused(cab, "create_ticket", {"suid": "nope", "subj": "Тема", "ticket_text": "Текст"},
            "Необходимо авторизоваться")


def test_the_longest_text_and_subject_are_taken(cab, w, sid):
    cab("create_ticket", {"suid": sid, "ticket_text": "я" * 5000, "subj": "Т" * 200})
    ticket = Ticket.objects.get()
    assert (len(ticket.text), len(ticket.subject)) == (5000, 200)


# --- A message in a ticket (create_ticket with parent_id) ----------------------------------------


def test_a_message_in_the_subscribers_ticket(cab, w, sid, frozen):
    ticket = open_ticket(cab, sid)
    ticket_answer(ticket=ticket, text="Перезагрузите роутер", actor="test")
    frozen.shift(timedelta(minutes=5))
    answer = cab("create_ticket", {"suid": sid, "ticket_text": "Не помогло",
                                   "parent_id": ticket.pk})
    message = TicketMessage.objects.get(author=MessageAuthor.SUBSCRIBER)
    assert answer == {"message": "Комментарий создан.", "ticket_id": str(ticket.pk),
                      "comment_id": str(message.pk)}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.updated_at) == ("open", NOW + timedelta(minutes=5))
    assert (message.text, message.created_at, message.read_at, message.operator_id) == (
        "Не помогло", NOW + timedelta(minutes=5), None, None)


def test_a_message_with_the_ticket_id_as_gson_spelled_it(cab, w, sid):
    ticket = open_ticket(cab, sid)
    answer = cab("create_ticket", {"suid": sid, "ticket_text": "Ещё",
                                   "parent_id": f"{ticket.pk}.0"})
    assert answer["message"] == "Комментарий создан."


def test_message_refusals(cab, w, sid, other):
    ticket = open_ticket(cab, sid)
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "", "parent_id": ticket.pk},
            "Необходимо заполнить текст сообщения.")
    # another subscriber's ticket and a missing one: the same answer (ids cannot be probed)
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет", "parent_id": other.pk},
            NOT_YOURS)
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет",
                                   "parent_id": other.pk + 1000}, NOT_YOURS)
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет", "parent_id": "abc"},
            "Argument parent_id must be a whole number, not abc")
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет", "parent_id": "2.5"},
            "Argument parent_id must be a whole number, not 2.5")
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет", "parent_id": -1},
            "Argument parent_id must be a positive whole number, not -1")
    ticket_close(ticket=ticket, actor="test")
    refused(cab, "create_ticket", {"suid": sid, "ticket_text": "Привет", "parent_id": ticket.pk},
            "Нельзя писать комментарии к закрытой заявке.")


# --- get_helpdesk_dialogs ------------------------------------------------------------------------


def dialogs(cab, sid, **more):
    # SupportActivity.loadTickets: {"suid":"…","parent_id":null}
    return cab("get_helpdesk_dialogs", {"suid": sid, "parent_id": None, **more})


def test_dialogs_exact(cab, w, sid, frozen, other):
    first = open_ticket(cab, sid, "Нет интернета", "Не работает")
    frozen.shift(timedelta(minutes=20))  # less than the session's idle time
    second = open_ticket(cab, sid, "Счёт", "Пришёл двойной счёт")
    frozen.shift(timedelta(minutes=20))
    ticket_answer(ticket=first, text="Проверяем линию", actor="test")
    assert dialogs(cab, sid) == {
        "count": "2", "num_pages": "1", "current_page": "1", "per_page": "50",
        "has_next_page": "0", "has_previous_page": "0",
        "items": [
            {"id": str(first.pk), "pk": str(first.pk), "subj": "Нет интернета",
             "__status": "Ожидает ответа", "state": "answered",
             "hdsk_datetime": "2024-05-10 12:00:00.000000",
             "update_datetime": "2024-05-10 12:40:00.000000", "text": "Не работает",
             "child_count": "1", "unread_count": "1"},
            {"id": str(second.pk), "pk": str(second.pk), "subj": "Счёт",
             "__status": "Открыт", "state": "open",
             "hdsk_datetime": "2024-05-10 12:20:00.000000",
             "update_datetime": "2024-05-10 12:20:00.000000", "text": "Пришёл двойной счёт",
             "child_count": "0", "unread_count": "0"},
        ],
    }


def test_dialog_fields_are_strings(cab, w, sid):
    # TicketResponse.kt declares every field String (Gson would read numbers into them as
    # digits, but null would break the non-null Kotlin fields).
    open_ticket(cab, sid)
    answer = dialogs(cab, sid)
    for key in ("count", "has_previous_page", "num_pages", "current_page", "has_next_page"):
        assert isinstance(answer[key], str), key
    assert all(isinstance(value, str) for value in answer["items"][0].values())


def test_dialog_status_the_android_app_highlights(cab, w, sid):
    # SupportActivity/TicketDetailActivity: orange when __status == "Ожидает ответа"
    ticket = open_ticket(cab, sid)
    assert dialogs(cab, sid)["items"][0]["__status"] == "Открыт"
    ticket_answer(ticket=ticket, text="Ответ", actor="test")
    assert dialogs(cab, sid)["items"][0]["__status"] == "Ожидает ответа"
    ticket_close(ticket=ticket, actor="test")
    assert dialogs(cab, sid)["items"][0]["__status"] == "Закрыт"


def test_dialog_date_as_the_android_app_parses_it(cab, w, sid):
    # SupportActivity shows hdsk_datetime.split(".").first(); TicketDetailActivity parses
    # it with "yyyy-MM-dd HH:mm:ss.SSSSSS" (microseconds even when they are 0).
    open_ticket(cab, sid)
    moment = dialogs(cab, sid)["items"][0]["hdsk_datetime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", moment)
    assert moment.split(".")[0] == "2024-05-10 12:00:00"


def test_dialog_ids_go_back_as_parent_id(cab, w, sid):
    # SupportActivity passes item.id to TicketDetailActivity, which sends "parent_id":<id>
    open_ticket(cab, sid)
    item = dialogs(cab, sid)["items"][0]
    arg1 = '{"suid":"' + sid + '","parent_id":' + item["id"] + "}"
    assert cab("get_helpdesk_comments", arg1) == []


def test_dialogs_are_paged_and_only_the_subscribers(cab, w, sid, frozen, other):
    for number in range(3):
        open_ticket(cab, sid, f"Тема {number}")
        frozen.shift(timedelta(minutes=1))
    answer = dialogs(cab, sid, page_number=2, per_page=2)
    assert {k: v for k, v in answer.items() if k != "items"} == {
        "count": "3", "num_pages": "2", "current_page": "2", "per_page": "2",
        "has_next_page": "0", "has_previous_page": "1"}
    assert [item["subj"] for item in answer["items"]] == ["Тема 0"]
    assert [item["subj"] for item in dialogs(cab, sid, per_page=2)["items"]] == [
        "Тема 2", "Тема 1"]


def test_dialogs_under_a_ticket_are_none(cab, w, sid):
    # Carbon's sub-tickets (parent_id = a ticket): ours have none.
    ticket = open_ticket(cab, sid)
    answer = dialogs(cab, sid, parent_id=ticket.pk)
    assert (answer["count"], answer["items"]) == ("0", [])


def test_dialogs_refusals(cab, w, sid):
    assert dialogs(cab, "nope") == {"error": "Необходимо авторизоваться"}
    assert dialogs(cab, sid, per_page=0) == {"error": "per_page must be from 1 to 500"}
    assert dialogs(cab, sid, parent_id="x") == {
        "error": "Argument parent_id must be a whole number, not x"}


def test_dialogs_in_a_fixed_number_of_queries(cab, w, sid, django_assert_num_queries):
    for number in range(30):
        ticket = open_ticket(cab, sid, f"Тема {number}")
        ticket_answer(ticket=ticket, text="Ответ", actor="test")
    # session, count, page (with message and unread counts)
    with django_assert_num_queries(3):
        assert len(dialogs(cab, sid)["items"]) == 30


# --- get_helpdesk_comments -----------------------------------------------------------------------


def test_comments_exact_and_read_marks(cab, w, sid, frozen, django_user_model):
    operator = django_user_model.objects.create_user("ivanova", password="x")
    ticket = open_ticket(cab, sid)
    frozen.shift(timedelta(minutes=10))
    answer = ticket_answer(ticket=ticket, text="Перезагрузите роутер", actor=operator)
    frozen.shift(timedelta(minutes=10))
    # TicketDetailActivity: {"suid":"…","parent_id":<ticket id>}
    comments = cab("get_helpdesk_comments", {"suid": sid, "parent_id": ticket.pk})
    assert comments == [
        {"id": str(answer.pk), "pk": str(answer.pk), "text": "Перезагрузите роутер",
         "create_date": "2024-05-10 12:10:00.000000", "__creator_abonent": "root",
         "read_comment": "0", "from_operator": "1"},
    ]
    # read now: the operator's message is marked with the moment the subscriber saw it
    answer.refresh_from_db()
    assert answer.read_at == NOW + timedelta(minutes=20)
    frozen.shift(timedelta(minutes=10))
    cab("create_ticket", {"suid": sid, "ticket_text": "Не помогло", "parent_id": ticket.pk})
    mine = TicketMessage.objects.get(author=MessageAuthor.SUBSCRIBER)
    assert cab("get_helpdesk_comments", {"suid": sid, "parent_id": ticket.pk})[1] == {
        "id": str(mine.pk), "pk": str(mine.pk), "text": "Не помогло",
        "create_date": "2024-05-10 12:30:00.000000",
        "__creator_abonent": "Иванов Иван Иванович", "read_comment": "0",
        "from_operator": "0"}
    # the operator's next answer marks the subscriber's message read by support
    ticket_answer(ticket=ticket, text="Выезжаем", actor=operator)
    assert [c["read_comment"] for c in cab("get_helpdesk_comments",
                                           {"suid": sid, "parent_id": ticket.pk})] == [
        "1", "1", "0"]


def test_writing_in_a_ticket_reads_supports_messages(cab, w, sid, frozen):
    ticket = open_ticket(cab, sid)
    answer = ticket_answer(ticket=ticket, text="Ответ", actor="test")
    frozen.shift(timedelta(minutes=5))
    cab("create_ticket", {"suid": sid, "ticket_text": "Понял", "parent_id": ticket.pk})
    answer.refresh_from_db()
    assert answer.read_at == NOW + timedelta(minutes=5)


def test_operator_comments_are_signed_root(cab, w, sid, django_user_model):
    # TicketDetailActivity shows a comment as support's when __creator_abonent == "root";
    # our operators' user names are not shown to subscribers.
    operator = django_user_model.objects.create_user("ivanova", password="x")
    ticket = open_ticket(cab, sid)
    ticket_answer(ticket=ticket, text="Ответ", actor=operator)
    comment = cab("get_helpdesk_comments", {"suid": sid, "parent_id": ticket.pk})[0]
    assert comment["__creator_abonent"] == "root"
    assert "ivanova" not in str(comment)


def test_comment_date_as_the_android_app_parses_it(cab, w, sid):
    # TicketDetailActivity.formatDate: "yyyy-MM-dd HH:mm:ss.SSSSSS" -> "dd.MM.yyyy HH:mm"
    ticket = open_ticket(cab, sid)
    ticket_answer(ticket=ticket, text="Ответ", actor="test")
    moment = cab("get_helpdesk_comments", {"suid": sid, "parent_id": ticket.pk})[0]["create_date"]
    assert datetime.strptime(moment, "%Y-%m-%d %H:%M:%S.%f") == datetime(2024, 5, 10, 12, 0)


def test_comments_refusals(cab, w, sid, other):
    missing = {"error": f"There is no ticket {other.pk}"}
    before = db_state()
    assert cab("get_helpdesk_comments", {"suid": sid, "parent_id": other.pk}) == missing
    assert cab("get_helpdesk_comments", {"suid": sid}) == {
        "error": "Argument parent_id is required"}
    assert cab("get_helpdesk_comments", {"suid": "nope", "parent_id": other.pk}) == {
        "error": "Необходимо авторизоваться"}
    assert db_state() == before


def test_reading_anothers_ticket_marks_nothing(cab, w, sid, other):
    message = ticket_answer(ticket=other, text="Ответ Петрову", actor="test")
    cab("get_helpdesk_comments", {"suid": sid, "parent_id": other.pk})
    message.refresh_from_db()
    assert message.read_at is None


# --- Operators -----------------------------------------------------------------------------------


def test_answer_and_close_are_audited(cab, w, sid, django_user_model):
    operator = django_user_model.objects.create_user("ivanova", password="x")
    ticket = open_ticket(cab, sid)
    message = ticket_answer(ticket=ticket, text="Ответ", actor=operator, close=True)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at) == ("closed", NOW)
    assert message.operator == operator
    audit = AuditEntry.objects.get(action="ticket_answer")
    assert (audit.actor, audit.actor_user, audit.subscriber_id, audit.object_id, audit.old,
            audit.new, audit.message) == (
        "admin:ivanova", operator, w["subscriber"].pk, str(ticket.pk), {"status": "open"},
        {"status": "closed", "message": message.pk}, "Ответ")


def test_operator_refusals_change_nothing(cab, w, sid):
    from asr_billing.core.errors import ApplicationError

    ticket = open_ticket(cab, sid)
    before = db_state()
    with pytest.raises(ApplicationError) as caught:
        ticket_answer(ticket=ticket, text="  ", actor="test")
    assert caught.value.message == "Необходимо заполнить текст сообщения."
    assert db_state() == before
    ticket_close(ticket=ticket, actor="test")
    before = db_state()
    for call in (lambda: ticket_answer(ticket=ticket, text="Ещё", actor="test"),
                 lambda: ticket_close(ticket=ticket, actor="test")):
        with pytest.raises(ApplicationError) as caught:
            call()
        assert caught.value.message == f"Ticket #{ticket.pk} is closed"
    assert db_state() == before
