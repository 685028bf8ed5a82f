"""Fixtures of the byok tests: realistic keys and the providers' key-check endpoints mocked at
the HTTP layer (`responses`) with their real answers (shared/providers.md), at URLs built from
each Provider row's `api_base_url`."""

from __future__ import annotations

import json
import secrets
import string

import pytest
import requests
import responses

from byok.models import ApiConfiguration
from tests.factories import make_user

# Each provider's row is pointed at its own test base URL, so a test passes only if the
# adapter builds its URLs from the row (never from a constant).
BASE_URLS = {
    "openai": "https://openai.provider.test",
    "google": "https://google.provider.test",
    "xai": "https://xai.provider.test",
}
CHECK_PATHS = {"openai": "/v1/models", "google": "/v1beta/models", "xai": "/v1/api-key"}
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
    return provider.api_base_url.rstrip("/") + CHECK_PATHS[provider.slug]


def _masked(key: str) -> str:
    return f"{key[:8]}{'*' * 20}{key[-4:]}"


def valid_answer(slug: str, key: str) -> tuple[int, dict]:
    if slug == "openai":
        return 200, {
            "object": "list",
            "data": [
                {
                    "id": "gpt-image-1.5",
                    "object": "model",
                    "created": 1765000000,
                    "owned_by": "system",
                },
                {"id": "dall-e-3", "object": "model", "created": 1698785189, "owned_by": "system"},
            ],
        }
    if slug == "google":
        return 200, {
            "models": [
                {
                    "name": "models/gemini-2.5-flash-image",
                    "version": "2.0",
                    "displayName": "Nano Banana",
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                },
                {
                    "name": "models/imagen-4.0-generate-001",
                    "version": "001",
                    "displayName": "Imagen 4",
                    "supportedGenerationMethods": ["predict"],
                },
            ],
            "nextPageToken": "Ch5tb2RlbHMvZ2VtaW5p",
        }
    return 200, xai_key_info(key)


def xai_key_info(key: str, **flags) -> dict:
    return {
        "redacted_api_key": f"{key[:4]}…{key[-4:]}",
        "user_id": "3f1c3c2a-5d9e-4a7e-9c1f-2b7d6e8a9f00",
        "name": "bambi",
        "create_time": "2026-10-01T10:00:00.000000Z",
        "modify_time": "2026-10-01T10:00:00.000000Z",
        "modified_by": "3f1c3c2a-5d9e-4a7e-9c1f-2b7d6e8a9f00",
        "team_id": "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
        "acls": ["api-key:model:*", "api-key:endpoint:*"],
        "api_key_id": "5b6c7d8e-9f0a-4b1c-2d3e-4f5a6b7c8d9e",
        "team_blocked": flags.get("team_blocked", False),
        "api_key_blocked": flags.get("api_key_blocked", False),
        "api_key_disabled": flags.get("api_key_disabled", False),
    }


# The words of each provider's refusal that must reach the user.
INVALID_REASONS = {
    "openai": "Incorrect API key provided",
    "google": "API key not valid",
    "xai": "Incorrect API key provided",
}


def invalid_answer(slug: str, key: str) -> tuple[int, dict]:
    if slug == "openai":
        return 401, {
            "error": {
                "message": f"Incorrect API key provided: {_masked(key)}. You can find your API "
                "key at https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    if slug == "google":
        return 400, {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                        "locale": "en-US",
                        "message": "API key not valid. Please pass a valid API key.",
                    },
                ],
            }
        }
    return 400, {
        "code": "Client specified an invalid argument",
        "error": f"Incorrect API key provided: {key[:2]}***{key[-2:]}. You can obtain an API "
        "key from https://console.x.ai.",
    }


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
        self._add(provider, *valid_answer(provider.slug, key))

    def invalid(self, provider, key: str) -> None:
        self._add(provider, *invalid_answer(provider.slug, key))

    def blocked(self, provider, key: str) -> None:
        assert provider.slug == "xai"
        self._add(provider, 200, xai_key_info(key, api_key_blocked=True))

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
