"""Google adapter (Gemini API: Imagen `:predict`, Gemini `:generateContent`).

Recorded wire shapes in tests/fixtures/providers/google_*.json.
"""

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
from byok.providers.google import GoogleAdapter
from tests.byok.recorded import fixture
from tests.images import b64, image_size, png_bytes, webp_bytes

BASE = "https://generativelanguage.googleapis.test"
MODELS = f"{BASE}/v1beta/models"
IMAGEN = "imagen-4.0-generate-001"
GEMINI = "gemini-2.5-flash-image"
PREDICT = f"{BASE}/v1beta/models/{IMAGEN}:predict"
GENERATE_CONTENT = f"{BASE}/v1beta/models/{GEMINI}:generateContent"
KEY = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"


@pytest.fixture
def adapter() -> GoogleAdapter:
    return GoogleAdapter(BASE + "/")


def sent_body(call) -> dict:
    return json.loads(call.request.body)


def generate(adapter: GoogleAdapter, model_id: str = IMAGEN, **options):
    return adapter.generate(key=KEY, model_id=model_id, prompt="a fawn", options=options)


# --- validate_key -------------------------------------------------------------------------------


def test_validate_accepts_a_key_that_lists_models_and_keeps_it_out_of_the_url(rsps, adapter):
    rsps.get(MODELS, json=fixture("google_models.json"))

    check = adapter.validate_key(KEY)

    assert check.is_valid
    request = rsps.calls[0].request
    assert request.headers["x-goog-api-key"] == KEY
    assert KEY not in request.url
    assert "key=" not in request.url


@pytest.mark.parametrize(
    ("status", "name"),
    [(400, "google_error_api_key_invalid.json"), (403, "google_error_permission_denied.json")],
)
def test_validate_reports_a_rejected_key_as_invalid(rsps, adapter, status, name):
    rsps.get(MODELS, status=status, json=fixture(name))

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert check.reason == fixture(name)["error"]["message"]


def test_validate_does_not_call_an_ordinary_400_an_invalid_key(rsps, adapter):
    rsps.get(MODELS, status=400, json=fixture("google_error_invalid_argument.json"))

    assert adapter.validate_key(KEY).status == "unreachable"


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ConnectionError("refused"), requests.exceptions.ConnectTimeout("slow")],
)
def test_validate_reports_network_failures_as_unreachable(rsps, adapter, failure):
    rsps.get(MODELS, body=failure)

    assert adapter.validate_key(KEY).status == "unreachable"


@pytest.mark.parametrize(
    ("status", "name"),
    [(500, "google_error_internal.json"), (503, "google_error_unavailable.json")],
)
def test_validate_reports_a_server_error_as_unreachable(rsps, adapter, status, name):
    rsps.get(MODELS, status=status, json=fixture(name))

    assert adapter.validate_key(KEY).status == "unreachable"


# --- build_request ------------------------------------------------------------------------------


def test_imagen_request_always_sends_sample_count(adapter):
    prepared = adapter.build_request(key=KEY, model_id=IMAGEN, prompt="a fawn", options={})

    assert prepared.url == PREDICT
    assert prepared.headers["x-goog-api-key"] == KEY
    assert prepared.json == {"instances": [{"prompt": "a fawn"}], "parameters": {"sampleCount": 1}}


def test_imagen_request_carries_count_ratio_and_size_only(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id=IMAGEN,
        prompt="a fawn",
        options={
            "count": 3,
            "aspect_ratio": "16:9",
            "resolution": "2K",
            "size": "1024x1024",
            "quality": "hd",
        },
    )

    assert prepared.json["parameters"] == {
        "sampleCount": 3,
        "aspectRatio": "16:9",
        "sampleImageSize": "2K",
    }


def test_gemini_request_asks_for_text_and_image(adapter):
    prepared = adapter.build_request(
        key=KEY, model_id=GEMINI, prompt="a fawn", options={"aspect_ratio": "3:4", "count": 1}
    )

    assert prepared.url == GENERATE_CONTENT
    assert prepared.json == {
        "contents": [{"parts": [{"text": "a fawn"}]}],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": "3:4"},
        },
    }


