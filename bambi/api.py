"""Shared plumbing of the JSON API: `{"data": ...}` / `{"error": "<sentence>"}`, never HTML.

Views under /api/ are wrapped with `api_view`, which checks the method and the session,
parses JSON bodies, and turns the project's typed exceptions into status codes in one place.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from bambi.ratelimit import RateLimitExceeded, with_retry_after
from billing.plans import PlanLimitReached


class ApiError(Exception):
    """Raise from an API view to answer `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def ok(data, status: int = 200) -> JsonResponse:
    return JsonResponse({"data": data}, status=status)


def fail(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def read_json(request: HttpRequest) -> dict:
    """The request's JSON object body, or ApiError (400, or 413 when too large) with a sentence
    saying what is wrong. What passes can be stored and logged as it is: valid Unicode only."""
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise ApiError(_("Send the request body as JSON (Content-Type: application/json)."))
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(too_big_sentence(), 413) from None
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(_("The request body is not valid JSON.")) from None
    except RecursionError:
        raise ApiError(_("The request body is nested too deeply.")) from None
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


def too_big_sentence() -> str:
    return _("The request body is too large (at most %(size)s).") % {
        "size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    }


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


def form_errors_sentence(form) -> str:
    """All of a bound form's errors as one readable sentence."""
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        for error in errors:
            parts.append(f"{label}: {error}" if label and field != "__all__" else str(error))
    return " ".join(parts) or _("The request is not valid.")


def api_view(methods: Iterable[str]) -> Callable:
    """Wrap an API view: method check (405), session check (401), typed errors to JSON."""
    allowed = {m.upper() for m in methods}

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in allowed:
                response = fail(_("This method is not allowed here."), 405)
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            if not request.user.is_authenticated:
                return fail(_("You need to be logged in."), 401)
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return fail(exc.message, exc.status)
            except Http404:
                return fail(_("Not found."), 404)
            except PlanLimitReached as exc:
                return fail(str(exc), 403)
            except RateLimitExceeded as exc:
                return with_retry_after(fail(exc.message, 429), exc)
            except PermissionDenied:
                return fail(_("You are not allowed to do this."), 403)
            except ValidationError as exc:
                return fail(" ".join(str(m) for m in exc.messages), 400)

        return wrapper

    return decorator
