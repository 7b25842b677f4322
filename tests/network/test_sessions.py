"""network.sessions: the accounting service, stale sessions, the housekeeping's part."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from asr_billing.billing.services import billing_housekeeping
from asr_billing.network.models import OnlineSession, RadiusAuthLog
from asr_billing.network.sessions import (
    AccountingRecord,
    open_sessions_of_logins,
    session_account,
    sessions_close_stale,
)
from tests.conftest import on_postgres

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def bob(subscriber, make_login):
    return make_login(subscriber, "bob")


def record(nas, status, *, unique="u-1", sid="1", at=T0, **more):
    return AccountingRecord(status_type=status, nas=nas, event_time=at, username="bob",
                            acct_session_id=sid, acct_unique_id=unique, **more)


def state():
    return list(OnlineSession.objects.order_by("pk").values_list(
        "acct_unique_id", "started_at", "updated_at", "stopped_at", "terminate_cause",
        "input_octets"))


def test_outcomes(nas, bob):
    now = T0 + timedelta(seconds=5)
    assert session_account(record=record(nas, "Start"), now=now) == "started"
    assert session_account(record=record(nas, "Start"), now=now) == "duplicate"
    assert session_account(record=record(nas, "Interim-Update"), now=now) == "updated"
    assert session_account(record=record(nas, "Stop"), now=now) == "stopped"
    assert session_account(record=record(nas, "Stop"), now=now) == "duplicate"
    assert session_account(record=record(nas, "Interim-Update"), now=now) == "late"
    assert session_account(record=record(nas, "Tunnel-Start"), now=now) == "ignored:Tunnel-Start"
    assert session_account(record=record(nas, "Accounting-Off"), now=now) == "nas-reboot:0"
    assert session_account(record=record(nas, "Start", unique="u-2"), now=now) == "started"
    assert session_account(record=record(nas, "7"), now=now) == "nas-reboot:1"


def test_without_unique_id_the_nas_session_id_decides(nas, bob):
    assert session_account(record=record(nas, "Start", unique="")) == "started"
    assert session_account(record=record(nas, "Start", unique="")) == "duplicate"
    assert session_account(record=record(nas, "Interim-Update", unique="",
                                         input_octets=3)) == "updated"
    assert session_account(record=record(nas, "Stop", unique="")) == "stopped"
    assert OnlineSession.objects.get().input_octets == 3


def test_stale_sessions_close_at_their_last_news_and_reopen_on_an_interim(nas, bob):
    heard = T0 + timedelta(minutes=1)
    session_account(record=record(nas, "Start"), now=heard)
    session_account(record=record(nas, "Start", unique="u-fresh", sid="2"),
                    now=T0 + timedelta(minutes=20))
    closed = sessions_close_stale(now=T0 + timedelta(minutes=21), stale_after_seconds=900)
    assert closed == 1
    rows = {row[0]: row for row in state()}
    assert rows["u-1"][3:5] == (heard, "Stale")
    assert rows["u-fresh"][3] is None

    later = T0 + timedelta(minutes=30)
    assert session_account(record=record(nas, "Interim-Update", input_octets=9),
                           now=later) == "reopened"
    assert {row[0]: row for row in state()}["u-1"][2:6] == (later, None, "", 9)


def test_a_stop_after_a_stale_close_gives_the_real_end(nas, bob):
    session_account(record=record(nas, "Start"), now=T0)
    sessions_close_stale(now=T0 + timedelta(hours=1), stale_after_seconds=900)
    end = T0 + timedelta(minutes=40)
    assert session_account(record=record(nas, "Stop", at=end, terminate_cause="Idle-Timeout",
                                         input_octets=50)) == "stopped"
    assert state()[0][3:6] == (end, "Idle-Timeout", 50)


def test_unknown_login(nas, bob):
    unknown = AccountingRecord(status_type="Start", nas=nas, event_time=T0, username="eve",
                               acct_unique_id="x")
    assert session_account(record=unknown) == "unknown-login"
    assert state() == []


def test_open_sessions_of_logins(nas, bob, subscriber, make_login):
    alice = make_login(subscriber, "alice")
    session_account(record=record(nas, "Start"))
    session_account(record=AccountingRecord(status_type="Start", nas=nas, event_time=T0,
                                            username="alice", acct_unique_id="a"))
    session_account(record=record(nas, "Stop"))
    found = open_sessions_of_logins([bob.pk, alice.pk])
    assert [(s.login.login, s.nas.ip) for s in found] == [("alice", "10.0.0.1")]


def test_housekeeping_closes_stale_and_trims_refusals(nas, bob, config_edit):
    config_edit("radius", "session.stale_after", "600")
    config_edit("radius", "auth_log.keep_days", "7")
    now = datetime.now(UTC)
    session_account(record=record(nas, "Start", at=now), now=now - timedelta(minutes=11))
    session_account(record=record(nas, "Start", unique="u-2", sid="2", at=now), now=now)
    old = RadiusAuthLog.objects.create(username="x", reason="old")
    RadiusAuthLog.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    RadiusAuthLog.objects.create(username="y", reason="new")
    counts = billing_housekeeping(now=now, actor="test")
    assert counts["sessions_stale"] == 1
    assert counts["radius_refusals_trimmed"] == 1
    assert list(RadiusAuthLog.objects.values_list("reason", flat=True)) == ["new"]
    assert OnlineSession.objects.filter(stopped_at__isnull=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_starts_and_interims_make_one_session(nas, bob):
    if not on_postgres():
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def send(status):
        try:
            barrier.wait()
            outcomes.append(session_account(record=record(nas, status, session_time=30)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=("Start" if i % 2 else "Interim-Update",))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert OnlineSession.objects.count() == 1
    assert outcomes.count("started") + outcomes.count("started-by-interim") == 1
    assert connection.vendor == "postgresql"
