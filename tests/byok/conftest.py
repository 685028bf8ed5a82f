"""Fixtures of the byok tests: realistic keys and the providers' key-check endpoints mocked at
the HTTP layer (`responses`) with their recorded answers (tests/fixtures/providers/<slug>/), at
URLs built from each Provider row's `api_base_url`."""

from __future__ import annotations

import json
import secrets
import string

import pytest
import requests
import responses

from byok.models import ApiConfiguration
from tests.factories import make_user
from tests.recorded import contract, recorded

# Each provider's row is pointed at its own test base URL, so a test passes only if the
# adapter builds its URLs from the row (never from a constant).
BASE_URLS = {
    "openai": "https://openai.provider.test",
    "google": "https://google.provider.test",
    "xai": "https://xai.provider.test",
}
PROVIDERS = ["openai", "google", "xai"]

_ALPHABET = string.ascii_letters + string.digits


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_key(slug: str) -> str:
    """A fresh key of the provider's real shape (unique per call: leak tests search for it)."""
    if slug == "openai":
        return f"sk-proj-{_random(48)}Qa42"
    if slug == "google":
        return f"AIza{_random(35)}"
    return f"xai-{_random(76)}"


def check_url(provider) -> str:
    return provider.api_base_url.rstrip("/") + contract(provider.slug)["validate"]["path"]


def valid_answer(slug: str) -> tuple[int, dict]:
    """The provider's recorded answer to a working key (tests/fixtures/providers/<slug>/)."""
    case = contract(slug)["validate"]["valid"][0]
    return case["status"], recorded(slug, case["body"])


def invalid_answer(slug: str) -> tuple[int, dict]:
    """The provider's recorded answer to a rejected key."""
    case = contract(slug)["validate"]["invalid"][0]
    return case["status"], recorded(slug, case["body"])


# The words of each provider's refusal that must reach the user.
INVALID_REASONS = {slug: contract(slug)["validate"]["invalid"][0]["says"] for slug in PROVIDERS}


class ProviderDouble:
    """Registers the provider's key-check answer for the next calls."""

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
def providers(catalogue):
    """The seeded providers, each pointed at its own test base URL."""
    for slug, provider in catalogue.items():
        provider.api_base_url = BASE_URLS[slug]
        provider.save(update_fields=["api_base_url"])
    return catalogue


@pytest.fixture
def provider_http(providers):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield ProviderDouble(mock)


@pytest.fixture
def add_configuration(provider_http):
    """Store a real configuration through the service (its key checked by the mocked provider)."""
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


def store_configuration(user, provider, name: str = "Stored key", key: str | None = None):
    """A configuration written straight through the model (no provider call, no plan check),
    for tests that need rows the Free plan would not let a user add."""
    from byok.services import key_hint

    key = key or new_key(provider.slug)
    configuration = ApiConfiguration(
        user=user, provider=provider, name=name, key_hint=key_hint(key)
    )
    configuration.api_key = key
    configuration.save()
    configuration.clear_key = key
    return configuration


@pytest.fixture
def operator(db):
    return make_user(is_staff=True, is_superuser=True)


@pytest.fixture
def rsps():
    """A bare `responses` mock for the adapter and HTTP-seam tests."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
