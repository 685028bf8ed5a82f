"""Fixtures of the generations tests: provider rows pointed at test hosts, keys stored the real
way (encrypted), provider answers mocked at the HTTP layer with `responses` with each provider's
recorded answers (tests/fixtures/providers/<slug>/), and helpers to look at what landed in
storage."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

import pytest
import responses
from django.conf import settings

from byok.models import ApiConfiguration, ImageModel, Provider
from tests.images import b64, jpeg_bytes, png_bytes, webp_bytes
from tests.recorded import recorded

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


# Models the catalogue keeps for history, switched off (retired by their provider). Most tests
# here still drive them, as an operator may switch one back on: the DALL·E family is the one
# that answers with URLs and has its own rules. tests/byok/test_catalogue.py checks that they
# are off by default and that an inactive model is refused.
RETIRED = ["dall-e-3", "dall-e-2", "imagen-3.0-generate-002"]


@pytest.fixture
def providers(catalogue) -> dict[str, Provider]:
    for slug, url in BASE_URLS.items():
        Provider.objects.filter(slug=slug).update(api_base_url=url)
    ImageModel.objects.filter(model_id__in=RETIRED).update(is_active=True)
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


def edit_url(slug: str, model_id: str) -> str:
    """Where the adapter sends an edit: OpenAI's and xAI's edits path, Gemini's generateContent."""
    if slug == "google":
        return generate_url(slug, model_id)
    base = Provider.objects.get(slug=slug).api_base_url.rstrip("/")
    return f"{base}/v1/images/edits"


def edit_body(slug: str, images: list[bytes] | None = None) -> dict:
    """The provider's recorded answer to an edit, carrying `images` (default: one PNG)."""
    name = {"openai": "gpt_image_edit_b64", "google": "gemini_edit", "xai": "image_edit_b64"}
    return recorded(
        slug, name[slug], image_b64=[b64(data) for data in images or [png_bytes(64, 48)]]
    )


def success_body(slug: str, model_id: str, images: list[bytes] | None = None) -> dict:
    """The provider's recorded successful answer (tests/fixtures/providers/<slug>/), carrying
    `images` (default: one PNG)."""
    if slug == "google":
        name = "gemini_image" if model_id.startswith("gemini") else "imagen_predict"
    elif slug == "openai":
        name = "gpt_image_b64" if model_id.startswith("gpt-image") else "dalle3_b64"
    else:
        name = "image_b64"
    return recorded(slug, name, image_b64=[b64(data) for data in images or [png_bytes(64, 48)]])


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
