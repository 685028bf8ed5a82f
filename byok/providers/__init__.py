"""Provider adapters and their registry.

Adding a provider = one module + one line in PROVIDERS + one catalogue row.
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
