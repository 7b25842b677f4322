"""core.tasks.tasks_enqueue_many says how many tasks it wrote, not how many it was given:
keys that exist are not counted (on SQLite and PostgreSQL), and the notification steps
and a broadcast's count report what was written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from asr_billing.core.models import Task
from asr_billing.core.tasks import tasks_enqueue_many, tasks_run_due
from asr_billing.finance.services import payment_register
from asr_billing.notify.broadcast import broadcast_send
from asr_billing.notify.defaults import templates_ensure
from asr_billing.notify.events import payments_notify
from asr_billing.notify.models import Broadcast, MessageTemplate, Seen
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def items(*keys):
    now = timezone.now()
    return [(key, {"to": "1", "body": key}, now) for key in keys]


def test_the_count_is_of_the_rows_written():
    assert tasks_enqueue_many(name="notify.feed", items=items("a", "b")) == 2
    assert tasks_enqueue_many(name="notify.feed", items=items("a", "b", "c")) == 1
    assert tasks_enqueue_many(name="notify.feed", items=items("a", "c")) == 0
    assert tasks_enqueue_many(name="notify.feed", items=[]) == 0
    assert sorted(Task.objects.values_list("key", flat=True)) == ["a", "b", "c"]
    assert Task.objects.get(key="c").payload == {"to": "1", "body": "c"}
    assert Task.objects.get(key="c").created_at is not None


def test_more_than_one_statement_counts_every_batch():
    keys = [f"k{n}" for n in range(1203)]
    assert tasks_enqueue_many(name="notify.feed", items=items(*keys[:700])) == 700
    assert tasks_enqueue_many(name="notify.feed", items=items(*keys)) == 503


def test_a_payment_read_again_reports_nothing_new(make_subscriber):
    templates_ensure()
    MessageTemplate.objects.update(enabled=True)
    subscriber = make_subscriber(email="a@example.ru")
    assert payments_notify() == 0  # the first tick
    payment_register(subscriber=subscriber, amount=Decimal("5.00"), actor=ACTOR)
    assert payments_notify() == 2
    Seen.objects.all().delete()
    assert payments_notify() == 0  # its e-mail and feed exist: nothing written


def test_a_broadcast_run_twice_counts_each_delivery_once(make_subscriber):
    make_subscriber(email="a@example.ru")
    make_subscriber(email="b@example.ru")
    message = Broadcast.objects.create(text="Работы", email=True, feed=False, everyone=True)
    assert broadcast_send({"id": message.pk}) == "2 e-mail/SMS deliveries asked for"
    # The worker died before noting the task done: the task runs again.
    assert broadcast_send({"id": message.pk}) == "0 e-mail/SMS deliveries asked for"
    message.refresh_from_db()
    assert message.asked == 2
    assert tasks_run_due(now=timezone.now())["done"] == 2
