"""Write billing/djstripe_migrations/0001_squashed_0003_2_11.py: dj-stripe's migrations 0001–0003
as one migration that creates their final tables directly (see that package's docstring).

The operations come from Django's autodetector, comparing "nothing of dj-stripe" with the state
dj-stripe's own migrations end in, so the squash creates exactly that state; a test checks it.

    manage.py squash_djstripe_migrations           # (re)write the file
    manage.py squash_djstripe_migrations --check   # exit 1 if the file is out of date
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.migrations import Migration
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState
from django.db.migrations.writer import MigrationWriter

APP = "djstripe"
REPLACED = ["0001_initial", "0002_2_10", "0003_2_11"]
NAME = "0001_squashed_0003_2_11"


def replaced_state() -> ProjectState:
    """The project state once dj-stripe's own migrations 0001–0003 have run (squash ignored)."""
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    return loader.project_state((APP, REPLACED[-1]), at_end=True)


def squashed_state() -> ProjectState:
    """The project state once the squash has run."""
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    return loader.project_state((APP, NAME), at_end=True)


def squash_migration() -> Migration:
    after = replaced_state()
    before = after.clone()
    for key in [key for key in before.models if key[0] == APP]:
        del before.models[key]
    changes = MigrationAutodetector(
        before, after, MigrationQuestioner(specified_apps={APP})
    ).changes(graph=MigrationGraph(), trim_to_apps={APP})
    if list(changes) != [APP] or len(changes[APP]) != 1:
        raise CommandError(f"Expected one {APP} migration, the autodetector made {changes!r}.")
    made = changes[APP][0]
    squash = Migration(NAME, APP)
    squash.initial = True
    squash.replaces = [(APP, name) for name in REPLACED]
    squash.dependencies = made.dependencies
    squash.operations = made.operations
    return squash


class Command(BaseCommand):
    help = "Write the squashed migration of dj-stripe's migrations 0001–0003."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Fail if the file is stale.")

    def handle(self, *args, check: bool = False, **options):
        writer = MigrationWriter(squash_migration(), include_header=False)
        text = (
            "# Written by `manage.py squash_djstripe_migrations` (billing/djstripe_migrations/"
            "__init__.py says why).\n"
            "# Do not edit: regenerate after a dj-stripe upgrade.\n\n" + writer.as_string()
        )
        path = Path(writer.path)
        if check:
            if not path.exists() or path.read_text() != text:
                raise CommandError(
                    f"{path} is out of date: run manage.py squash_djstripe_migrations."
                )
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text)
        self.stdout.write(f"Wrote {path} ({len(squash_migration().operations)} operations).")
