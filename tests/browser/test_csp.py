"""The Content-Security-Policy in a real browser: every kind of page renders and works with it,
and Chromium reports no violation (the `page` fixture fails a test on any). Pages: allauth's,
the dashboard's (the usage meter, the language switcher, the generate form's script), the
admin's (including a list without actions and a change form)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from byok.models import Provider
from tests.browser.pages import log_in, shot
from tests.factories import PASSWORD, make_configuration, make_user

pytestmark = pytest.mark.browser


def test_allauth_pages_render_without_a_violation(page, live_server, catalogue):
    for path in (
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/confirm-email/",
    ):
        response = page.goto(path)
        assert response is not None and response.status < 400, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.csp_violations == []


def test_the_dashboard_works_under_the_policy(page, member, providers_on_standin, settings):
    make_configuration(
        member,
        providers_on_standin["openai"],
        name="CSP",
        key="sk-proj-csp-good-key-0123456789abcdef",
    )
    log_in(page, member.email)

    # The usage meter (a <progress>, no inline width) shows the month's use.
    meter = page.locator("progress.meter").first
    expect(meter).to_be_visible()
    assert meter.get_attribute("max") == "50"

    # The generate form's script (static file) still fills in the model's options.
    page.goto("/dashboard/generate/")
    page.get_by_label("Model").select_option(label="GPT Image 1 mini")
    expect(page.locator("#id_size")).to_be_enabled()
    expect(page.locator("#estimate")).to_contain_text("$")

    # The language switcher: a button per language (no inline handler, no submit on change).
    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, "40-csp-generate-fr")
    assert page.csp_violations == []
    assert not page.js_errors


def test_admin_pages_work_under_the_policy(page, live_server, catalogue):
    operator = make_user(is_staff=True, is_superuser=True)
    page.goto("/admin/login/")  # the admin's own login form
    page.locator("#id_username").fill(operator.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    provider = Provider.objects.get(slug="openai")
    for path in (
        "/admin/",
        "/admin/accounts/securityevent/",  # no actions: Django writes an inline style here
        "/admin/accounts/user/",
        "/admin/byok/provider/",
        f"/admin/byok/provider/{provider.pk}/change/",
        "/admin/generations/imagegeneration/",
        "/admin/djstripe/customer/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
    shot(page, "41-csp-admin")
    assert page.csp_violations == []
    assert not page.js_errors
