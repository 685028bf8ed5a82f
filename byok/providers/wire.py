"""Reading and writing the providers' wire formats: JSON bodies, base64 and data: URLs, image
types from their first bytes. Pure helpers the adapters share
(`byok.providers.base` re-exports them)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from django.utils.translation import gettext

from byok.providers.errors import ProviderUnavailable


def load_json(body: bytes) -> dict | None:
    """The body as a JSON object, or None when it is not one (HTML error pages, garbage)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*;base64,", re.IGNORECASE)


def decode_b64(data: Any) -> tuple[bytes, str | None]:
    """Decode a base64 image, with or without a `data:image/…;base64,` prefix.

    Returns (bytes, mime type from the prefix or None). Raises ProviderUnavailable when the data
    is not base64 or decodes to nothing.
    """
    if not isinstance(data, str) or not data:
        raise ProviderUnavailable(gettext("The provider sent an image without data."))
    mime = None
    match = _DATA_URI.match(data)
    if match:
        mime = match.group("mime")
        data = data[match.end() :]
    try:
        try:
            raw = base64.b64decode(data, validate=True)
        except binascii.Error:
            # Line-wrapped base64 (some proxies); stripping whitespace costs a pass over
            # megabytes, so only when the plain decode failed.
            raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderUnavailable(
            gettext("The provider sent an image that could not be decoded.")
        ) from exc
    if not raw:
        raise ProviderUnavailable(gettext("The provider sent an empty image."))
    return raw, mime


def sniff_mime(data: bytes) -> str | None:
    """The image type from its first bytes, for answers that do not say."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def given_options(options: dict, *names: str) -> dict:
    """The options among `names` that have a value, in that order (request body fields)."""
    return {name: options[name] for name in names if options.get(name) not in (None, "")}


def data_url(data: bytes, mime_type: str) -> str:
    """Image bytes as a `data:<type>;base64,…` URL (how xAI takes an input image)."""
    return f"data:{mime_type};base64," + base64.b64encode(data).decode("ascii")


def text_of(value: Any) -> str | None:
    """`value` when it is a non-empty string, else None (provider fields are not always typed)."""
    return value if isinstance(value, str) and value.strip() else None


def json_safe(value: Any) -> dict:
    """`value` as a JSON-serialisable dict (usage blocks), or {}."""
    if not isinstance(value, dict):
        return {}
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return {}
