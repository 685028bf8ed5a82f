"""The catalogue refresh of November 2026 (issue 14): edits (`max_input_images`, `mask`), every
option of each model, the shutdowns the providers announced, retired models switched off
(DALL·E 2 and 3, Imagen 3) and the current models added (GPT Image 2, Gemini 3 Pro Image,
Nano Banana 2.1, Grok Imagine 2.0).

Only rows still equal to what 0002 seeded are changed (byok.catalogue.catalogue_refresh): a
model an operator edited in the admin keeps the operator's values. Going back leaves the rows
as they are: an old release reads the new capabilities keys as unknown and ignores them.
"""

from django.db import migrations


def refresh(apps, schema_editor):
    from byok.catalogue import catalogue_refresh
    from byok.migrations._seed_0002 import PROVIDERS as SEEDED

    catalogue_refresh(
        apps.get_model("byok", "Provider"), apps.get_model("byok", "ImageModel"), seeded=SEEDED
    )


class Migration(migrations.Migration):
    dependencies = [("byok", "0003_stored_key_names")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
