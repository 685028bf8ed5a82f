"""The dashboard people use, in headless Chromium against a live server and the provider
stand-in (issue 13): generate and refine in place, the image-first gallery, onboarding and
key health, key guidance, no upsell without billing, the accessibility details, the account
screens, French, and the operators' complimentary Premium. Screenshots: 6x-* and 7x-*."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import SecurityEvent, User
from billing.plans import PREMIUM, plan_for
from byok.models import ApiConfiguration
from generations.models import ImageGeneration
from generations.services import GenerationFailed
from tests.browser.pages import (
    horizontal_overflow,
    log_in,
    phone_context,
    set_language,
    shot,
    watched_page,
)
from tests.factories import PASSWORD, make_configuration, make_user, run_generation

pytestmark = pytest.mark.browser

OPENAI_KEY = "sk-proj-browser-good-key-0123456789abcdef"
GOOGLE_KEY = "AIzaSyBrowserGoodKey0123456789abcdefgh"
UPGRADE = re.compile(r"upgrade|premium plan|passer à premium", re.I)


def add_key(user, provider, key=OPENAI_KEY, name="Personal", valid=True) -> ApiConfiguration:
    return make_configuration(user, provider, name=name, key=key, is_valid=valid)


def generate(user, config, prompt, **parameters) -> ImageGeneration | None:
    try:
        return run_generation(
            user, config, prompt, **{"modelId": "gpt-image-1-mini", "quality": "low", **parameters}
        )
    except GenerationFailed:
        return None


@pytest.fixture
def slow_standin(standin):
    """The stand-in answering generations after 2.5 s (placeholders and the clock show)."""
    standin.latency = 2.5
    yield standin
    standin.latency = 0.0


# --- 1. generate and refine in place -------------------------------------------------------------


def test_generate_in_place_with_placeholders_then_images_reuse_and_delete(
    page, member, providers_on_standin, slow_standin
):
    add_key(member, providers_on_standin["openai"])
    log_in(page, member.email)
    page.goto("/dashboard/generate/")
    # The newest model is the default (never DALL·E 2), and settings are words.
    expect(page.get_by_label("Model")).to_have_value(
        str(member.api_configurations.get().provider.models.get(model_id="gpt-image-2").pk)
    )
    expect(page.locator("#id_quality option", has_text="High")).to_have_count(1)
    expect(page.locator("#id_output_format option", has_text="PNG")).to_have_count(1)
    page.get_by_label("Prompt").fill("A lighthouse at dusk, oil painting")
    page.get_by_label("Number of images").fill("2")
    page.get_by_label("Quality").select_option(label="High")
    expect(page.locator("#estimate")).to_have_text("$0.422")
    page.get_by_role("button", name="Generate").click()

    run = page.locator("#runs .run").first
    placeholders = run.locator(".tile-placeholder")
    expect(placeholders).to_have_count(2)
    expect(placeholders.first.locator(".elapsed")).to_have_text(re.compile(r"^[12] s$"))
    expect(page.get_by_role("button", name="Generating…")).to_be_disabled()
    shot(page, "60-generate-waiting")

    expect(run.locator(".result-tile img")).to_have_count(2, timeout=15_000)
    expect(placeholders).to_have_count(0)
    assert page.url.endswith("/dashboard/generate/")  # no page change
    expect(page.get_by_label("Prompt")).to_have_value("A lighthouse at dusk, oil painting")
    meta = run.locator(".run-meta")
    for words in ("GPT Image 2", "Quality: high", "Format: PNG", "Images: 2"):
        expect(meta).to_contain_text(words)
    # The stand-in took 2.5 s; how much longer the whole run took depends on the machine's load.
    duration = re.search(r"Duration: (\d+\.\d) s", meta.inner_text())
    assert duration and float(duration.group(1)) >= 2.5, meta.inner_text()
    expect(page.locator(".usage-line").first).to_contain_text("1 / 50")
    tile = run.locator(".result-tile").first
    for action in ("Download", "Open", "Use as a starting point", "Delete"):
        expect(tile.locator("a, button", has_text=action)).to_be_visible()
    shot(page, "61-generate-results-in-place")

    # Download from the tile gives the image itself.
    with page.expect_download() as download:
        tile.get_by_role("link", name="Download").click()
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")

    # "Use as a starting point" puts the prompt and settings back into the form.
    page.get_by_label("Prompt").fill("something else")
    page.get_by_label("Quality").select_option(label="Low")
    tile.get_by_role("link", name="Use as a starting point").click()
    expect(page.get_by_label("Prompt")).to_have_value("A lighthouse at dusk, oil painting")
    expect(page.get_by_label("Quality")).to_have_value("high")
    expect(page.get_by_label("Number of images")).to_have_value("2")
    assert page.url.endswith("/dashboard/generate/")

    # Delete, in place: the run goes, the generation and its files too.
    generation = ImageGeneration.objects.get(user=member)
    page.once("dialog", lambda dialog: dialog.accept())
    tile.get_by_role("button", name="Delete").click()
    expect(page.locator("#runs .run")).to_have_count(0)
    assert not ImageGeneration.objects.filter(pk=generation.pk).exists()
    assert not page.js_errors


def test_without_javascript_the_form_posts_and_lands_on_the_result_page(
    browser, live_server, member, providers_on_standin
):
    add_key(member, providers_on_standin["openai"])
    ctx = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = watched_page(ctx)
    try:
        log_in(page, member.email)
        page.goto("/dashboard/generate/")
        page.get_by_label("Prompt").fill("A paper boat")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_url(re.compile(r"/dashboard/generations/[0-9a-f-]+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Your images")
        shot(page, "62-generate-without-javascript")
    finally:
        ctx.close()
    assert page.csp_violations == []


def test_a_partial_refusal_shows_in_the_tiles_that_failed(
    page, member, providers_on_standin, standin
):
    add_key(member, providers_on_standin["google"], GOOGLE_KEY, name="Google")
    standin.answer_count = 1  # Imagen sends one image of the three asked: two were filtered
    log_in(page, member.email)
    page.goto("/dashboard/generate/")
    page.get_by_label("Model").select_option(label="Imagen 4")
    page.get_by_label("Prompt").fill("Three foxes")
    page.get_by_label("Number of images").fill("3")
    page.get_by_role("button", name="Generate").click()
    run = page.locator("#runs .run").first
    expect(run.locator(".result-tile img")).to_have_count(1)
    blocked = run.locator(".tile-problem.blocked")
    expect(blocked).to_have_count(2)
    expect(blocked.first).to_contain_text("Blocked by the provider’s safety filter")
    expect(run.locator(".run-notice")).to_contain_text("2 of 3 images were blocked by Google")
    shot(page, "63-generate-partial-refusal")


def test_a_refusal_keeps_the_prompt_and_says_why_in_the_tile(page, member, providers_on_standin):
    add_key(member, providers_on_standin["openai"])
    log_in(page, member.email)
    page.goto("/dashboard/generate/")
    page.get_by_label("Prompt").fill("REFUSE to draw this")
    page.get_by_role("button", name="Generate").click()
    tile = page.locator("#runs .run").first.locator(".tile-problem")
    expect(tile).to_contain_text("Not made")
    expect(tile).to_contain_text("The provider refused to make this image")
    expect(page.get_by_label("Prompt")).to_have_value("REFUSE to draw this")
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()


# --- 2. the gallery ------------------------------------------------------------------------------


def _gallery_of(member, provider):
    config = add_key(member, provider)
    made = [
        generate(member, config, "A lighthouse at dusk"),
        generate(member, config, "A fawn in the snow", count=2),
        generate(member, config, "A paper boat"),
    ]
    generate(member, config, "REFUSE this one")
    return made


def test_gallery_lightbox_with_keys_download_delete_and_counted_selection(
    page, member, providers_on_standin
):
    made = _gallery_of(member, providers_on_standin["openai"])
    log_in(page, member.email)
    page.goto("/dashboard/gallery/")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(4)
    expect(page.locator(".tile.compact.failed")).to_have_count(1)  # the failed one, compact
    delete = page.locator("#delete-selected")
    expect(delete).to_be_disabled()
    page.get_by_label("Select “A lighthouse at dusk”").check()
    page.get_by_label("Select “A paper boat”").check()
    expect(delete).to_have_text("Delete 2 selected")
    expect(delete).to_be_enabled()
    page.get_by_label("Select “A paper boat”").uncheck()
    expect(delete).to_have_text("Delete 1 selected")
    page.get_by_label("Select “A lighthouse at dusk”").uncheck()
    expect(delete).to_be_disabled()

    # The lightbox steps through every image of the page (the fawn has two).
    page.locator(".tile", has_text="A paper boat").locator("a[data-lightbox]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#lightbox-position")).to_have_text("Image 1 of 4")
    expect(dialog.get_by_role("heading")).to_have_text("A paper boat")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator("#lightbox-position")).to_have_text("Image 2 of 4")
    expect(dialog.get_by_role("heading")).to_have_text("A fawn in the snow")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator("#lightbox-position")).to_have_text("Image 4 of 4")
    expect(dialog.get_by_role("button", name="Next image")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    expect(dialog.locator("#lightbox-position")).to_have_text("Image 3 of 4")
    shot(page, "64-gallery-lightbox")
    with page.expect_download() as download:
        dialog.get_by_role("link", name="Download").click()
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Delete from the lightbox.
    page.locator(".tile", has_text="A lighthouse at dusk").locator("a[data-lightbox]").click()
    page.once("dialog", lambda d: d.accept())
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".tile", has_text="A lighthouse at dusk")).to_have_count(0)
    assert not ImageGeneration.objects.filter(pk=made[0].pk).exists()
    expect(dialog.locator("#lightbox-position")).to_have_text(re.compile(r"of 3$"))
    page.keyboard.press("Escape")
    assert not page.js_errors


def test_gallery_search_filters_and_hiding_failures(page, member, providers_on_standin):
    _gallery_of(member, providers_on_standin["openai"])
    log_in(page, member.email)
    page.goto("/dashboard/gallery/")
    page.get_by_label("Search in prompts").fill("light")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator("#gallery-count")).to_have_text("1 generation matches.")
    page.get_by_role("link", name="Clear filters").first.click()
    expect(page.locator(".tile")).to_have_count(4)
    page.get_by_label("Hide failed").check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".tile")).to_have_count(3)
    expect(page.locator(".tile.failed")).to_have_count(0)
    page.get_by_text("More filters").click()
    page.get_by_label("Status").select_option(label="Failed")
    page.get_by_label("Hide failed").uncheck()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".tile.failed")).to_have_count(1)
    page.get_by_label("Provider").select_option(label="Google")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("main")).to_contain_text("No generation matches these filters.")
    shot(page, "65-gallery-filters")


def test_gallery_on_a_phone_two_columns_and_swipes(browser, live_server, providers_on_standin):
    member = make_user()
    _gallery_of(member, providers_on_standin["openai"])
    ctx = phone_context(browser, live_server.url)
    page = watched_page(ctx)
    try:
        log_in(page, member.email)
        page.goto("/dashboard/gallery/")
        boxes = page.locator(".tile:not(.compact)").evaluate_all(
            "tiles => tiles.map(t => t.getBoundingClientRect().left)"
        )
        assert len({round(x) for x in boxes}) == 2  # two columns
        assert horizontal_overflow(page) <= 1
        page.locator(".tile a[data-lightbox]").first.click()
        position = page.locator("#lightbox-position")
        expect(position).to_have_text("Image 1 of 4")

        def swipe(dx: int) -> None:
            page.locator(".lightbox-stage").evaluate(
                """(stage, dx) => {
                    const at = x => new Touch(
                        {identifier: 1, target: stage, clientX: x, clientY: 300});
                    stage.dispatchEvent(new TouchEvent("touchstart",
                        {changedTouches: [at(200)], touches: [at(200)], bubbles: true}));
                    stage.dispatchEvent(new TouchEvent("touchend",
                        {changedTouches: [at(200 + dx)], touches: [], bubbles: true}));
                }""",
                dx,
            )

        swipe(-120)
        expect(position).to_have_text("Image 2 of 4")
        swipe(120)
        expect(position).to_have_text("Image 1 of 4")
        shot(page, "66-phone-gallery-lightbox")
    finally:
        ctx.close()
    assert page.csp_violations == [] and page.js_errors == []


# --- 3. onboarding and key health ----------------------------------------------------------------


def test_overview_guides_a_newcomer_then_shows_keys_usage_and_images(
    page, member, providers_on_standin
):
    log_in(page, member.email)
    checklist = page.locator(".checklist")
    expect(checklist.locator("li.done")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Add a provider key to start generating.")
    shot(page, "67-overview-new-user")

    config = add_key(member, providers_on_standin["openai"])
    page.reload()
    expect(checklist.locator("li.done")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Add a provider key to start")
    expect(page.locator(".key-health")).to_contain_text("Personal")
    expect(page.locator(".key-health .badge")).to_have_text("Valid")

    generate(member, config, "A fawn")
    page.goto("/dashboard/gallery/")
    page.goto("/dashboard/")
    expect(page.locator(".checklist")).to_have_count(0)  # all done: the list goes
    expect(page.locator(".tiles .tile")).to_have_count(1)
    expect(page.locator(".usage-line")).to_contain_text("1 / 50")

    # A key the provider refused says so, with the provider's reason, in a sentence.
    from byok.services import api_configuration_mark_invalid

    api_configuration_mark_invalid(
        configuration=config, reason="Incorrect API key provided: sk-pro…cdef."
    )
    page.reload()
    health = page.locator(".key-health")
    expect(health.locator(".badge")).to_have_text("Invalid")
    expect(health).to_contain_text("OpenAI refused this key: Incorrect API key provided")
    expect(health.get_by_role("link", name="Replace it")).to_be_visible()
    shot(page, "68-overview-key-invalid")


# --- 4. keys page guidance -----------------------------------------------------------------------


def test_keys_page_guides_by_provider_names_the_key_and_shows_it_is_busy(
    page, member, providers_on_standin
):
    log_in(page, member.email)
    page.goto("/dashboard/keys/")
    guides = page.locator("#key-guides .guide")
    page.get_by_label("Provider").select_option(label="Google")
    expect(guides.filter(has_text="AIza")).to_be_visible()
    expect(guides.filter(has_text="sk-")).to_be_hidden()
    expect(page.get_by_role("link", name="Create a key in Google AI Studio")).to_have_attribute(
        "href", "https://aistudio.google.com/apikey"
    )
    expect(page.locator("#key-guides")).to_contain_text("Images cost from $0.034 to $0.24 each")
    expect(page.get_by_label("Name")).to_have_attribute("placeholder", "Google")
    shot(page, "69-keys-guidance")

    # "Check and save" shows it is working (remembered across the page change).
    page.evaluate(
        """() => document.getElementById("key-form").addEventListener("submit", () => {
            const b = document.querySelector("#key-form button[type=submit]");
            sessionStorage.setItem("busy", b.getAttribute("aria-busy") + "|" + b.textContent);
        })"""
    )
    page.get_by_label("API key").fill(GOOGLE_KEY)
    page.get_by_role("button", name="Check and save").click()
    page.wait_for_load_state("load")
    assert page.evaluate("() => sessionStorage.getItem('busy')") == (
        "true|Checking the key with Google…"
    )
    row = page.locator(".keys-list tbody tr")
    expect(row).to_contain_text("Google")  # named after its provider
    assert member.api_configurations.get().name == "Google"


# --- 6. accessibility details --------------------------------------------------------------------


def test_skip_link_focus_ring_and_the_language_button(page, member, providers_on_standin):
    log_in(page, member.email)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert outline.startswith("solid") and not outline.endswith(" 0px")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.closest('main') !== null")
    assert focused  # the next stop is inside the main content
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth")
    assert ring not in ("0px", "")
    # The language changes when a button is pressed, not when a list changes.
    assert page.locator("select[name=language]").count() == 0
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue d’ensemble")


# --- 7. account and sign-in screens --------------------------------------------------------------


def test_sign_up_confirm_from_the_mail_logs_in(
    browser, live_server, providers_on_standin, settings
):
    settings.APP_URL = "https://bambi.example.com"
    ctx = browser.new_context(base_url=live_server.url)
    page = watched_page(ctx)
    try:
        page.goto("/accounts/signup/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign up")
        page.locator("input[name=email]").fill("doe@example.com")
        page.locator("input[name=password1]").fill(PASSWORD)
        page.locator("input[name=password2]").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        message = mail.outbox[-1]
        assert message.body.rstrip().endswith("— Bambi AI\nhttps://bambi.example.com")
        link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    finally:
        ctx.close()
    mail_app = browser.new_context(base_url=live_server.url)  # opened from the mail app
    page = watched_page(mail_app)
    try:
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
        shot(page, "70-confirm-email")
        page.get_by_role("button", name="Confirm and log in").click()
        page.wait_for_url("**/dashboard/")
        expect(page.locator(".messages")).to_contain_text("you are logged in")
        shot(page, "71-confirmed-and-logged-in")
    finally:
        mail_app.close()
    assert page.csp_violations == []


def test_account_page_hides_oauth_and_shows_the_destructive_button_as_such(
    page, member, providers_on_standin
):
    log_in(page, member.email)
    page.goto("/dashboard/account/")
    expect(page.locator("main")).not_to_contain_text("Connected accounts")
    button = page.get_by_role("button", name="Delete my account")
    colour = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(179, 38, 30)"  # --bad
    page.goto("/accounts/email/")
    remove = page.get_by_role("button", name="Remove")
    assert "danger" in remove.get_attribute("class")


# --- 8. billing off: no upsell -------------------------------------------------------------------


@pytest.mark.parametrize("billing_on", [False, True])
def test_no_upgrade_offered_anywhere_when_billing_is_off(
    page, member, providers_on_standin, request, billing_on
):
    if billing_on:
        request.getfixturevalue("stripe_keys")  # Stripe configured: Premium on sale
    add_key(member, providers_on_standin["openai"])
    User.objects.filter(pk=member.pk).update(usage_count=45)  # the meter warns at 80 %
    log_in(page, member.email)
    offers = []
    for path in (
        "/dashboard/",
        "/dashboard/keys/",
        "/dashboard/generate/",
        "/dashboard/gallery/",
        "/dashboard/usage/",
        "/dashboard/billing/",
        "/dashboard/account/",
    ):
        page.goto(path)
        found = page.locator("a, button").filter(has_text=UPGRADE)
        offers += [f"{path}: {text}" for text in found.all_inner_texts()]
    if billing_on:
        assert offers  # the same check finds them when Premium is on sale
    else:
        assert offers == []
        shot(page, "72-billing-off")


# --- 9. French -----------------------------------------------------------------------------------


def test_french_dates_prices_settings_and_plan_names(browser, live_server, providers_on_standin):
    member = make_user()
    config = add_key(member, providers_on_standin["openai"])
    generate(member, config, "Un phare au crépuscule", quality="high")
    ctx = phone_context(browser, live_server.url)
    set_language(ctx, live_server.url, "fr")
    page = watched_page(ctx)
    try:
        log_in(page, member.email)
        expect(page.locator("main")).to_contain_text("formule Gratuite")
        page.goto("/dashboard/generate/")
        meta = page.locator("#runs .run-meta").first
        expect(meta).to_contain_text("Qualité\u00a0: élevée")
        # The cost from the tokens the (recorded) answer reports, in French notation.
        expect(meta).to_contain_text("Coût estimé\u00a0: 0,009\u00a0$")
        expect(meta).to_contain_text(
            re.compile(
                r"\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 20\d\d à"
            )
        )
        page.get_by_label("Qualité").select_option(label="Basse")
        expect(page.locator("#estimate")).to_have_text("0,005\u00a0$")
        shot(page, "73-phone-fr-generate")
        page.goto("/dashboard/billing/")
        expect(page.locator(".billing-plan-line")).to_contain_text("Gratuite")
    finally:
        ctx.close()
    assert page.csp_violations == [] and page.js_errors == []


# --- 10. operators: complimentary Premium from the admin -----------------------------------------


def test_operator_gives_complimentary_premium_from_the_admin(page, live_server, catalogue):
    customer = make_user("friend@example.com")
    operator = make_user("ops@example.com", is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.locator("#id_username").fill(operator.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_contain_text("Bambi AI")
    page.goto("/admin/accounts/user/")
    for column in ("Plan", "Generations this period", "Keys", "Last generation"):
        expect(page.locator("#result_list thead")).to_contain_text(column)
    page.locator("tr", has_text="friend@example.com").locator("input.action-select").check()
    page.locator("select[name=action]").select_option("give_complimentary_premium")
    page.locator("button[name=index], input[name=index]").first.click()
    page.get_by_label("Months").fill("3")
    page.get_by_label("Reason (kept in the security log)").fill("Support ticket 42")
    shot(page, "74-admin-complimentary-premium")
    page.get_by_role("button", name="Give complimentary Premium").click()
    expect(page.locator(".messagelist")).to_contain_text("complimentary Premium until")
    customer.refresh_from_db()
    assert plan_for(customer) == PREMIUM
    event = SecurityEvent.objects.get(user=customer, kind="complimentary_premium")
    assert event.detail["given_by"] == "ops@example.com" and event.detail["months"] == 3
    assert not page.js_errors
