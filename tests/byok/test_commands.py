import base64
import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from byok.crypto import keyring
from byok.models import ApiConfiguration
from tests.factories import make_configuration

pytestmark = pytest.mark.django_db


def new_encryption_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def raw(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_api_key FROM byok_apiconfiguration WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotation_reencrypts_every_row_with_the_first_key_and_is_idempotent(
    settings, user, other_user, providers
):
    old, new = new_encryption_key(), new_encryption_key()
    settings.ENCRYPTION_KEYS = [old]
    rows = [
        make_configuration(user, providers["openai"], name="a"),
        make_configuration(user, providers["google"], name="b"),
        make_configuration(other_user, providers["xai"], name="c"),
    ]
    before = {row.pk: ApiConfiguration.objects.get(pk=row.pk).updated_at for row in rows}
    settings.ENCRYPTION_KEYS = [new, old]
    assert rotate() == "re-encrypted 3, already current 0, failed 0"
    assert rotate() == "re-encrypted 0, already current 3, failed 0"

    # The old key can go now: every row still reads back with the new key alone.
    settings.ENCRYPTION_KEYS = [new]
    for row in rows:
        stored = ApiConfiguration.objects.get(pk=row.pk)
        assert stored.api_key == row.clear_key
        assert keyring().is_current(raw(row.pk))
        assert stored.updated_at == before[row.pk]  # rotation is not a change by the user


def test_rotation_reports_a_row_it_cannot_decrypt_by_id_and_leaves_it(settings, user, providers):
    old, new = new_encryption_key(), new_encryption_key()
    settings.ENCRYPTION_KEYS = [old]
    good = make_configuration(user, providers["openai"], name="good")
    broken = make_configuration(user, providers["openai"], name="broken")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE byok_apiconfiguration SET encrypted_api_key = %s WHERE id = %s",
            [raw(good.pk), broken.pk],  # someone else's ciphertext: fails authentication
        )
    broken_token = raw(broken.pk)
    settings.ENCRYPTION_KEYS = [new, old]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 key"):
        call_command("rotate_encryption_key", stdout=out, stderr=err)
    assert out.getvalue().strip() == "re-encrypted 1, already current 0, failed 1"
    assert str(broken.pk) in err.getvalue()
    assert raw(broken.pk) == broken_token


def test_rotation_with_nothing_stored_reports_zero(settings, providers):
    assert rotate() == "re-encrypted 0, already current 0, failed 0"
