"""JSON API of billing: Checkout and Customer Portal sessions (see DESIGN.md, JSON API)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from bambi.api import ApiError, api_view, ok
from billing import services
from billing.views import return_urls


@api_view(["POST"])
def create_checkout_session(request: HttpRequest) -> JsonResponse:
    urls = return_urls(request)
    try:
        session = services.checkout_session_create(
            user=request.user, success_url=urls["success_url"], cancel_url=urls["cancel_url"]
        )
    except services.BillingUnavailable as exc:
        raise ApiError(exc.message, exc.status) from exc
    except services.BillingRefused as exc:
        raise ApiError(exc.message, 400) from exc
    return ok(session)


@api_view(["POST"])
def create_portal_session(request: HttpRequest) -> JsonResponse:
    try:
        url = services.portal_session_create(
            user=request.user, return_url=return_urls(request)["return_url"]
        )
    except services.BillingUnavailable as exc:
        raise ApiError(exc.message, exc.status) from exc
    except services.BillingRefused as exc:
        raise ApiError(exc.message, 400) from exc
    return ok({"url": url})
