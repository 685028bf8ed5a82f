"""OpenAI adapter: recorded wire shapes in tests/fixtures/providers/openai_*.json."""

from __future__ import annotations

import json

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
from byok.providers.openai import OpenAIAdapter
from tests.byok.recorded import fixture
from tests.images import b64, image_format, image_size, jpeg_bytes, png_bytes

BASE = "https://api.openai.test"
GENERATIONS = f"{BASE}/v1/images/generations"
MODELS = f"{BASE}/v1/models"
KEY = "sk-proj-Ab12Cd34Ef56Gh78Ij90KlMnOpQrStUvWxYz"
IMAGE_URL = "https://oaidalleapiprodscus.blob.core.windows.test/private/img-1.png?sig=abc"


@pytest.fixture
def adapter() -> OpenAIAdapter:
    return OpenAIAdapter(BASE + "/")


def sent_body(call) -> dict:
    return json.loads(call.request.body)


def generate(adapter: OpenAIAdapter, model_id: str = "gpt-image-1", **options):
    return adapter.generate(key=KEY, model_id=model_id, prompt="a fawn", options=options)


# --- validate_key -------------------------------------------------------------------------------


def test_validate_accepts_a_key_that_lists_models(rsps, adapter):
    rsps.get(MODELS, json=fixture("openai_models.json"))

    check = adapter.validate_key(KEY)

    assert check.is_valid
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


def test_validate_reports_a_401_as_invalid_with_the_provider_message(rsps, adapter):
    rsps.get(MODELS, status=401, json=fixture("openai_error_invalid_api_key.json"))

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert not check.is_valid
    assert check.reason.startswith("Incorrect API key provided")


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ConnectionError("refused"), requests.exceptions.ConnectTimeout("slow")],
)
def test_validate_reports_network_failures_as_unreachable_not_invalid(rsps, adapter, failure):
    rsps.get(MODELS, body=failure)

    assert adapter.validate_key(KEY).status == "unreachable"


@pytest.mark.parametrize("status", [500, 503])
def test_validate_reports_a_server_error_as_unreachable(rsps, adapter, status):
    rsps.get(MODELS, status=status, json=fixture("openai_error_server.json"))

    assert adapter.validate_key(KEY).status == "unreachable"


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
    rsps.post(GENERATIONS, json=fixture("openai_gpt_image_b64.json", image_b64=b64(image)))

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
    rsps.post(GENERATIONS, json=fixture("openai_dalle3_b64.json", image_b64=b64(image)))

    output = generate(adapter, "dall-e-3", style="vivid")

    assert sent_body(rsps.calls[0])["style"] == "vivid"
    assert image_format(output.images[0].data) == "JPEG"
    assert output.images[0].mime_type == "image/jpeg"
    assert output.images[0].revised_prompt.startswith("A watercolour painting")


