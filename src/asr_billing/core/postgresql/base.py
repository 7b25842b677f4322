"""Django's PostgreSQL backend with a health check that costs no round trip.

Connections live across requests (CONN_MAX_AGE), so each request first asks whether its
connection still works (CONN_HEALTH_CHECKS). Django asks with ``SELECT 1``: a round trip
and a statement on every request, about a tenth of a payment's CPU on both sides
(bench/payment_intake.py, docs/performance.md). Between requests an idle connection
receives nothing unless the server is going away — a restart, ``pg_terminate_backend``,
an idle timeout: the server says so (or closes the socket) before it goes. So an idle
connection whose socket has something to read, or is closed, is not reused; one inside a
transaction is asked the usual way.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from psycopg.pq import TransactionStatus


class DatabaseWrapper(PostgresDatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
            pending = poller.poll(0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not pending
