"""The one background-task mechanism (DESIGN.md §3 rule 11).

A side effect that leaves the process — a Disconnect-Request to a NAS today, e-mail and
SMS later — is asked for with ``task_enqueue(name, key, payload)`` inside the transaction
that decided it. The row is written when that transaction commits (``on_commit``: a rolled
back decision sends nothing), once per ``key`` (a unique index: the same event reported
twice is one task). The worker in ``asr-billing scheduler`` (or ``asr-billing manage
run_tasks``) runs due tasks through the handler registered under their name, retries a
failure with a growing delay and keeps the outcome, which the admin lists.

Why a table of our own rather than the django-tasks backport (DESIGN's preference): the
two things this mechanism must guarantee — one task per event by a unique key, and retries
with a growing delay whose outcome an operator can read — would be built on top of it in
any case, and a table of our own keeps the worker one small query on SQLite and PostgreSQL
alike, with no dependency to add. (The backport's database backend was not tried here.)
The handler interface is the same shape (a named function of JSON arguments), so moving
to Django's built-in tasks later changes this module only.

Claiming is a conditional UPDATE (``state = 'pending'`` → ``'running'``): two workers (two
app nodes) never run one task twice, on either database. A worker that dies mid-task
leaves it running; after CLAIM_TIMEOUT it is pending again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone

from asr_billing.core.models import Task, TaskState

logger = logging.getLogger("asr_billing.tasks")

HANDLERS: dict[str, Callable[[dict], str]] = {}
FIRST_DELAY = timedelta(seconds=10)  # the first retry; doubled each time
MAX_DELAY = timedelta(hours=1)
CLAIM_TIMEOUT = timedelta(minutes=10)
OUTCOME_MAX = 2000
ENQUEUE_BATCH = 500  # rows per INSERT statement (SQLite's limit on parameters)


class TaskFailed(Exception):
    """A handler's way to say the attempt failed (the text is the outcome shown)."""


def task_handler(name: str):
    """Register ``function(payload) -> outcome text`` as the handler of tasks ``name``."""

    def register(function):
        HANDLERS[name] = function
        return function

    return register


def task_enqueue(*, name: str, key: str, payload: dict, max_attempts: int = 5,
                 run_after: datetime | None = None) -> None:
    """Ask for a task once the current transaction commits (at once outside one).
    A second call with the same ``key`` adds nothing."""
    if name not in HANDLERS:
        raise ValueError(f"no handler for task {name!r}")

    def write() -> None:
        Task.objects.bulk_create(
            [Task(name=name, key=key[:200], payload=payload, max_attempts=max_attempts,
                  run_after=run_after or timezone.now())],
            ignore_conflicts=True,
        )

    transaction.on_commit(write)


def tasks_enqueue_many(*, name: str, items: list[tuple[str, dict, datetime]],
                       max_attempts: int = 5) -> int:
    """Write many tasks at once, now (for a job that found its events in the database and
    runs in its own transaction): ``items`` are (key, payload, run_after). Keys that exist
    add nothing. Returns how many tasks were written (keys that existed not counted: a
    step that reads an event again reports 0), on SQLite and PostgreSQL alike — the rows
    the database says its INSERT … ON CONFLICT DO NOTHING / INSERT OR IGNORE wrote."""
    if name not in HANDLERS:
        raise ValueError(f"no handler for task {name!r}")
    tasks = [Task(name=name, key=key[:200], payload=payload, max_attempts=max_attempts,
                  run_after=run_after) for key, payload, run_after in items]
    # bulk_create(ignore_conflicts=True) does not say how many rows it wrote; the same
    # INSERT through its compiler, with the cursor's row count, does.
    fields = [f for f in Task._meta.concrete_fields if not f.primary_key]
    connection = connections[router.db_for_write(Task)]
    written = 0
    with transaction.atomic(using=connection.alias, savepoint=False), \
            connection.cursor() as cursor:
        for start in range(0, len(tasks), ENQUEUE_BATCH):
            query = InsertQuery(Task, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, tasks[start:start + ENQUEUE_BATCH])
            for sql, params in query.get_compiler(connection=connection).as_sql():
                cursor.execute(sql, params)
                written += max(cursor.rowcount, 0)
    return written


def _delay(attempts: int) -> timedelta:
    return min(FIRST_DELAY * 2 ** max(0, attempts - 1), MAX_DELAY)


