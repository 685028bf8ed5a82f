"""Reading request bodies the way a provider's server reads them: multipart forms part by part,
and the input images an edit carries in whichever dialect (multipart parts, data: URLs,
Gemini's inline data). Shared by the adapter tests and the loopback stand-in (tests/standin.py).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def multipart_parts(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/form-data body, in order (the boundary is read from the
    Content-Type header, as a server does)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValueError(f"not a multipart body: {content_type}")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    parts = []
    for part in message.iter_parts():
        parts.append(
            Part(
                name=part.get_param("name", header="content-disposition"),
                filename=part.get_filename(),
                content_type=part.get("Content-Type") and part.get_content_type(),
                data=part.get_payload(decode=True) or b"",
            )
        )
    return parts


def decode_data_url(url: str) -> tuple[bytes, str]:
    """(bytes, mime type) of a `data:<type>;base64,…` URL."""
    match = _DATA_URL.match(url)
    if not match:
        raise ValueError("not a base64 data URL")
    return base64.b64decode(match.group("data"), validate=True), match.group("mime")


def json_images(body: Any) -> list[tuple[bytes, str]]:
    """The images a JSON edit body carries, in order: xAI's `image`/`images` data: URLs and
    Gemini's `inline_data`/`inlineData` parts (both spellings, as Google's servers accept)."""
    found: list[tuple[bytes, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            inline = node.get("inline_data") or node.get("inlineData")
            if isinstance(inline, dict):
                mime = inline.get("mime_type") or inline.get("mimeType")
                found.append((base64.b64decode(inline["data"], validate=True), mime))
                return
            url = node.get("url")
            if isinstance(url, str) and url.startswith("data:"):
                found.append(decode_data_url(url))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


def request_images(body: bytes, content_type: str) -> list[tuple[bytes, str]]:
    """The input images of an edit request (not its mask), whatever its encoding."""
    if content_type.lower().startswith("multipart/"):
        return [
            (part.data, part.content_type or "")
            for part in multipart_parts(body, content_type)
            if part.name in ("image", "image[]") or re.fullmatch(r"image\[\d+\]", part.name)
        ]
    return json_images(json.loads(body))
