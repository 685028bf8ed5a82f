"""Shared plumbing of the JSON API: `{"data": ...}` / `{"error": "<sentence>"}`, never HTML.

Views under /api/ are wrapped with `api_view`, which checks the method and the session,
parses JSON bodies, and turns the project's typed exceptions into status codes in one place.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
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
    """The request's JSON object body, or ApiError(400) with a sentence saying what is wrong."""
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise ApiError(_("Send the request body as JSON (Content-Type: application/json)."))
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise ApiError(_("The request body must be a JSON object."))
    return body


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
