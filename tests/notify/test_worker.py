"""The worker's share for messages: a time budget a round (BULK_SECONDS), not a fixed
count — a backlog leaves as fast as the far end takes it — with the network's tasks
(Disconnects) first, and again between chunks of messages."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from asr_billing.core import tasks
from asr_billing.core.models import Task

pytestmark = pytest.mark.django_db
ran: list[str] = []
clock = SimpleNamespace(now=0.0, step=0.0)


@tasks.task_handler("notify.test")
def _message(payload):
    ran.append(payload["n"])
    clock.now += clock.step  # the far end's time for one message
    if payload.get("disconnect"):  # an operator's block while the messages go out
        # "late": its transaction began (and stamped run_after) before the round did.
        due = timezone.now() - timedelta(seconds=payload.get("late", 0))
        tasks.tasks_enqueue_many(name="test.network", items=[("net1", {"n": "net1"}, due)])
    return "sent"


@tasks.task_handler("test.network")
def _network(payload):
    ran.append(payload["n"])
    return "done"


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch):
    ran.clear()
    clock.now, clock.step = 0.0, 0.0
    monkeypatch.setattr(tasks, "time", SimpleNamespace(monotonic=lambda: clock.now))
    yield
    ran.clear()


def messages(count: int, extra: dict | None = None) -> None:
    now = timezone.now()
    extra = extra or {}
    assert tasks.tasks_enqueue_many(name="notify.test", items=[
        (f"m{n}", {"n": f"m{n}", **extra.get(n, {})}, now) for n in range(count)]) == count


def test_a_backlog_is_not_held_to_a_hundred_a_round():
    messages(350)
    assert tasks.tasks_run_due() == {"done": 350, "retry": 0, "failed": 0}
    assert not Task.objects.filter(state="pending").exists()


def test_the_messages_stop_at_the_time_budget():
    clock.step = 0.5  # a slow mail server: 20 messages fill the 10 s budget
    messages(100)
    assert tasks.tasks_run_due() == {"done": 21, "retry": 0, "failed": 0}
    assert Task.objects.filter(state="pending").count() == 79


def test_a_disconnect_asked_for_meanwhile_waits_for_one_chunk_only(monkeypatch):
    monkeypatch.setattr(tasks, "BULK_CHUNK", 3)
    messages(9, {0: {"disconnect": True}})
    tasks.tasks_run_due()
    assert ran == ["m0", "m1", "m2", "net1", "m3", "m4", "m5", "m6", "m7", "m8"]


def test_a_disconnect_stamped_before_the_round_but_committed_during_it_waits_one_chunk(
        monkeypatch):
    monkeypatch.setattr(tasks, "BULK_CHUNK", 3)
    messages(9, {0: {"disconnect": True, "late": 60}})
    tasks.tasks_run_due()
    assert ran == ["m0", "m1", "m2", "net1", "m3", "m4", "m5", "m6", "m7", "m8"]
