"""Fixtures of the /v1/ tests: the real `openai` SDK against a live Bambi (pytest-django's
live server: real HTTP, real PostgreSQL), Bambi against the provider stand-in (real HTTP, the
providers' recorded wire formats). Nothing is mocked."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from byok.models import ApiConfiguration, Provider
from tests.factories import make_token
from tests.standin import StandIn

# Keys the stand-in accepts (a key containing "bad" is refused).
KEYS = {
    "openai": "sk-proj-v1testGoodKey0123456789abcdefghij",
    "google": "AIzaV1testGoodKey0123456789abcdefghijk",
    "xai": "xai-v1testGoodKey0123456789abcdefghijklmnop",
}
# One model of each provider, as the catalogue names them (catalogue-decision.md).
MODELS = {
    "openai": "gpt-image-1.5",
    "google-imagen": "imagen-4.0-generate-001",
    "google-gemini": "gemini-2.5-flash-image",
    "xai": "grok-imagine-image",
}


@pytest.fixture(scope="session")
def standin() -> Iterator[StandIn]:
    with StandIn(latency=0.0, image_size=64) as server:
        yield server


@pytest.fixture
def on_standin(catalogue, standin, settings) -> dict[str, Provider]:
    """Every provider pointed at the stand-in, which Bambi may reach (it is on loopback)."""
    settings.PROVIDER_PRIVATE_HOSTS = [standin.host_port]
    Provider.objects.update(api_base_url=standin.url)
    standin.reset()
    return {p.slug: p for p in Provider.objects.all()}


def store_key(user, provider: Provider, key: str | None = None, name: str | None = None):
    configuration = ApiConfiguration(
        user=user, provider=provider, name=name or f"{provider.name} key", is_valid=True
    )
    key = key or KEYS[provider.slug]
    configuration.api_key = key
    configuration.key_hint = f"{key[:3]}…{key[-4:]}"
    configuration.save()
    return configuration


@pytest.fixture
def keys(user, on_standin) -> dict[str, ApiConfiguration]:
    """One valid stored key of each provider for `user`."""
    return {slug: store_key(user, provider) for slug, provider in on_standin.items()}


@pytest.fixture
def token(user):
    """A token of `user` (`.secret` is its bmb_… string)."""
    return make_token(user, name="SDK")


@pytest.fixture
def sdk(live_server, token):
    """The official client pointed at Bambi, as a user would write it; no retries unless a
    test asks for them (`sdk_for`)."""
    return sdk_for(live_server, token.secret, max_retries=0)


def sdk_for(live_server, secret: str, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=secret, **options)
