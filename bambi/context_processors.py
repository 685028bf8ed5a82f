"""Template context every page shares."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from bambi.navigation import nav_links


def dashboard(request: HttpRequest) -> dict:
    """`billing_configured`: when Stripe is not set up, no page offers an upgrade.
    `nav_links`: the dashboard's navigation (bambi.navigation), built only if a page shows it."""
    from billing.services import billing_configured

    return {
        "billing_configured": billing_configured(),
        "nav_links": SimpleLazyObject(nav_links),
    }
