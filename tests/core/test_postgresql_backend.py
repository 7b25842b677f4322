"""The PostgreSQL backend's health check (core/postgresql/base.py) against a real server:
a live idle connection is reused without a round trip; one the server ended is not."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _terminate(pid: int) -> None:
    """End a backend from another connection, as a server restart or an idle timeout would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # The server's notice reaches the socket a moment later.
    for _ in range(50):
        if not connection.is_usable():
            return
        time.sleep(0.02)


def test_an_idle_live_connection_is_usable_without_a_query():
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as queries:
        assert connection.is_usable() is True
    assert queries.captured_queries == []


def test_a_connection_the_server_ended_is_not_usable_and_is_replaced():
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    _terminate(old_pid)
    assert connection.is_usable() is False
    # What Django does at the start of a request with health checks on:
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid


def test_inside_a_transaction_the_usual_check_runs():
    connection.ensure_connection()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        with CaptureQueriesContext(connection):
            assert connection.is_usable() is True
    finally:
        connection.rollback()
        connection.set_autocommit(True)
