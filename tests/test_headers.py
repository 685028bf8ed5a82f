"""Security headers on every kind of page: a strict Content-Security-Policy and a
Permissions-Policy, on Bambi's pages, allauth's, the admin's, the API's and error pages; and no
inline script, style or handler left in the templates the policy would break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _assert_strict(response) -> None:
    policy = _directives(response["Content-Security-Policy"])
    for name in ("script-src", "style-src"):
        assert policy[name] == ["'self'"], policy[name]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert sorted(policy["img-src"]) == sorted(["'self'", "data:", "blob:"])
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/does-not-exist/",
        "/healthz",
    ],
)
def test_anonymous_pages_carry_the_policies(client, url):
    _assert_strict(client.get(url))


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/",
        "/dashboard/keys/",
        "/dashboard/generate/",
        "/dashboard/gallery/",
        "/dashboard/billing/",
        "/dashboard/account/",
        "/api/usage/",
        "/api/openapi.json",
    ],
)
def test_logged_in_pages_and_the_api_carry_the_policies(client, catalogue, url):
    client.force_login(make_user())
    response = client.get(url)
    assert response.status_code == 200
    _assert_strict(response)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/securityevent/",
        "/admin/byok/provider/",
        "/admin/djstripe/customer/",
    ],
)
def test_admin_pages_carry_the_policies(client, catalogue, url):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.get(url)
    assert response.status_code == 200
    _assert_strict(response)
    assert "<style" not in response.content.decode()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "script"),
    (re.compile(r"<style\b", re.I), "style element"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "event handler attribute"),
]


def test_no_template_holds_inline_script_style_or_handlers():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []
