"""Template context of the billing app."""

from __future__ import annotations

from django.http import HttpRequest

from billing.services import billing_configured


def billing(request: HttpRequest) -> dict:
    """`billing_configured`: when Stripe is not set up, no page offers an upgrade."""
    return {"billing_configured": billing_configured()}
