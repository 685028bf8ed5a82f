"""Real, small images made with Pillow, for tests that need bytes a decoder accepts, and
`media_files()` to see what landed in storage.

Shared by every app's tests (provider answers, storage, thumbnails): keep the names.
"""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

from django.conf import settings
from PIL import Image


def _image_bytes(width: int, height: int, fmt: str, color: tuple[int, int, int], **save) -> bytes:
    image = Image.new("RGB", (width, height), color)
    # A second colour in one corner, so the picture is not a single flat block.
    image.paste((255 - color[0], 255 - color[1], 255 - color[2]), (0, 0, width // 2, height // 2))
    buffer = BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def png_bytes(
    width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 60)
) -> bytes:
    """A real PNG of `width` x `height` pixels."""
    return _image_bytes(width, height, "PNG", color)


def jpeg_bytes(
    width: int = 8, height: int = 8, color: tuple[int, int, int] = (30, 120, 200)
) -> bytes:
    """A real JPEG of `width` x `height` pixels."""
    return _image_bytes(width, height, "JPEG", color, quality=90)


def webp_bytes(
    width: int = 8, height: int = 8, color: tuple[int, int, int] = (40, 160, 90)
) -> bytes:
    """A real WebP of `width` x `height` pixels."""
    return _image_bytes(width, height, "WEBP", color)


def mask_png(width: int = 8, height: int = 8, hole: tuple | None = None, *, alpha=True) -> bytes:
    """A mask as providers take it: an opaque PNG whose transparent pixels (the `hole`
    rectangle, default its left half) mark what to change. `alpha=False`: an RGB PNG."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    if hole != ():  # () : no transparent pixel at all
        image.paste((0, 0, 0, 0), hole or (0, 0, max(width // 2, 1), height))
    buffer = BytesIO()
    (image if alpha else image.convert("RGB")).save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    """`data` as standard base64 text, the way providers send images."""
    return base64.b64encode(data).decode("ascii")


def data_url(data: bytes, mime: str = "image/png") -> str:
    """`data` as a `data:<mime>;base64,…` URL, the way a browser reads a dropped file."""
    return f"data:{mime};base64,{b64(data)}"


def noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress (noise): about 3 bytes a pixel, for tests about sizes."""
    image = Image.merge("RGB", [Image.effect_noise((width, height), 120)] * 3)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(width: int = 8, height: int = 8) -> bytes:
    """A real GIF (a format Bambi does not take as an input image)."""
    return _image_bytes(width, height, "GIF", (10, 10, 10))


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of encoded image bytes; raises if Pillow cannot read them."""
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.size


def pixels(data: bytes) -> tuple[tuple[int, int], str, bytes]:
    """(size, mode, decoded pixels) of encoded image bytes: equal for two files that show the
    same picture, whatever metadata they carry (Bambi writes provenance into stored files)."""
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.size, image.mode, image.tobytes()


def image_format(data: bytes) -> str:
    """Pillow's name for the format of `data` ("PNG", "JPEG", "WEBP")."""
    with Image.open(BytesIO(data)) as image:
        return str(image.format)


def huge_png(width: int, height: int) -> bytes:
    """A valid grey PNG of `width` x `height` pixels that compresses to almost nothing (a
    "decompression bomb": 9400x9400 is 88 MP in ~90 KB). Written row by row, never held
    decoded in memory."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width  # filter "none", mid-grey
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def media_files() -> list[str]:
    """Every file stored under MEDIA_ROOT (each test has its own), relative, sorted."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
