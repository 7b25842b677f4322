"""Cabinet notifications: web_cabinet.get_notifications_for_user (the Go cabinet,
llchhh/spektr-account-api's notification repository, reads
``{"notifications": [{"text", "type"}]}`` and compares the error with
``Необходимо авторизоваться``), set_notification_read, and the services operators use.
Exact answers; refusals change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from asr_billing.billing.services import promised_payment_take, voluntary_block_create
from asr_billing.cabinet.helpdesk import ticket_answer, ticket_create
from asr_billing.cabinet.models import Notification, NotificationRead
from asr_billing.cabinet.notifications import notification_create, notification_end
from asr_billing.core.errors import ApplicationError
from asr_billing.core.models import AuditEntry
from asr_billing.finance.services import charge_post
from asr_billing.subscribers.models import Group

from .conftest import ACTOR, NOW, db_state

NAME = "Иванов Иван Иванович"


@pytest.fixture
def tree(w, group):
    """city > [group (the subscriber's) > street, other]."""
    city = Group.objects.create(name="Город")
    group.parent = city
    group.save()
    return {"city": city, "mine": group,
            "street": Group.objects.create(name="Улица", parent=group),
            "other": Group.objects.create(name="Посёлок", parent=city)}


def publish(text, **kwargs):
    return notification_create(text=text, actor=ACTOR, **kwargs)


def feed(cab, sid):
    # The Go cabinet: GetNotifications sends {"suid": "<suid>"} (url.Values-encoded)
    return cab("get_notifications_for_user", {"suid": sid}, encode=True)


def test_the_feed_exact(cab, w, sid, tree, make_subscriber, frozen):
    other = make_subscriber(name="Петров Пётр")
    everyone = publish("Плановые работы 12 мая с 2:00 до 4:00", everyone=True,
                       kind="warning")
    frozen.shift(timedelta(minutes=1))
    city = publish("В городе новая скорость", group=tree["city"])
    frozen.shift(timedelta(minutes=1))
    mine = publish("Счёт за май готов", subscriber=w["subscriber"], kind="error")
    frozen.shift(timedelta(minutes=1))
    # not for this subscriber: a group below theirs, a sibling group, someone else
    publish("Улица", group=tree["street"])
    publish("Посёлок", group=tree["other"])
    publish("Петрову", subscriber=other)
    # not shown now: over, not yet
    publish("Прошло", everyone=True, starts_at=NOW - timedelta(days=2),
            ends_at=NOW - timedelta(days=1))
    publish("Потом", everyone=True, starts_at=NOW + timedelta(days=1))
    assert feed(cab, sid) == {"notifications": [
        {"text": "Счёт за май готов", "type": "error", "id": str(mine.pk),
         "date": "2024-05-10 12:02:00"},
        {"text": "В городе новая скорость", "type": "info", "id": str(city.pk),
         "date": "2024-05-10 12:01:00"},
        {"text": "Плановые работы 12 мая с 2:00 до 4:00", "type": "warning",
         "id": str(everyone.pk), "date": "2024-05-10 12:00:00"},
    ]}


def test_the_go_cabinet_reads_text_and_type_as_strings(cab, w, sid):
    # notification repository: Unmarshal into {Notifications []{Text string `json:"text"`,
    # Type string `json:"type"`}; Error string} — an object, strings, no "error" key.
    publish("Плановые работы", everyone=True)
    answer = feed(cab, sid)
    assert set(answer) == {"notifications"}
    assert [(type(n["text"]), type(n["type"])) for n in answer["notifications"]] == [(str, str)]
    assert answer["notifications"][0]["type"] == "info"


def test_no_notifications_is_an_empty_list(cab, w, sid):
    # the Go cabinet ranges over notifications: [] (not null, not missing)
    assert feed(cab, sid) == {"notifications": []}


def test_a_session_is_needed(cab, w):
    # the Go cabinet maps exactly this text to ErrSessionExpired
    assert feed(cab, "nope") == {"error": "Необходимо авторизоваться"}


def test_mark_read(cab, w, sid, make_subscriber, make_login, frozen):
    everyone = publish("Плановые работы", everyone=True)
    mine = publish("Лично", subscriber=w["subscriber"])
    assert cab("set_notification_read", {"suid": sid, "id": everyone.pk}) == {
        "status": "ok", "message": f"Notification {everyone.pk} is marked read",
        "id": str(everyone.pk)}
    assert [n["id"] for n in feed(cab, sid)["notifications"]] == [str(mine.pk)]
    # again (a retry, another tab): still read once, no error
    assert cab("set_notification_read", {"suid": sid, "id": f"{everyone.pk}.0"})["status"] == "ok"
    read = NotificationRead.objects.get()
    assert (read.notification_id, read.subscriber_id, read.read_at) == (
        everyone.pk, w["subscriber"].pk, NOW)
    # the broadcast is still there for everyone else
    other = make_subscriber(name="Петров Пётр")
    make_login(other, "petrov", "petrov1", ip=None)
    other_sid = cab("login", {"login": "petrov", "passwd": "petrov1"})["session_id"]
    assert [n["id"] for n in feed(cab, other_sid)["notifications"]] == [str(everyone.pk)]


def test_mark_read_refusals(cab, w, sid, tree, make_subscriber):
    other = publish("Петрову", subscriber=make_subscriber(name="Петров Пётр"))
    street = publish("Улица", group=tree["street"])
    before = db_state()
    for pk in (other.pk, street.pk, street.pk + 100):
        assert cab("set_notification_read", {"suid": sid, "id": pk}) == {
            "error": f"There is no notification {pk}"}
    assert cab("set_notification_read", {"suid": sid, "id": "2.5"}) == {
        "error": "Argument id must be a whole number, not 2.5"}
    assert cab("set_notification_read", {"suid": sid}) == {"error": "Argument id is required"}
    assert cab("set_notification_read", {"suid": "nope", "id": other.pk}) == {
        "error": "Необходимо авторизоваться"}
    assert db_state() == before


def test_a_group_notification_reaches_every_subgroup(cab, w, sid, tree, make_subscriber,
                                                     make_login):
    notice = publish("Город", group=tree["city"])
    deep = make_subscriber(name="Сидоров", group=tree["street"])
    make_login(deep, "sidorov", "sidorov1", ip=None)
    deep_sid = cab("login", {"login": "sidorov", "passwd": "sidorov1"})["session_id"]
    for session in (sid, deep_sid):
        assert [n["id"] for n in feed(cab, session)["notifications"]] == [str(notice.pk)]


# --- Notices about the subscriber's own state (Carbon's texts) -----------------------------------


def test_state_notices(cab, w, sid, frozen):
    subscriber = w["subscriber"]
    charge_post(subscriber=subscriber, amount=Decimal("500.00"), actor=ACTOR,
                period_start=date(2024, 5, 1), period_end=date(2024, 5, 31),
                tariff=subscriber.tariff)
    promised_payment_take(subscriber=subscriber, actor=ACTOR)
    voluntary_block_create(subscriber=subscriber, start_date=date(2024, 6, 1),
                           end_date=date(2024, 6, 10), actor=ACTOR)
    first = ticket_create(subscriber=subscriber, subject="Тема", text="Текст")
    second = ticket_create(subscriber=subscriber, subject="Тема 2", text="Текст")
    ticket_answer(ticket=second, text="Ответ", actor=ACTOR)
    ticket_answer(ticket=first, text="Ответ", actor=ACTOR)
    everyone = publish("Плановые работы", everyone=True)
    assert feed(cab, sid) == {"notifications": [
        {"text": "Плановые работы", "type": "info", "id": str(everyone.pk),
         "date": "2024-05-10 12:00:00"},
        {"text": f"Уважаемый(ая) {NAME}. Имеется подключенный обещанный платёж "
                 "(Услуга: Обещанный платёж 300.00 до 13.05.2024 12:00).",
         "type": "warning", "id": "", "date": ""},
        {"text": f"Уважаемый(ая) {NAME}. У вас имеется запланированная добровольная "
                 "блокировка с 01.06.2024.", "type": "info", "id": "", "date": ""},
        {"text": f"Уважаемый(ая) {NAME}. Имеются непрочитанные сообщения от технической "
                 f"поддержки в заявках: #{first.pk}, #{second.pk}",
         "type": "info", "id": "", "date": ""},
    ]}
    # reading the ticket ends its notice; a block in force is no longer "planned"
    cab("get_helpdesk_comments", {"suid": sid, "parent_id": first.pk})
    texts = [n["text"] for n in feed(cab, sid)["notifications"]]
    assert texts[-1].endswith(f"в заявках: #{second.pk}")


def test_a_block_in_force_is_not_a_planned_one(cab, w, sid):
    voluntary_block_create(subscriber=w["subscriber"], start_date=date(2024, 5, 10),
                           end_date=date(2024, 5, 20), actor=ACTOR)
    assert feed(cab, sid) == {"notifications": []}


def test_the_feed_in_a_fixed_number_of_queries(cab, w, sid, tree, make_subscriber,
                                               django_assert_num_queries):
    for number in range(20):
        publish(f"Всем {number}", everyone=True)
        publish(f"Городу {number}", group=tree["city"])
        publish(f"Лично {number}", subscriber=w["subscriber"])
        publish(f"Посёлку {number}", group=tree["other"])
    for _number in range(20):
        make_subscriber(name="Сосед")
    # session; groups with notifications; the subscriber's group and the one above it;
    # the feed; the planned block; unread tickets (no promised payment: no query)
    with django_assert_num_queries(7):
        answer = feed(cab, sid)
    assert len(answer["notifications"]) == 50  # FEED_MAX, newest first
    assert NotificationRead.objects.count() == 0  # a broadcast is one row, not one each


# --- Operators' services -------------------------------------------------------------------------


def test_create_is_audited(w, tree, django_user_model):
    operator = django_user_model.objects.create_user("ivanova", password="x")
    notice = notification_create(text=" Работы ", actor=operator, group=tree["city"],
                                 kind="warning", ends_at=NOW + timedelta(days=1))
    assert (notice.text, notice.type, notice.audience, notice.group_id, notice.subscriber_id,
            notice.starts_at, notice.ends_at, notice.created_at, notice.created_by) == (
        "Работы", "warning", "group", tree["city"].pk, None, NOW, NOW + timedelta(days=1),
        NOW, "admin:ivanova")
    audit = AuditEntry.objects.get(action="notification_create")
    assert (audit.actor_user, audit.object_id, audit.message, audit.new) == (
        operator, str(notice.pk), "Работы", {
            "audience": "group", "group": tree["city"].pk, "type": "warning",
            "starts_at": "2024-05-10T09:00:00+00:00", "ends_at": "2024-05-11T09:00:00+00:00"})


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"text": " ", "everyone": True}, "The notification has no text"),
    ({"text": "я" * 1001, "everyone": True}, "The notification is longer than 1000 characters"),
    ({"text": "x", "everyone": True, "kind": "success"}, "Unknown notification type: success"),
    ({"text": "x"}, "Send a notification to one subscriber, one group or everyone"),
    ({"text": "x", "everyone": True, "subscriber": "SUB"},
     "Send a notification to one subscriber, one group or everyone"),
    ({"text": "x", "everyone": True, "ends_at": NOW}, "The notification ends before it starts"),
])
def test_create_refusals(w, kwargs, error):
    if kwargs.get("subscriber") == "SUB":
        kwargs["subscriber"] = w["subscriber"]
    before = db_state()
    with pytest.raises(ApplicationError) as caught:
        notification_create(actor=ACTOR, **kwargs)
    assert caught.value.message == error
    assert db_state() == before


def test_end_now(cab, w, sid, frozen):
    shown = publish("Сейчас", everyone=True)
    later = publish("Завтра", everyone=True, starts_at=NOW + timedelta(days=1))
    over = publish("Было", everyone=True, starts_at=NOW - timedelta(days=2),
                   ends_at=NOW - timedelta(days=1))
    assert notification_end(notification_ids=[shown.pk, later.pk, over.pk], actor=ACTOR) == 2
    assert feed(cab, sid) == {"notifications": []}
    frozen.shift(timedelta(days=2))
    assert Notification.objects.filter(ends_at__gt=NOW).count() == 0
    assert AuditEntry.objects.filter(action="notification_end").count() == 2