def test_request_accepts_a_models_prefix_and_uses_the_base_url(adapter):
    other = GoogleAdapter("http://127.0.0.1:8765")
    prepared = other.build_request(key=KEY, model_id=f"models/{IMAGEN}", prompt="p", options={})

    assert prepared.url == f"http://127.0.0.1:8765/v1beta/models/{IMAGEN}:predict"
    assert "key=" not in prepared.url


# --- generate: success --------------------------------------------------------------------------


def test_generate_decodes_every_imagen_prediction(rsps, adapter):
    image = png_bytes(12, 9)
    rsps.post(PREDICT, json=fixture("google_imagen_predict.json", image_b64=b64(image)))

    output = generate(adapter, count=2)

    assert sent_body(rsps.calls[0])["parameters"]["sampleCount"] == 2
    assert rsps.calls[0].request.headers["x-goog-api-key"] == KEY
    assert KEY not in rsps.calls[0].request.url
    assert [img.data for img in output.images] == [image, image]
    assert image_size(output.images[0].data) == (12, 9)
    assert output.images[0].mime_type == "image/png"
    assert output.cost_usd is None


def test_generate_skips_filtered_imagen_predictions(rsps, adapter):
    image = png_bytes(4, 4)
    rsps.post(PREDICT, json=fixture("google_imagen_partly_filtered.json", image_b64=b64(image)))

    output = generate(adapter, count=2)

    assert [img.data for img in output.images] == [image]
    assert output.usage == {"images": 1, "filtered": 1}
    assert output.filtered == 1


QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def _exhausted(message: str, *violations: dict) -> dict:
    details = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": list(violations)}
    ]
    return {
        "error": {
            "code": 429,
            "message": message,
            "status": "RESOURCE_EXHAUSTED",
            "details": details if violations else [],
        }
    }


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        # The plain answer: the plan's quota is spent; waiting a moment does not bring it back.
        (_exhausted(QUOTA_MESSAGE), OutOfCredit),
        # A daily quota, and the free tier's "limit: 0" for a model it does not include.
        (
            _exhausted(QUOTA_MESSAGE, {"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}),
            OutOfCredit,
        ),
        (
            _exhausted(
                QUOTA_MESSAGE + " Quota exceeded for metric: generate_content_free_tier_requests, "
                "limit: 0, model: gemini-2.5-flash-image",
                {
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaValue": "0",
                },
            ),
            OutOfCredit,
        ),
        # A per-minute quota in the details: Google still says "check your plan and billing".
        (fixture("google_error_resource_exhausted.json"), OutOfCredit),
        (_exhausted("Resource has been exhausted (e.g. check quota)."), RateLimited),
    ],
)
def test_a_quota_answer_that_names_plan_and_billing_is_out_of_credit(
    rsps, adapter, body, error_class
):
    rsps.post(PREDICT, status=429, json=body)
    with pytest.raises(error_class) as caught:
        generate(adapter)
    assert type(caught.value) is error_class
    assert caught.value.http_status == 429


def test_generate_decodes_the_gemini_inline_image(rsps, adapter):
    image = webp_bytes(10, 6)
    rsps.post(GENERATE_CONTENT, json=fixture("google_gemini_image.json", image_b64=b64(image)))

    output = generate(adapter, GEMINI, aspect_ratio="16:9")

    body = sent_body(rsps.calls[0])
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
    assert len(output.images) == 1
    assert output.images[0].data == image
    assert output.images[0].mime_type == "image/webp"  # from the bytes, not the label
    assert output.usage["totalTokenCount"] == 1312


# --- generate: refusals and errors --------------------------------------------------------------


def test_generate_refuses_when_imagen_filtered_every_image(rsps, adapter):
    rsps.post(PREDICT, json=fixture("google_imagen_all_filtered.json"))

    with pytest.raises(ContentRefused) as caught:
        generate(adapter, count=2)
    assert "safety filter threshold filtered out 2" in caught.value.message


def test_generate_refuses_when_imagen_answers_an_empty_object(rsps, adapter):
    rsps.post(PREDICT, json={})

    with pytest.raises(ContentRefused) as caught:
        generate(adapter)
    assert caught.value.message == ContentRefused.default_message


