"""Migration operations that index a large table without stopping the billing.

A plain ``CREATE INDEX`` on PostgreSQL holds a lock that blocks every write to the table
until the index is built — minutes on a ledger of tens of millions of operations, during
which no payment can be posted. ``CREATE INDEX CONCURRENTLY`` lets writes go on; it
cannot run in a transaction, so a migration using these operations says
``atomic = False``. SQLite (a small installation) gets the plain statements.
"""

from __future__ import annotations

from django.db import migrations, models


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _drop_leftover(schema_editor, name: str) -> None:
    # A concurrent build that failed (a duplicate, a cancelled deploy) leaves an INVALID
    # index of that name behind; the retry starts clean.
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class AddIndexOnline(migrations.AddIndex):
    """``AddIndex``, built CONCURRENTLY on PostgreSQL (the migration: ``atomic = False``)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if _postgresql(schema_editor):
            _drop_leftover(schema_editor, self.index.name)
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        schema_editor.remove_index(model, self.index, **(
            {"concurrently": True} if _postgresql(schema_editor) else {}))


def replace_index_online(app_label: str, model_name: str, old: models.Index,
                         new: models.Index) -> migrations.SeparateDatabaseAndState:
    """Swap index ``old`` for ``new`` (the same name, other columns) so that the table is
    never without it: on PostgreSQL ``new`` is built CONCURRENTLY under a temporary name,
    then ``old`` dropped CONCURRENTLY and ``new`` renamed (a moment's lock); on SQLite
    dropped and created. The migration: ``atomic = False``."""
    assert old.name == new.name
    building = f"{new.name}_new"

    def swap(apps, schema_editor, drop: models.Index, build: models.Index) -> None:
        model = apps.get_model(app_label, model_name)
        if _postgresql(schema_editor):
            _drop_leftover(schema_editor, building)
            temporary = models.Index(fields=build.fields, name=building)
            schema_editor.add_index(model, temporary, concurrently=True)
            schema_editor.remove_index(model, drop, concurrently=True)
            schema_editor.execute(
                f"ALTER INDEX {schema_editor.quote_name(building)} "
                f"RENAME TO {schema_editor.quote_name(build.name)}")
        else:
            schema_editor.remove_index(model, drop)
            schema_editor.add_index(model, build)

    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveIndex(model_name=model_name, name=old.name),
                          migrations.AddIndex(model_name=model_name, index=new)],
        database_operations=[migrations.RunPython(
            lambda apps, editor: swap(apps, editor, old, new),
            lambda apps, editor: swap(apps, editor, new, old))],
    )
