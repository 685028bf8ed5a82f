"""xAI adapter: what is xAI's own (blocked keys, aspect ratios, exact cost, moderated slots).

What every adapter must do is in test_provider_contract.py; the recorded answers are in
tests/fixtures/providers/xai/."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from byok.providers.errors import ContentRefused
from byok.providers.xai import XAIAdapter
from generations.inputs import InputImage
from tests.images import b64, image_format, image_size, jpeg_bytes, png_bytes, webp_bytes
from tests.recorded import recorded

BASE = "https://api.x.test"
GENERATIONS = f"{BASE}/v1/images/generations"
API_KEY_INFO = f"{BASE}/v1/api-key"
KEY = "xai-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"


@pytest.fixture
def adapter() -> XAIAdapter:
    return XAIAdapter(BASE)


def generate(adapter: XAIAdapter, model_id: str = "grok-imagine-image", **options):
    return adapter.generate(key=KEY, model_id=model_id, prompt="a fawn", options=options)


# --- validate_key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "sentence"),
    [
        ("api_key_blocked", "xAI has blocked this key."),
        ("api_key_disabled", "This key is disabled in the xAI console."),
        ("team_blocked", "xAI has blocked the team this key belongs to."),
    ],
)
def test_validate_reports_a_blocked_key_or_team_as_invalid_in_a_sentence(
    rsps, adapter, flag, sentence
):
    body = recorded("xai", "api_key")
    body[flag] = True
    rsps.get(API_KEY_INFO, json=body)

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert check.reason == sentence
    assert flag not in check.reason  # never the API's own flag name


# --- build_request ------------------------------------------------------------------------------


def test_request_always_asks_for_base64_and_never_sends_size_or_style(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id="grok-imagine-image",
        prompt="a fawn",
        options={
            "count": 3,
            "aspect_ratio": "16:9",
            "resolution": "2k",
            "size": "1024x1024",
            "style": "vivid",
            "background": "transparent",
        },
    )

    assert prepared.url == GENERATIONS
    assert prepared.json == {
        "model": "grok-imagine-image",
        "prompt": "a fawn",
        "n": 3,
        "response_format": "b64_json",
        "aspect_ratio": "16:9",
        "resolution": "2k",
    }


def test_request_defaults_to_one_image(adapter):
    prepared = adapter.build_request(key=KEY, model_id="grok-2-image-1212", prompt="p", options={})

    assert prepared.json["n"] == 1
    assert "aspect_ratio" not in prepared.json


# --- generate: success --------------------------------------------------------------------------


def test_generate_strips_the_data_uri_prefix_and_reports_the_exact_cost(rsps, adapter):
    image = jpeg_bytes(20, 10)
    rsps.post(GENERATIONS, json=recorded("xai", "image_b64", image_b64=b64(image)))

    output = generate(adapter, aspect_ratio="2:1")

    assert len(output.images) == 1
    assert output.images[0].data == image
    assert image_size(output.images[0].data) == (20, 10)
    assert output.images[0].mime_type == "image/jpeg"
    assert output.images[0].revised_prompt is None  # xAI sends "" when it did not revise
    assert output.cost_usd == Decimal("0.02")
    assert output.usage == {"cost_in_usd_ticks": 200000000}


def test_generate_decodes_plain_base64_too(rsps, adapter):
    image = png_bytes(5, 5)
    body = {
        "data": [{"b64_json": b64(image), "mime_type": "image/png", "revised_prompt": "x"}],
        "usage": {"cost_in_usd_ticks": 123456789},
    }
    rsps.post(GENERATIONS, json=body)

    output = generate(adapter)

    assert image_format(output.images[0].data) == "PNG"
    assert output.cost_usd == Decimal("0.0123456789")


def test_generate_without_a_reported_cost_leaves_it_unknown(rsps, adapter):
    body = {"data": [{"b64_json": b64(png_bytes()), "mime_type": "image/png"}]}
    rsps.post(GENERATIONS, json=body)

    assert generate(adapter).cost_usd is None


# --- generate: moderation --------------------------------------------------------------


def test_generate_skips_moderated_slots_and_refuses_when_all_are_moderated(rsps, adapter):
    body = {"data": [{"url": "", "mime_type": "image/jpeg", "respect_moderation": False}]}
    rsps.post(GENERATIONS, json=body)

    with pytest.raises(ContentRefused):
        generate(adapter)
    assert len(rsps.calls) == 1  # no attempt to download the empty URL


def test_generate_keeps_the_images_that_passed_moderation(rsps, adapter):
    image = png_bytes(3, 3)
    body = {
        "data": [
            {"b64_json": "", "respect_moderation": False},
            {"b64_json": b64(image), "mime_type": "image/png", "respect_moderation": True},
        ]
    }
    rsps.post(GENERATIONS, json=body)

    assert [img.data for img in generate(adapter, count=2).images] == [image]


# --- edits: JSON, one image as `image`, several as `images`, each a data: URL ---------------------

EDITS = f"{BASE}/v1/images/edits"


def test_edit_of_one_image_sends_it_as_a_data_url_in_image(rsps, adapter):
    answer = jpeg_bytes(12, 12)
    rsps.post(EDITS, json=recorded("xai", "image_edit_b64", image_b64=[b64(answer)]))
    source = InputImage(png_bytes(16, 12), "image/png", 16, 12)

    output = adapter.generate(
        key=KEY,
        model_id="grok-imagine-image",
        prompt="make it snow",
        options={"count": 1, "resolution": "2k"},
        images=[source],
    )

    body = json.loads(rsps.calls[0].request.body)
    assert rsps.calls[0].request.headers["Content-Type"] == "application/json"
    assert body == {
        "model": "grok-imagine-image",
        "prompt": "make it snow",
        "n": 1,
        "response_format": "b64_json",
        "resolution": "2k",
        "image": {"url": "data:image/png;base64," + b64(source.data)},
    }
    assert [img.data for img in output.images] == [answer]
    # xAI bills the input image too, and says so: $0.022 for one edit.
    assert output.cost_usd == Decimal("0.022")


def test_edit_of_several_images_sends_images_and_the_chosen_ratio(rsps, adapter):
    rsps.post(EDITS, json=recorded("xai", "image_edit_b64", image_b64=[b64(jpeg_bytes())]))
    sources = [
        InputImage(png_bytes(8, 8), "image/png", 8, 8),
        InputImage(webp_bytes(9, 9), "image/webp", 9, 9),
    ]

    adapter.generate(
        key=KEY,
        model_id="grok-imagine-image-2.0",
        prompt="<IMAGE_0> wearing the hat of <IMAGE_1>",
        options={"aspect_ratio": "16:9", "quality": "medium"},
        images=sources,
    )

    body = json.loads(rsps.calls[0].request.body)
    assert "image" not in body and "size" not in body
    assert body["images"] == [
        {"url": "data:image/png;base64," + b64(sources[0].data)},
        {"url": "data:image/webp;base64," + b64(sources[1].data)},
    ]
    assert (body["aspect_ratio"], body["quality"]) == ("16:9", "medium")
