"""Case-insensitive search that behaves the same on both databases.

PostgreSQL's ``UPPER()`` (Django's ``icontains``) folds every alphabet; SQLite's ``LIKE``
and ``lower()`` fold ASCII only, so there "полонский" would not find "Полонский". Every
SQLite connection therefore gets ``asr_fold(text)`` (Python's ``str.casefold``), and
``contains_folded`` compares folded text on SQLite for terms that are not plain ASCII.
ASCII terms keep SQLite's own LIKE, which folds them already without a call into Python
per row (bench/admin_search.py measures both).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import Contains

SQLITE_FUNCTION = "asr_fold"


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give a new SQLite connection asr_fold()."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, _fold, deterministic=True)


class Fold(Func):
    function = SQLITE_FUNCTION
    output_field = TextField()


class Digits(Func):
    """A phone number's digits: "+7 (903) 657-29-02" -> "79036572902". PostgreSQL:
    one regexp_replace(); SQLite: a chain of REPLACE() over the usual punctuation, which
    runs in C (a Python function per row took 1.5 times as long: bench/admin_search.py)."""

    output_field = TextField()
    PUNCTUATION = (" ", "+", "-", "(", ")", ".")

    def as_sqlite(self, compiler, connection, **extra):
        template = "%(expressions)s"
        for character in self.PUNCTUATION:
            template = f"REPLACE({template}, '{character}', '')"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="REGEXP_REPLACE",
                              template="%(function)s(%(expressions)s, '\\D', '', 'g')",
                              **extra)


def contains_folded(field: str, term: str):
    """``field`` contains ``term``, case-insensitively in every alphabet, on both databases."""
    if connection.vendor == "sqlite" and not term.isascii():
        return Contains(Fold(F(field)), term.casefold())
    return Q(**{f"{field}__icontains": term})
