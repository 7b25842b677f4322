"""Heavy read-only lists from a streaming replica (app['db.replica_url']).

Only code that asks for it reads from the replica: ``with replica_reads():`` around the
collector lists and the REST list endpoints. Everything else — writes, money, logins,
anything inside a transaction — stays on the primary, so nobody reads their own write
from a copy that has not caught up.

A replica is used only while it is fit: it answers, it is still a standby (a promoted
replica is another primary that has left ours behind), and it has replayed everything the
primary had written app['db.replica_max_lag'] seconds ago. That last rule compares WAL
positions, not timestamps: each check notes the primary's ``pg_current_wal_lsn()``, and the
replica must have replayed up to the oldest position noted within the last max_lag
seconds (the current one when there is none) — so a replica whose WAL receiver stalls is
caught as surely as one that replays slowly, and an idle primary is no lag. Every function
used is open to an ordinary database user. Otherwise the same read goes to the primary.

Fitness is checked at most once a second per process, by one thread at a time (the others
use the last verdict meanwhile), and a replica that did not answer is asked again only
after RETRY_AWAY seconds: a NAS polling its list costs the replica one short query a
second, and a replica that hangs costs one thread its 2 s connect timeout now and then,
never every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DatabaseError, connections

logger = logging.getLogger("asr_billing.db")

ALIAS = "replica"
CHECK_EVERY = 1.0  # seconds between two fitness checks of one process
RETRY_AWAY = 15.0  # seconds before asking again a replica that did not answer

_wanted: ContextVar[bool] = ContextVar("replica_reads", default=False)

PRIMARY_SQL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
# The lag in seconds is for people (/metrics, /ready): 0 when it has replayed all it
# received, else the age of the last transaction it replayed. The decision is by LSN.
REPLICA_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn() - '0/0'::pg_lsn,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
       END
"""


@dataclass(frozen=True)
class Fitness:
    usable: bool
    reason: str  # why not, for the log and /ready ("" when usable)
    lag: float | None  # seconds behind, for people (see REPLICA_SQL); None when unknown
    kind: str = "ok"  # ok, unreachable, promoted, behind, no_primary: what the log follows


@contextmanager
def replica_reads():
    """Reads in this block may go to the replica (when one is configured and fit)."""
    token = _wanted.set(True)
    try:
        yield
    finally:
        _wanted.reset(token)


class _Checker:
    """The last fitness verdict of this process and the primary's recent WAL positions."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next_check = float("-inf")
        self.verdict = Fitness(False, "not checked yet", None, "unchecked")
        self.max_lag: float | None = None
        self.positions: deque[tuple[float, int]] = deque()  # (monotonic s, primary LSN)

    def fitness(self, max_lag: float) -> Fitness:
        if time.monotonic() < self.next_check and max_lag == self.max_lag:
            return self.verdict
        if not self.lock.acquire(blocking=False):
            return self.verdict  # another thread is asking the replica right now
        try:
            verdict = measure(max_lag, self.positions)
            if verdict.kind != self.verdict.kind:  # once per change, not per check
                if verdict.usable:
                    logger.info("read replica in use")
                else:
                    # error.log: the operator must see a replica that stopped serving.
                    logger.error("read replica not used: %s; its reads go to the primary",
                                 verdict.reason)
            wait = RETRY_AWAY if verdict.kind == "unreachable" else CHECK_EVERY
            # Stamped after the check: a slow check does not leave a stale stamp behind.
            self.verdict, self.max_lag = verdict, max_lag
            self.next_check = time.monotonic() + wait
        finally:
            self.lock.release()
        return self.verdict


_checker = _Checker()


def measure(max_lag: float, positions: deque | None = None) -> Fitness:
    """Ask the primary where its WAL is, then the replica how far it has replayed.
    ``positions`` (this process's earlier answers of the primary) is updated."""
    positions = deque() if positions is None else positions
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(PRIMARY_SQL)
            (primary_lsn,) = cursor.fetchone()
    except DatabaseError as exc:
        return Fitness(False, f"the primary did not say its WAL position: {_one_line(exc)}",
                       None, "no_primary")
    now = time.monotonic()
    positions.append((now, int(primary_lsn)))
    while len(positions) > 1 and positions[0][0] < now - max_lag:
        positions.popleft()  # the oldest kept is the oldest noted within max_lag
    needed = positions[0][1]
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(REPLICA_SQL)
            recovering, replayed, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[ALIAS].close()  # reconnect on the next check
        return Fitness(False, f"unreachable: {_one_line(exc)}", None, "unreachable")
    lag = None if lag is None else max(0.0, float(lag))
    if not recovering:
        return Fitness(False, "it is not a standby (promoted?)", lag, "promoted")
    if replayed is None or int(replayed) < needed:
        since = "" if lag is None else f"; its last replayed commit is {lag:.1f} s old"
        return Fitness(False, f"it has not replayed what the primary wrote "
                       f"{max_lag:g} s ago (db.replica_max_lag){since}", lag, "behind")
    return Fitness(True, "", lag)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def configured() -> bool:
    from django.conf import settings

    return ALIAS in settings.DATABASES


def max_lag() -> float:
    from asr_billing.core import runtime

    return float(runtime.current().get("app", "db.replica_max_lag") or 0)


def current_fitness() -> Fitness | None:
    """The replica's last verdict (checked again when stale); None without a replica."""
    if not configured():
        return None
    return _checker.fitness(max_lag())


class ReplicaRouter:
    """Django's database router: the replica for wanted reads while it is fit.

    "default" rather than None elsewhere: None would let Django follow an object's own
    database, so an object read from the replica and saved later would go there."""

    def db_for_read(self, model, **hints):
        if not _wanted.get() or connections["default"].in_atomic_block:
            return "default"
        verdict = _checker.fitness(max_lag())
        _count(verdict)
        return ALIAS if verdict.usable else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != ALIAS  # the replica follows the primary's schema by itself


def _count(verdict: Fitness) -> None:
    from asr_billing.core.metrics import observe_replica_read

    observe_replica_read(verdict.usable)
