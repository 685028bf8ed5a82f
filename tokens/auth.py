"""Authenticating with a personal API token: `Authorization: Bearer bmb_…`.

- `TokenAuth`: the ninja auth class listed before the session's on the JSON API and alone on
  /v1/. Without a bearer header it steps aside (the session may answer); with one, the token
  decides: a usable token authenticates its owner, anything else is a 401 with a sentence (it
  never falls back to the session). No CSRF check: a bearer request carries no cookie a
  forged page could ride on, and a browser never adds that header across sites.
- `NoTokens`: listed first on what a token may not do (managing tokens): a bearer request
  there is a 403 saying so, whatever the token.
- `token_or_login_required`: the same rules for a plain Django view (image files), where a
  session goes through `login_required` as before.

A request authenticated by a token carries it as `request.api_token`; generation_run checks
the token's allowed models with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja.security.base import AuthBase

from bambi.api import bearer_credentials, error_answer
from tokens.services import TokenNotAllowed, TokenRefused, api_token_authenticate

BEARER_SCHEME = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "bmb_…",
        "description": (
            "A personal API token, made on /dashboard/tokens/ (or POST /api/tokens/ from a "
            "logged-in session): `Authorization: Bearer bmb_…`. No CSRF token is needed."
        ),
    }
}


@sensitive_variables("secret")
def authenticate_bearer(request: HttpRequest) -> Any:
    """The token's owner when the request carries a bearer token (TokenRefused if it is not
    usable); None without a bearer header."""
    secret = bearer_credentials(request)
    if secret is None:
        return None
    token = api_token_authenticate(secret=secret, request=request)
    request.api_token = token  # type: ignore[attr-defined]
    request.user = token.user
    return token.user


class TokenAuth(AuthBase):
    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_schemes = BEARER_SCHEME

    def __call__(self, request: HttpRequest) -> Any:
        return authenticate_bearer(request)

    def openapi_requirement(self, methods: Iterable[str]) -> dict[str, list]:
        return {"bearerToken": []}


class NoTokens(AuthBase):
    """Refuses bearer requests (403) on operations only a logged-in person may do."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_schemes: dict = {}

    def __call__(self, request: HttpRequest) -> Any:
        if bearer_credentials(request) is not None:
            raise TokenNotAllowed(
                _(
                    "API tokens cannot manage API tokens: make and revoke them on the API "
                    "tokens page, logged in."
                )
            )
        return None

    def openapi_requirement(self, methods: Iterable[str]) -> dict[str, list]:
        return {}


def token_or_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page or file for its owner: a bearer token (401 JSON when not usable), else the
    session through `login_required` (the login page for an anonymous browser)."""
    session_view = login_required(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if bearer_credentials(request) is None:
            return session_view(request, *args, **kwargs)
        try:
            authenticate_bearer(request)
        except TokenRefused as exc:
            return error_answer(exc.message, exc.http_status, exc.headers())
        return view(request, *args, **kwargs)

    return wrapped
