"""The JSON API layer: django-ninja, answering the way docs/api.md says.

Every app declares its operations on a ninja `Router` in its `api.py`, with pydantic schemas
(`schemas.py`, written with bambi/schemas.py) for what goes in and out; bambi/urls.py mounts
the routers on one `BambiAPI`.
From those declarations come both the behaviour and the OpenAPI document served at
/api/openapi.json: paths, methods, bodies, answers, authentication. Nothing is written twice.

What `BambiAPI` adds to ninja, so that the answers stay what the API always answered:

- failures are `{"error": "<sentence>"}` in the request's language: a `BambiError` (bambi/errors.py)
  raised anywhere below answers its own `http_status`; a body that does not fit its schema
  answers the sentence of the first check it fails (`invalid_input`), never ninja's 422 list;
- 401 "You need to be logged in.", 403 for a missing CSRF token, 404 "Not found.", 405 with
  `Allow`, 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, 400 for a body that is not a JSON
  object of valid Unicode (`bambi.schemas.read_json`);
- bodies are `Content-Type: application/json`, written by Django's JSON encoder exactly as
  JsonResponse wrote them before.

To extend it: another way to authenticate is another auth class listed before `SessionAuth`
in `auth=[...]` (ninja tries them in order; only the session needs the CSRF check, which stays
inside `SessionAuth`), as personal API tokens are (tokens/auth.py, listed in bambi/urls.py);
another surface is another router, or another NinjaAPI when its errors have another shape (the
OpenAI-compatible /v1/, openai_compat/api.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import BaseRenderer
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from bambi import timing
from bambi.errors import BambiError
from bambi.schemas import (
    JSON,
    ApiError,
    ErrorOut,
    invalid_input,
    not_found_sentence,
    too_big_sentence,
)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_SENTENCE = gettext_lazy("The CSRF token is missing or wrong; send the X-CSRFToken header.")


class InvalidInput(SchemaValidationError):
    """ninja's validation error, carrying the sentence to answer with."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors)
        self.answer = invalid_input(errors)


