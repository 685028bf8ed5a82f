from django.db import migrations


def seed(apps, schema_editor):
    from byok.catalogue import seed_catalogue

    seed_catalogue(apps.get_model("byok", "Provider"), apps.get_model("byok", "ImageModel"))


class Migration(migrations.Migration):
    dependencies = [("byok", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
