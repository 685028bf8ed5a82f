"""OpenAI adapter: what is OpenAI's own (request bodies per model family, token usage).

What every adapter must do is in test_provider_contract.py; the recorded answers are in
tests/fixtures/providers/openai/."""

from __future__ import annotations

import json

import pytest

from byok.providers.errors import ProviderUnavailable
from byok.providers.openai import OpenAIAdapter
from generations.inputs import InputImage
from tests.images import b64, image_format, image_size, jpeg_bytes, mask_png, png_bytes, webp_bytes
from tests.recorded import recorded
from tests.wire import multipart_parts

BASE = "https://api.openai.test"
GENERATIONS = f"{BASE}/v1/images/generations"
KEY = "sk-proj-Ab12Cd34Ef56Gh78Ij90KlMnOpQrStUvWxYz"


@pytest.fixture
def adapter() -> OpenAIAdapter:
    return OpenAIAdapter(BASE + "/")


def sent_body(call) -> dict:
    return json.loads(call.request.body)


def generate(adapter: OpenAIAdapter, model_id: str = "gpt-image-1", **options):
    return adapter.generate(key=KEY, model_id=model_id, prompt="a fawn", options=options)


# --- build_request ------------------------------------------------------------------------------


def test_gpt_image_request_never_sends_response_format(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id="gpt-image-1.5",
        prompt="a fawn",
        options={
            "count": 2,
            "size": "1536x1024",
            "quality": "high",
            "output_format": "webp",
            "background": "transparent",
            "style": "vivid",
        },
    )

    assert prepared.method == "POST"
    assert prepared.url == GENERATIONS
    assert prepared.json == {
        "model": "gpt-image-1.5",
        "prompt": "a fawn",
        "n": 2,
        "size": "1536x1024",
        "quality": "high",
        "output_format": "webp",
        "background": "transparent",
    }


def test_dalle3_request_asks_for_base64_and_sends_style(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id="dall-e-3",
        prompt="a fawn",
        options={"size": "1792x1024", "quality": "hd", "style": "natural", "output_format": "png"},
    )

    assert prepared.json == {
        "model": "dall-e-3",
        "prompt": "a fawn",
        "n": 1,
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "b64_json",
    }


def test_dalle2_request_has_no_style(adapter):
    prepared = adapter.build_request(
        key=KEY, model_id="dall-e-2", prompt="a fawn", options={"count": 3, "style": "vivid"}
    )

    assert "style" not in prepared.json
    assert prepared.json["n"] == 3
    assert prepared.json["response_format"] == "b64_json"


def test_request_url_comes_from_the_base_url(adapter):
    other = OpenAIAdapter("http://127.0.0.1:9999/")
    prepared = other.build_request(key=KEY, model_id="gpt-image-1", prompt="p", options={})

    assert prepared.url == "http://127.0.0.1:9999/v1/images/generations"
    assert KEY not in repr(prepared)


# --- generate: success --------------------------------------------------------------------------


def test_generate_decodes_gpt_image_base64(rsps, adapter):
    image = png_bytes(16, 12)
    rsps.post(GENERATIONS, json=recorded("openai", "gpt_image_b64", image_b64=b64(image)))

    output = generate(adapter, size="1024x1024")

    assert len(rsps.calls) == 1
    assert "response_format" not in sent_body(rsps.calls[0])
    assert [img.data for img in output.images] == [image]
    assert image_size(output.images[0].data) == (16, 12)
    assert output.images[0].mime_type == "image/png"
    assert output.cost_usd is None
    assert output.usage["total_tokens"] == 1106


def test_generate_keeps_dalle3_revised_prompt(rsps, adapter):
    image = jpeg_bytes(10, 10)
    rsps.post(GENERATIONS, json=recorded("openai", "dalle3_b64", image_b64=b64(image)))

    output = generate(adapter, "dall-e-3", style="vivid")

    assert sent_body(rsps.calls[0])["style"] == "vivid"
    assert image_format(output.images[0].data) == "JPEG"
    assert output.images[0].mime_type == "image/jpeg"
    assert output.images[0].revised_prompt.startswith("A watercolour painting")


# --- generate: failures ---------------------------------------------------------------------------


def test_generate_reports_a_200_without_images_as_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, json={"created": 1, "data": []})

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


# --- edits: multipart, one image[] part per input, the mask as a PNG part -----------------------

EDITS = f"{BASE}/v1/images/edits"


def test_gpt_image_generation_sends_moderation_and_compression_as_json(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id="gpt-image-2",
        prompt="a fawn",
        options={"output_format": "webp", "output_compression": 80, "moderation": "low"},
    )

    assert prepared.json == {
        "model": "gpt-image-2",
        "prompt": "a fawn",
        "n": 1,
        "output_format": "webp",
        "output_compression": 80,
        "moderation": "low",
    }


def test_edit_is_a_multipart_form_with_image_parts_a_mask_and_the_options(rsps, adapter):
    answer = png_bytes(16, 12)
    rsps.post(EDITS, json=recorded("openai", "gpt_image_edit_b64", image_b64=[b64(answer)]))
    first = InputImage(png_bytes(16, 12), "image/png", 16, 12)
    second = InputImage(webp_bytes(9, 9), "image/webp", 9, 9)
    mask = InputImage(mask_png(16, 12), "image/png", 16, 12)

    output = adapter.generate(
        key=KEY,
        model_id="gpt-image-1.5",
        prompt="make it snow",
        options={
            "count": 2,
            "size": "1024x1536",
            "quality": "high",
            "background": "opaque",
            "output_format": "jpeg",
            "output_compression": 70,
            "input_fidelity": "high",
        },
        images=[first, second],
        mask=mask,
    )

    request = rsps.calls[0].request
    assert request.url == EDITS and request.headers["Authorization"] == f"Bearer {KEY}"
    parts = multipart_parts(request.body, request.headers["Content-Type"])
    fields = {p.name: p.text for p in parts if p.filename is None}
    assert fields == {
        "model": "gpt-image-1.5",
        "prompt": "make it snow",
        "n": "2",
        "size": "1024x1536",
        "quality": "high",
        "output_format": "jpeg",
        "output_compression": "70",
        "background": "opaque",
        "input_fidelity": "high",
    }
    files = [(p.name, p.filename, p.content_type, p.data) for p in parts if p.filename]
    assert files == [
        ("image[]", "image-0.png", "image/png", first.data),
        ("image[]", "image-1.webp", "image/webp", second.data),
        ("mask", "mask.png", "image/png", mask.data),
    ]
    assert "response_format" not in fields and "moderation" not in fields
    assert [img.data for img in output.images] == [answer]
    assert output.usage["input_tokens_details"]["image_tokens"] == 194


def test_edit_sends_image_parts_even_for_one_image_and_no_mask_part_without_a_mask(rsps, adapter):
    rsps.post(EDITS, json=recorded("openai", "gpt_image_edit_b64", image_b64=[b64(png_bytes())]))
    only = InputImage(jpeg_bytes(8, 8), "image/jpeg", 8, 8)

    adapter.generate(
        key=KEY, model_id="gpt-image-2", prompt="p", options={}, images=[only], mask=None
    )

    request = rsps.calls[0].request
    parts = multipart_parts(request.body, request.headers["Content-Type"])
    assert [(p.name, p.filename) for p in parts if p.filename] == [("image[]", "image-0.jpg")]
    assert {p.name for p in parts if p.filename is None} == {"model", "prompt", "n"}
