"""Database helpers for hot paths.

``prepared_cursor()``: on PostgreSQL, a cursor whose statements the server parses and plans
once per connection (a named prepared statement; psycopg keeps up to 100 per connection)
instead of on every call. Django sends every query with its parameters inlined on the
client, so PostgreSQL plans each one anew: for the payment posting's statements that
planning was about 40 % of the database's time per payment (bench/payment_intake.py,
docs/performance.md). It is meant for a few fixed statements on a hot path, not for
ORM-built SQL. On other databases it is the ordinary cursor.

The cursor is wrapped by Django as usual: queries are logged when Django logs them
(tests count them), ``execute_wrapper``s apply, and database errors become Django's.
Prepared statements live in the server session: a transaction-pooling PgBouncer older
than 1.21 cannot carry them (docs/configuration.md, app['db.url']).
"""

from __future__ import annotations

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper


def prepared_cursor():
    """A cursor (use it as a context manager) whose statements are prepared on PostgreSQL."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _preparing_cursor_class()(connection.connection)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _LoggingWrapper(raw, connection)
    return connection.make_cursor(raw)


class _LoggingWrapper(CursorDebugWrapper):
    """Logs the statement as written: Django would ask psycopg for the statement with its
    parameters inlined, which a prepared statement never has."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


_class = None


def _preparing_cursor_class():
    """Django's server-side-binding psycopg cursor, preparing every statement it runs.
    (Built on first use: the class exists only where psycopg 3 is installed.)"""
    global _class
    if _class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(
                    query, params, prepare=True if prepare is None else prepare, binary=binary
                )

        _class = PreparingCursor
    return _class
