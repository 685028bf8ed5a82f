"""Fixtures of the /v1/ tests: the real `openai` SDK against a live Bambi (pytest-django's
live server: real HTTP, real PostgreSQL), Bambi against the provider stand-in (`standin`,
`providers_on_standin` of tests/conftest.py: real HTTP, the providers' recorded wire formats).
Nothing is mocked."""

from __future__ import annotations

import openai
import pytest

from byok.models import ApiConfiguration
from tests.factories import make_configuration, make_token

# One model of each provider, as the catalogue names them (catalogue-decision.md).
MODELS = {
    "openai": "gpt-image-1.5",
    "google-imagen": "imagen-4.0-generate-001",
    "google-gemini": "gemini-2.5-flash-image",
    "xai": "grok-imagine-image",
}


@pytest.fixture
def keys(user, providers_on_standin) -> dict[str, ApiConfiguration]:
    """One valid stored key of each provider for `user` (keys the stand-in accepts)."""
    return {
        slug: make_configuration(user, provider) for slug, provider in providers_on_standin.items()
    }


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
