"""Every page of the dashboard and the sign-in screens, desktop (1280 px) and phone (390 px),
English and French: axe-core finds no serious or critical violation, nothing scrolls
sideways on a phone, tap targets are at least 44 px, and each is screenshotted
(test-artifacts/screenshots/50-*)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from generations.services import GenerationFailed
from tests.browser.pages import (
    assert_accessible,
    horizontal_overflow,
    log_in,
    phone_context,
    set_language,
    shot,
    small_tap_targets,
    watched_page,
)
from tests.factories import make_configuration, make_token, make_user, run_generation

pytestmark = pytest.mark.browser

GOOD_KEY = "sk-proj-browser-good-key-0123456789abcdef"

# (name, path); "{generation}" is filled with one of the user's generations.
DASHBOARD_PAGES = [
    ("overview", "/dashboard/"),
    ("generate", "/dashboard/generate/"),
    ("gallery", "/dashboard/gallery/"),
    ("gallery-filtered", "/dashboard/gallery/?q=lighthouse&status=completed"),
    ("detail", "/dashboard/generations/{generation}/"),
    ("keys", "/dashboard/keys/"),
    ("key-edit", "/dashboard/keys/{key}/"),
    ("key-delete", "/dashboard/keys/{key}/delete/"),
    ("tokens", "/dashboard/tokens/"),
    ("token-revoke", "/dashboard/tokens/{token}/revoke/"),
    ("billing", "/dashboard/billing/"),
    ("account", "/dashboard/account/"),
    ("password-change", "/accounts/password/change/"),
    ("email", "/accounts/email/"),
]
PUBLIC_PAGES = [
    ("landing", "/"),
    ("login", "/accounts/login/"),
    ("signup", "/accounts/signup/"),
    ("password-reset", "/accounts/password/reset/"),
    ("confirm-expired", "/accounts/confirm-email/not-a-key/"),
    ("not-found", "/no-such-page/"),
]


def member_with_images(provider) -> tuple:
    """A user with a key and a few generations made through the real proxy (stand-in)."""
    user = make_user()
    config = make_configuration(user, provider, name="Personal", key=GOOD_KEY)
    generations = []
    for prompt, count in [
        ("A lighthouse at dusk, oil painting", 1),
        ("A watercolour fawn in a snowy forest", 2),
        ("A paper boat on a rainy street", 1),
    ]:
        generations.append(
            run_generation(
                user, config, prompt, modelId="gpt-image-1-mini", count=count, quality="low"
            )
        )
    try:
        run_generation(user, config, "REFUSE a forbidden thing", modelId="gpt-image-1-mini")
    except GenerationFailed:
        pass  # a failed generation belongs in the gallery too
    return user, config, generations


def _visit_all(page, pages, *, label: str, phone: bool, fill: dict) -> None:
    for name, path in pages:
        response = page.goto(path.format(**fill))
        assert response is not None and response.status < 500, path
        page.wait_for_load_state("load")
        if phone:
            assert horizontal_overflow(page) <= 1, f"{path} scrolls sideways on a phone"
            assert small_tap_targets(page) == [], f"{path}: {small_tap_targets(page)}"
        assert_accessible(page)
        shot(page, f"50-{label}-{name}")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_every_page_is_accessible_and_fits(
    browser, live_server, providers_on_standin, standin, language, device
):
    user, config, generations = member_with_images(providers_on_standin["openai"])
    if device == "phone":
        ctx = phone_context(browser, live_server.url)
    else:
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    set_language(ctx, live_server.url, language)
    page = watched_page(ctx)
    label = f"{device}-{language}"
    fill = {
        "generation": generations[1].pk,
        "key": config.pk,
        "token": make_token(user, name="CI script").token.pk,
    }
    try:
        _visit_all(page, PUBLIC_PAGES, label=label, phone=device == "phone", fill=fill)
        log_in(page, user.email)
        expect(page.locator("html")).to_have_attribute("lang", language)
        _visit_all(page, DASHBOARD_PAGES, label=label, phone=device == "phone", fill=fill)

        # The lightbox, open over the gallery, is checked too.
        page.goto("/dashboard/gallery/")
        page.locator(".tile a[data-lightbox]").first.click()
        expect(page.locator("dialog#lightbox")).to_be_visible()
        assert_accessible(page)
        shot(page, f"50-{label}-gallery-lightbox")
        page.keyboard.press("Escape")

        if device == "phone":
            # The navigation is a menu behind a button; open, it fits the screen.
            page.goto("/dashboard/")
            menu = page.get_by_role("button", name="Menu" if language == "en" else "Menu")
            expect(page.locator("#dashboard-nav")).to_be_hidden()
            menu.click()
            expect(page.locator("#dashboard-nav")).to_be_visible()
            assert horizontal_overflow(page) <= 1
            assert small_tap_targets(page) == []
            assert_accessible(page)
            shot(page, f"50-{label}-menu-open")
    finally:
        ctx.close()
    assert page.csp_violations == []
    assert page.js_errors == []
