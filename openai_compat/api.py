"""The OpenAI-compatible surface under /v1/: what the official `openai` SDKs call, unchanged.

`OpenAI(base_url="https://<bambi>/v1", api_key="bmb_…")`: a personal API token is the API key
(tokens/auth.py, bearer only: no session, no CSRF). Every call is an ordinary generation
through `generation_run`, with the same form as the dashboard's: quota, rate limits, gallery,
usage, the token's allowed models. What differs is the shape of requests and answers (OpenAI's)
and of errors (openai_compat/errors.py, which also says when the SDKs may retry).

The operations are described in the same OpenAPI document as /api/ (bambi/urls.py merges
them), under the tag `openai`.
"""

# No `from __future__ import annotations`: ninja reads these views' annotations at import.

import base64
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, reverse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import AuthenticationError, HttpError
from pydantic import ValidationError as PydanticValidationError

from bambi.api import BambiAPI, InvalidInput
from bambi.errors import BambiError
from bambi.schemas import JsonBody, form_errors_sentence, too_big_sentence
from generations.forms import GenerationForm
from generations.inputs import InputSource
from generations.models import ImageGeneration
from generations.services import generation_run
from openai_compat.errors import OpenAIError, answer_for, error_answer
from openai_compat.multipart import read_edit_form
from openai_compat.options import form_data, request_param
from openai_compat.schemas import (
    IMAGE_EDIT_FORM_SCHEMA,
    ImageEditRequest,
    ImageGenerationRequest,
    ImagesResponse,
    ModelList,
    ModelOut,
    OpenAIErrorOut,
)
from openai_compat.selectors import callable_models, key_for_call, model_for_call, public_id
from tokens.auth import TokenAuth
from tokens.services import api_token_check_model

ERROR_DESCRIPTIONS = {
    400: "Bad input; `param` names the field. Nothing was made or charged.",
    401: "No API token, or one that is unknown, expired or revoked (`code`: invalid_api_key).",
    403: "The plan's monthly limit is reached (`code`: plan_limit_reached), the estimated cost "
    "does not fit the key's or the token's monthly budget (`budget_reached`; nothing reached "
    "the provider), or the token may not use this model (`model_not_allowed`).",
    404: "The model does not exist, or the user has no valid key of its provider "
    "(`code`: model_not_found).",
    405: "This method is not allowed here (see the Allow header).",
    413: "The body is larger than the server accepts.",
    429: "Bambi's rate limit, or the provider's, with Retry-After (retry after it); or the "
    "provider account is out of credit (`code`: insufficient_quota, `x-should-retry: false`).",
    500: "A failure on Bambi's side (`x-should-retry: false`).",
    502: "The provider failed. `x-should-retry: false` unless the provider itself answered "
    "with a server error (then nothing was made and a retry is safe).",
    504: "The provider did not answer in time; it may have billed the key, so "
    "`x-should-retry: false`.",
}
KEY_HEADER = "X-Bambi-Key"
KEY_PARAMETER = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "format": "uuid"},
    "description": "The id of the stored key that pays. Default: the user's valid key of the "
    "model's provider, the most recently validated.",
}


class OpenAICompatibleAPI(BambiAPI):
    """A BambiAPI whose answers, errors included, are OpenAI's shapes."""

    error_schema = OpenAIErrorOut
    error_descriptions = ERROR_DESCRIPTIONS

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(BambiError, lambda request, exc: answer_for(exc))
        self.add_exception_handler(InvalidInput, lambda request, exc: _invalid(exc.errors))
        self.add_exception_handler(AuthenticationError, lambda request, exc: _no_token())
        self.add_exception_handler(
            Http404,
            lambda request, exc: error_answer(_("Not found."), 404, type="invalid_request_error"),
        )
        self.add_exception_handler(
            ValidationError,
            lambda request, exc: error_answer(
                " ".join(exc.messages), 400, type="invalid_request_error"
            ),
        )
        self.add_exception_handler(
            RequestDataTooBig,
            lambda request, exc: error_answer(
                too_big_sentence(), 413, type="invalid_request_error"
            ),
        )
        self.add_exception_handler(
            HttpError,
            lambda request, exc: error_answer(
                exc.message, exc.status_code, type="invalid_request_error"
            ),
        )
        self.add_exception_handler(Exception, _reraise)

    @property
    def urls(self) -> tuple[list, str, str]:
        patterns, app_name, namespace = super(BambiAPI, self).urls
        return [_with_openai_405(p) for p in patterns], app_name, namespace


