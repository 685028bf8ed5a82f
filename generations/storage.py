"""Image files in `default_storage`: `images/<user_id>/<generation_id>/<index>.<ext>` + a WebP
thumbnail beside it. Files are never under a public URL; views stream them to their owner.

Everything about the picture (format, width, height) comes from decoding the bytes with Pillow,
never from what the provider claimed: a provider (or a stand-in, or an attacker-controlled URL)
can send anything. Bytes that Pillow cannot open are refused before anything is written.
"""

from __future__ import annotations

import io
import logging
import posixpath
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

logger = logging.getLogger(__name__)

THUMBNAIL_MAX_SIDE = 384
THUMBNAIL_QUALITY = 80
# Formats Bambi keeps as they come: what the providers send. Anything else is refused rather
# than stored and served with a guessed content type.
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
CONTENT_TYPES = {fmt.lower(): mime for fmt, (_ext, mime) in FORMATS.items()}
CONTENT_TYPES["webp-thumbnail"] = "image/webp"


class UnreadableImage(Exception):
    """The bytes are not an image Bambi can keep (not decodable, unknown format, too large)."""


@dataclass(frozen=True)
class DecodedImage:
    format: str  # "png", "jpeg", "webp", "gif"
    extension: str
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredImage:
    index: int
    storage_path: str
    thumbnail_path: str
    width: int
    height: int
    format: str
    bytes: int


def user_prefix(user_id) -> str:
    return f"images/{user_id}/"


def generation_prefix(user_id, generation_id) -> str:
    return f"images/{user_id}/{generation_id}/"


def content_type_for(image_format: str) -> str:
    return CONTENT_TYPES.get((image_format or "").lower(), "application/octet-stream")


def decode(data: bytes) -> DecodedImage:
    """Check that `data` is a whole image of a kept format; raise UnreadableImage otherwise."""
    if not data:
        raise UnreadableImage("empty image")
    try:
        with warnings.catch_warnings():
            # A DecompressionBombWarning is a picture far larger than any provider sends.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                img.verify()  # reads the whole file: truncated data fails here
            with PILImage.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
    except (
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from None
    if fmt not in FORMATS:
        raise UnreadableImage(f"unsupported image format {fmt}")
    extension, content_type = FORMATS[fmt]
    return DecodedImage(fmt.lower(), extension, content_type, width, height)


def make_thumbnail(data: bytes) -> bytes:
    """A WebP no larger than THUMBNAIL_MAX_SIDE on its longer side, keeping the aspect ratio."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img.seek(0)  # first frame of an animation
            img = img.convert("RGBA" if _has_alpha(img) else "RGB")
            # reducing_gap: shrink by an integer factor first (much cheaper), then resample;
            # WebP method 2 encodes ~2.5x faster than 4 at the same quality setting. Together
            # they take ~25 ms off every generation (bench/generation_overhead.py).
            img.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), reducing_gap=2.0)
            out = io.BytesIO()
            img.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=2)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from None


def _has_alpha(img: PILImage.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def images_store(*, user_id, generation_id, images: Iterable[bytes]) -> list[StoredImage]:
    """Decode, then write each image and its thumbnail; return what was stored.

    All or nothing: every image is decoded before the first write, and if a write fails the
    files already written are deleted before the error propagates.
    """
    payloads = list(images)
    decoded = [decode(data) for data in payloads]
    thumbnails = [make_thumbnail(data) for data in payloads]
    prefix = generation_prefix(user_id, generation_id)
    written: list[str] = []
    stored: list[StoredImage] = []
    try:
        for index, (data, info, thumb) in enumerate(
            zip(payloads, decoded, thumbnails, strict=True)
        ):
            path = default_storage.save(f"{prefix}{index}.{info.extension}", ContentFile(data))
            written.append(path)
            thumb_path = default_storage.save(f"{prefix}{index}_thumb.webp", ContentFile(thumb))
            written.append(thumb_path)
            stored.append(
                StoredImage(
                    index=index,
                    storage_path=path,
                    thumbnail_path=thumb_path,
                    width=info.width,
                    height=info.height,
                    format=info.format,
                    bytes=len(data),
                )
            )
    except BaseException:
        files_delete(written)
        raise
    return stored


def files_delete(paths: Iterable[str]) -> int:
    """Delete these files; returns how many existed. Never raises for one missing file: a
    cleanup that stops half-way leaves more orphans than it removes."""
    deleted = 0
    for path in paths:
        if not path:
            continue
        try:
            if default_storage.exists(path):
                default_storage.delete(path)
                deleted += 1
        except Exception:  # noqa: BLE001 - log and go on with the others
            logger.exception("Could not delete stored file %s", path)
    _prune_empty_dirs({posixpath.dirname(p) for p in paths if p})
    return deleted


def prefix_delete(prefix: str) -> int:
    """Delete every file under `prefix` (a user's or a generation's folder), orphans included."""
    paths = list(_walk(prefix.rstrip("/")))
    count = files_delete(paths)
    _prune_empty_dirs({prefix.rstrip("/")})
    return count


def _walk(folder: str):
    try:
        dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in dirs:
        yield from _walk(f"{folder}/{name}")


def _prune_empty_dirs(folders: set[str]) -> None:
    """Remove folders left empty on a local disk (object stores have no folders)."""
    import os

    for folder in sorted(folders, key=len, reverse=True):
        current = folder
        while current and current.startswith("images/") and current != "images":
            try:
                local = default_storage.path(current)
            except NotImplementedError:
                return
            try:
                os.rmdir(local)
            except OSError:
                break  # not empty, or already gone
            current = posixpath.dirname(current)
