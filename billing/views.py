"""The billing page: /dashboard/billing/ with Upgrade (Stripe Checkout) and Manage (Portal)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from bambi.errors import BambiError
from billing import services
from billing.plans import FREE, PREMIUM
from billing.selectors import billing_overview


def return_urls(request: HttpRequest) -> dict[str, str]:
    """Where Stripe sends the browser back: the billing page, saying how it went."""
    page = request.build_absolute_uri(reverse("billing"))
    return {
        "success_url": f"{page}?checkout=success",
        "cancel_url": f"{page}?checkout=cancel",
        "return_url": page,
    }


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    overview = billing_overview(user=request.user)
    checkout = request.GET.get("checkout", "")
    return render(
        request,
        "billing/billing.html",
        {
            "active_nav": "billing",
            "overview": overview,
            "plans": [FREE, PREMIUM],
            "is_premium": overview.plan == PREMIUM,
            "configured": services.billing_configured(),
            # "Payment received" stays until the webhook has made the user Premium.
            "checkout_pending": checkout == "success" and overview.plan != PREMIUM,
            "checkout_done": checkout == "success" and overview.plan == PREMIUM,
            "checkout_canceled": checkout == "cancel",
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def billing(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def upgrade(request: HttpRequest) -> HttpResponse:
    urls = return_urls(request)
    try:
        session = services.checkout_session_create(
            user=request.user, success_url=urls["success_url"], cancel_url=urls["cancel_url"]
        )
    except BambiError as exc:
        return _page(request, error=exc.message, status=exc.http_status)
    return _see_other(session["url"])


@login_required
@require_POST
def manage(request: HttpRequest) -> HttpResponse:
    try:
        url = services.portal_session_create(
            user=request.user, return_url=return_urls(request)["return_url"]
        )
    except BambiError as exc:
        return _page(request, error=exc.message, status=exc.http_status)
    return _see_other(url)


def _see_other(url: str) -> HttpResponse:
    # 303: the browser follows a POST's answer with a GET to Stripe's page.
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
