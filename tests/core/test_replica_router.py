"""core/replica.py without a replica server: which reads the router sends where. The
real streaming replica is in tests/scaleout/test_replica.py."""

from __future__ import annotations

import pytest
from django.db import transaction

from asr_billing.core import replica
from asr_billing.core.replica import Fitness, ReplicaRouter, replica_reads
from asr_billing.subscribers.models import Subscriber
from asr_billing.system_api.registry import api_function

FIT = Fitness(True, "", 0.2)
BEHIND = Fitness(False, "12.0 s behind (db.replica_max_lag 10 s)", 12.0, "behind")


@pytest.fixture
def verdict(monkeypatch):
    state = {"verdict": FIT}
    monkeypatch.setattr(replica._checker, "fitness", lambda max_lag: state["verdict"])
    return state


def test_only_wanted_reads_go_to_a_fit_replica(transactional_db, verdict):
    router = ReplicaRouter()
    assert router.db_for_read(Subscriber) == "default"  # not asked for: the primary
    with replica_reads():
        assert router.db_for_read(Subscriber) == "replica"
        verdict["verdict"] = BEHIND
        assert router.db_for_read(Subscriber) == "default"
    # Never None: Django would follow an object's own database, and save one read from
    # the replica there.
    assert router.db_for_write(Subscriber) == "default"


def test_reads_inside_a_transaction_stay_on_the_primary(db, verdict):
    router = ReplicaRouter()
    with transaction.atomic(), replica_reads():  # one's own writes are not on the copy yet
        assert router.db_for_read(Subscriber) == "default"


def test_the_replica_is_never_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("replica", "finance") is False
    assert router.allow_migrate("default", "finance") is True


def test_a_writing_function_cannot_ask_for_the_replica():
    with pytest.raises(ValueError, match="never reads from the replica"):
        api_function("test_manager.both", context="collector", writes=True, replica=True)


def test_the_collector_lists_ask_for_it():
    from asr_billing.system_api.registry import lookup

    for name in ("users_negbal", "users_blocked", "users_logged",
                 "collector_iptv_accept_list_get"):
        entry = lookup(f"collector_manager.{name}")
        assert entry.replica and not entry.writes


class FakeConnection:
    """A connection whose one query answers ``row`` (or raises ``error``)."""

    def __init__(self, row=None, error=None):
        self.row, self.error, self.closed = row, error, False

    def cursor(self):
        connection = self

        class Cursor:
            def __enter__(self):
                if connection.error is not None:
                    raise connection.error
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql):
                pass

            def fetchone(self):
                return connection.row

        return Cursor()

    def close(self):
        self.closed = True


@pytest.fixture
def servers(monkeypatch):
    """A primary at WAL position 1000 and a standby that replayed up to 1000."""
    fakes = {"default": FakeConnection((1000,)), "replica": FakeConnection((True, 1000, 0.0))}
    monkeypatch.setattr(replica, "connections", fakes)
    clock = [100.0]
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock[0])
    return fakes, clock


def test_fit_means_replayed_what_the_primary_had_max_lag_seconds_ago(servers):
    fakes, clock = servers
    positions = __import__("collections").deque()
    assert replica.measure(10, positions).usable  # caught up
    # The primary writes on (2000 at t=105, 3000 at t=112); the standby's receiver stalls
    # at 1000, so it has "replayed all it received": no timestamp would call it behind.
    clock[0], fakes["default"].row = 105.0, (2000,)
    assert replica.measure(10, positions).usable  # 1000 was the primary's 5 s ago: fine
    clock[0], fakes["default"].row = 112.0, (3000,)
    verdict = replica.measure(10, positions)  # 1000 is older than 10 s; 2000 is not replayed
    assert (verdict.usable, verdict.kind) == (False, "behind")
    assert "has not replayed what the primary wrote 10 s ago" in verdict.reason
    fakes["replica"].row = (True, 2000, 7.0)
    assert replica.measure(10, positions).usable
    assert [lsn for _, lsn in positions] == [2000, 3000, 3000]  # 1000 (t=100) forgotten


def test_a_promoted_or_silent_replica_is_not_used(servers):
    from django.db import OperationalError

    fakes, _ = servers
    fakes["replica"].row = (False, 5000, 0.0)
    assert replica.measure(10).kind == "promoted"
    fakes["replica"].error = OperationalError("connection refused")
    verdict = replica.measure(10)
    assert (verdict.usable, verdict.kind) == (False, "unreachable")
    assert verdict.reason == "unreachable: connection refused"
    assert fakes["replica"].closed  # a new connection next time


def test_an_unreachable_replica_is_asked_again_only_after_a_while(servers, caplog):
    from django.db import OperationalError

    fakes, clock = servers
    fakes["replica"].error = OperationalError("timeout expired")
    checker = replica._Checker()
    with caplog.at_level("ERROR", logger="asr_billing.db"):
        assert checker.fitness(10).kind == "unreachable"
    assert caplog.text.count("read replica not used: unreachable: timeout expired") == 1
    fakes["replica"].error = None
    clock[0] += replica.CHECK_EVERY + 1
    assert checker.fitness(10).kind == "unreachable"  # not asked: the last verdict
    clock[0] += replica.RETRY_AWAY
    assert checker.fitness(10).usable


def test_one_thread_checks_the_others_take_the_last_verdict(servers):
    checker = replica._Checker()
    checker.verdict = replica.Fitness(True, "", 0.0)
    checker.lock.acquire()  # another thread is checking
    try:
        assert checker.fitness(10).usable
    finally:
        checker.lock.release()
