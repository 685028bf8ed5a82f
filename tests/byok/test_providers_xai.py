"""xAI adapter: recorded wire shapes in tests/fixtures/providers/xai_*.json."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from byok.providers import get_provider
from byok.providers.errors import (
    BadRequest,
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from byok.providers.xai import XAIAdapter
from tests.byok.recorded import fixture
from tests.images import b64, image_format, image_size, jpeg_bytes, png_bytes

BASE = "https://api.x.test"
GENERATIONS = f"{BASE}/v1/images/generations"
API_KEY_INFO = f"{BASE}/v1/api-key"
KEY = "xai-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
IMAGE_URL = "https://imgen.x.test/xai-imgen/xai-tmp-imgen-0f9e8d7c.jpeg"


@pytest.fixture
def adapter() -> XAIAdapter:
    return XAIAdapter(BASE)


def generate(adapter: XAIAdapter, model_id: str = "grok-imagine-image", **options):
    return adapter.generate(key=KEY, model_id=model_id, prompt="a fawn", options=options)


# --- validate_key -------------------------------------------------------------------------------


def test_validate_accepts_an_unblocked_key(rsps, adapter):
    rsps.get(API_KEY_INFO, json=fixture("xai_api_key.json"))

    check = adapter.validate_key(KEY)

    assert check.is_valid
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


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
    body = fixture("xai_api_key.json")
    body[flag] = True
    rsps.get(API_KEY_INFO, json=body)

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert check.reason == sentence
    assert flag not in check.reason  # never the API's own flag name


@pytest.mark.parametrize(
    ("status", "name"),
    [(400, "xai_error_incorrect_api_key.json"), (401, "xai_error_no_api_key.json")],
)
def test_validate_reports_a_rejected_key_as_invalid(rsps, adapter, status, name):
    rsps.get(API_KEY_INFO, status=status, json=fixture(name))

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert "API key" in check.reason


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ConnectionError("refused"), requests.exceptions.ConnectTimeout("slow")],
)
def test_validate_reports_network_failures_as_unreachable(rsps, adapter, failure):
    rsps.get(API_KEY_INFO, body=failure)

    assert adapter.validate_key(KEY).status == "unreachable"


def test_validate_reports_a_server_error_as_unreachable(rsps, adapter):
    rsps.get(API_KEY_INFO, status=500, json=fixture("xai_error_internal.json"))

    assert adapter.validate_key(KEY).status == "unreachable"


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
    rsps.post(GENERATIONS, json=fixture("xai_image_b64.json", image_b64=b64(image)))

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


def test_generate_downloads_a_url_answer_without_the_key(rsps, adapter):
    image = jpeg_bytes(6, 6)
    rsps.post(GENERATIONS, json=fixture("xai_image_url.json", image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=image, content_type="image/jpeg")

    output = generate(adapter)

    assert output.images[0].data == image
    assert output.images[0].revised_prompt.startswith("A fawn")
    download = rsps.calls[1].request
    assert "Authorization" not in download.headers
    assert KEY not in str(download.headers)


def test_generate_reports_a_download_over_the_size_cap_as_unavailable(rsps, adapter, settings):
    settings.IMAGE_DOWNLOAD_MAX_BYTES = 2048
    rsps.post(GENERATIONS, json=fixture("xai_image_url.json", image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=b"\xff\xd8\xff" + b"0" * 10_000)

    with pytest.raises(ProviderUnavailable, match="larger than"):
        generate(adapter)


def test_generate_refuses_a_non_http_image_url(rsps, adapter):
    rsps.post(GENERATIONS, json=fixture("xai_image_url.json", image_url="ftp://imgen.x.test/a"))

    with pytest.raises(ProviderUnavailable, match="http and https"):
        generate(adapter)


# --- generate: refusals and errors --------------------------------------------------------------


def test_generate_treats_empty_data_as_a_silent_refusal(rsps, adapter):
    rsps.post(GENERATIONS, json=fixture("xai_image_empty.json"))

    with pytest.raises(ContentRefused):
        generate(adapter)


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


@pytest.mark.parametrize(
    ("status", "name", "error_class", "message_start"),
    [
        (400, "xai_error_incorrect_api_key.json", InvalidKey, "Incorrect API key"),
        (401, "xai_error_no_api_key.json", InvalidKey, "No API key"),
        (403, "xai_error_blocked.json", InvalidKey, "The API key or team has been blocked"),
        (403, "xai_error_no_credits.json", OutOfCredit, "Your newly created team"),
        (429, "xai_error_spending_limit.json", OutOfCredit, "Your team"),
        (429, "xai_error_rate_limit.json", RateLimited, "Rate limit exceeded"),
        (400, "xai_error_moderation.json", ContentRefused, "Generated image rejected"),
        (400, "xai_error_argument_not_supported.json", BadRequest, "Argument not supported"),
        (404, "xai_error_model_not_found.json", BadRequest, "The model grok-9-image"),
        (422, "xai_error_unprocessable.json", BadRequest, "Failed to deserialize"),
        (500, "xai_error_internal.json", ProviderUnavailable, "Service temporarily"),
    ],
)
def test_generate_maps_errors_by_status_and_body(
    rsps, adapter, status, name, error_class, message_start
):
    rsps.post(GENERATIONS, status=status, json=fixture(name))

    with pytest.raises(error_class) as caught:
        generate(adapter)

    assert type(caught.value) is error_class
    assert caught.value.message.startswith(message_start)


def test_generate_never_echoes_the_key_from_an_error_body(rsps, adapter):
    body = {"code": "Client specified an invalid argument", "error": f"Incorrect API key {KEY}"}
    rsps.post(GENERATIONS, status=400, json=body)

    with pytest.raises(InvalidKey) as caught:
        generate(adapter)

    assert KEY not in caught.value.message
    assert KEY not in repr(caught.value)
    assert KEY not in str(caught.value)


def test_validate_never_echoes_the_key(rsps, adapter):
    rsps.get(API_KEY_INFO, status=400, json={"code": "x", "error": f"Incorrect API key {KEY}"})

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert KEY not in check.reason


def test_generate_reports_an_html_page_as_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, status=502, body=b"<!DOCTYPE html><title>502</title>")

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_reports_an_html_429_as_rate_limited(rsps, adapter):
    rsps.post(GENERATIONS, status=429, body=b"<html>Too Many Requests</html>")

    with pytest.raises(RateLimited):
        generate(adapter)


def test_generate_reports_undecodable_base64_as_unavailable(rsps, adapter):
    body = {"data": [{"b64_json": "data:image/png;base64,@@@@", "mime_type": "image/png"}]}
    rsps.post(GENERATIONS, json=body)

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_read_timeout_is_a_timeout_after_exactly_one_post(rsps, adapter):
    rsps.post(GENERATIONS, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ProviderTimeout):
        generate(adapter)

    assert len(rsps.calls) == 1


def test_generate_connection_error_is_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, body=requests.exceptions.ConnectionError("refused"))

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_registry_builds_the_xai_adapter():
    assert isinstance(get_provider("xai", "https://api.x.ai"), XAIAdapter)
