"""Provider adapters and their registry.

Adding a provider:
1. one module here with a `ProviderAdapter` subclass (base.py lists the hooks; a provider that
   copied OpenAI's Images API subclasses `openai.OpenAICompatibleAdapter`, as xai.py does);
2. one line in PROVIDERS;
3. one fixtures folder, tests/fixtures/providers/<slug>/: the provider's recorded answers and a
   contract.json saying which answer is a valid key, a refusal, a 429… The contract tests
   (tests/byok/test_provider_contract.py) run over PROVIDERS and fail until the folder covers
   every part; what only this provider does goes in tests/byok/test_providers_<slug>.py.
Operators then add the provider's row and models in the admin (or byok/catalogue.py seeds them).
"""

from __future__ import annotations

from byok.providers.base import (
    GenerationOutput,
    KeyCheck,
    PreparedRequest,
    ProviderAdapter,
    ProviderImage,
)
from byok.providers.google import GoogleAdapter
from byok.providers.openai import OpenAIAdapter
from byok.providers.xai import XAIAdapter

PROVIDERS: dict[str, type[ProviderAdapter]] = {
    "openai": OpenAIAdapter,
    "google": GoogleAdapter,
    "xai": XAIAdapter,
}


def get_provider(slug: str, base_url: str) -> ProviderAdapter:
    """The adapter for a provider row (`slug`, `api_base_url`).

    Raises ValueError for a slug without an adapter (an operator added a provider row that no
    code speaks yet).
    """
    try:
        adapter_class = PROVIDERS[slug]
    except KeyError:
        raise ValueError(f"Unknown provider {slug!r}: no adapter is registered for it.") from None
    return adapter_class(base_url)


__all__ = [
    "PROVIDERS",
    "GenerationOutput",
    "KeyCheck",
    "PreparedRequest",
    "ProviderAdapter",
    "ProviderImage",
    "get_provider",
]
