"""Encryption of users' provider keys: the only module that encrypts or decrypts them.

AES-256-GCM (authenticated) with keys from `settings.ENCRYPTION_KEYS` (the environment's
comma-separated `ENCRYPTION_KEY`): the first key encrypts, every key decrypts, so operators
can rotate (add a new key first, run `manage.py rotate_encryption_key`, then drop the old one).

A stored value is `v1:<key id>:<base64(nonce || ciphertext+tag)>`. The associated data binds
the ciphertext to its row (model, primary key and owner), so a value copied onto another
row - another user's, say - does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.views.decorators.debug import sensitive_variables

VERSION = "v1"


class DecryptionError(Exception):
    """A stored secret could not be decrypted (tampered, copied, or its key is gone)."""


def _decode_key(raw: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("ENCRYPTION_KEY must hold url-safe base64 keys.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(
            "Each ENCRYPTION_KEY must be 32 random bytes in url-safe base64 "
            "(see README: generate one with scripts/new-encryption-key)."
        )
    return key


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key, stored beside the ciphertext."""
    return hashlib.sha256(b"bambi-key-id:" + key).hexdigest()[:8]


class Keyring:
    def __init__(self, raw_keys: Sequence[str]):
        if not raw_keys:
            raise ImproperlyConfigured("ENCRYPTION_KEY is empty.")
        keys = [_decode_key(raw) for raw in raw_keys]
        self.primary_id = key_id(keys[0])
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        self._primary = self._keys[self.primary_id]

    @sensitive_variables("plaintext")
    def encrypt(self, plaintext: str, associated_data: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._primary.encrypt(nonce, plaintext.encode(), associated_data)
        return f"{VERSION}:{self.primary_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, associated_data: bytes) -> str:
        try:
            version, kid, payload = token.split(":", 2)
            blob = base64.b64decode(payload, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise DecryptionError("malformed ciphertext") from exc
        if version != VERSION:
            raise DecryptionError(f"unknown format {version!r}")
        aead = self._keys.get(kid)
        if aead is None:
            raise DecryptionError(f"encrypted with key {kid}, which is not in ENCRYPTION_KEY")
        try:
            return aead.decrypt(blob[:12], blob[12:], associated_data).decode()
        except InvalidTag as exc:
            raise DecryptionError("authentication failed (tampered or copied value)") from exc

    def is_current(self, token: str) -> bool:
        """Whether `token` is already encrypted with the primary (first) key."""
        return token.startswith(f"{VERSION}:{self.primary_id}:")


_keyring_cache: dict[tuple[str, ...], Keyring] = {}


def keyring() -> Keyring:
    raw = (*settings.ENCRYPTION_KEYS, *getattr(settings, "ENCRYPTION_DECRYPT_ONLY_KEYS", ()))
    ring = _keyring_cache.get(raw)
    if ring is None:
        ring = _keyring_cache[raw] = Keyring(raw)
    return ring


class Ciphertext(str):
    """A value as stored in the database (distinguishes it from a clear value just assigned)."""


class _EncryptedAttribute(DeferredAttribute):
    """Reading gives the clear value (decrypted in memory); assigning keeps the clear value
    until save, when `pre_save` encrypts it with the row's associated data."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            return self.field.decrypt_for(instance, value)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedSecretField(models.TextField):
    """A text column that only ever holds ciphertext.

    `bind_to` names the attributes whose values become the associated data (the row's
    primary key and owner): the ciphertext decrypts only on the row it was written for.
    """

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args, bind_to: Sequence[str] = ("pk",), **kwargs):
        self.bind_to = tuple(bind_to)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["bind_to"] = self.bind_to
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def associated_data(self, instance) -> bytes:
        parts = [instance._meta.label] + [str(getattr(instance, a)) for a in self.bind_to]
        return ":".join(parts).encode()

    def decrypt_for(self, instance, token: str) -> str:
        try:
            return keyring().decrypt(token, self.associated_data(instance))
        except DecryptionError as exc:
            raise DecryptionError(
                f"Cannot decrypt {instance._meta.label}.{self.name} of row {instance.pk}: {exc}."
            ) from None

    @sensitive_variables("clear")
    def encrypt_for(self, instance, clear: str) -> Ciphertext:
        return Ciphertext(keyring().encrypt(clear, self.associated_data(instance)))

    def from_db_value(self, value, expression, connection):
        return None if value is None else Ciphertext(value)

    @sensitive_variables("value")
    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is not None and not isinstance(value, Ciphertext):
            value = self.encrypt_for(model_instance, value)
            model_instance.__dict__[self.attname] = value
        return value

    def get_prep_value(self, value):
        if value is not None and not isinstance(value, Ciphertext):
            # Never let a clear value reach SQL (a lookup or an unsaved assignment).
            raise ValueError(f"{self.name} only stores ciphertext; save the model to encrypt it.")
        return None if value is None else str(value)

    def value_from_object(self, obj):
        # Serialisers, forms and the admin see the ciphertext, never the clear value.
        value = obj.__dict__.get(self.attname)
        return str(value) if isinstance(value, Ciphertext) else ""

    @sensitive_variables("clear")
    def reencrypt(self, instance) -> bool:
        """Re-encrypt `instance`'s value with the primary key; False when already current."""
        token = instance.__dict__.get(self.attname)
        if not isinstance(token, Ciphertext) or keyring().is_current(token):
            return False
        clear = self.decrypt_for(instance, token)
        instance.__dict__[self.attname] = self.encrypt_for(instance, clear)
        return True
