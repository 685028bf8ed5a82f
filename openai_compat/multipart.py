"""Reading OpenAI's multipart edit form (POST /v1/images/edits) as the SDKs send it.

What the official SDKs send (research-edits.md §1.1, §1.5): one file is the part `image`; a
list is one `image[]` part per file (even a list of one); `image[0]`, `image[1]`… is the
SDKs' other array format; `mask` is one file; every other field is text (`n` as "2", booleans
as "true"/"false"). A field the client left out is not sent at all.

The Node SDK uploads a stream with `Transfer-Encoding: chunked` and no Content-Length; Django
then reads an empty form. Under gunicorn (which de-chunks the body) the body is read here, up to
the cap, and parsed as Django would have.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _

from bambi.schemas import too_big_sentence
from openai_compat.errors import OpenAIError

MULTIPART = "multipart/form-data"
IMAGE_PARTS = ("image", "image[]")
_INDEXED_IMAGE = re.compile(r"^image\[(\d{1,2})\]$")
FILE_FIELDS = ("image", "mask")


@dataclass
class EditForm:
    """The edit request's text fields (name -> value) and its files, in the order sent."""

    fields: dict[str, str] = field(default_factory=dict)
    images: list[UploadedFile] = field(default_factory=list)
    mask: UploadedFile | None = None


def body_max_bytes() -> int:
    return int(getattr(settings, "GENERATION_REQUEST_MAX_BYTES", 50 * 1024 * 1024))


def read_edit_form(request: HttpRequest) -> EditForm:
    """The multipart form of `request`, or OpenAIError (400, 413) saying what is wrong."""
    if (request.content_type or "") != MULTIPART:
        raise OpenAIError(
            _(
                "Send the edit as multipart/form-data, as the OpenAI SDKs do: the image file "
                "as “image” (or several as “image[]”), the prompt, the model and the options "
                "as form fields."
            ),
            code="invalid_content_type",
        )
    limit = body_max_bytes()
    length = _content_length(request)
    if length > limit:
        raise OpenAIError(too_big_sentence(limit), http_status=413, code="request_too_large")
    try:
        if length == 0 and _chunked(request):
            post, files = _parse_chunked(request, limit)
        else:
            post, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise OpenAIError(too_big_sentence(), http_status=413, code="request_too_large") from None
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent):
        raise OpenAIError(
            _("The multipart body could not be read; send it as the OpenAI SDKs do."),
            code="invalid_multipart",
        ) from None
    return _edit_form(post, files)


def _edit_form(post, files) -> EditForm:
    form = EditForm()
    for name in post:
        if name in FILE_FIELDS or name in IMAGE_PARTS or _INDEXED_IMAGE.match(name):
            raise OpenAIError(
                _("“%(param)s” must be a file part (an image file), not a text field.")
                % {"param": name.split("[")[0]},
                param=name.split("[")[0],
                code="invalid_type",
            )
        form.fields[name] = post.getlist(name)[-1]
    indexed: list[tuple[int, UploadedFile]] = []
    for name in files:
        match = _INDEXED_IMAGE.match(name)
        if name in IMAGE_PARTS:
            form.images.extend(files.getlist(name))
        elif match:
            indexed.extend((int(match.group(1)), upload) for upload in files.getlist(name))
        elif name == "mask":
            masks = files.getlist(name)
            if len(masks) > 1:
                raise OpenAIError(_("Send one mask at most."), param="mask", code="invalid_value")
            form.mask = masks[0]
        else:
            raise OpenAIError(
                _("Unknown parameter: '%(param)s'.") % {"param": name[:60]},
                param=name[:60],
                code="unknown_parameter",
            )
    form.images.extend(upload for _index, upload in sorted(indexed, key=lambda pair: pair[0]))
    return form


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _parse_chunked(request: HttpRequest, limit: int):
    """A chunked upload (the Node SDK's streams): the server hands over the de-chunked body
    without a length, which Django reads as empty. Read it here under the cap, then parse."""
    stream = request.META.get("wsgi.input")
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise OpenAIError(too_big_sentence(limit), http_status=413, code="request_too_large")
    meta = {**request.META, "CONTENT_LENGTH": str(len(raw))}
    return MultiPartParser(meta, io.BytesIO(raw), request.upload_handlers, request.encoding).parse()