def _claim(task_id: int) -> bool:
    from django.db.models import F

    # The wall clock, not the round's: a long round (many NAS timing out) must not make a
    # task it is still running look abandoned to another worker (CLAIM_TIMEOUT).
    return bool(Task.objects.filter(pk=task_id, state=TaskState.PENDING).update(
        state=TaskState.RUNNING, claimed_at=timezone.now(), attempts=F("attempts") + 1))


BULK_PREFIX = "notify."  # messages to subscribers: many, and never urgent
# Messages get at most BULK_SECONDS of wall clock a round, however many are due: a mail
# server or SMS gateway that answers in 50 ms sends about 200 a round (a 20 s tick), ten
# times the old fixed 100, and one that hangs cannot stall the scheduler beyond it. They
# are claimed BULK_CHUNK at a time; between chunks the network's tasks asked for since
# the round began run first (a Disconnect waits for one chunk at most, never for the
# message backlog). docs/notifications.md explains both.
BULK_SECONDS = 10.0
BULK_CHUNK = 100
LATE_COMMIT = timedelta(minutes=5)


def tasks_run_due(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Run up to ``limit`` due network tasks (Disconnects) first — a flood of messages to
    subscribers never holds them up — then messages for at most BULK_SECONDS (no count
    limit), looking again for new network tasks between chunks of BULK_CHUNK messages.
    Returns counts by what became of them."""
    now = now or timezone.now()
    began = timezone.now()
    Task.objects.filter(state=TaskState.RUNNING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=TaskState.PENDING, outcome="the worker running it stopped; run again")
    pending = Task.objects.filter(state=TaskState.PENDING, run_after__lte=now)
    counts = {"done": 0, "retry": 0, "failed": 0}
    _run_ids(pending.exclude(name__startswith=BULK_PREFIX), now, limit, counts, None)
    deadline = time.monotonic() + BULK_SECONDS
    messages = pending.filter(name__startswith=BULK_PREFIX)
    while time.monotonic() < deadline:
        if _run_ids(messages, now, BULK_CHUNK, counts, deadline) < BULK_CHUNK:
            break  # none left that are due (or the time is up)
        # Asked for while the messages ran (a narrow range of the due index: only what
        # was written shortly before the round began or since; a task's run_after is
        # stamped at its insert, so one from a transaction that commits during the round
        # may be dated a little before it).
        _run_ids(Task.objects.filter(state=TaskState.PENDING,
                                     run_after__gt=began - LATE_COMMIT,
                                     run_after__lte=timezone.now())
                 .exclude(name__startswith=BULK_PREFIX), now, limit, counts, None)
    return counts


def _run_ids(queryset, now: datetime, limit: int, counts: dict[str, int],
             deadline: float | None) -> int:
    """Run up to ``limit`` tasks of ``queryset``, oldest due first; returns how many it
    claimed (0 to ``limit``: fewer when there were no more, or the deadline passed)."""
    due = list(queryset.order_by("run_after", "id").values_list("id", flat=True)[:limit])
    claimed = 0
    for task_id in due:
        if deadline is not None and time.monotonic() > deadline:
            return claimed  # the rest on the next round
        if not _claim(task_id):
            continue  # another worker took it
        claimed += 1
        task = Task.objects.get(pk=task_id)
        counts[_run(task, now)] += 1
    return len(due) if len(due) == limit else claimed


def _run(task: Task, now: datetime) -> str:
    """One attempt; the next one, if any, is due a growing delay after ``now`` (the
    worker's clock for this round)."""
    handler = HANDLERS.get(task.name)
    finished = now
    try:
        if handler is None:
            raise TaskFailed(f"no handler for task {task.name!r}")
        outcome = str(handler(task.payload) or "done")
    except Exception as exc:
        text = str(exc) if isinstance(exc, TaskFailed) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, TaskFailed):
            logger.exception("task %s %s failed", task.name, task.key)
        if task.attempts >= task.max_attempts:
            Task.objects.filter(pk=task.pk).update(
                state=TaskState.FAILED, finished_at=finished, outcome=text[:OUTCOME_MAX])
            return "failed"
        Task.objects.filter(pk=task.pk).update(
            state=TaskState.PENDING, run_after=finished + _delay(task.attempts),
            outcome=text[:OUTCOME_MAX])
        return "retry"
    Task.objects.filter(pk=task.pk).update(
        state=TaskState.DONE, finished_at=finished, outcome=outcome[:OUTCOME_MAX])
    return "done"
