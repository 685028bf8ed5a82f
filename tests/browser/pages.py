"""What the browser tests do on a page: log in through the real form, watch for
Content-Security-Policy violations and JS errors, save screenshots (test-artifacts/screenshots/,
gitignored, so a person can look at them), check accessibility (axe-core), phones and
languages."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from tests.factories import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
# Generous: the live server is a single process; a generation is a real HTTP round trip.
TIMEOUT_MS = 15_000
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy")


def watch_csp(page: Page) -> list[str]:
    """Collect every Content-Security-Policy violation Chromium reports on `page` (it logs each
    one to the console: "Refused to apply inline style because it violates…")."""
    violations: list[str] = []

    def on_console(message) -> None:
        if any(marker in message.text for marker in CSP_MARKERS):
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait for the dashboard."""
    page.goto("/accounts/login/")
    # By field name, not label: the same in every language.
    form = page.locator("form").filter(has=page.locator("input[type=password]"))
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit], input[type=submit]").first.click()
    page.wait_for_url("**/dashboard/")


# --- accessibility, phones, languages -----------------------------------------------------------

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# WCAG 2.x A and AA rules plus axe's best practices; a violation of "serious" or "critical"
# impact fails the test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the current page (every impact). axe is evaluated through the
    DevTools protocol, not added as a <script>: the page's Content-Security-Policy stays as
    strict as for users."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + n.failureSummary)
            }));
        }""",
        AXE_TAGS,
    )


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the current page."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], f"{page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in blocking
    )


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the screen)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def small_tap_targets(page: Page) -> list[str]:
    """Visible buttons, form controls and stand-alone links smaller than 44 × 44 px (links
    inside a sentence are exempt, as in WCAG 2.5.8)."""
    return page.evaluate(
        """() => {
            const small = [];
            const controls = document.querySelectorAll(
                "button, .button, select, input:not([type=hidden]), textarea, summary, " +
                "nav a, .tile-check, .pagination a, .actions a");
            for (const el of controls) {
                if (el.closest("dialog:not([open]), template, [hidden]")) continue;
                const style = getComputedStyle(el);
                if (style.display === "none" || style.visibility === "hidden") continue;
                // A checkbox or radio counts by the label around it (the tap area).
                const label = el.matches("input[type=checkbox], input[type=radio]")
                    ? el.closest("label") : null;
                const box = (label || el).getBoundingClientRect();
                if (box.width === 0 && box.height === 0) continue;
                const field = el.matches("input, select, textarea");
                if (box.height < 43.5 || (box.width < 43.5 && !field)) {
                    const text = (el.innerText || el.value || el.name || "").trim();
                    const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
                    small.push(`${el.tagName.toLowerCase()} "${text.slice(0, 30)}" ${size}`);
                }
            }
            return small;
        }"""
    )


def set_language(context: BrowserContext, live_server_url: str, code: str) -> None:
    """Choose the page language the way the footer's switcher does (its cookie)."""
    context.add_cookies([{"name": "django_language", "value": code, "url": live_server_url}])


def phone_context(browser: Browser, live_server_url: str) -> BrowserContext:
    ctx = browser.new_context(
        base_url=live_server_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def watched_page(ctx: BrowserContext) -> Page:
    """A page of `ctx` that records JS errors and CSP violations like the `page` fixture."""
    new = ctx.new_page()
    errors: list[str] = []
    new.on("pageerror", lambda exc: errors.append(str(exc)))
    new.js_errors = errors  # type: ignore[attr-defined]
    new.csp_violations = watch_csp(new)  # type: ignore[attr-defined]
    return new
