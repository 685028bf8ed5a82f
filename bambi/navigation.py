"""The dashboard's navigation: one list, read by the sidebar (desktop), the menu (phones) and
the pages that mark where the user is (`active_nav`).

A new dashboard page (API tokens, usage, …) is one entry here plus its URL; no template needs
to change. Entries are shown in this order.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str  # the `active_nav` value of the pages under this entry
    url_name: str
    label: str | Promise


DASHBOARD_NAV: list[NavItem] = [
    NavItem("overview", "dashboard", _("Overview")),
    NavItem("generate", "generate", _("Generate")),
    NavItem("gallery", "gallery", _("Gallery")),
    NavItem("keys", "keys", _("Keys")),
    NavItem("tokens", "tokens", _("API tokens")),
    NavItem("billing", "billing", _("Billing")),
    NavItem("account", "account", _("Account")),
]


def nav_links() -> list[dict]:
    """The entries with their URL; templates mark the one whose `key` is `active_nav`."""
    return [
        {"key": item.key, "url": reverse(item.url_name), "label": item.label}
        for item in DASHBOARD_NAV
    ]
