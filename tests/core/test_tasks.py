"""core.tasks: enqueued after commit, once per key, run by the worker with retries and a
growing delay, the outcome kept."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from asr_billing.core import tasks
from asr_billing.core.models import Task, TaskState
from tests.conftest import on_postgres

calls: list[dict] = []


@tasks.task_handler("test.record")
def _record(payload):
    calls.append(payload)
    if payload.get("fail"):
        raise tasks.TaskFailed("the far end said no")
    if payload.get("crash"):
        raise RuntimeError("boom")
    return f"recorded {payload['n']}"


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    yield
    calls.clear()


@pytest.fixture
def enqueue(django_capture_on_commit_callbacks):
    """task_enqueue in a transaction that commits (tests run inside one that never does)."""
    def call(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.task_enqueue(**kwargs)
    return call


def state():
    return list(Task.objects.order_by("id").values_list("key", "state", "attempts", "outcome"))


def test_written_on_commit_and_once_per_key(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.task_enqueue(name="test.record", key="k1", payload={"n": 1})
        tasks.task_enqueue(name="test.record", key="k1", payload={"n": 2})
        assert Task.objects.count() == 0  # not before the commit
    assert state() == [("k1", "pending", 0, "")]
    assert tasks.tasks_run_due() == {"done": 1, "retry": 0, "failed": 0}
    assert state() == [("k1", "done", 1, "recorded 1")]
    assert calls == [{"n": 1}]
    assert tasks.tasks_run_due() == {"done": 0, "retry": 0, "failed": 0}


def test_a_rolled_back_decision_sends_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                tasks.task_enqueue(name="test.record", key="k2", payload={"n": 1})
                raise RuntimeError("the decision failed")
        except RuntimeError:
            pass
    assert Task.objects.count() == 0


def test_retries_with_a_growing_delay_then_fails(db, enqueue):
    enqueue(name="test.record", key="k3", payload={"n": 3, "fail": True}, max_attempts=3)
    now = timezone.now()
    assert tasks.tasks_run_due(now=now)["retry"] == 1
    task = Task.objects.get()
    assert (task.state, task.attempts, task.outcome) == ("pending", 1, "the far end said no")
    assert task.run_after - now >= timedelta(seconds=10)
    assert tasks.tasks_run_due(now=now)["retry"] == 0  # not due yet
    later = task.run_after + timedelta(seconds=1)
    assert tasks.tasks_run_due(now=later)["retry"] == 1
    second = Task.objects.get()
    assert second.run_after - later >= timedelta(seconds=19)  # 10 s, then 20 s
    assert tasks.tasks_run_due(now=second.run_after + timedelta(seconds=1))["failed"] == 1
    assert state() == [("k3", "failed", 3, "the far end said no")]


def test_an_unexpected_error_is_recorded(db, enqueue):
    enqueue(name="test.record", key="k4", payload={"n": 4, "crash": True},
                       max_attempts=1)
    assert tasks.tasks_run_due()["failed"] == 1
    assert state() == [("k4", "failed", 1, "RuntimeError: boom")]


def test_an_unknown_name_is_refused_at_once(db):
    with pytest.raises(ValueError, match="no handler"):
        tasks.task_enqueue(name="nobody", key="k", payload={})
    assert Task.objects.count() == 0


def test_a_task_left_running_by_a_dead_worker_runs_again(db, enqueue):
    enqueue(name="test.record", key="k5", payload={"n": 5})
    Task.objects.update(state=TaskState.RUNNING, claimed_at=timezone.now() - timedelta(hours=1))
    assert tasks.tasks_run_due()["done"] == 1
    assert calls == [{"n": 5}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_one_task_twice():
    if not on_postgres():
        pytest.skip("needs PostgreSQL: concurrent connections")
    for n in range(40):
        tasks.task_enqueue(name="test.record", key=f"p{n}", payload={"n": n})
    barrier = threading.Barrier(3)

    def work():
        try:
            barrier.wait()
            tasks.tasks_run_due()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(c["n"] for c in calls) == list(range(40))
    assert Task.objects.filter(state="done", attempts=1).count() == 40