def _reraise(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug: Django's handling (the error log, the 500 answer, in OpenAI's shape under /v1/:
    # bambi/views.server_error).
    raise exc


def _no_token() -> HttpResponse:
    return error_answer(
        _(
            "You didn't provide an API token. Send your Bambi API token as "
            "“Authorization: Bearer bmb_…”; make one on the API tokens page."
        ),
        401,
        type="invalid_request_error",
        code="invalid_api_key",
        headers={"WWW-Authenticate": 'Bearer realm="Bambi AI"'},
    )


def _invalid(errors: list[dict]) -> HttpResponse:
    """The first schema error as OpenAI words it, naming the field."""
    first = errors[0]
    param = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    if kind == "bambi":  # a sentence of Bambi's own reading of the body
        context = first["ctx"]
        return error_answer(context["sentence"], context["status"], type="invalid_request_error")
    if kind == "missing":
        message, code = (
            _("Missing required parameter: '%(param)s'.") % {"param": param},
            ("missing_required_parameter"),
        )
    elif kind == "extra_forbidden":
        message, code = (
            _("Unknown parameter: '%(param)s'.") % {"param": param},
            ("unknown_parameter"),
        )
    elif kind.endswith("_type"):
        message, code = (
            _("Invalid type for '%(param)s': %(reason)s.")
            % {
                "param": param,
                "reason": first["msg"],
            },
            "invalid_type",
        )
    else:
        message, code = (
            _("Invalid value for '%(param)s': %(reason)s.")
            % {
                "param": param,
                "reason": first["msg"],
            },
            "invalid_value",
        )
    return error_answer(message, 400, type="invalid_request_error", param=param, code=code)


def _with_openai_405(pattern: Any) -> Any:
    """ninja answers a method no operation takes with a plain-text 405; this one is OpenAI's
    error shape, with `Allow`."""
    if not isinstance(pattern, URLPattern):
        return pattern
    view = pattern.callback

    @wraps(view)
    def openai_405(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = response["Allow"]
        return error_answer(
            _("This method is not allowed here."),
            405,
            type="invalid_request_error",
            headers={"Allow": allowed},
        )

    return URLPattern(pattern.pattern, openai_405, pattern.default_args, pattern.name)


# --- the operations ------------------------------------------------------------------------------

router = Router(tags=["openai"])


def _token(request: HttpRequest):
    return getattr(request, "api_token", None)


def model_row(model, listed: list) -> dict:
    return {
        "id": public_id(model, listed),
        "object": "model",
        "created": int(model.created_at.timestamp()),
        "owned_by": model.provider.slug,
        "shutdown_date": (model.capabilities or {}).get("shutdown_date"),
    }


@router.get(
    "/models",
    response=ModelList,
    exclude_none=True,
    summary="The image models this token can call now",
)
def models(request: HttpRequest):
    """Active models of the providers the user has a valid stored key for, that the token
    allows. Ids are the catalogue's (`provider/model` when two providers share one)."""
    listed = callable_models(user=request.auth, token=_token(request))
    return {"object": "list", "data": [model_row(model, listed) for model in listed]}


@router.get(
    "/models/{path:model}",
    response={200: ModelOut, 404: OpenAIErrorOut},
    exclude_none=True,
    summary="One model this token can call",
)
def model(request: HttpRequest, model: str):
    listed = callable_models(user=request.auth, token=_token(request))
    found = model_for_call(user=request.auth, ref=model)
    if found not in listed:
        raise OpenAIError(
            _("The model “%(model)s” is not available to this token.") % {"model": model[:100]},
            http_status=404,
            param="model",
            code="model_not_found",
        )
    return model_row(found, listed)


@router.post(
    "/images/generations",
    response={
        200: ImagesResponse,
        **{status: OpenAIErrorOut for status in (404, 429, 502, 504)},
    },
    exclude_none=True,
    summary="Generate images (OpenAI's Images API)",
    openapi_extra={"parameters": [KEY_PARAMETER]},
)
def images_generate(request: HttpRequest, payload: ImageGenerationRequest = JsonBody(...)):
    """A generation like any other (quota, rate limits, gallery, /api/usage/), answered as
    OpenAI's `ImagesResponse`."""
    if payload.stream:
        raise OpenAIError(
            _("Bambi does not stream images: leave “stream” out, or false."), param="stream"
        )
    fields = payload.model_dump(exclude_none=True)
    generation = run(request, model_ref=payload.model, prompt=payload.prompt, fields=fields)
    return images_answer(request, generation, payload.response_format or "b64_json")


@router.post(
    "/images/edits",
    response={
        200: ImagesResponse,
        **{status: OpenAIErrorOut for status in (404, 413, 429, 502, 504)},
    },
    exclude_none=True,
    summary="Edit images (OpenAI's Images API, multipart)",
    openapi_extra={
        "parameters": [KEY_PARAMETER],
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": IMAGE_EDIT_FORM_SCHEMA}},
        },
    },
)
def images_edit(request: HttpRequest):
    """OpenAI's multipart edit form, as the SDKs' `images.edit()` sends it, made into an edit
    through the generation path: each provider is sent the images in its own dialect
    (OpenAI multipart, Gemini inline data, xAI JSON data URLs). Answered as for generations."""
    form = read_edit_form(request)
    try:
        payload = ImageEditRequest.model_validate(form.fields)
    except PydanticValidationError as exc:
        return _invalid(exc.errors())
    if not form.images:
        raise OpenAIError(
            _("Missing required parameter: '%(param)s'.") % {"param": "image"},
            param="image",
            code="missing_required_parameter",
        )
    if payload.stream:
        raise OpenAIError(
            _("Bambi does not stream images: leave “stream” out, or false."), param="stream"
        )
    fields = payload.model_dump(exclude_none=True)
    fields["input_images"] = [InputSource(upload=upload) for upload in form.images]
    if form.mask is not None:
        fields["mask"] = InputSource(upload=form.mask)
    generation = run(request, model_ref=payload.model, prompt=payload.prompt, fields=fields)
    return images_answer(request, generation, payload.response_format or "b64_json")


def run(request: HttpRequest, *, model_ref: str, prompt: str, fields: dict) -> ImageGeneration:
    """The generation a /v1/ call asks for: its model, the key that pays, the form's rules,
    then generation_run. Every refusal is an OpenAIError or a BambiError."""
    user, token = request.auth, _token(request)
    model = model_for_call(user=user, ref=model_ref)
    api_token_check_model(token=token, model=model)
    configuration = key_for_call(user=user, model=model, chosen=request.headers.get(KEY_HEADER))
    form = GenerationForm(
        data=form_data(model=model, configuration=configuration, prompt=prompt, fields=fields),
        user=user,
    )
    if not form.is_valid():
        first = next(iter(form.errors))
        raise OpenAIError(
            form_errors_sentence(form), param=request_param(first, fields), code="invalid_value"
        )
    return generation_run(user=user, api_token=token, **form.run_arguments())


def images_answer(request: HttpRequest, generation: ImageGeneration, response_format: str):
    images = list(generation.images.all())
    data = []
    for image in images:
        item: dict[str, Any] = {}
        if response_format == "url":
            item["url"] = request.build_absolute_uri(reverse("image_file", args=[image.pk]))
        else:
            with default_storage.open(image.storage_path, "rb") as handle:
                item["b64_json"] = base64.b64encode(handle.read()).decode("ascii")
        if image.revised_prompt:
            item["revised_prompt"] = image.revised_prompt
        data.append(item)
    return {
        "created": int(generation.created_at.timestamp()),
        "data": data,
        "output_format": images[0].format if images else None,
    }


api = OpenAICompatibleAPI(
    title="Bambi AI OpenAI-compatible API",
    version="1.0.0",
    urls_namespace="openai_compat",
    auth=[TokenAuth()],
)
api.add_router("", router)
