"""The migrations match the models, and upgrading a deployed database keeps its data."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from app.notes.models import Note


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    # Exits (SystemExit) if a model differs from what its migrations build.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


# transaction=True: the migrations run for real, and the tables are emptied afterwards.
@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_notes_app_had_its_label_keeps_its_notes():
    # The database as the app labelled "app" left it: its table app_note, its migration recorded.
    MigrationExecutor(connection).migrate([("notes", "0001_initial")])
    recorded = MigrationRecorder(connection).migration_qs
    recorded.filter(app="notes").delete()
    recorded.create(app="app", name="0001_initial")
    with connection.cursor() as cursor:
        now = "CURRENT_TIMESTAMP"
        cursor.execute(f"INSERT INTO app_note (title, body, created_at, updated_at) VALUES ('kept', '', {now}, {now})")

    # What `manage.py migrate` does after the upgrade, on a freshly loaded migration graph.
    upgrade = MigrationExecutor(connection)
    upgrade.migrate(upgrade.loader.graph.leaf_nodes())

    assert [note.title for note in Note.objects.all()] == ["kept"]
    assert "app_note" not in connection.introspection.table_names()
