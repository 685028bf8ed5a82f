"""The input images of an edit: read and checked once, whatever door they came through.

The JSON API (`inputImages`: gallery image ids or data: URLs, `mask`), the generate page (files)
and any other entry (an OpenAI-compatible multipart endpoint) turn what they received into
`InputImage`s with the functions here, check them against the model with `inputs_check`, then
call `generation_run(..., input_images=[...], mask=...)`:

    images = [input_image_from_bytes(part.read(), label=...) for part in files]
    mask = mask_from_bytes(mask_part.read()) if mask_part else None
    inputs_check(model=model, images=images, mask=mask)

Every check reads the bytes (Pillow), never a file name or a declared type. Each refusal is an
`InputRejected` (400) whose sentence names the input and what to change.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from bambi.errors import BambiError
from byok.models import ImageModel
from generations.models import Image
from generations.selectors import image_get

# What providers take as input images (OpenAI, Gemini and xAI agree), from Pillow's names.
INPUT_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# OpenAI's limit for a mask; it must be a PNG of the first image's size.
MASK_MAX_BYTES = 4 * 1024 * 1024
_DATA_URL = re.compile(r"^data:(?P<mime>image/(?:png|jpeg|jpg|webp));base64,", re.IGNORECASE)


class InputRejected(BambiError):
    """An input image or mask Bambi does not send: the sentence says which and why (400).
    `field` is the request field it is about: "input_images" or "mask"."""

    def __init__(self, message: str, *, field: str = "input_images") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InputImage:
    """One image sent with the prompt, or the mask. `mime_type`, `width` and `height` come from
    the bytes; `source_image` is the user's gallery image it was taken from, if it was one."""

    data: bytes
    mime_type: str
    width: int
    height: int
    source_image: Image | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime_type]

    @property
    def format(self) -> str:
        return self.extension.replace("jpg", "jpeg")

    def __repr__(self) -> str:  # the bytes would flood logs and test output
        return f"InputImage({self.mime_type}, {self.width}x{self.height}, {len(self.data)} bytes)"


def max_bytes() -> int:
    return int(getattr(settings, "INPUT_IMAGE_MAX_BYTES", 20 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "INPUT_IMAGE_MAX_PIXELS", 4096 * 4096))


def image_label(index: int) -> str:
    """How a sentence names input image `index` (from 0)."""
    return _("Input image %(number)d") % {"number": index + 1}


def mask_label() -> str:
    return _("The mask")


def input_image_from_bytes(
    data: bytes, *, label: str | None = None, source_image: Image | None = None
) -> InputImage:
    """Check image bytes (a kept format, whole, within the byte and pixel caps) and type them."""
    label = label or image_label(0)
    _check_size(data, max_bytes(), label)
    mime, width, height = _open(data, label)
    return InputImage(data, mime, width, height, source_image)


def mask_from_bytes(data: bytes) -> InputImage:
    """Check a mask: a PNG with transparent pixels (where the image is to change), 4 MB at most.
    Its size against the first image is `inputs_check`'s part."""
    try:
        return _mask(data)
    except InputRejected as exc:
        exc.field = "mask"
        raise


def _mask(data: bytes) -> InputImage:
    label = mask_label()
    _check_size(data, min(MASK_MAX_BYTES, max_bytes()), label)
    mime, width, height = _open(data, label)
    if mime != "image/png":
        raise InputRejected(
            _("%(label)s must be a PNG (with transparency); this file is a %(kind)s.")
            % {"label": label, "kind": mime.split("/")[1].upper()}
        )
    with PILImage.open(io.BytesIO(data)) as img:
        if not (img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info):
            raise InputRejected(
                _(
                    "%(label)s has no transparency: make the parts to change transparent "
                    "and keep the rest opaque."
                )
                % {"label": label}
            )
        alpha = img.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] != 0:
            raise InputRejected(
                _("%(label)s has no transparent pixel, so it marks nothing to change.")
                % {"label": label}
            )
    return InputImage(data, mime, width, height)


def bytes_from_data_url(value: str, *, label: str) -> bytes:
    """The bytes of a `data:image/png|jpeg|webp;base64,…` URL (the type is read again from the
    bytes: the URL's word is not trusted)."""
    match = _DATA_URL.match(value) if isinstance(value, str) else None
    if not match:
        raise InputRejected(
            _(
                "%(label)s must be a data URL of a PNG, JPEG or WebP image "
                "(data:image/png;base64,…)."
            )
            % {"label": label}
        )
    encoded = value[match.end() :]
    # Checked before decoding: base64 is 4/3 of the bytes.
    _check_size(b"", max_bytes(), label, size=len(encoded) * 3 // 4)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputRejected(
            _("%(label)s is not valid base64 after “base64,”.") % {"label": label}
        ) from None


