import base64
import os

import pytest
from django.db import connection

from byok.crypto import DecryptionError
from byok.models import ApiConfiguration
from tests.factories import make_configuration, new_key

pytestmark = pytest.mark.django_db


def new_encryption_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raw_ciphertext(configuration) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_api_key FROM byok_apiconfiguration WHERE id = %s",
            [configuration.pk],
        )
        return cursor.fetchone()[0]


def write_raw_ciphertext(configuration, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE byok_apiconfiguration SET encrypted_api_key = %s WHERE id = %s",
            [value, configuration.pk],
        )


def test_a_stored_key_reads_back_in_clear(user, catalogue):
    key = new_key("openai")
    configuration = make_configuration(user, catalogue["openai"], key=key)
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == key


def test_the_database_column_holds_ciphertext_not_the_key(user, catalogue):
    key = new_key("google")
    configuration = make_configuration(user, catalogue["google"], key=key)
    stored = raw_ciphertext(configuration)
    assert stored.startswith("v1:")
    assert key not in stored
    assert key[4:20] not in stored
    assert key.encode() not in base64.b64decode(stored.split(":", 2)[2])


def test_the_same_key_encrypts_differently_each_time(user, other_user, catalogue):
    key = new_key("xai")
    first = make_configuration(user, catalogue["xai"], key=key)
    second = make_configuration(other_user, catalogue["xai"], key=key)
    assert raw_ciphertext(first) != raw_ciphertext(second)


def test_rows_written_with_an_old_key_still_decrypt_after_a_new_key_is_added(
    settings, user, catalogue
):
    old, new = new_encryption_key(), new_encryption_key()
    settings.ENCRYPTION_KEYS = [old]
    key = new_key("openai")
    configuration = make_configuration(user, catalogue["openai"], key=key)
    settings.ENCRYPTION_KEYS = [new, old]
    assert ApiConfiguration.objects.get(pk=configuration.pk).api_key == key
    # New writes use the first key: the old key alone cannot read them.
    fresh = make_configuration(user, catalogue["openai"], name="Fresh")
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(DecryptionError, match="not in ENCRYPTION_KEY"):
        ApiConfiguration.objects.get(pk=fresh.pk).api_key  # noqa: B018


def test_tampered_ciphertext_raises_an_error_naming_the_row(user, catalogue):
    configuration = make_configuration(user, catalogue["openai"])
    stored = raw_ciphertext(configuration)
    prefix, payload = stored.rsplit(":", 1)
    blob = bytearray(base64.b64decode(payload))
    blob[-1] ^= 0x01
    write_raw_ciphertext(configuration, f"{prefix}:{base64.b64encode(bytes(blob)).decode()}")
    with pytest.raises(DecryptionError) as excinfo:
        ApiConfiguration.objects.get(pk=configuration.pk).api_key  # noqa: B018
    assert str(configuration.pk) in str(excinfo.value)
    assert "tampered" in str(excinfo.value)


def test_garbage_in_the_column_raises_an_error_naming_the_row(user, catalogue):
    configuration = make_configuration(user, catalogue["openai"])
    write_raw_ciphertext(configuration, "not a ciphertext at all")
    with pytest.raises(DecryptionError, match=str(configuration.pk)):
        ApiConfiguration.objects.get(pk=configuration.pk).api_key  # noqa: B018


def test_ciphertext_copied_onto_another_users_row_does_not_decrypt(user, other_user, catalogue):
    victim = make_configuration(user, catalogue["openai"], name="Victim")
    attacker = make_configuration(other_user, catalogue["openai"], name="Attacker")
    write_raw_ciphertext(attacker, raw_ciphertext(victim))
    with pytest.raises(DecryptionError) as excinfo:
        ApiConfiguration.objects.get(pk=attacker.pk).api_key  # noqa: B018
    assert str(attacker.pk) in str(excinfo.value)
    # The victim's own row is untouched and still readable.
    assert ApiConfiguration.objects.get(pk=victim.pk).api_key == victim.clear_key


def test_ciphertext_copied_onto_another_row_of_the_same_user_does_not_decrypt(user, catalogue):
    first = make_configuration(user, catalogue["openai"], name="First")
    second = make_configuration(user, catalogue["openai"], name="Second")
    write_raw_ciphertext(second, raw_ciphertext(first))
    with pytest.raises(DecryptionError):
        ApiConfiguration.objects.get(pk=second.pk).api_key  # noqa: B018


def test_a_clear_value_never_reaches_sql(user, catalogue):
    with pytest.raises(ValueError):
        ApiConfiguration.objects.filter(api_key="sk-not-a-ciphertext").count()
