"""Google adapter (Gemini API: Imagen `:predict`, Gemini `:generateContent`): what is Google's
own (the two request bodies, filtered predictions, quota wording).

What every adapter must do is in test_provider_contract.py; the recorded answers are in
tests/fixtures/providers/google/.
"""

from __future__ import annotations

import json

import pytest

from byok.providers.errors import BadRequest, OutOfCredit, ProviderUnavailable, RateLimited
from byok.providers.google import GoogleAdapter
from generations.inputs import InputImage
from tests.images import b64, image_size, jpeg_bytes, mask_png, png_bytes, webp_bytes
from tests.recorded import recorded

BASE = "https://generativelanguage.googleapis.test"
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
    rsps.post(PREDICT, json=recorded("google", "imagen_predict", image_b64=b64(image)))

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
    rsps.post(PREDICT, json=recorded("google", "imagen_partly_filtered", image_b64=b64(image)))

    output = generate(adapter, count=2)

    assert [img.data for img in output.images] == [image]
    assert output.usage == {"images": 1, "filtered": 1}
    assert output.filtered == 1


QUOTA_MESSAGE = recorded("google", "error_resource_exhausted")["error"]["message"]


def _exhausted(message: str, *violations: dict) -> dict:
    """The recorded 429 RESOURCE_EXHAUSTED with another message and other quota violations."""
    body = recorded("google", "error_resource_exhausted")
    body["error"]["message"] = message
    quota_failure = body["error"]["details"][0]
    quota_failure["violations"] = list(violations)
    body["error"]["details"] = [quota_failure] if violations else []
    return body


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
        (recorded("google", "error_resource_exhausted"), OutOfCredit),
        (recorded("google", "error_rate_limited"), RateLimited),
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
    rsps.post(GENERATE_CONTENT, json=recorded("google", "gemini_image", image_b64=b64(image)))

    output = generate(adapter, GEMINI, aspect_ratio="16:9")

    body = sent_body(rsps.calls[0])
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
    assert len(output.images) == 1
    assert output.images[0].data == image
    assert output.images[0].mime_type == "image/webp"  # from the bytes, not the label
    assert output.usage["totalTokenCount"] == 1312


# --- generate: failures --------------------------------------------------------------


def test_generate_reports_a_gemini_answer_without_candidates_as_unavailable(rsps, adapter):
    rsps.post(GENERATE_CONTENT, json={"candidates": [], "usageMetadata": {}})

    with pytest.raises(ProviderUnavailable):
        generate(adapter, GEMINI)


# --- edits: Gemini takes the input images as inline data before the text; Imagen takes none -----


def test_gemini_edit_puts_the_images_as_inline_data_before_the_text(rsps, adapter):
    answer = png_bytes(20, 10)
    rsps.post(GENERATE_CONTENT, json=recorded("google", "gemini_edit", image_b64=[b64(answer)]))
    first = InputImage(png_bytes(16, 12), "image/png", 16, 12)
    second = InputImage(jpeg_bytes(9, 9), "image/jpeg", 9, 9)

    output = adapter.generate(
        key=KEY,
        model_id=GEMINI,
        prompt="put the fawn from the first image in the second",
        options={"aspect_ratio": "21:9"},
        images=[first, second],
    )

    call = rsps.calls[0].request
    assert call.headers["x-goog-api-key"] == KEY
    assert json.loads(call.body) == {
        "contents": [
            {
                "parts": [
                    {"inline_data": {"mime_type": "image/png", "data": b64(first.data)}},
                    {"inline_data": {"mime_type": "image/jpeg", "data": b64(second.data)}},
                    {"text": "put the fawn from the first image in the second"},
                ]
            }
        ],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": "21:9"},
        },
    }
    assert [img.data for img in output.images] == [answer]
    assert output.usage["promptTokensDetails"][1] == {"modality": "IMAGE", "tokenCount": 1290}


def test_gemini_sends_the_image_size_of_the_newer_models(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id="gemini-3-pro-image",
        prompt="p",
        options={"aspect_ratio": "16:9", "resolution": "4K"},
    )

    assert prepared.json["generationConfig"]["imageConfig"] == {
        "aspectRatio": "16:9",
        "imageSize": "4K",
    }


@pytest.mark.parametrize("model_id", [IMAGEN, GEMINI])
def test_a_google_edit_the_api_cannot_take_is_refused_before_any_call(rsps, adapter, model_id):
    image = InputImage(png_bytes(8, 8), "image/png", 8, 8)
    mask = InputImage(mask_png(8, 8), "image/png", 8, 8)

    with pytest.raises(BadRequest):
        # Imagen takes no input images on the Gemini API; Gemini takes no mask.
        adapter.generate(
            key=KEY,
            model_id=model_id,
            prompt="p",
            options={},
            images=[image],
            mask=mask if model_id == GEMINI else None,
        )

    assert len(rsps.calls) == 0


def test_imagen_sends_person_generation_and_sample_image_size(adapter):
    prepared = adapter.build_request(
        key=KEY,
        model_id=IMAGEN,
        prompt="p",
        options={"count": 2, "resolution": "2K", "person_generation": "dont_allow"},
    )

    assert prepared.json["parameters"] == {
        "sampleCount": 2,
        "sampleImageSize": "2K",
        "personGeneration": "dont_allow",
    }
