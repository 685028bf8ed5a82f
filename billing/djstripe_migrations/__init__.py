"""dj-stripe's migrations, plus one squashed migration that installs them in one go.

dj-stripe 2.11's migration `0002_2_10` is 514 RemoveField operations, and Django re-renders the
related models after each one: a `migrate` on a new database spent ~50 s of CPU there (SQLite
or PostgreSQL alike; it is not I/O, so SQLite pragmas change nothing). `0001_squashed_0003_2_11`
creates the same final tables directly. It `replaces` dj-stripe's 0001–0003, which is how
Django's squashed migrations work: it is used only on a database where none of them is applied
(the first `scripts/run`, a test database, a new deployment) and records them as applied; a
database that has them keeps them, and dj-stripe's later migrations follow on from it.

This package is dj-stripe's migration module (`MIGRATION_MODULES` in settings). Its path also
lists dj-stripe's own migrations directory, so dj-stripe's files, today's and those of a
future release, are found here as they are, without copies. After an upgrade that changes
0001–0003, regenerate the squash: `manage.py squash_djstripe_migrations` (the test
tests/billing/test_djstripe_migrations.py fails until then).
"""

import djstripe.migrations

# Deduplicated: Django reloads migration packages, which runs this again.
__path__ = list(dict.fromkeys([*__path__, *djstripe.migrations.__path__]))
