"""A person's whole journey through Bambi in headless Chromium, against a live server.

Sign up, confirm from the mail, log in, add a key, generate, find the image in the gallery,
download it, delete it, see the usage meter moved, visit billing, log out. Every provider
call is real HTTP to the local stand-in; every page is screenshotted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from byok.models import ApiConfiguration
from generations.models import Image, ImageGeneration
from tests.browser.pages import log_in, shot, watch_csp
from tests.factories import PASSWORD, make_configuration

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GOOD_KEY = "sk-proj-browser-good-key-0123456789abcdef"


def _confirmation_link(mail) -> str:
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.body)
    assert match, mail.body
    return match.group(0)


def _usage_line(page: Page) -> str:
    return page.locator(".usage-line").first.inner_text()


def _sidebar(page: Page, name: str):
    return page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name=name, exact=True
    )


def _add_key(page: Page, name: str, provider: str, key: str) -> None:
    page.goto("/dashboard/keys/")
    add = page.locator("#add")
    add.get_by_label("Name").fill(name)
    add.get_by_label("Provider").select_option(label=provider)
    add.get_by_label("API key").fill(key)
    add.get_by_role("button", name="Check and save").click()


def test_sign_up_confirm_log_in_add_key_generate_download_delete_bill_log_out(
    browser, context, page, live_server, providers_on_standin, standin, mailoutbox
):
    email = "fawn@example.com"

    # --- sign up ---------------------------------------------------------------------------
    page.goto("/")
    shot(page, "01-landing")
    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_url("**/accounts/signup/")
    page.get_by_label(re.compile("e-?mail", re.I)).first.fill(email)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    shot(page, "02-signup")
    page.locator("form").filter(has=page.locator("input[name=password1]")).locator(
        "button[type=submit]"
    ).click()
    page.wait_for_url("**/accounts/confirm-email/")
    expect(page.locator("main")).to_contain_text(email)
    shot(page, "03-verify-your-email")
    assert User.objects.filter(email=email, is_active=True).exists()

    # --- confirm from the mail (opened from the mail client: a fresh browser context) -------
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [email]
    link = _confirmation_link(mailoutbox[0])
    assert link.startswith(live_server.url)
    mail_context = browser.new_context(base_url=live_server.url)
    mail_page = mail_context.new_page()
    mail_csp = watch_csp(mail_page)
    mail_page.goto(link)
    shot(mail_page, "04-confirm-email")
    mail_page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    mail_page.wait_for_url(re.compile(r"/accounts/login/|/dashboard/"))
    shot(mail_page, "05-after-confirmation")
    mail_context.close()
    assert mail_csp == []

    # --- log in ------------------------------------------------------------------------------
    page.goto("/accounts/login/")
    shot(page, "06-login")
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.locator(".usage-line").first).to_contain_text("0 / 50")
    shot(page, "07-dashboard-new-user")

    # --- add a key (checked against the stand-in) ----------------------------------------------
    _add_key(page, "Personal", "OpenAI", GOOD_KEY)
    row = page.locator(".keys-list tbody tr").filter(has_text="Personal")
    expect(row).to_contain_text("OpenAI")
    expect(row.locator(".badge")).to_have_text("Valid")
    assert GOOD_KEY not in page.content()  # only the hint, never the key
    assert standin.count("openai.models") == 1
    shot(page, "08-keys-with-one-key")

    # --- generate -----------------------------------------------------------------------------
    _sidebar(page, "Generate").click()
    page.wait_for_url("**/dashboard/generate/")
    page.get_by_label("Prompt").fill("A watercolour fawn in a snowy forest")
    page.get_by_label("Model").select_option(label="GPT Image 1 mini")
    shot(page, "09-generate-form")
    page.locator("#generate-button").click()
    # The result appears on the same page, under the form that keeps the prompt.
    result = page.locator("#runs .run").first.locator(".result-tile img")
    expect(result).to_have_count(1)
    assert page.url.endswith("/dashboard/generate/")
    expect(page.get_by_label("Prompt")).to_have_value("A watercolour fawn in a snowy forest")
    generation = ImageGeneration.objects.get(user__email=email)
    assert generation.status == ImageGeneration.Status.COMPLETED
    assert standin.count("openai.generate") == 1
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.element_handle()
    )
    shot(page, "10-generation-in-place")

    # --- see it in the gallery ---------------------------------------------------------------
    _sidebar(page, "Gallery").click()
    page.wait_for_url("**/dashboard/gallery/")
    card = page.locator(".tile").filter(has_text="A watercolour fawn")
    thumbnail = card.locator("img").first
    expect(thumbnail).to_be_visible()
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    shot(page, "11-gallery-one-image")

    # --- download it (from the lightbox) ---------------------------------------------------
    thumbnail.click()
    lightbox = page.get_by_role("dialog")
    expect(lightbox).to_be_visible()
    with page.expect_download() as download_info:
        lightbox.get_by_role("link", name="Download").click()
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    download = download_info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert download.suggested_filename.endswith(".png")
    image = Image.objects.get(generation=generation)
    assert len(data) == image.bytes

    # --- delete it ----------------------------------------------------------------------------
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete the selected …?"
    card.locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Delete 1 selected").click()
    expect(page.locator(".generation-card")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Nothing here yet")
    assert not ImageGeneration.objects.filter(pk=generation.pk).exists()
    shot(page, "12-gallery-after-delete")

    # --- the usage meter moved (a deleted generation still counted) -----------------------------
    _sidebar(page, "Overview").click()
    expect(page.locator(".usage-line").first).to_contain_text("1 / 50")
    shot(page, "13-dashboard-after-one-generation")

    # --- billing ----------------------------------------------------------------------------
    _sidebar(page, "Billing").click()
    page.wait_for_url("**/dashboard/billing/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Free")
    expect(page.locator("main")).to_contain_text("Premium")
    shot(page, "14-billing")

    # --- log out ---------------------------------------------------------------------------
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/$|/accounts/logout/"))
    if "/accounts/logout/" in page.url:  # allauth may ask to confirm
        page.get_by_role("button", name=re.compile("sign out|log out", re.I)).click()
    topnav = page.get_by_role("navigation", name="Account")
    expect(topnav.get_by_role("link", name="Log in")).to_be_visible()
    shot(page, "15-logged-out")
    page.goto("/dashboard/")
    assert "/accounts/login/" in page.url
    assert not page.js_errors


def test_a_refused_prompt_shows_the_providers_reason_and_costs_nothing(
    page, member, providers_on_standin
):
    make_configuration(member, providers_on_standin["openai"], name="Mine", key=GOOD_KEY)

    log_in(page, member.email)
    page.goto("/dashboard/generate/")
    page.get_by_label("Prompt").fill("REFUSE to draw this")
    page.locator("#generate-button").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The provider refused to make this image")
    # The default model is the newest GPT Image one: OpenAI's gpt-image refusal, in its words.
    expect(alert).to_contain_text("Your request was rejected by the safety system.")
    shot(page, "20-generate-refused")
    member.refresh_from_db()
    assert member.usage_count == 0
    failed = ImageGeneration.objects.get(user=member)
    assert failed.status == ImageGeneration.Status.FAILED
    assert not failed.images.exists()


def test_a_second_key_on_the_free_plan_shows_the_upgrade_message(
    page, member, providers_on_standin, stripe_keys
):
    # Stripe configured (`stripe_keys`): Premium is on sale, so the limit offers it
    # (tests/browser/test_dashboard.py checks that nothing is offered when billing is off).
    log_in(page, member.email)
    _add_key(page, "First", "OpenAI", GOOD_KEY)
    expect(page.locator(".keys-list tbody tr")).to_have_count(1)

    page.goto("/dashboard/keys/")
    add = page.locator("#add")
    expect(add).to_contain_text("Premium")
    expect(add.get_by_role("link", name="Upgrade to Premium")).to_be_visible()
    expect(add.locator("input[type=password]")).to_have_count(0)
    shot(page, "21-keys-second-key-on-free")
    assert ApiConfiguration.objects.filter(user=member).count() == 1
