"""Fixtures of the end-to-end browser tests (local to this folder): Debian's headless Chromium
driven by Playwright's sync API, against pytest-django's live server, with the provider
catalogue pointed at the local provider stand-in (`providers_on_standin`, tests/conftest.py).
Nothing is mocked: the browser talks HTTP to Bambi, Bambi talks HTTP to the stand-in, mail
goes to Django's locmem outbox. What the tests do on a page is in tests/browser/pages.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.pages import TIMEOUT_MS, watched_page
from tests.factories import make_user
from tests.standin import StandIn

CHROMIUM = "/usr/bin/chromium"
# Chromium flags that keep a headless run quiet and offline: no sandbox (CI runs as root),
# no GPU, no background calls home, no QUIC.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does).")
    home = tmp_path_factory.mktemp("chromium-home")
    # Chromium writes its profile and caches under XDG dirs: keep them out of $HOME.
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    # Playwright's sync API runs an asyncio loop in this thread for as long as it is started,
    # so Django would refuse the ORM calls the tests make between browser steps ("you cannot
    # call this from an async context"). Those calls are plain synchronous code; the live
    # server answers from its own thread and is unaffected.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Django keeps its connections in context variables, and the code after Playwright starts
    # (or stops) runs in another context: a connection opened before was left open, unseen,
    # and the test database could not be dropped at the end ("is being accessed by other
    # users"). Closed on both sides of the switch.
    connections.close_all()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env
            )
            yield browser
            browser.close()
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    """One stand-in for the whole browser session, with full-size images for the screenshots
    (`providers_on_standin` resets it before each test)."""
    with StandIn(latency=0.0, image_size=1024) as server:
        yield server


@pytest.fixture
def context(browser, live_server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Iterator[Page]:
    page = watched_page(context)
    yield page
    # Every browser test fails on a CSP violation, whether or not it looked for one.
    assert page.csp_violations == [], "\n".join(page.csp_violations)  # type: ignore[attr-defined]


@pytest.fixture
def member(providers_on_standin):
    """A confirmed Free user with no key yet."""
    return make_user()
