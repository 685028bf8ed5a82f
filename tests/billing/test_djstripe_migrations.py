"""The squash of dj-stripe's migrations (billing/djstripe_migrations): it creates exactly the
state dj-stripe's own migrations end in, it is the file the generator writes today, and Django
treats it as applied on a database that ran dj-stripe's originals (an existing deployment)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from billing.management.commands.squash_djstripe_migrations import (
    APP,
    NAME,
    REPLACED,
    replaced_state,
    squashed_state,
)


def test_the_squash_ends_in_the_same_state_as_dj_stripes_own_migrations():
    replaced, squashed = replaced_state(), squashed_state()
    models = sorted(key for key in replaced.models if key[0] == APP)
    assert len(models) > 50
    assert sorted(key for key in squashed.models if key[0] == APP) == models
    for key in models:
        assert squashed.models[key] == replaced.models[key], key


def test_the_squash_file_is_what_the_generator_writes_today():
    call_command("squash_djstripe_migrations", "--check")


@pytest.mark.django_db
def test_a_database_migrated_with_dj_stripes_originals_has_nothing_left_to_apply():
    # The test database was made with the squash; an existing deployment has only the
    # originals recorded. Either way, Django plans nothing and counts the squash as applied.
    recorded = MigrationRecorder.Migration.objects.filter(app=APP)
    assert set(recorded.values_list("name", flat=True)) == {*REPLACED, NAME}
    recorded.filter(name=NAME).delete()
    executor = MigrationExecutor(connection)
    assert (APP, NAME) in executor.loader.applied_migrations
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