def input_image_from_gallery(*, user, image_id, label: str) -> InputImage:
    """One of `user`'s stored images as an input. Http404 when it is not theirs (the same
    answer as for a missing one)."""
    image = image_get(user=user, pk=image_id)
    try:
        with default_storage.open(image.storage_path, "rb") as handle:
            data = handle.read(max_bytes() + 1)
    except (FileNotFoundError, OSError):
        raise InputRejected(
            _("%(label)s: that image's file is no longer stored.") % {"label": label}
        ) from None
    return input_image_from_bytes(data, label=label, source_image=image)


@dataclass(frozen=True)
class InputSource:
    """An input as a request named it, before it is read: one of the user's images
    (`image_id`), a `data_url`, or an `upload` (a file object with `.size` and `.read()`)."""

    image_id: str | None = None
    data_url: str | None = None
    upload: object | None = None

    @classmethod
    def from_value(cls, value) -> InputSource:
        """A form value: an InputSource, a data: URL, an image id, or an uploaded file."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(data_url=value) if value.startswith("data:") else cls(image_id=value)
        return cls(upload=value)


def input_image_from_source(source: InputSource, *, user, index: int) -> InputImage:
    """Input image `index` of a request, read from wherever it came (Http404 for an image id
    that is not one of `user`'s)."""
    label = image_label(index)
    if source.image_id is not None:
        return input_image_from_gallery(user=user, image_id=source.image_id, label=label)
    return input_image_from_bytes(_source_bytes(source, label, max_bytes()), label=label)


def mask_from_source(source: InputSource) -> InputImage:
    if source.image_id is not None:
        raise InputRejected(
            _("Send the mask as a PNG file or data URL, not as an image id."), field="mask"
        )
    try:
        data = _source_bytes(source, mask_label(), MASK_MAX_BYTES)
    except InputRejected as exc:
        exc.field = "mask"
        raise
    return mask_from_bytes(data)


def _source_bytes(source: InputSource, label: str, limit: int) -> bytes:
    if source.data_url is not None:
        return bytes_from_data_url(source.data_url, label=label)
    upload = source.upload
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        _check_size(b"", limit, label, size=size)  # refused before reading it
    return upload.read(limit + 1) if upload is not None else b""


def inputs_check(*, model: ImageModel, images: list[InputImage], mask: InputImage | None) -> None:
    """The inputs against the model's `capabilities`: how many images it takes
    (`max_input_images`, 0 = text only), whether it takes a mask, and the mask's size."""
    capabilities = model.capabilities or {}
    limit = _whole(capabilities.get("max_input_images"))
    if images and limit == 0:
        raise InputRejected(
            _("%(model)s makes images from text only; it takes no input images.")
            % {"model": model.name}
        )
    if len(images) > limit:
        raise InputRejected(
            _("%(model)s takes at most %(limit)d input images; you gave %(count)d.")
            % {"model": model.name, "limit": limit, "count": len(images)}
        )
    if mask is None:
        return
    if capabilities.get("mask") is not True:
        raise InputRejected(
            _("%(model)s does not take a mask; describe the change in the prompt instead.")
            % {"model": model.name},
            field="mask",
        )
    if not images:
        raise InputRejected(_("A mask needs an input image to apply to."), field="mask")
    first = images[0]
    if (mask.width, mask.height) != (first.width, first.height):
        raise InputRejected(
            _(
                "The mask is %(mask)s pixels but the first input image is %(image)s: they must "
                "be the same size."
            )
            % {
                "mask": f"{mask.width}×{mask.height}",
                "image": f"{first.width}×{first.height}",
            },
            field="mask",
        )


def _whole(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _check_size(data: bytes, limit: int, label: str, *, size: int | None = None) -> None:
    size = len(data) if size is None else size
    if size > limit:
        raise InputRejected(
            _("%(label)s is %(size)s; at most %(limit)s is accepted.")
            % {"label": label, "size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise InputRejected(_("%(label)s is empty.") % {"label": label})


def _open(data: bytes, label: str) -> tuple[str, int, int]:
    """(mime type, width, height) of a whole PNG, JPEG or WebP within the pixel cap."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format, img.size
                if width * height > max_pixels():
                    raise InputRejected(
                        _(
                            "%(label)s is %(width)d×%(height)d pixels; at most %(limit)s "
                            "megapixels are accepted."
                        )
                        % {
                            "label": label,
                            "width": width,
                            "height": height,
                            "limit": round(max_pixels() / 1_000_000, 1),
                        }
                    )
                img.verify()  # the whole file: a truncated or corrupt one fails here
    except InputRejected:
        raise
    except (
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise InputRejected(
            _("%(label)s is not an image Bambi can read (PNG, JPEG or WebP).") % {"label": label}
        ) from None
    if fmt not in INPUT_FORMATS:
        raise InputRejected(
            _("%(label)s is a %(format)s; send a PNG, JPEG or WebP image.")
            % {"label": label, "format": fmt}
        )
    return INPUT_FORMATS[fmt], width, height
