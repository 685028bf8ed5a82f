"""Template context every page shares."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from bambi.navigation import nav_links


def navigation(request: HttpRequest) -> dict:
    """`nav_links`: the dashboard's navigation (bambi.navigation), built only if a page
    shows it."""
    return {"nav_links": SimpleLazyObject(nav_links)}
