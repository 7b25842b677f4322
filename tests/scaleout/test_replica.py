"""app['db.replica_url'] against a real streaming replica (.ci/pg-replica: pg_basebackup
of the test cluster, a standby on 127.0.0.1:5433). The collector lists and the REST list
endpoints are read there while it keeps up; money and writes stay on the primary; a
replica further behind than app['db.replica_max_lag'], or away, hands its reads back to
the primary, so the answers stay right."""

from __future__ import annotations

import json
import os
import time

import psycopg
import pytest

from tests.scaleout.cluster import COLLECTOR, Cluster, requires_postgres_server

pytestmark = [requires_postgres_server, pytest.mark.slow, pytest.mark.replica,
              # One replica for the run: pausing its replay must not meet another test.
              pytest.mark.xdist_group("pg_replica")]

REPLICA_SERVER = os.environ.get("ASR_BILLING_TEST_REPLICA_URL", "")


@pytest.fixture
def replica_server() -> str:
    if not REPLICA_SERVER:
        message = ("no streaming replica: start one with `.ci/pg-replica start` and set "
                   "ASR_BILLING_TEST_REPLICA_URL=postgresql://postgres@127.0.0.1:5433")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the replica tests; {message}")
        pytest.skip(message)
    return REPLICA_SERVER


