"""Writing metadata into PNG, JPEG and WebP files without touching their pixels.

Pillow's `save` re-encodes: a second lossy pass for JPEG and WebP, and seconds of work for a big
PNG. These helpers add chunks or segments around the provider's own image data instead, so the
stored file shows exactly the pixels the provider sent (checked in tests/generations/
test_provenance.py by decoding both). Where they go:

- PNG: iTXt chunks right after IHDR (one per text item, plus the XMP packet under the keyword
  `XML:com.adobe.xmp`, which is where Adobe's XMP spec and Pillow look for it);
- JPEG: an APP1 Exif segment and an APP1 XMP segment right after SOI (and APP0 JFIF if there);
- WebP: the RIFF container becomes the extended format (VP8X) with EXIF and XMP chunks; the
  provider's VP8/VP8L/ALPH/ICC/animation chunks are kept as they are, byte for byte.

Metadata the provider wrote in the same places (its own XMP or Exif) comes after Bambi's in
PNG and JPEG (readers take the first) and is replaced in WebP (one chunk of each is allowed).
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
# One APP segment holds 65535 bytes, its length field and header included.
JPEG_SEGMENT_MAX = 65535 - 2


class MetadataError(ValueError):
    """The file is not the format it was said to be, or a part does not fit."""


def embed(data: bytes, *, fmt: str, xmp: bytes, exif: bytes, text: dict[str, str]) -> bytes:
    """`data` (a PNG, JPEG or WebP: `fmt` "png", "jpeg" or "webp") with this metadata added.
    `exif` is TIFF data with or without the "Exif\\0\\0" header; `text` goes to PNG iTXt only."""
    if fmt == "png":
        return png_add_itxt(data, {**text, XMP_KEYWORD: xmp.decode("utf-8")})
    if fmt == "jpeg":
        return jpeg_add_app1(data, xmp=xmp, exif=exif)
    if fmt == "webp":
        return webp_add_metadata(data, xmp=xmp, exif=exif)
    raise MetadataError(f"no metadata writer for {fmt}")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_add_itxt(png: bytes, items: dict[str, str]) -> bytes:
    """Insert one uncompressed iTXt chunk per item after IHDR (the IDAT chunks are untouched;
    uncompressed so that a page's JavaScript can find the XMP without inflating it)."""
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise MetadataError("not a PNG")
    cut = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    chunks = b"".join(
        # keyword, NUL, compression flag 0, method 0, no language tag, NUL, no translation, NUL
        _png_chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + value.encode())
        for key, value in items.items()
    )
    return _spliced(png, cut, chunks)


def _spliced(data: bytes, at: int, inserted: bytes) -> bytes:
    """`data` with `inserted` at offset `at`, copying the megabytes of `data` once (slicing
    and `+` would copy them three times)."""
    view = memoryview(data)
    return b"".join((view[:at], inserted, view[at:]))


def _jpeg_segment(marker: bytes, payload: bytes) -> bytes:
    if len(payload) > JPEG_SEGMENT_MAX:
        raise MetadataError("segment too large")
    return marker + struct.pack(">H", len(payload) + 2) + payload


def jpeg_add_app1(jpg: bytes, *, xmp: bytes, exif: bytes) -> bytes:
    """Insert APP1 Exif and APP1 XMP after SOI (after APP0 JFIF when there is one, which must
    stay first); the scan data is untouched."""
    if not jpg.startswith(b"\xff\xd8"):
        raise MetadataError("not a JPEG")
    pos = 2
    if jpg[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", jpg[4:6])[0]
    tiff = exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif
    added = _jpeg_segment(b"\xff\xe1", tiff) + _jpeg_segment(b"\xff\xe1", JPEG_XMP_HEADER + xmp)
    return _spliced(jpg, pos, added)


def _riff_chunks(webp: bytes) -> list[tuple[bytes, bytes]]:
    if webp[:4] != b"RIFF" or webp[8:12] != b"WEBP":
        raise MetadataError("not a WebP")
    chunks, pos = [], 12
    while pos + 8 <= len(webp):
        kind, size = webp[pos : pos + 4], struct.unpack("<I", webp[pos + 4 : pos + 8])[0]
        chunks.append((kind, webp[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def _webp_canvas(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """(width, height, has alpha) from the image chunk of a simple WebP."""
    for kind, payload in chunks:
        if kind == b"VP8 ":  # lossy: a keyframe header, 14-bit sizes after the start code
            width, height = struct.unpack("<HH", payload[6:10])
            return width & 0x3FFF, height & 0x3FFF, any(k == b"ALPH" for k, _ in chunks)
        if kind == b"VP8L":  # lossless: signature byte, then 14+14 bits of size - 1, alpha bit
            bits = int.from_bytes(payload[1:5], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    raise MetadataError("WebP without an image chunk")


def webp_add_metadata(webp: bytes, *, xmp: bytes, exif: bytes) -> bytes:
    """The WebP as an extended-format file (VP8X) with Bambi's EXIF and XMP chunks."""
    chunks = _riff_chunks(webp)
    if chunks and chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        kept = [(k, p) for k, p in chunks[1:] if k not in (b"EXIF", b"XMP ")]
    else:
        width, height, alpha = _webp_canvas(chunks)
        header = bytearray(10)
        header[0] = 0x10 if alpha else 0
        header[4:7] = (width - 1).to_bytes(3, "little")
        header[7:10] = (height - 1).to_bytes(3, "little")
        kept = chunks
    header[0] |= 0x08 | 0x04  # EXIF and XMP present
    tiff = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    body = b"WEBP" + b"".join(
        [
            _riff_chunk(b"VP8X", bytes(header)),
            *(_riff_chunk(kind, payload) for kind, payload in kept),
            _riff_chunk(b"EXIF", tiff),
            _riff_chunk(b"XMP ", xmp),
        ]
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body
