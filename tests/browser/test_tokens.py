"""The API tokens page in Chromium, desktop and phone: reached from the dashboard's navigation,
a token made through the form shows its secret once (copy button, axe-clean, nothing scrolls
sideways on a phone), the secret works on /v1/, and revoking it through the confirmation page
stops it at once (screenshots: test-artifacts/screenshots/60-*)."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.pages import (
    assert_accessible,
    horizontal_overflow,
    log_in,
    phone_context,
    shot,
    small_tap_targets,
    watched_page,
)
from tests.factories import make_user
from tokens.models import ApiToken

pytestmark = pytest.mark.browser


def _fits(page, phone: bool) -> None:
    if phone:
        assert horizontal_overflow(page) <= 1, f"{page.url} scrolls sideways on a phone"
        assert small_tap_targets(page) == [], f"{page.url}: {small_tap_targets(page)}"
    assert_accessible(page)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_make_copy_use_and_revoke_a_token(browser, live_server, providers_on_standin, device):
    user = make_user()
    phone = device == "phone"
    if phone:
        ctx = phone_context(browser, live_server.url)
    else:
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = watched_page(ctx)
    try:
        log_in(page, user.email)
        # The navigation's entry (behind the menu button on a phone) leads to the page.
        if phone:
            page.get_by_role("button", name="Menu").click()
        page.locator("#dashboard-nav").get_by_role("link", name="API tokens").click()
        page.wait_for_url("**/dashboard/tokens/")
        expect(page.locator("#dashboard-nav a[aria-current=page]")).to_have_text("API tokens")
        expect(page.get_by_text("You have no API token yet.")).to_be_visible()
        _fits(page, phone)

        page.get_by_label("Name").fill("CI script")
        page.get_by_role("button", name="Make the token").click()
        secret_box = page.locator("#new-token-secret")
        expect(secret_box).to_have_value(re.compile(r"^bmb_[A-Za-z0-9_-]{32,}$"))
        secret = secret_box.input_value()
        _fits(page, phone)
        shot(page, f"60-{device}-token-made")

        page.get_by_role("button", name="Copy").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("() => navigator.clipboard.readText()") == secret

        # The secret is the API key of the OpenAI-compatible API.
        answer = requests.get(
            f"{live_server.url}/v1/models",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["object"] == "list"

        # Shown once: the list shows only its prefix.
        page.goto("/dashboard/tokens/")
        assert secret not in page.content()
        row = page.locator("tbody tr").filter(has_text="CI script")
        expect(row).to_contain_text(secret[:8])
        _fits(page, phone)
        shot(page, f"60-{device}-tokens-list")

        row.get_by_role("link", name=re.compile("Revoke")).click()
        expect(page.get_by_role("heading", name="Revoke this token?")).to_be_visible()
        _fits(page, phone)
        page.get_by_role("button", name="Yes, revoke it").click()
        page.wait_for_url("**/dashboard/tokens/")
        expect(page.locator(".messages")).to_contain_text("revoked")
        assert ApiToken.objects.get(user=user).revoked_at is not None
        refused = requests.get(
            f"{live_server.url}/v1/models",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
    finally:
        ctx.close()
    assert page.csp_violations == []
    assert page.js_errors == []
