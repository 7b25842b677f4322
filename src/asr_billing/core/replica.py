"""Heavy read-only lists from a streaming replica (app['db.replica_url']).

Only code that asks for it reads from the replica: ``with replica_reads():`` around the
collector lists, the REST list endpoints and reports. Everything else — writes, money,
logins, anything inside a transaction — stays on the primary, so nobody reads their own
write from a copy that has not caught up.

A replica is used only while it is fit: it answers, it is still a standby (a promoted
replica is another primary that has left ours behind), its WAL receiver is streaming,
and it is at most app['db.replica_max_lag'] seconds behind. Otherwise the same read goes
to the primary. Fitness is checked at most once a second per process: a NAS polling its
list every few seconds costs the replica one extra short query per second, not one per
request.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DatabaseError, connections

logger = logging.getLogger("asr_billing.db")

ALIAS = "replica"
CHECK_EVERY = 1.0  # seconds between two fitness checks of one process

_wanted: ContextVar[bool] = ContextVar("replica_reads", default=False)

# Seconds the replica is behind: 0 when it has replayed all it received (an idle primary
# sends nothing, and that is not lag); else since the last transaction it replayed.
FITNESS_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
       END
"""


@dataclass(frozen=True)
class Fitness:
    usable: bool
    reason: str  # why not, for the log and /ready ("" when usable)
    lag: float | None  # seconds behind, None when unknown
    kind: str = "ok"  # ok, unreachable, promoted, not_streaming, behind: what the log follows


@contextmanager
def replica_reads():
    """Reads in this block may go to the replica (when one is configured and fit)."""
    token = _wanted.set(True)
    try:
        yield
    finally:
        _wanted.reset(token)


class _Checker:
    """The last fitness verdict of this process, renewed every CHECK_EVERY seconds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.verdict = Fitness(False, "not checked", None, "unchecked")
        self.max_lag = None

    def fitness(self, max_lag: float) -> Fitness:
        now = time.monotonic()
        if now - self.checked_at < CHECK_EVERY and max_lag == self.max_lag:
            return self.verdict
        with self.lock:
            if now - self.checked_at >= CHECK_EVERY or max_lag != self.max_lag:
                verdict = measure(max_lag)
                if verdict.kind != self.verdict.kind:  # once per change, not per check
                    if verdict.usable:
                        logger.info("read replica in use (%.1f s behind)", verdict.lag or 0)
                    else:
                        # error.log: the operator must see a replica that stopped serving.
                        logger.error("read replica not used: %s; its reads go to the "
                                     "primary", verdict.reason)
                self.verdict, self.checked_at, self.max_lag = verdict, now, max_lag
        return self.verdict


_checker = _Checker()


def measure(max_lag: float) -> Fitness:
    """Ask the replica how it is (one query on its own connection)."""
    try:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(FITNESS_SQL)
            recovering, streaming, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[ALIAS].close()  # reconnect on the next check
        return Fitness(False, f"unreachable: {' '.join(str(exc).split())[:200]}", None,
                       "unreachable")
    lag = float(lag)
    if not recovering:
        return Fitness(False, "it is not a standby (promoted?)", lag, "promoted")
    if not streaming:
        return Fitness(False, "its WAL receiver is not streaming from the primary", lag,
                       "not_streaming")
    if lag > max_lag:
        return Fitness(False, f"{lag:.1f} s behind (db.replica_max_lag {max_lag:g} s)", lag,
                       "behind")
    return Fitness(True, "", lag)


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
    """Django's database router: the replica for wanted reads while it is fit."""

    def db_for_read(self, model, **hints):
        if not _wanted.get() or connections["default"].in_atomic_block:
            return None
        verdict = _checker.fitness(max_lag())
        _count(verdict)
        return ALIAS if verdict.usable else None

    def db_for_write(self, model, **hints):
        return None  # the primary

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != ALIAS  # the replica follows the primary's schema by itself


def _count(verdict: Fitness) -> None:
    from asr_billing.core.metrics import observe_replica_read

    observe_replica_read(verdict.usable, verdict.lag)
