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
    assert router.db_for_read(Subscriber) is None  # not asked for: the primary
    with replica_reads():
        assert router.db_for_read(Subscriber) == "replica"
        verdict["verdict"] = BEHIND
        assert router.db_for_read(Subscriber) is None
    assert router.db_for_write(Subscriber) is None


def test_reads_inside_a_transaction_stay_on_the_primary(db, verdict):
    router = ReplicaRouter()
    with transaction.atomic(), replica_reads():  # one's own writes are not on the copy yet
        assert router.db_for_read(Subscriber) is None


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


def test_an_unreachable_replica_is_reported_not_raised(settings, monkeypatch):
    class Broken:
        def cursor(self):
            from django.db import OperationalError

            raise OperationalError("connection refused")

        def close(self):
            pass

    monkeypatch.setattr(replica, "connections", {"replica": Broken()})
    verdict = replica.measure(10)
    assert (verdict.usable, verdict.kind) == (False, "unreachable")
    assert verdict.reason == "unreachable: connection refused"
