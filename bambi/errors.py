"""The one base class of every refusal or failure a user is told about.

A `BambiError` carries a sentence for the user (`message`, already in the request's language)
and the HTTP status that says what kind of refusal it is (`http_status`). Services raise
subclasses (PlanLimitReached, KeyNotAccepted, BillingUnavailable, BillingRefused,
GenerationFailed, RateLimitExceeded, the provider errors of byok/providers/errors.py) and never
translate each other's errors; the edge translates once:

- the JSON API (bambi/api.py) answers `{"error": message}` with `http_status` and `headers()`;
- the pages catch `BambiError` around the service call and show `message` on the form, with the
  same status and headers (`with_error_headers`).

Nothing here may import an app: every app imports this module.
"""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpResponse


class BambiError(Exception):
    """A refusal or failure to tell the user about. Subclasses set `http_status`; one instance
    may override it (`BambiError(sentence, http_status=503)`)."""

    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if http_status is not None:
            self.http_status = http_status  # type: ignore[misc]  # this instance's own status

    def headers(self) -> dict[str, str]:
        """Extra response headers the answer carries (e.g. Retry-After)."""
        return {}

    def __str__(self) -> str:
        return str(self.message)


def with_error_headers(response: HttpResponse, exc: BambiError) -> HttpResponse:
    """`response` with the headers `exc` asks for (a page answering with exc's status)."""
    for name, value in exc.headers().items():
        response[name] = value
    return response
