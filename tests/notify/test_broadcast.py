"""Messages an operator writes to one subscriber, a group (with subgroups) or everyone:
checked before anything is written, fanned out by a background task once per subscriber
and channel, the feed as one notification for the audience."""

from __future__ import annotations

import pytest

from asr_billing.cabinet.models import Notification
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import Task
from asr_billing.core.tasks import tasks_run_due
from asr_billing.notify.broadcast import broadcast_create, broadcast_send
from asr_billing.notify.models import Broadcast, Preference
from asr_billing.subscribers.models import Group
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_a_group_message_reaches_subgroups_once_per_channel(make_subscriber, group,
                                                           django_capture_on_commit_callbacks):
    child = Group.objects.create(name="Дом 5", parent=group)
    other = Group.objects.create(name="Другие")
    first = make_subscriber(name="Первый", email="one@example.ru")
    second = make_subscriber(name="Второй", email="two@example.ru", group=child)
    make_subscriber(name="Чужой", email="x@example.ru", group=other)
    opted_out = make_subscriber(name="Отписан", email="no@example.ru", group=child)
    Preference.objects.create(subscriber=opted_out, email_off=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = broadcast_create(text="{{ name }}, работы на линии 5 марта с 2:00 до 4:00.",
                                   subject="Плановые работы", email=True, feed=True,
                                   group=group, actor=ACTOR)
    assert tasks_run_due()["done"] == 1  # the fan-out
    emails = {t.payload["to"]: t.payload for t in Task.objects.filter(name="notify.email")}
    assert set(emails) == {"one@example.ru", "two@example.ru"}
    assert emails["two@example.ru"]["body"] == "Второй, работы на линии 5 марта с 2:00 до 4:00."
    assert emails["two@example.ru"]["subject"] == "Плановые работы"
    feed = Notification.objects.get()
    assert feed.group_id == group.pk and "работы на линии" in feed.text
    message.refresh_from_db()
    assert message.asked == 2 and message.sent_at is not None
    # The task run again (a worker that died half-way): nothing twice.
    broadcast_send({"id": message.pk})
    assert Task.objects.filter(name="notify.email").count() == 2
    assert {first.pk, second.pk} == {t.payload["subscriber"]
                                     for t in Task.objects.filter(name="notify.email")}


@pytest.mark.parametrize("kwargs, code", [
    ({"text": "  ", "everyone": True}, "broadcast_empty"),
    ({"text": "x" * 1001, "everyone": True}, "broadcast_long"),
    ({"text": "Hi"}, "broadcast_audience"),
    ({"text": "Hi", "everyone": True, "feed": False}, "broadcast_channel"),
    ({"text": "Hi {% if %}", "everyone": True}, "broadcast_template"),
])
def test_bad_messages_change_nothing(kwargs, code):
    with pytest.raises(InvalidInput) as info:
        broadcast_create(actor=ACTOR, **kwargs)
    assert info.value.code == code
    assert not Broadcast.objects.exists() and not Task.objects.exists()


def test_the_admin_sends_and_never_edits(admin_client, subscriber,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post("/admin/notify/broadcast/add/", {
            "subscriber": subscriber.pk, "feed": "on", "text": "Ваш договор продлён."})
    assert answer.status_code == 302, answer.content[:500]
    message = Broadcast.objects.get()
    assert Task.objects.filter(name="notify.broadcast").count() == 1
    page = admin_client.get(f"/admin/notify/broadcast/{message.pk}/change/")
    assert page.status_code == 200 and b'name="text"' not in page.content  # read-only
    refused = admin_client.post("/admin/notify/broadcast/add/", {"everyone": "on",
                                                                 "text": "x"})
    assert refused.status_code == 200  # no channel: the form again
    assert Broadcast.objects.count() == 1
