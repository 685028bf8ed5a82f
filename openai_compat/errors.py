"""Failures under /v1/ in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

Bambi's refusals (BambiError and its subclasses, raised by the services as everywhere else) are
translated here, once, into the status, `type` and `code` that OpenAI's clients understand:
the official SDKs raise BadRequestError (400), AuthenticationError (401),
PermissionDeniedError (403), NotFoundError (404), RateLimitError (429) and
InternalServerError (>= 500) from the status, and read `code`, `param` and `type` from the body.

Retries. The SDKs retry 408, 409, 429 and every 5xx twice by default, unless the answer says
`x-should-retry: false`. A generation is paid for by the user's own provider key, so a retry
is only invited where nothing can have been billed:
- Bambi's own rate limit (nothing was sent anywhere) and the provider's rate limit (it made
  nothing): retried, after the Retry-After we pass on;
- the provider answering with a server error (it says it failed; nothing to store): retried;
- everything else at 5xx — a timeout (the provider may have finished and billed), an answer
  that could not be used or stored, a network failure mid-call, a bug — says
  `x-should-retry: false`, and so does a 429 for an account out of credit, which waiting
  does not cure.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from bambi.errors import BambiError
from bambi.ratelimit import RateLimitExceeded
from billing.plans import PlanLimitReached
from byok.providers import errors as provider_errors
from generations.budgets import BudgetReached
from generations.failures import GenerationFailed
from tokens.services import TokenNotAllowed, TokenRefused

JSON = "application/json"


class OpenAIError(BambiError):
    """A refusal with OpenAI's `type`, `param` and `code` (the /v1/ views raise these)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int = 400,
        type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.type = type
        self.param = param
        self.code = code


def error_answer(
    message: str,
    status: int,
    *,
    type: str,  # noqa: A002 - OpenAI's field name
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    retry: bool | None = None,
) -> HttpResponse:
    """The answer in OpenAI's error shape. `retry` False sends `x-should-retry: false`."""
    body = {"error": {"message": str(message), "type": type, "param": param, "code": code}}
    response = HttpResponse(json.dumps(body), status=status, content_type=JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    if retry is False:
        response["x-should-retry"] = "false"
    return response


def answer_for(exc: BambiError) -> HttpResponse:
    """The /v1/ answer to any of Bambi's refusals."""
    headers = exc.headers()
    if isinstance(exc, OpenAIError):
        return error_answer(
            exc.message, exc.http_status, type=exc.type, param=exc.param, code=exc.code
        )
    if isinstance(exc, TokenRefused):
        return error_answer(
            exc.message, 401, type="invalid_request_error", code="invalid_api_key", headers=headers
        )
    if isinstance(exc, TokenNotAllowed):
        return error_answer(
            exc.message, 403, type="permission_error", param="model", code="model_not_allowed"
        )
    if isinstance(exc, BudgetReached):  # a PlanLimitReached, with a code of its own
        return error_answer(exc.message, 403, type="insufficient_quota", code="budget_reached")
    if isinstance(exc, PlanLimitReached):
        return error_answer(exc.message, 403, type="insufficient_quota", code="plan_limit_reached")
    if isinstance(exc, RateLimitExceeded):
        return error_answer(
            exc.message, 429, type="requests", code="rate_limit_exceeded", headers=headers
        )
    if isinstance(exc, GenerationFailed):
        return _generation_failed(exc, headers)
    if exc.http_status >= 500:
        return error_answer(exc.message, exc.http_status, type="server_error", retry=False)
    return error_answer(exc.message, exc.http_status, type="invalid_request_error")


def _generation_failed(exc: GenerationFailed, headers: dict[str, str]) -> HttpResponse:
    cause = exc.cause
    message = exc.message
    if isinstance(cause, provider_errors.RateLimited):
        return error_answer(
            message, 429, type="requests", code="rate_limit_exceeded", headers=headers
        )
    if isinstance(cause, provider_errors.OutOfCredit):
        return error_answer(
            message, 429, type="insufficient_quota", code="insufficient_quota", retry=False
        )
    if isinstance(cause, provider_errors.ContentRefused):
        return error_answer(
            message, 400, type="image_generation_user_error", code="moderation_blocked"
        )
    if isinstance(cause, provider_errors.InvalidKey):
        return error_answer(message, 400, type="invalid_request_error", code="provider_key_invalid")
    if exc.http_status < 500:  # the provider refused the request as invalid, a bad stored key
        return error_answer(message, exc.http_status, type="invalid_request_error")
    if isinstance(cause, provider_errors.ProviderTimeout):
        return error_answer(message, 504, type="server_error", code="upstream_timeout", retry=False)
    provider_failed = (
        isinstance(cause, provider_errors.ProviderUnavailable)
        and not isinstance(cause, provider_errors.RefusedByBambi)
        and (cause.provider_status or 0) >= 500
    )
    return error_answer(
        message,
        502,
        type="server_error",
        code="upstream_error",
        retry=None if provider_failed else False,
    )


def server_error_answer() -> HttpResponse:
    """A crash under /v1/ (a bug): OpenAI's shape, and no retry (it may have happened after a
    provider call)."""
    return error_answer(
        _("Something went wrong on our side."), 500, type="server_error", retry=False
    )


def not_found_answer(method: str, path: str) -> HttpResponse:
    return error_answer(
        _("Unknown request URL: %(method)s %(path)s.") % {"method": method, "path": path},
        404,
        type="invalid_request_error",
        code="unknown_url",
    )
