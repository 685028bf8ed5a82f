"""The gallery's indexes: keyset pages on (user, created_at, id), and on PostgreSQL a GIN index
for the full-text search in prompts (generations.selectors._prompt_search uses the same
expression). SQLite has no such index; its search is a plain substring test."""

from django.db import migrations, models

SEARCH_INDEX = "generation_prompt_search"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON generations_imagegeneration "
            "USING gin (to_tsvector('simple'::regconfig, prompt))"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("generations", "0004_stored_key_names"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="imagegeneration",
            index=models.Index(
                fields=["user", "-created_at", "-id"], name="generation_user_keyset"
            ),
        ),
        migrations.RemoveIndex(
            model_name="imagegeneration",
            name="generation_user_created",
        ),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
