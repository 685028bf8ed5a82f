"""JSON API of billing: Checkout and Customer Portal sessions (docs/api.md).

BillingUnavailable (502, 503) and BillingRefused (400) answer by themselves (bambi/api.py).
"""

# No `from __future__ import annotations`: ninja reads these views' annotations at import,
# through decorators (sensitive_variables) whose globals are not this module's.

from django.http import HttpRequest
from ninja import Router, Schema

from bambi.schemas import Data, errors
from billing import services
from billing.views import return_urls

router = Router(tags=["billing"])

BILLING_ERRORS = {
    status: {"description": "Billing is not configured on this server, or Stripe failed."}
    for status in (502, 503)
}


class CheckoutSessionOut(Schema):
    sessionId: str
    url: str


class PortalSessionOut(Schema):
    url: str


@router.post(
    "/stripe/create-checkout-session/",
    response={200: Data[CheckoutSessionOut], **errors(502, 503)},
    openapi_extra={"responses": BILLING_ERRORS},
    summary="Start a Stripe Checkout for Premium",
)
def create_checkout_session(request: HttpRequest):
    """Send the browser to `url`. Already Premium: 400."""
    urls = return_urls(request)
    session = services.checkout_session_create(
        user=request.auth, success_url=urls["success_url"], cancel_url=urls["cancel_url"]
    )
    return {"data": session}


@router.post(
    "/stripe/create-portal-session/",
    response={200: Data[PortalSessionOut], **errors(502, 503)},
    openapi_extra={"responses": BILLING_ERRORS},
    summary="Open the Stripe Customer Portal (manage or cancel Premium)",
)
def create_portal_session(request: HttpRequest):
    """Send the browser to `url`. No Stripe customer yet: 400."""
    url = services.portal_session_create(
        user=request.auth, return_url=return_urls(request)["return_url"]
    )
    return {"data": {"url": url}}
