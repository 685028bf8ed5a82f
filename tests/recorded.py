"""Recorded provider answers: tests/fixtures/providers/<slug>/<name>.json.

These files are the one copy of each provider's wire shape. The adapter tests, the contract
(tests/byok/test_provider_contract.py, driven by each folder's contract.json), the HTTP-level
mocks of the app tests (`success_body`, `valid_answer`... below, at `generate_url` and
`check_url`) and the loopback stand-in (tests/standin.py) all answer with them.

Image data is a placeholder in the files: `__IMAGE_B64__` (base64) and `__IMAGE_URL__`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from tests.images import b64, png_bytes

PROVIDER_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "providers"
# The slugs of the providers, one folder of recorded answers each (tests/byok/
# test_provider_contract.py checks that every provider of the registry has its folder).
PROVIDERS = sorted(path.name for path in PROVIDER_FIXTURES.iterdir() if path.is_dir())
# (provider slug, model id) for every kind of model the adapters handle.
MODELS = [
    ("openai", "gpt-image-1.5"),
    ("openai", "dall-e-3"),
    ("openai", "dall-e-2"),
    ("google", "imagen-4.0-generate-001"),
    ("google", "gemini-2.5-flash-image"),
    ("xai", "grok-imagine-image"),
]


@functools.cache
def _load(slug: str, name: str) -> Any:
    return json.loads((PROVIDER_FIXTURES / slug / f"{name}.json").read_text())


def recorded(slug: str, name: str, **values: str | list[str]) -> Any:
    """A fresh copy of a recorded answer, its `__NAME__` placeholders filled from `values`.

    A string value goes wherever its placeholder stands. A list value sets how many images the
    answer carries: the entries holding that placeholder become one entry per value, copied
    from the first of them (`recorded("google", "imagen_predict", image_b64=[a, b, c])`).
    """
    return _fill(_load(slug, name), values)


def contract(slug: str) -> dict:
    """The provider's contract.json: which recorded answer plays which part of the contract."""
    return _load(slug, "contract")


def check_url(provider) -> str:
    """Where the adapter of `provider` (a Provider row) checks a key."""
    return provider.api_base_url.rstrip("/") + contract(provider.slug)["validate"]["path"]


def valid_answer(slug: str) -> tuple[int, dict]:
    """The provider's recorded (status, body) for a working key."""
    case = contract(slug)["validate"]["valid"][0]
    return case["status"], recorded(slug, case["body"])


def invalid_answer(slug: str) -> tuple[int, dict]:
    """The provider's recorded (status, body) for a rejected key."""
    case = contract(slug)["validate"]["invalid"][0]
    return case["status"], recorded(slug, case["body"])


# The words of each provider's refusal of a key that must reach the user.
INVALID_REASONS = {slug: contract(slug)["validate"]["invalid"][0]["says"] for slug in PROVIDERS}


def generate_url(slug: str, model_id: str) -> str:
    """Where Bambi asks the provider's row (in the test database) for images of `model_id`."""
    from byok.models import Provider  # the stand-in runs without Django (python -m tests.standin)

    base = Provider.objects.get(slug=slug).api_base_url.rstrip("/")
    if slug == "google":
        method = "generateContent" if model_id.startswith("gemini") else "predict"
        return f"{base}/v1beta/models/{model_id}:{method}"
    return f"{base}/v1/images/generations"


def success_body(slug: str, model_id: str, images: list[bytes] | None = None) -> dict:
    """The provider's recorded successful answer for `model_id`, carrying `images` (default:
    one 64x48 PNG)."""
    if slug == "google":
        name = "gemini_image" if model_id.startswith("gemini") else "imagen_predict"
    elif slug == "openai":
        name = "gpt_image_b64" if model_id.startswith("gpt-image") else "dalle3_b64"
    else:
        name = "image_b64"
    return recorded(slug, name, image_b64=[b64(data) for data in images or [png_bytes(64, 48)]])


def edit_url(slug: str, model_id: str) -> str:
    """Where the adapter sends an edit: OpenAI's and xAI's edits path, Gemini's generateContent."""
    from byok.models import Provider

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


def _placeholder(name: str) -> str:
    return f"__{name.upper()}__"


def _holds(node: Any, placeholder: str) -> bool:
    if isinstance(node, str):
        return placeholder in node
    if isinstance(node, dict):
        return any(_holds(value, placeholder) for value in node.values())
    if isinstance(node, list):
        return any(_holds(value, placeholder) for value in node)
    return False


def _holds_deeper(node: Any, placeholder: str) -> bool:
    """Whether a list inside `node` (a list entry) holds the placeholder: repeat there instead."""
    if isinstance(node, dict):
        return any(_holds_deeper(value, placeholder) for value in node.values())
    if isinstance(node, list):
        return _holds(node, placeholder)
    return False


def _fill(node: Any, values: dict[str, str | list[str]]) -> Any:
    if isinstance(node, str):
        for name, value in values.items():
            if isinstance(value, str):
                # The value itself where it is the whole string: a megabyte of base64 is
                # not copied per answer (the stand-in encodes each image once).
                node = (
                    value if node == _placeholder(name) else node.replace(_placeholder(name), value)
                )
        return node
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in _repeat(node, values)]
    return node


def _repeat(items: list, values: dict[str, str | list[str]]) -> list:
    """`items` with the entries holding a list-valued placeholder replaced by one per value
    (in the innermost list that holds it: Gemini's parts, not its candidates)."""
    for name, value in values.items():
        placeholder = _placeholder(name)
        if isinstance(value, str):
            continue
        template = next((item for item in items if _holds(item, placeholder)), None)
        if template is None or _holds_deeper(template, placeholder):
            continue
        copies = [_fill(template, {name: one}) for one in value]
        kept: list = []
        for item in items:
            if not _holds(item, placeholder):
                kept.append(item)
            elif copies:
                kept.extend(copies)
                copies = []
        items = kept
    return items
