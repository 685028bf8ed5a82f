"""The fixtures every test folder shares (one definition each; a folder's conftest.py holds only
what is local to it, such as the browser's).

Rows come from tests/factories.py, providers' answers from tests/recorded.py (the recorded
fixtures), Stripe's from tests/stripe_standin.py. HTTP to providers and Stripe goes through one
`responses` mock per test (`rsps`); the loopback provider stand-in is `standin`."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest
import requests
import responses
import stripe
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from accounts.models import User
from byok.catalogue import seed_catalogue
from byok.models import ApiConfiguration, ImageModel, Provider
from byok.selectors import image_models_forget
from tests.factories import make_configuration, make_user, new_key
from tests.recorded import PROVIDERS, check_url, invalid_answer, recorded, valid_answer
from tests.standin import StandIn
from tests.stripe_standin import (
    API,
    PRICE_ID,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeStandIn,
)

# Tests set their own environment: neither this process (see bambi/settings.py) nor the
# processes the tests start may read a developer's `.env` (scripts/run writes one).
os.environ["BAMBI_ENV_FILE"] = ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A browser test starts Chromium and a live server: slow, whichever folder it is in.
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # In parallel (scripts/test), pytest-xdist hands tests out in this order: the slow ones
        # first, so that the quick ones fill the gaps instead of one worker finishing alone
        # on a minute-long test. Stable: every worker must collect the same order.
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- isolation: every test starts from the same state --------------------------------------


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes files into its own throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none. Nor with catalogue
    rows kept by the generation path (tests change them with update(), past the signals)."""
    cache.clear()
    image_models_forget()
    yield
    cache.clear()
    image_models_forget()


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in French leaves French active in the thread (LocaleMiddleware activates the
    request's language and nothing deactivates it): the next test starts in the default."""
    yield
    translation.deactivate()


# Hosts that the `responses`-based tests point provider rows and image URLs at. They do not
# resolve (.test, example.*), and the network guard (bambi.http) refuses a name it cannot
# resolve; listing them in PROVIDER_PRIVATE_HOSTS is what an operator does for a stand-in.
# Tests of the guard itself use real local servers that are left out of this list.
RESPONSES_HOSTS = [
    "api.example.com",
    "images.example.net",
    "cdn.example.net",
    "elsewhere.example.org",
    "elsewhere.example",
    # Each provider's row in the `providers` fixture (one per fixtures folder).
    *(f"{slug}.provider.test" for slug in PROVIDERS),
    "api.openai.test",
    "api.x.test",
    "imgen.x.test",
    "generativelanguage.googleapis.test",
    "oaidalleapiprodscus.blob.core.windows.test",
    "x.test",
    "gemini-proxy.example.com",
    # Real hosts some tests use verbatim (never reached: `responses` answers).
    "imgen.x.ai",
    "api.openai.com",
    "api.x.ai",
    "generativelanguage.googleapis.com",
]


@pytest.fixture(autouse=True)
def _responses_hosts(settings, monkeypatch):
    settings.PROVIDER_PRIVATE_HOSTS = [
        f"{host}:{port}" for host in RESPONSES_HOSTS for port in (443, 80)
    ]
    # The network guard looks every host up before a request, `responses` or not. These names
    # never resolve for Bambi here (`.test` and `example.*` are reserved; the real ones are
    # answered by `responses`), so the answer is the resolver's "unknown name" at once: asking
    # the machine's resolver took 5 s whenever its UDP packet was lost on a loaded machine.
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.lower().rstrip(".") in RESPONSES_HOSTS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started once the test database exists, so that it stops
    (closing its thread's connection) before the database is dropped. When a worker's first
    test is a browser test (slow tests go first under xdist), the server started first and
    the drop failed: "database test_bambi_gw1 is being accessed by other users"."""
    return live_server


# --- people ------------------------------------------------------------------------------------


@pytest.fixture
def user(db) -> User:
    return make_user()


@pytest.fixture
def other_user(db) -> User:
    return make_user()


@pytest.fixture
def logged_in(client: Client, user) -> Client:
    """The `client` logged in as `user`."""
    client.force_login(user)
    return client


@pytest.fixture
def operator(db) -> User:
    """A superuser: the operator of the admin."""
    return make_user(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(operator) -> Client:
    """A client of its own logged in as `operator` (a test may use `client` beside it)."""
    client = Client()
    client.force_login(operator)
    return client


# --- the catalogue and stored keys -------------------------------------------------------------


@pytest.fixture
def catalogue(db) -> dict[str, Provider]:
    """The seeded providers and models (re-seeded: transactional tests flush the tables)."""
    seed_catalogue(Provider, ImageModel)
    return {p.slug: p for p in Provider.objects.all()}


# Each provider's row is pointed at its own test base URL, so a test passes only if the
# adapter builds its URLs from the row (never from a constant).
BASE_URLS = {slug: f"https://{slug}.provider.test" for slug in PROVIDERS}


# Models the catalogue keeps for history, switched off (retired by their provider). Tests
# that use `providers` may still drive them, as an operator may switch one back on: the DALL·E
# family is the one that answers with URLs and has its own rules. tests/byok/test_catalogue.py
# checks that they are off by default and that an inactive model is refused.
RETIRED = ["dall-e-3", "dall-e-2", "imagen-3.0-generate-002"]


@pytest.fixture
def providers(catalogue) -> dict[str, Provider]:
    """The seeded providers, each pointed at its own test base URL (answered by `rsps`), the
    RETIRED models switched back on."""
    for slug, provider in catalogue.items():
        provider.api_base_url = BASE_URLS[slug]
        provider.save(update_fields=["api_base_url"])
    ImageModel.objects.filter(model_id__in=RETIRED).update(is_active=True)
    return catalogue


@pytest.fixture
def configs(user, providers) -> dict[str, ApiConfiguration]:
    """One stored key per provider for `user`."""
    return {slug: make_configuration(user, providers[slug]) for slug in PROVIDERS}


# --- providers over HTTP: `responses`, or the loopback stand-in ---------------------------------


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """The test's one `responses` mock: provider and Stripe calls are answered from it (the
    `provider_http` and `stripe_api` doubles register their answers here too)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class ProviderDouble:
    """Registers the provider's key-check answer (its recorded one) for the next calls."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock

    def _add(self, provider, status: int, body) -> None:
        self.mock.upsert(
            responses.GET,
            check_url(provider),
            status=status,
            body=json.dumps(body),
            content_type="application/json",
        )

    def valid(self, provider, key: str) -> None:
        self._add(provider, *valid_answer(provider.slug))

    def invalid(self, provider, key: str) -> None:
        self._add(provider, *invalid_answer(provider.slug))

    def blocked(self, provider, key: str) -> None:
        assert provider.slug == "xai"
        self._add(provider, 200, {**recorded("xai", "api_key"), "api_key_blocked": True})

    def down(self, provider) -> None:
        self.mock.upsert(
            responses.GET,
            check_url(provider),
            body=requests.ConnectionError("Connection refused"),
        )

    def slow(self, provider) -> None:
        self.mock.upsert(
            responses.GET,
            check_url(provider),
            body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=10)"),
        )

    def outcome(self, outcome: str, provider, key: str) -> None:
        """Answer the next checks with `outcome`: valid, invalid, blocked, down or slow."""
        if outcome in ("down", "slow"):
            getattr(self, outcome)(provider)
        else:
            getattr(self, outcome)(provider, key)

    def calls_to(self, provider) -> int:
        url = check_url(provider)
        return sum(1 for call in self.mock.calls if call.request.url.startswith(url))


@pytest.fixture
def provider_http(providers, rsps) -> ProviderDouble:
    """The providers' key checks, answered on `rsps`."""
    return ProviderDouble(rsps)


@pytest.fixture
def add_configuration(provider_http):
    """Store a key through the real service (checked by the mocked provider, plan enforced)."""
    from byok.services import api_configuration_create

    def add(user, provider, name: str = "My key", key: str | None = None) -> ApiConfiguration:
        key = key or new_key(provider.slug)
        provider_http.valid(provider, key)
        configuration = api_configuration_create(
            user=user, provider=provider, name=name, api_key=key
        )
        configuration.clear_key = key  # for the test's own assertions only
        return configuration

    return add


@pytest.fixture
def standin(request, settings) -> Iterator[StandIn]:
    """The provider stand-in (tests/standin.py) on a free loopback port, which Bambi may reach
    as an allowed private host. `@pytest.mark.standin(latency=..., image_size=...)` tunes it
    (default: no latency, 64-pixel images)."""
    marker = request.node.get_closest_marker("standin")
    options = {"latency": 0.0, "image_size": 64, **(marker.kwargs if marker else {})}
    with StandIn(**options) as server:
        settings.PROVIDER_PRIVATE_HOSTS = [server.host_port]  # the stand-in only
        yield server


@pytest.fixture
def providers_on_standin(catalogue, standin, settings) -> dict[str, Provider]:
    """The seeded catalogue with every provider's `api_base_url` pointed at the stand-in."""
    settings.PROVIDER_PRIVATE_HOSTS = [standin.host_port]
    Provider.objects.update(api_base_url=standin.url)
    standin.reset()
    return {p.slug: p for p in Provider.objects.all()}


# --- Stripe: the `responses` stand-in of tests/stripe_standin.py -------------------------------


@pytest.fixture
def stripe_keys(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_TEST_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_PREMIUM_PRICE_ID = PRICE_ID
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.APP_URL = "https://bambi.example"
    # The library retries failed calls with back-off sleeps; the tests want one answer.
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    monkeypatch.setattr(stripe, "api_base", API)


@pytest.fixture
def stripe_api(stripe_keys, user, rsps) -> StripeStandIn:
    """Stripe's API for `user`, answered on `rsps`."""
    return StripeStandIn(rsps, user)


@pytest.fixture
def endpoint(stripe_keys, db):
    """dj-stripe's webhook endpoint row, as `billing_setup` and `migrate` write it."""
    from billing.services import webhook_endpoint_sync

    return webhook_endpoint_sync()