def error_answer(message: str, status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    """`{"error": message}` with `status`: the one shape of every refusal under /api/."""
    response = HttpResponse(
        json.dumps({"error": str(message)}, cls=DjangoJSONEncoder),
        status=status,
        content_type=JSON,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class _JsonRenderer(BaseRenderer):
    media_type = JSON

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> str:
        # What JsonResponse wrote before: Django's encoder, default separators, ASCII.
        return json.dumps(data, cls=DjangoJSONEncoder)


# --- authentication ----------------------------------------------------------------------------


def bearer_credentials(request: HttpRequest) -> str | None:
    """What follows "Bearer " in the Authorization header ("" when nothing does); None when
    the request has no bearer header. Other schemes are not Bambi's (a proxy's Basic auth)."""
    value = request.headers.get("Authorization")
    if value is None:
        return None
    scheme, _sep, credentials = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


class SessionAuth(APIKeyCookie):
    """The browser's login (Django's session cookie), with Django's CSRF check on unsafe
    methods: the cookie comes with every request a browser sends, so the X-CSRFToken header
    proves the page sending it is Bambi's own."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if check_csrf(request) is not None:
            raise ApiError(str(CSRF_SENTENCE), http_status=403)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        with timing.step("auth"):  # the session and the user, read here for the first time
            user = request.user
            return user if user.is_authenticated else None

    # The document's security schemes: schemathesis and clients send what they list.
    openapi_schemes = {
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Django's session cookie, set by logging in at /accounts/login/.",
        },
        "csrfCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.CSRF_COOKIE_NAME,
            "description": "Django's CSRF cookie, set by any page with a form.",
        },
        "csrfHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": "The value of the csrftoken cookie, on unsafe methods.",
        },
    }

    def openapi_requirement(self, methods: Iterable[str]) -> dict[str, list]:
        if UNSAFE_METHODS & {m.upper() for m in methods}:
            return {"sessionCookie": [], "csrfCookie": [], "csrfHeader": []}
        return {"sessionCookie": []}


# --- the document --------------------------------------------------------------------------------

# What each error status means, for every operation that can answer it.
ERROR_DESCRIPTIONS = {
    400: (
        "Bad input (including JSON nested too deeply and text that is not valid Unicode, such "
        "as an unpaired surrogate); the sentence says what to change. Nothing was written."
    ),
    401: "Not logged in.",
    403: (
        "The plan's limit is reached (the sentence offers Premium), or the CSRF token is "
        "missing or wrong."
    ),
    404: "Missing, or not the user's.",
    405: "This method is not allowed here (see the Allow header).",
    413: "The body is larger than the server accepts (2.5 MB by default).",
    422: "The provider refused the prompt; the sentence carries its reason.",
    429: (
        "Bambi's own rate limit refused the request before any provider call (key checks: 10 "
        "a minute and 100 a day per user, 30 a minute per address; generations: 30 a minute "
        "per user; see README), with Retry-After; or the provider rate-limits the key or its "
        "account is out of credit."
    ),
    502: "The provider failed or could not be reached.",
    503: "The service is not configured on this server.",
    504: "The provider did not answer in time.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait; sent when Bambi's own limit refused the request.",
        "required": False,
        "schema": {"type": "integer", "minimum": 1},
    }
}


class _Document(OpenAPISchema):
    """ninja's document, with the answers every operation shares and the session's security
    requirement written the way clients (and schemathesis) send it."""

    def operation_details(self, operation: Any) -> dict:
        details = super().operation_details(operation)
        responses = details["responses"]
        common = [401, 405]
        if UNSAFE_METHODS & set(operation.methods):
            common += [400, 403]
        if "requestBody" in details:
            common.append(413)
        for status in common:
            responses.setdefault(status, {})
        error_schema = {"$ref": f"#/components/schemas/{self.api.error_schema.__name__}"}
        descriptions = self.api.error_descriptions
        for status, answer in responses.items():
            if status < 400:
                continue
            if answer.get("description") in (None, _http_phrase(status)):  # not the op's own
                answer["description"] = descriptions.get(status, _http_phrase(status))
            answer["content"] = {JSON: {"schema": error_schema}}
            if status == 429:
                answer["headers"] = RETRY_AFTER
        details["responses"] = dict(sorted(responses.items()))
        return details

    def operation_security(self, operation: Any) -> list[dict] | None:
        requirements = []
        for auth in operation.auth_callbacks:
            requirement = auth.openapi_requirement(operation.methods)
            if requirement:  # an empty one would read "no authentication needed"
                requirements.append(requirement)
            self.securitySchemes.update(auth.openapi_schemes)
        return requirements or None

    def get_components(self) -> dict:
        components = super().get_components()
        error_schema = self.api.error_schema
        components["schemas"].setdefault(error_schema.__name__, error_schema.model_json_schema())
        return components


def _http_phrase(status: int) -> str:
    from http.client import responses

    return responses.get(status, "Unknown Status Code")


# --- the API -------------------------------------------------------------------------------------


class BambiAPI(NinjaAPI):
    """A NinjaAPI that answers in Bambi's JSON contract (see the module docstring)."""

    # The shape of every error answer, and what each status means, in the document.
    error_schema: type = ErrorOut
    error_descriptions: dict[int, str] = ERROR_DESCRIPTIONS

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("renderer", _JsonRenderer())
        kwargs.setdefault("auth", [SessionAuth()])
        kwargs.setdefault("docs_url", None)  # no Swagger page: it would load scripts from a CDN
        kwargs.setdefault("openapi_url", None)  # bambi/urls.py serves the document itself
        super().__init__(**kwargs)

    def get_content_type(self) -> str:
        return JSON

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict | None = None
    ) -> dict:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return _Document(self, path_prefix)

    def validation_error_from_error_contexts(self, error_contexts: list) -> InvalidInput:
        errors: list[dict] = []
        for context in error_contexts:
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = error["loc"]
                if getattr(context.model, "__read_from_single_attr__", None) and loc:
                    loc = loc[1:]  # the body's own fields, not the view argument's name
                errors.append({**error, "loc": loc})
        return InvalidInput(errors)

    def set_default_exception_handlers(self) -> None:
        handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
            BambiError: lambda request, exc: error_answer(
                exc.message, exc.http_status, exc.headers()
            ),
            InvalidInput: lambda request, exc: error_answer(
                exc.answer.message, exc.answer.http_status
            ),
            AuthenticationError: lambda request, exc: error_answer(
                _("You need to be logged in."), 401
            ),
            Http404: lambda request, exc: error_answer(not_found_sentence(), 404),
            PermissionDenied: lambda request, exc: error_answer(
                _("You are not allowed to do this."), 403
            ),
            ValidationError: lambda request, exc: error_answer(" ".join(exc.messages), 400),
            RequestDataTooBig: lambda request, exc: error_answer(too_big_sentence(), 413),
            HttpError: lambda request, exc: error_answer(exc.message, exc.status_code),
            Exception: _reraise,
        }
        for exc_class, handler in handlers.items():
            self.add_exception_handler(exc_class, handler)

    @property
    def urls(self) -> tuple[list, str, str]:
        patterns, app_name, namespace = super().urls
        return [_with_json_405(p) for p in patterns], app_name, namespace


def _reraise(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Anything else is a bug: Django's own handling (the 500 answer, the debug page with keys
    # hidden, the error log), not ninja's traceback page.
    raise exc


def method_not_allowed(allowed: Iterable[str]) -> HttpResponse:
    response = error_answer(_("This method is not allowed here."), 405)
    response["Allow"] = ", ".join(sorted(allowed))
    return response


def _with_json_405(pattern: Any) -> Any:
    """ninja answers a method no operation takes with a plain-text 405; this one is JSON.

    Before that 405, an unsafe method without a valid CSRF token is refused with 403, as it
    was when Django's CSRF middleware ran before every API view (it still does for the rest of
    the site). A request that carries a personal token (`Authorization: Bearer …`) skips that
    check, as the auth classes let it: a browser never adds that header to a forged request.
    """
    if not isinstance(pattern, URLPattern):
        return pattern
    view = pattern.callback

    @wraps(view)
    def json_405(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        refused = None
        if request.method in UNSAFE_METHODS and bearer_credentials(request) is None:
            refused = check_csrf(request)
        if refused is not None:
            return refused
        return method_not_allowed(m.strip() for m in response["Allow"].split(","))

    return URLPattern(pattern.pattern, json_405, pattern.default_args, pattern.name)