def test_generate_downloads_a_url_answer_without_the_key(rsps, adapter):
    image = png_bytes(8, 8)
    rsps.post(GENERATIONS, json=fixture("openai_dalle3_url.json", image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=image, content_type="image/png")

    output = generate(adapter, "dall-e-3")

    assert output.images[0].data == image
    assert output.images[0].mime_type == "image/png"
    download = rsps.calls[1].request
    assert download.url == IMAGE_URL
    assert "Authorization" not in download.headers
    assert KEY not in str(download.headers)


def test_generate_reports_a_download_over_the_size_cap_as_unavailable(rsps, adapter, settings):
    settings.IMAGE_DOWNLOAD_MAX_BYTES = 1024
    rsps.post(GENERATIONS, json=fixture("openai_dalle3_url.json", image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=b"\x89PNG" + b"0" * 5000, content_type="image/png")

    with pytest.raises(ProviderUnavailable, match="larger than"):
        generate(adapter, "dall-e-3")


def test_generate_refuses_a_non_http_image_url(rsps, adapter):
    rsps.post(GENERATIONS, json=fixture("openai_dalle3_url.json", image_url="file:///etc/passwd"))

    with pytest.raises(ProviderUnavailable, match="http and https"):
        generate(adapter, "dall-e-3")
    assert len(rsps.calls) == 1


# --- generate: errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name", "error_class", "message_start"),
    [
        (401, "openai_error_invalid_api_key.json", InvalidKey, "Incorrect API key"),
        (429, "openai_error_insufficient_quota.json", OutOfCredit, "You exceeded your current"),
        (429, "openai_error_rate_limit.json", RateLimited, "Rate limit reached"),
        (400, "openai_error_content_policy.json", ContentRefused, "Your request was rejected"),
        (400, "openai_error_moderation_blocked.json", ContentRefused, "Your request was rejected"),
        (400, "openai_error_invalid_size.json", BadRequest, "The size is not supported"),
        (400, "openai_error_unknown_parameter.json", BadRequest, "Unknown parameter"),
        (404, "openai_error_model_not_found.json", BadRequest, "The model `dall-e-9`"),
        (500, "openai_error_server.json", ProviderUnavailable, "The server had an error"),
        (503, "openai_error_server.json", ProviderUnavailable, "The server had an error"),
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
    assert caught.value.provider_status == status


def test_error_http_statuses_are_what_bambi_answers():
    assert InvalidKey().http_status == 400
    assert ContentRefused().http_status == 422
    assert RateLimited().http_status == 429
    assert OutOfCredit().http_status == 429
    assert BadRequest().http_status == 400
    assert ProviderUnavailable().http_status == 502
    assert ProviderTimeout().http_status == 504


def test_generate_never_echoes_the_key_from_an_error_body(rsps, adapter):
    body = {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}
    rsps.post(GENERATIONS, status=401, json=body)

    with pytest.raises(InvalidKey) as caught:
        generate(adapter)

    assert KEY not in caught.value.message
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert "Incorrect API key provided" in caught.value.message


def test_generate_scrubs_a_key_no_pattern_would_recognise(rsps):
    adapter = OpenAIAdapter(BASE)
    odd_key = "hunter2-correct-horse"
    rsps.post(GENERATIONS, status=400, json={"error": {"message": f"bad key {odd_key}"}})

    with pytest.raises(BadRequest) as caught:
        adapter.generate(key=odd_key, model_id="gpt-image-1", prompt="p", options={})

    assert odd_key not in repr(caught.value)


def test_validate_never_echoes_the_key(rsps, adapter):
    rsps.get(MODELS, status=401, json={"error": {"message": f"Bad key {KEY}"}})

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert KEY not in check.reason


@pytest.mark.parametrize("status", [200, 502])
def test_generate_reports_an_html_page_as_unavailable(rsps, adapter, status):
    rsps.post(GENERATIONS, status=status, body=b"<html><body>Bad gateway</body></html>")

    with pytest.raises(ProviderUnavailable) as caught:
        generate(adapter)
    assert "<html>" not in caught.value.message


def test_generate_reports_a_200_without_images_as_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, json={"created": 1, "data": []})

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_reports_undecodable_base64_as_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, json={"created": 1, "data": [{"b64_json": "not base64 at all!"}]})

    with pytest.raises(ProviderUnavailable, match="decoded"):
        generate(adapter)


def test_generate_read_timeout_is_a_timeout_after_exactly_one_post(rsps, adapter):
    rsps.post(GENERATIONS, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ProviderTimeout):
        generate(adapter)

    assert len(rsps.calls) == 1


def test_generate_connection_error_is_unavailable(rsps, adapter):
    rsps.post(GENERATIONS, body=requests.exceptions.ConnectionError("connection refused"))

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_uses_the_long_generation_timeout(rsps, adapter, settings):
    settings.PROVIDER_READ_TIMEOUT = 77.0
    rsps.post(GENERATIONS, json=fixture("openai_gpt_image_b64.json", image_b64=b64(png_bytes())))

    generate(adapter)

    assert rsps.calls[0].request.req_kwargs["timeout"][1] == 77.0


def test_registry_builds_the_openai_adapter():
    adapter = get_provider("openai", "https://api.openai.com/")

    assert isinstance(adapter, OpenAIAdapter)
    assert adapter.base_url == "https://api.openai.com"
