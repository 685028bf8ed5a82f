"""What the browser tests do on a page: log in through the real form, watch for
Content-Security-Policy violations, save screenshots (test-artifacts/screenshots/, gitignored,
so a person can look at them)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

from tests.factories import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
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
    page.get_by_label(re.compile("e-?mail", re.I)).first.fill(email)
    page.get_by_label(re.compile("password", re.I)).first.fill(password)
    page.locator("form").filter(has=page.locator("input[type=password]")).locator(
        "button[type=submit], input[type=submit]"
    ).first.click()
    page.wait_for_url("**/dashboard/")
