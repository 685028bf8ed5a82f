"""Fixtures of the generations tests: provider rows pointed at test hosts, keys stored the real
way (encrypted), provider answers mocked at the HTTP layer with `responses` in each provider's
real wire format (shared/providers.md), and helpers to look at what landed in storage."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import pytest
import responses
from django.conf import settings

from byok.models import ApiConfiguration, ImageModel, Provider
from tests.images import b64, jpeg_bytes, png_bytes, webp_bytes

BASE_URLS = {
    "openai": "https://openai.gen.test",
    "google": "https://google.gen.test",
    "xai": "https://xai.gen.test",
}
# (provider slug, model id) for every kind of model the adapters handle.
MODELS = [
    ("openai", "gpt-image-1.5"),
    ("openai", "dall-e-3"),
    ("openai", "dall-e-2"),
    ("google", "imagen-4.0-generate-001"),
    ("google", "gemini-2.5-flash-image"),
    ("xai", "grok-imagine-image"),
]

_ALPHABET = string.ascii_letters + string.digits


def new_key(slug: str) -> str:
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(44))
    return {"openai": f"sk-proj-{tail}", "google": f"AIza{tail[:35]}", "xai": f"xai-{tail}"}[slug]


@pytest.fixture
def providers(catalogue) -> dict[str, Provider]:
    for slug, url in BASE_URLS.items():
        Provider.objects.filter(slug=slug).update(api_base_url=url)
    return {p.slug: p for p in Provider.objects.all()}


def make_configuration(user, provider: Provider, *, key: str | None = None, **extra):
    configuration = ApiConfiguration(
        user=user, provider=provider, name=extra.pop("name", f"{provider.name} key"), **extra
    )
    key = key or new_key(provider.slug)
    configuration.api_key = key
    configuration.key_hint = f"{key[:3]}…{key[-4:]}"
    configuration.save()
    configuration.clear_key_for_tests = key
    return configuration


@pytest.fixture
def configs(user, providers) -> dict[str, ApiConfiguration]:
    """One stored key per provider for `user`."""
    return {slug: make_configuration(user, providers[slug]) for slug in BASE_URLS}


def image_model(slug: str, model_id: str) -> ImageModel:
    return ImageModel.objects.get(provider__slug=slug, model_id=model_id)


def generate_url(slug: str, model_id: str) -> str:
    base = Provider.objects.get(slug=slug).api_base_url.rstrip("/")
    if slug == "google":
        method = "generateContent" if model_id.startswith("gemini") else "predict"
        return f"{base}/v1beta/models/{model_id}:{method}"
    return f"{base}/v1/images/generations"


def success_body(slug: str, model_id: str, images: list[bytes] | None = None) -> dict:
    """A successful answer in the provider's own format, carrying `images` (default: one PNG)."""
    images = images or [png_bytes(64, 48)]
    if slug == "openai":
        body = {
            "created": 1764000000,
            "data": [
                {"b64_json": b64(data), "revised_prompt": "A red fox, watercolour"}
                for data in images
            ],
        }
        if model_id.startswith("gpt-image"):
            body.update(
                {
                    "size": "1024x1024",
                    "quality": "medium",
                    "output_format": "png",
                    "usage": {"input_tokens": 12, "output_tokens": 4160, "total_tokens": 4172},
                }
            )
        return body
    if slug == "xai":
        return {
            "data": [
                {
                    "b64_json": f"data:image/jpeg;base64,{b64(data)}",
                    "mime_type": "image/jpeg",
                    "revised_prompt": "A red fox in watercolour, soft light",
                }
                for data in images
            ],
            "usage": {"cost_in_usd_ticks": 200_000_000 * len(images)},
        }
    if model_id.startswith("gemini"):
        return {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "Here is your fox."}]
                        + [
                            {"inlineData": {"mimeType": "image/png", "data": b64(data)}}
                            for data in images
                        ],
                    },
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 1299},
        }
    return {
        "predictions": [
            {"bytesBase64Encoded": b64(data), "mimeType": "image/png"} for data in images
        ]
    }


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def media_files() -> list[str]:
    """Every file under MEDIA_ROOT, relative, sorted."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


__all__ = ["jpeg_bytes", "png_bytes", "webp_bytes"]