def replica_sql(url: str, statement: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


LAG_SQL = "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"


def wait_for(predicate, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def negbal_logins(node) -> list[str]:
    status, body = node.get(COLLECTOR + "&format=json")
    assert status == 200, body
    return sorted(row["login"] for row in json.loads(body))


def routed(node) -> dict[str, float]:
    """asr_replica_routed_reads_total by where the reads went."""
    status, body = node.get("/metrics")
    assert status == 200, body
    counts = {"replica": 0.0, "primary": 0.0}
    for line in body.splitlines():
        if line.startswith("asr_replica_routed_reads_total{"):
            counts[line.split('to="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    return counts


@pytest.fixture
def cluster(tmp_path, replica_server):
    cluster = Cluster(tmp_path, "replica_test").create()
    home = cluster.home(1)
    cluster.config(home, "app", "db.replica_url", f"{replica_server}/{cluster.name}")
    # The replica has the new database once it has replayed its creation and the demo.
    wait_for(lambda: replica_sql(f"{replica_server}/postgres",
                                 "SELECT 1 FROM pg_database WHERE datname = %s", [cluster.name]),
             "the demo database on the replica")
    yield cluster
    replica_sql(f"{replica_server}/postgres", "SELECT pg_wal_replay_resume()")
    cluster.destroy()


def test_lists_from_the_replica_money_from_the_primary_and_lag_bounded(cluster,
                                                                      replica_server):
    home = cluster.home(1)
    cluster.config(home, "app", "db.replica_max_lag", "3600")
    node = cluster.start_node(1)
    key = cluster.key("payments", "read")
    wait_for(lambda: "in use" in node.get("/ready")[1], "the replica in use")
    cut_off = negbal_logins(node)
    assert cut_off, "the demo has subscribers cut off on NAS 10.0.0.1"
    login = cut_off[0]
    (subscriber_id, contract, balance), = cluster.sql(
        "SELECT s.id, s.contract_number, a.balance FROM network_login l "
        "JOIN subscribers_subscriber s ON s.id = l.subscriber_id "
        "JOIN finance_account a ON a.subscriber_id = s.id "
        "WHERE l.login = %s", [login])
    # A REST list is read there too. Asked until it is: a worker's first check wants the
    # primary's current WAL position, and the key's first use has just written to it.
    def groups_list_read_on_the_replica():
        before = routed(node)
        status, body = node.get("/api/v1/groups/?limit=5", {"Authorization": f"Bearer {key}"})
        assert status == 200, body
        return routed(node)["replica"] > before["replica"]

    wait_for(groups_list_read_on_the_replica, "a REST list read on the replica")

    replica_sql(f"{replica_server}/postgres", "SELECT pg_wal_replay_pause()")
    wait_for(lambda: replica_sql(f"{replica_server}/postgres",
                                 "SELECT pg_get_wal_replay_pause_state() = 'paused'")[0][0],
             "the replay to pause")
    # A write goes to the primary (the paused standby is read-only and would refuse it).
    amount = f"{-balance + 500:.2f}"
    status, paid = node.post_json("/api/v1/payments/", {
        "subscriber": contract, "amount": amount, "operator": "BANK",
        "external_id": "replica-1"}, key)
    assert status == 201, paid
    assert cluster.sql("SELECT negbal FROM subscribers_subscriber WHERE id = %s",
                       [subscriber_id]) == [(False,)]
    # Money reads the primary: the subscriber's balance is the new one at once.
    status, body = node.get(f"/api/v1/subscribers/{subscriber_id}/",
                            {"Authorization": f"Bearer {key}"})
    assert status == 200 and json.loads(body)["negbal"] is False, body
    # The list is read on the replica, which has not replayed the payment: still cut off
    # there (allowed: it is behind by less than the hour db.replica_max_lag allows).
    assert login in negbal_logins(node)

    # A bound of one second, on a replica clearly further behind (each process checks it
    # once a second): the lagging replica is set aside and the list is right.
    wait_for(lambda: replica_sql(f"{replica_server}/postgres", LAG_SQL)[0][0] > 3,
             "the replica three seconds behind")
    cluster.config(home, "app", "db.replica_max_lag", "1")
    wait_for(lambda: login not in negbal_logins(node), "the list from the primary")
    readies = [json.loads(node.get("/ready")[1]) for _ in range(4)]  # both workers
    assert all(r["status"] == "ok" and "has not replayed" in r["replica"] for r in readies), \
        readies
    before = routed(node)
    assert login not in negbal_logins(node)
    after = routed(node)
    assert after["primary"] > before["primary"] and after["replica"] == before["replica"]

    # Caught up again: back to the replica, which now agrees.
    replica_sql(f"{replica_server}/postgres", "SELECT pg_wal_replay_resume()")
    wait_for(lambda: "in use" in node.get("/ready")[1], "the replica back in use")

    def from_the_replica() -> bool:
        # Each worker process decides for itself: ask until one read went there, and
        # the list it gave was right.
        before = routed(node)
        assert login not in negbal_logins(node)
        return routed(node)["replica"] > before["replica"]

    wait_for(from_the_replica, "a list read on the replica again")


def test_a_replica_that_is_away_hands_its_reads_to_the_primary(cluster):
    home = cluster.home(1)
    cluster.config(home, "app", "db.replica_url",
                   f"postgresql://postgres@127.0.0.1:9/{cluster.name}")  # nothing listens
    node = cluster.start_node(1)
    listed = negbal_logins(node)
    assert listed  # answered, from the primary
    status, body = node.get("/ready")
    ready = json.loads(body)
    assert status == 200 and ready["replica"].startswith("not used: unreachable"), ready
    log = (home / "var" / "log" / "django" / "error.log").read_text()
    assert log.count("read replica not used: unreachable") >= 1, log


def test_the_checks_need_no_rights_beyond_an_ordinary_login(replica_server):
    from asr_billing.core.replica import PRIMARY_SQL, REPLICA_SQL
    from tests.scaleout.cluster import TEST_DB_URL

    primary = TEST_DB_URL.rsplit("/", 1)[0]
    role = f"asr_probe_{os.getpid()}"
    with psycopg.connect(f"{primary}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN')  # no superuser, no pg_monitor
    try:
        wait_for(lambda: replica_sql(f"{replica_server}/postgres",
                                     "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]),
                 "the role on the replica")
        as_role = lambda server: server.replace("://postgres@", f"://{role}@")  # noqa: E731
        with psycopg.connect(f"{as_role(primary)}/postgres") as conn:
            (lsn,) = conn.execute(PRIMARY_SQL).fetchone()
        with psycopg.connect(f"{as_role(replica_server)}/postgres") as conn:
            recovering, replayed, lag = conn.execute(REPLICA_SQL).fetchone()
        assert lsn > 0 and recovering is True and replayed is not None and lag is not None
    finally:
        with psycopg.connect(f"{primary}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
