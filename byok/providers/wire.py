"""Reading and writing the providers' wire formats: JSON bodies, base64 and data: URLs, image
types from their first bytes. Pure helpers the adapters share
(`byok.providers.base` re-exports them)."""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import pybase64
from django.utils.translation import gettext

from byok.providers.errors import ProviderUnavailable


@dataclass(frozen=True, repr=False)
class Base64Blob:
    """A long base64 string of a provider's answer, decoded as the answer was read (see
    `load_json`): what `decode_b64` returns for it. `mime` comes from a `data:` prefix."""

    data: bytes
    mime: str | None = None

    def __bool__(self) -> bool:
        return bool(self.data)

    def __repr__(self) -> str:  # the bytes would flood logs and test output
        return f"Base64Blob({len(self.data)} bytes, mime={self.mime!r})"


# Strings at least this long are looked at as images (a key check's answer has none).
BLOB_MIN_CHARS = 16 * 1024
_BLOB_MARK = "\\u0000bambi-blob-"  # JSON text of a string no provider sends


def load_json(body: bytes) -> dict | None:
    """The body as a JSON object, or None when it is not one (HTML error pages, garbage).

    A large answer carries its images as base64 strings of megabytes: those are decoded
    straight from the body's bytes (pybase64) and stand in the result as `Base64Blob`s,
    so the JSON parser only reads the small rest and no megabyte-long str is ever made (two
    copies of the image fewer, ~5 ms less per 1024² PNG). A string that is not plain base64
    (escaped characters, line breaks) is left to the JSON parser as any other.
    """
    blobs: list[Base64Blob] = []
    if len(body) >= BLOB_MIN_CHARS:
        body = _lift_blobs(body, blobs)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    return _put_blobs(payload, blobs) if blobs else payload


def _lift_blobs(body: bytes, blobs: list[Base64Blob]) -> bytes:
    """`body` with every long base64 string replaced by a short marker string (appended to
    `blobs`, decoded). Unchanged when there is none, or when the body is not well formed
    (the parser then says so)."""
    pieces: list[bytes] = []
    view = memoryview(body)
    copied = pos = 0
    while (start := body.find(b'"', pos)) >= 0:
        end = _string_end(body, start)
        if end < 0:
            return body
        if end - start - 1 >= BLOB_MIN_CHARS:
            blob = _blob(view[start + 1 : end])
            if blob is not None:
                pieces += [body[copied:start], f'"{_BLOB_MARK}{len(blobs)}"'.encode()]
                blobs.append(blob)
                copied = end + 1
        pos = end + 1
    if not pieces:
        return body
    pieces.append(body[copied:])
    return b"".join(pieces)


def _string_end(body: bytes, start: int) -> int:
    """The index of the quote closing the JSON string opened at `start`, or -1."""
    end = start
    while (end := body.find(b'"', end + 1)) >= 0:
        backslashes = 0
        while body[end - 1 - backslashes] == 0x5C:  # an escaped quote is not the end
            backslashes += 1
        if backslashes % 2 == 0:
            return end
    return -1


# A `data:image/…;base64,` prefix, in text (decode_b64) and in an answer's bytes (_blob).
_DATA_URI_PATTERN = r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*;base64,"
_DATA_URI = re.compile(_DATA_URI_PATTERN, re.IGNORECASE)
_DATA_URI_BYTES = re.compile(_DATA_URI_PATTERN.encode(), re.IGNORECASE)


def _blob(text: memoryview) -> Base64Blob | None:
    mime = None
    if text[:5] == b"data:":
        match = _DATA_URI_BYTES.match(bytes(text[:256]))
        if match is None:
            return None
        mime = match.group("mime").decode("ascii") if match.group("mime") else None
        text = text[match.end() :]
    try:
        return Base64Blob(pybase64.b64decode(text, validate=True), mime)
    except (binascii.Error, ValueError):
        return None


def _put_blobs(value: Any, blobs: list[Base64Blob]) -> Any:
    """The parsed answer with each marker replaced by its blob."""
    if isinstance(value, dict):
        return {key: _put_blobs(item, blobs) for key, item in value.items()}
    if isinstance(value, list):
        return [_put_blobs(item, blobs) for item in value]
    if isinstance(value, str) and value.startswith("\x00bambi-blob-"):
        index = value[len("\x00bambi-blob-") :]
        if index.isdigit() and int(index) < len(blobs):
            return blobs[int(index)]
    return value




def decode_b64(data: Any) -> tuple[bytes, str | None]:
    """Decode a base64 image, with or without a `data:image/…;base64,` prefix.

    Returns (bytes, mime type from the prefix or None). Raises ProviderUnavailable when the data
    is not base64 or decodes to nothing. A `Base64Blob` (a long string `load_json` decoded
    already) gives its bytes.
    """
    if isinstance(data, Base64Blob):
        if not data.data:
            raise ProviderUnavailable(gettext("The provider sent an empty image."))
        return data.data, data.mime
    if not isinstance(data, str) or not data:
        raise ProviderUnavailable(gettext("The provider sent an image without data."))
    mime = None
    match = _DATA_URI.match(data)
    if match:
        mime = match.group("mime")
        data = data[match.end() :]
    try:
        try:
            raw = pybase64.b64decode(data, validate=True)
        except binascii.Error:
            # Line-wrapped base64 (some proxies); stripping whitespace costs a pass over
            # megabytes, so only when the plain decode failed.
            raw = pybase64.b64decode("".join(data.split()), validate=True)
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
    return f"data:{mime_type};base64," + pybase64.b64encode(data).decode("ascii")


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