def test_generate_refuses_a_gemini_image_safety_stop(rsps, adapter):
    rsps.post(GENERATE_CONTENT, json=fixture("google_gemini_image_safety.json"))

    with pytest.raises(ContentRefused) as caught:
        generate(adapter, GEMINI)
    assert caught.value.code == "IMAGE_SAFETY"


def test_generate_refuses_a_text_only_gemini_answer_with_its_text(rsps, adapter):
    rsps.post(GENERATE_CONTENT, json=fixture("google_gemini_text_only.json"))

    with pytest.raises(ContentRefused) as caught:
        generate(adapter, GEMINI)
    assert caught.value.message.startswith("I can't create images of real public figures")


def test_generate_refuses_a_blocked_gemini_prompt(rsps, adapter):
    rsps.post(GENERATE_CONTENT, json=fixture("google_gemini_prompt_blocked.json"))

    with pytest.raises(ContentRefused) as caught:
        generate(adapter, GEMINI)
    assert caught.value.code == "PROHIBITED_CONTENT"


@pytest.mark.parametrize(
    ("status", "name", "error_class"),
    [
        (400, "google_error_api_key_invalid.json", InvalidKey),
        (403, "google_error_permission_denied.json", InvalidKey),
        (400, "google_error_billed_users.json", OutOfCredit),
        (400, "google_error_responsible_ai.json", ContentRefused),
        (400, "google_error_invalid_argument.json", BadRequest),
        (404, "google_error_not_found.json", BadRequest),
        (429, "google_error_resource_exhausted.json", OutOfCredit),
        (500, "google_error_internal.json", ProviderUnavailable),
        (503, "google_error_unavailable.json", ProviderUnavailable),
    ],
)
def test_generate_maps_errors_by_status_and_body(rsps, adapter, status, name, error_class):
    rsps.post(PREDICT, status=status, json=fixture(name))

    with pytest.raises(error_class) as caught:
        generate(adapter)

    assert type(caught.value) is error_class
    assert caught.value.message == fixture(name)["error"]["message"]


def test_generate_never_echoes_the_key_from_an_error_body(rsps, adapter):
    body = fixture("google_error_api_key_invalid.json")
    body["error"]["message"] = f"API key not valid: {KEY}. Please pass a valid API key."
    rsps.post(PREDICT, status=400, json=body)

    with pytest.raises(InvalidKey) as caught:
        generate(adapter)

    assert KEY not in caught.value.message
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_validate_never_echoes_the_key(rsps, adapter):
    body = fixture("google_error_api_key_invalid.json")
    body["error"]["message"] = f"API key not valid: {KEY}"
    rsps.get(MODELS, status=400, json=body)

    check = adapter.validate_key(KEY)

    assert check.status == "invalid"
    assert KEY not in check.reason


def test_generate_reports_an_html_page_as_unavailable(rsps, adapter):
    rsps.post(PREDICT, status=200, body=b"<html><body>Sorry...</body></html>")

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_reports_undecodable_base64_as_unavailable(rsps, adapter):
    rsps.post(PREDICT, json={"predictions": [{"bytesBase64Encoded": "%%%", "mimeType": "x"}]})

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_generate_reports_a_gemini_answer_without_candidates_as_unavailable(rsps, adapter):
    rsps.post(GENERATE_CONTENT, json={"candidates": [], "usageMetadata": {}})

    with pytest.raises(ProviderUnavailable):
        generate(adapter, GEMINI)


def test_generate_read_timeout_is_a_timeout_after_exactly_one_post(rsps, adapter):
    rsps.post(PREDICT, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ProviderTimeout):
        generate(adapter)

    assert len(rsps.calls) == 1


def test_generate_connection_error_is_unavailable(rsps, adapter):
    rsps.post(PREDICT, body=requests.exceptions.ConnectionError("refused"))

    with pytest.raises(ProviderUnavailable):
        generate(adapter)


def test_registry_builds_the_google_adapter():
    assert isinstance(
        get_provider("google", "https://generativelanguage.googleapis.com"), GoogleAdapter
    )
