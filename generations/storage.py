"""Image files in `default_storage`: `images/<user_id>/<generation_id>/<index>.<ext>` + a WebP
thumbnail beside it (`<index>_thumb.webp`, made on its first request by
`image_thumbnail_ensure`), and an edit's inputs in `…/<generation_id>/inputs/` (`<n>.<ext>`,
`mask.png`). Files are never under a public URL; views stream them to their owner.

Generated images are stored with their provenance written into their metadata
(generations/provenance.py), once, here; the pixels stay the provider's. Inputs are stored as
the bytes the provider was sent.

Everything about the picture (format, width, height) comes from decoding the bytes with Pillow,
never from what the provider claimed: a provider (or a stand-in, or an attacker-controlled URL)
can send anything. Bytes that Pillow cannot open are refused before anything is written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import posixpath
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from generations import provenance
from generations.metadata import MetadataError
from generations.models import GenerationInput
from generations.models import Image as ImageRow

logger = logging.getLogger(__name__)

THUMBNAIL_MAX_SIDE = 384
# 64 MP: four times the largest image a provider sells today (4096²); decoding that much costs
# ~256 MB. Pillow's own bomb warning starts at 89 MP, too late for a 2-core server.
MAX_PIXELS = 64_000_000
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


class ImageTooLarge(UnreadableImage):
    """More pixels than IMAGE_MAX_PIXELS: refused from the header, before any decoding (a
    small PNG can declare 9400×9400 and cost seconds and hundreds of MB to decode)."""

    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(f"{width}x{height} pixels is over the limit of {limit}")
        self.width = width
        self.height = height
        self.limit = limit

    @property
    def limit_megapixels(self) -> int:
        return round(self.limit / 1_000_000)


def max_pixels() -> int:
    from django.conf import settings

    return int(getattr(settings, "IMAGE_MAX_PIXELS", MAX_PIXELS))


def _check_pixels(width: int, height: int) -> None:
    limit = max_pixels()
    if width * height > limit:
        raise ImageTooLarge(width, height, limit)


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
    """Check that `data` is a whole image of a kept format; raise UnreadableImage otherwise.

    Header and structure only: `verify()` walks the file (a truncated or corrupt PNG fails
    its chunk checks) without decompressing the pixels, which is what costs (~20 ms for a
    1024² PNG). Format and size are read from the same open: `verify()` leaves them in place.
    """
    if not data:
        raise UnreadableImage("empty image")
    try:
        with warnings.catch_warnings():
            # A DecompressionBombWarning is a picture far larger than any provider sends.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                _check_pixels(width, height)  # from the header, before reading pixel data
                img.verify()  # reads the whole file: truncated data fails here
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
            _check_pixels(*img.size)  # files stored before the limit existed, too
            img.seek(0)  # first frame of an animation
            # The thumbnail says where it comes from too: the original's provenance.
            xmp = img.info.get("xmp") or b""
            carried = {
                "xmp": xmp.encode() if isinstance(xmp, str) else xmp,
                "exif": img.getexif().tobytes(),
            }
            img = img.convert("RGBA" if _has_alpha(img) else "RGB")
            # reducing_gap: shrink by an integer factor first (much cheaper), then resample;
            # WebP method 2 encodes ~2.5x faster than 4 at the same quality setting. Together
            # they take ~25 ms off every generation (bench/generation_overhead.py).
            img.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), reducing_gap=2.0)
            out = io.BytesIO()
            img.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=2, **carried)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from None


def _has_alpha(img: PILImage.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def thumbnail_path_for(storage_path: str) -> str:
    """Where the WebP thumbnail of `storage_path` lives: `<index>_thumb.webp` beside it."""
    folder, name = posixpath.split(storage_path)
    return posixpath.join(folder, f"{name.rsplit('.', 1)[0]}_thumb.webp")


def images_store(
    *, user_id, generation_id, images: Iterable[bytes], records: list[dict] | None = None
) -> list[StoredImage]:
    """Check, then write each image; return what was stored (thumbnail paths included).

    `records[i]` is image i's provenance, written into its metadata before the write (a file
    whose structure the writer does not follow is kept as the provider sent it, and logged).
    All or nothing: every image is checked before the first write, and if a write fails the
    files already written are deleted before the error propagates.

    The thumbnail is only named here, not made: decoding a 1024² PNG, resizing it and encoding
    a WebP cost ~45 ms, more than everything else Bambi adds to a generation. It is made on
    its first request (`thumbnail_ensure`), which the gallery sends right after anyway.
    """
    payloads = list(images)
    decoded = [decode(data) for data in payloads]
    prefix = generation_prefix(user_id, generation_id)
    written: list[str] = []
    stored: list[StoredImage] = []
    try:
        for index, (data, info) in enumerate(zip(payloads, decoded, strict=True)):
            if records is not None:
                data = _stamped(data, info.format, records[index])
            path = default_storage.save(f"{prefix}{index}.{info.extension}", ContentFile(data))
            written.append(path)
            stored.append(
                StoredImage(
                    index=index,
                    storage_path=path,
                    thumbnail_path=thumbnail_path_for(path),
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


def _stamped(data: bytes, fmt: str, record: dict) -> bytes:
    if fmt not in ("png", "jpeg", "webp"):
        return data  # GIF: no provider answers with one; nowhere standard to write XMP
    try:
        return provenance.stamp(data, fmt=fmt, record=record)
    except MetadataError as exc:
        logger.warning("Provenance not written into a %s image: %s", fmt, exc)
        return data


@dataclass(frozen=True)
class StoredInput:
    index: int
    is_mask: bool
    storage_path: str
    thumbnail_path: str
    width: int
    height: int
    format: str
    bytes: int


def inputs_store(*, user_id, generation_id, images: list, mask=None) -> list[StoredInput]:
    """Write an edit's inputs (generations.inputs.InputImage, checked already) as they are:
    `…/inputs/<n>.<ext>` and `…/inputs/mask.png`. All or nothing, like `images_store`."""
    prefix = generation_prefix(user_id, generation_id) + "inputs/"
    entries = [(index, False, image) for index, image in enumerate(images)]
    if mask is not None:
        entries.append((0, True, mask))
    written: list[str] = []
    stored: list[StoredInput] = []
    try:
        for index, is_mask, image in entries:
            name = "mask.png" if is_mask else f"{index}.{image.extension}"
            path = default_storage.save(prefix + name, ContentFile(image.data))
            written.append(path)
            stored.append(
                StoredInput(
                    index=index,
                    is_mask=is_mask,
                    storage_path=path,
                    thumbnail_path=thumbnail_path_for(path),
                    width=image.width,
                    height=image.height,
                    format=image.format,
                    bytes=len(image.data),
                )
            )
    except BaseException:
        files_delete(written)
        raise
    return stored


def thumbnail_ensure(*, storage_path: str, thumbnail_path: str) -> bool:
    """Make the thumbnail of `storage_path` at `thumbnail_path` unless it exists already.

    Returns True when it was made now. Raises FileNotFoundError when the image itself is gone
    (deleted meanwhile) and UnreadableImage when it cannot be decoded.
    Two first requests at once both make it and both write the same bytes under the final
    name, each through a temporary name and an atomic rename (one object PUT on S3), so a
    reader never sees half a file and no second copy under another name is left behind.
    """
    if default_storage.exists(thumbnail_path):
        return False
    with default_storage.open(storage_path, "rb") as source:
        data = source.read()
    _write_replacing(thumbnail_path, make_thumbnail(data))
    return True


def image_thumbnail_ensure(*, image: ImageRow | GenerationInput) -> None:
    """Make the image's (or input's) WebP thumbnail if it is not there yet (made on first
    request).

    Raises Http404 when the image file is gone or unreadable. If the generation was deleted
    while the thumbnail was being made, the thumbnail is deleted again: the deletion removed
    the folder before this write, and nothing else would ever remove that file.
    """
    if not image.thumbnail_path:
        raise Http404
    try:
        made = thumbnail_ensure(
            storage_path=image.storage_path, thumbnail_path=image.thumbnail_path
        )
    except (FileNotFoundError, OSError) as exc:
        logger.warning("Thumbnail of image %s: the image file is missing (%s)", image.pk, exc)
        raise Http404 from None
    except UnreadableImage as exc:
        logger.warning("Thumbnail of image %s: the image cannot be decoded (%s)", image.pk, exc)
        raise Http404 from None
    if made and not type(image).objects.filter(pk=image.pk).exists():
        files_delete([image.thumbnail_path])
        raise Http404


def _write_replacing(name: str, content: bytes) -> None:
    """Write `content` at exactly `name`, replacing what is there, atomically."""
    try:
        target = default_storage.path(name)
    except NotImplementedError:
        # Object stores: one PUT is atomic. `_save` writes the name as given; `save` would
        # pick another name when it exists (file_overwrite is off for the originals).
        default_storage._save(name, ContentFile(content))
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    # The temporary file sits in the generation's folder, so deleting the generation (which
    # empties its folder) also removes one left by a crash between the write and the rename.
    handle, temporary = tempfile.mkstemp(
        dir=os.path.dirname(target), prefix=".thumb-", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, getattr(default_storage, "file_permissions_mode", None) or 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


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
