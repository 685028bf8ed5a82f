"""The pieces the apps' JSON API code is written with (byok/api.py, generations/schemas.py...).

Reading a request: `JsonBody` marks the view argument that is the JSON body, read by `read_json`
(a JSON object of valid Unicode, within DATA_UPLOAD_MAX_MEMORY_SIZE) and typed by a
`RequestSchema`. A schema types the JSON only; the rules (required, lengths, allowed values)
are the Django form's, shared with the pages, and `form_field` states them in the document
from the form itself. A check that refuses says its own sentence (`refuse`); otherwise the first
schema error becomes a sentence (`invalid_input`). `owned` fetches a path id through its owner
before anything else. `cleaned` runs a form and answers its errors as one sentence.

Answering: `Data[...]` is the success envelope, `ErrorOut` the failure one, `errors(...)` the
error statuses an operation documents beyond the common ones (bambi/api.py adds those).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.params.models import Body, BodyModel
from pydantic import Field
from pydantic_core import PydanticCustomError

from bambi.errors import BambiError
from bambi.ids import parse_uuid

JSON = "application/json"


class ApiError(BambiError):
    """Bad input to the JSON API (400 unless told otherwise); the sentence says what to change."""


# --- reading a JSON body -----------------------------------------------------------------------


def read_json(
    request: HttpRequest, *, images_max_bytes: int | None = None, image_fields: tuple = ()
) -> dict:
    """The request's JSON object body, or ApiError (400, or 413 when too large) with a sentence
    saying what is wrong. What passes can be stored and logged as it is: valid Unicode only.

    Bodies are held to DATA_UPLOAD_MAX_MEMORY_SIZE, except that a body carrying images (one of
    `image_fields` given, e.g. an edit's data: URLs) may reach `images_max_bytes`."""
    if (request.content_type or "") != JSON:
        raise ApiError(_("Send the request body as JSON (Content-Type: application/json)."))
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = _content_length(request)
    large = images_max_bytes is not None and limit is not None and length > limit
    if large:
        if length > images_max_bytes:
            raise ApiError(too_big_sentence(images_max_bytes), http_status=413)
        if not hasattr(request, "_body") and not request._read_started:
            # Read here, under this request's own cap, rather than by `request.body` (which
            # holds every body to DATA_UPLOAD_MAX_MEMORY_SIZE).
            request._body = request.read()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(too_big_sentence(), http_status=413) from None
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        body = _TOO_BIG if large else None
        if not large:
            raise ApiError(_("The request body is not valid JSON.")) from None
    except RecursionError:
        raise ApiError(_("The request body is nested too deeply.")) from None
    if large and not (isinstance(body, dict) and any(body.get(f) for f in image_fields)):
        # Past the ordinary limit, and no image to excuse it: what any large body gets.
        raise ApiError(too_big_sentence(), http_status=413)
    if not isinstance(body, dict):
        raise ApiError(_("The request body must be a JSON object."))
    if _has_lone_surrogate(body):
        raise ApiError(
            _(
                "The request contains text that is not valid Unicode (an unpaired surrogate "
                "such as \\ud800). Send the text as UTF-8."
            )
        )
    return body


_TOO_BIG = object()


def too_big_sentence(limit: int | None = None) -> str:
    return _("The request body is too large (at most %(size)s).") % {
        "size": filesizeformat(limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    }


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _has_lone_surrogate(body: dict) -> bool:
    """JSON's \\u escapes can carry half of a surrogate pair, which no database or log can
    encode as UTF-8. Re-encoding the parsed body finds one anywhere, keys included."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except RecursionError:  # parsed at the edge of the limit; too deep to be a real request
        raise ApiError(_("The request body is nested too deeply.")) from None
    return False


class _JsonBodyModel(BodyModel):
    """ninja's body model, reading the body with `read_json` (also when it is empty: no body is
    a 400 with a sentence, not a list of missing fields)."""

    @classmethod
    def get_request_data(cls, request: HttpRequest, api: Any, path_params: dict) -> dict:
        data = read_json(request)
        single = getattr(cls, "__read_from_single_attr__", None)
        return {single: data} if single else data


class JsonBody(Body):
    """Marks a view argument as the request's JSON body: `payload: Schema = JsonBody(...)`."""

    _model = _JsonBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class _ImagesJsonBodyModel(BodyModel):
    @classmethod
    def get_request_data(cls, request: HttpRequest, api: Any, path_params: dict) -> dict:
        data = read_json(
            request,
            images_max_bytes=settings.GENERATION_REQUEST_MAX_BYTES,
            image_fields=("inputImages", "mask"),
        )
        single = getattr(cls, "__read_from_single_attr__", None)
        return {single: data} if single else data


class ImagesJsonBody(JsonBody):
    """A JSON body that may carry images (`inputImages`, `mask` as data: URLs): up to
    GENERATION_REQUEST_MAX_BYTES when it does, DATA_UPLOAD_MAX_MEMORY_SIZE otherwise."""

    _model = _ImagesJsonBodyModel


# --- request schemas: a JSON shape for a form to clean -------------------------------------------


class RequestSchema(pydantic.BaseModel):
    """A JSON request body. It checks the JSON types only; the rules (required, lengths,
    allowed values) belong to the Django form that the page and the API share, which says
    them in its own words. `form_field` states those rules in the document, read from the
    form, so they are written once."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: pydantic.GetJsonSchemaHandler
    ) -> dict[str, Any]:
        # The document: fields marked by `documented_as` show their documented schema and
        # join "required" (pydantic sees them as optional: null reads as "not given").
        schema = handler.resolve_ref_schema(handler(core_schema))
        required = list(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            documented = prop.pop("x-documented", None)
            if prop.pop("x-required", False) and name not in required:
                required.append(name)
            if documented is not None:
                prop.clear()
                prop.update(documented)
        if required:
            schema["required"] = required
        return schema

    def form_data(self) -> dict:
        """The fields given (not null), named as the form names them; secrets in clear."""
        return {
            name: value.get_secret_value() if isinstance(value, pydantic.SecretStr) else value
            for name, value in self.model_dump(exclude_none=True, by_alias=False).items()
        }


def form_field(
    form_class: type,
    name: str,
    *,
    alias: str,
    required: bool = True,
    description: str = "",
    **schema: Any,
) -> Any:
    """A JSON string field (null = not given) cleaned by `form_class`'s field `name`; the
    document says required / maxLength / pattern from that form field."""
    from django import forms

    field = form_class.base_fields[name]
    documented: dict[str, Any] = {"type": "string"}
    if isinstance(field, forms.ModelChoiceField):
        documented["format"] = "uuid"
    if getattr(field, "strip", False):  # given, it must say something: blank is "not given"
        documented.update(minLength=1, pattern=r"\S")
    if getattr(field, "max_length", None):
        documented["maxLength"] = field.max_length
    characters = getattr(field, "characters", None)
    if characters is not None:
        documented["pattern"] = f"^{characters.pattern}$"
    if description:
        documented["description"] = description
    documented.update(schema)
    return Field(None, alias=alias, json_schema_extra=documented_as(documented, required=required))


def documented_as(schema: dict[str, Any] | None = None, *, required: bool = True) -> dict:
    """`json_schema_extra` for a field whose validation is looser than what clients should send
    (null or absent accepted, and then refused by the form in its own words): the document
    shows `schema` (or the field's own schema), required unless told otherwise."""
    extra: dict[str, Any] = {"x-required": required}
    if schema is not None:
        extra["x-documented"] = schema
    return extra


def refuse(sentence: str, status: int = 400) -> PydanticCustomError:
    """A schema check's refusal: the answer is `sentence` with `status` (see invalid_input)."""
    return PydanticCustomError("bambi", "{sentence}", {"sentence": sentence, "status": status})


def owned(selector: Callable[..., Any]) -> Any:
    """The type of a path id that names one of the user's own objects: the view receives the
    object, fetched through `selector(user=..., pk=...)` (which raises Http404 for an id that
    is not the user's). It is fetched before the body is read, so another user's id is a 404
    whatever the body holds."""

    def fetch(value: str, info: pydantic.ValidationInfo) -> Any:
        pk = parse_uuid(value)  # the URL's converter let only a UUID's shape through
        if pk is None:
            raise Http404
        return selector(user=info.context["request"].auth, pk=pk)

    return Annotated[
        str,
        pydantic.AfterValidator(fetch),
        pydantic.WithJsonSchema({"type": "string", "format": "uuid"}),
    ]


def not_found_sentence() -> str:
    return _("Not found.")


def invalid_input(errors: list[dict]) -> ApiError:
    """The answer to a body or query that does not fit its schema: the first error, in the order
    the fields are declared (which is the order the checks are made in), as one sentence."""
    first = errors[0]
    if first["type"] == "bambi":
        context = first["ctx"]
        return ApiError(context["sentence"], http_status=context["status"])
    name = str(first["loc"][-1]) if first["loc"] else ""
    if first["type"] == "string_type":
        return ApiError(_("“%(name)s” must be a string.") % {"name": name})
    return ApiError(_("“%(name)s” is not valid.") % {"name": name})


# --- answers -------------------------------------------------------------------------------------

T = TypeVar("T")


class Data(Schema, Generic[T]):
    """The success envelope: `{"data": ...}`."""

    data: T


class ErrorOut(Schema):
    error: str = Field(
        min_length=1, description="A sentence for a person, in the request's language."
    )


class Success(Schema):
    success: bool = Field(json_schema_extra={"enum": [True]})


def errors(*statuses: int) -> dict[int, type]:
    """`response=` entries for the errors an operation answers beyond the common ones (401,
    405; 400, 403 and 413 when it writes), which BambiAPI documents by itself."""
    return {status: ErrorOut for status in statuses}


def form_errors_sentence(form) -> str:
    """All of a bound form's errors as one readable sentence."""
    parts = []
    for field, errors_ in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        for error in errors_:
            parts.append(f"{label}: {error}" if label and field != "__all__" else str(error))
    return " ".join(parts) or _("The request is not valid.")


def cleaned(form) -> dict:
    """The form's cleaned data, or ApiError (400) with all its errors as one sentence."""
    if not form.is_valid():
        raise ApiError(form_errors_sentence(form))
    return form.cleaned_data
