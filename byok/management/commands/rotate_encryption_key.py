"""Re-encrypt every stored key with the first ENCRYPTION_KEY.

Rotation: put the new key first in ENCRYPTION_KEY (keep the old one after it), deploy, run
this command, then drop the old key once it reports no failure. Running it again changes
nothing ("already current").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from byok.crypto import Ciphertext, DecryptionError
from byok.models import ApiConfiguration


class Command(BaseCommand):
    help = "Re-encrypt every stored provider key with the first key of ENCRYPTION_KEY."

    def handle(self, *args, **options):
        field = ApiConfiguration._meta.get_field("api_key")
        reencrypted = current = failed = 0
        rows = ApiConfiguration.objects.order_by("created_at", "pk")
        for configuration in rows.iterator(chunk_size=500):
            old_token = configuration.__dict__.get(field.attname)
            try:
                changed = field.reencrypt(configuration)
            except DecryptionError as exc:
                failed += 1
                self.stderr.write(str(exc))
                continue
            if not changed:
                current += 1
                continue
            new_token = configuration.__dict__[field.attname]
            # Compare-and-swap: a key replaced by its owner meanwhile is already written with
            # the current key and must not be overwritten with the old one re-encrypted.
            updated = ApiConfiguration.objects.filter(
                pk=configuration.pk, api_key=Ciphertext(old_token)
            ).update(api_key=new_token)
            if updated:
                reencrypted += 1
            else:
                current += 1
        self.stdout.write(
            _("re-encrypted %(done)d, already current %(current)d, failed %(failed)d")
            % {"done": reencrypted, "current": current, "failed": failed}
        )
        if failed:
            raise CommandError(
                _(
                    "%(failed)d key(s) could not be decrypted with any ENCRYPTION_KEY (listed "
                    "above); they were left as they are."
                )
                % {"failed": failed}
            )
