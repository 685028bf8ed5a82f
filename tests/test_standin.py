"""The provider stand-in answers in each provider's own dialect (no database needed)."""

import base64
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from tests.standin import StandIn

pytestmark = pytest.mark.standin(image_size=256)


def _png_size(b64: str) -> tuple[int, int]:
    if b64.startswith("data:"):
        b64 = b64.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(b64))) as img:
        img.load()
        return img.size


def test_openai_gpt_image_returns_real_base64_pngs_of_the_requested_size(standin):
    r = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "gpt-image-1.5", "prompt": "a fawn", "n": 2, "size": "1536x1024"},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert len(body["data"]) == 2
    assert _png_size(body["data"][0]["b64_json"]) == (1536, 1024)
    assert body["usage"]["total_tokens"] > 0


def test_openai_gpt_image_refuses_response_format_like_the_real_api(standin):
    r = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "gpt-image-1", "prompt": "x", "response_format": "b64_json"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_parameter"


def test_openai_dalle_answers_with_a_url_that_serves_the_image(standin):
    r = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "dall-e-3", "prompt": "a fawn", "size": "1024x1024"},
        timeout=10,
    )
    item = r.json()["data"][0]
    assert item["revised_prompt"]
    image = requests.get(item["url"], timeout=10)
    assert image.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1024, 1024)


def test_a_bad_key_gets_each_providers_own_invalid_key_error(standin):
    openai = requests.get(
        f"{standin.url}/v1/models", headers={"Authorization": "Bearer sk-bad-key"}, timeout=10
    )
    assert openai.status_code == 401
    assert openai.json()["error"]["code"] == "invalid_api_key"
    assert "sk-bad-key" not in openai.text

    xai = requests.get(
        f"{standin.url}/v1/api-key", headers={"Authorization": "Bearer xai-bad"}, timeout=10
    )
    assert xai.status_code == 400
    assert xai.json()["error"].startswith("Incorrect API key provided")

    google = requests.get(
        f"{standin.url}/v1beta/models", headers={"x-goog-api-key": "AIzaBAD"}, timeout=10
    )
    assert google.status_code == 400
    assert google.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_good_keys_validate_on_each_provider(standin):
    auth = {"Authorization": "Bearer sk-good"}
    assert requests.get(f"{standin.url}/v1/models", headers=auth, timeout=10).status_code == 200
    xai = requests.get(
        f"{standin.url}/v1/api-key", headers={"Authorization": "Bearer xai-good"}, timeout=10
    ).json()
    assert not (xai["api_key_blocked"] or xai["api_key_disabled"] or xai["team_blocked"])
    google = requests.get(
        f"{standin.url}/v1beta/models", headers={"x-goog-api-key": "AIzaGood"}, timeout=10
    )
    assert google.json()["models"]


def test_missing_google_key_is_permission_denied(standin):
    r = requests.get(f"{standin.url}/v1beta/models", timeout=10)
    assert r.status_code == 403
    assert r.json()["error"]["status"] == "PERMISSION_DENIED"


def test_refused_prompts_look_like_each_providers_refusal(standin):
    openai = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "dall-e-3", "prompt": "REFUSE this", "response_format": "b64_json"},
        timeout=10,
    )
    assert openai.status_code == 400
    assert openai.json()["error"]["code"] == "content_policy_violation"

    imagen = requests.post(
        f"{standin.url}/v1beta/models/imagen-4.0-generate-001:predict",
        headers={"x-goog-api-key": "AIzaGood"},
        json={"instances": [{"prompt": "REFUSE"}], "parameters": {"sampleCount": 2}},
        timeout=10,
    )
    predictions = imagen.json()["predictions"]
    assert imagen.status_code == 200 and len(predictions) == 2
    assert all("raiFilteredReason" in p for p in predictions)

    gemini = requests.post(
        f"{standin.url}/v1beta/models/gemini-2.5-flash-image:generateContent",
        headers={"x-goog-api-key": "AIzaGood"},
        json={"contents": [{"parts": [{"text": "REFUSE"}]}]},
        timeout=10,
    )
    assert gemini.json()["candidates"][0]["finishReason"] == "IMAGE_SAFETY"

    xai = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer xai-good"},
        json={"model": "grok-imagine-image", "prompt": "REFUSE"},
        timeout=10,
    )
    assert xai.status_code == 200 and xai.json()["data"] == []


def test_xai_dialect_is_chosen_by_key_or_model_and_refuses_size(standin):
    by_model = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer some-key"},
        json={"model": "grok-imagine-image", "prompt": "p", "size": "1024x1024"},
        timeout=10,
    )
    assert by_model.status_code == 400
    assert by_model.json()["error"] == "Argument not supported: size"

    ok = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer xai-good"},
        json={
            "model": "grok-imagine-image",
            "prompt": "p",
            "aspect_ratio": "16:9",
            "response_format": "b64_json",
        },
        timeout=10,
    ).json()
    item = ok["data"][0]
    assert item["b64_json"].startswith("data:image/jpeg;base64,")
    assert _png_size(item["b64_json"]) == (256, 144)
    assert ok["usage"]["cost_in_usd_ticks"] == 200_000_000


def test_imagen_and_gemini_return_inline_images(standin):
    imagen = requests.post(
        f"{standin.url}/v1beta/models/imagen-4.0-generate-001:predict",
        headers={"x-goog-api-key": "AIzaGood"},
        json={"instances": [{"prompt": "p"}], "parameters": {"sampleCount": 1}},
        timeout=10,
    ).json()
    assert _png_size(imagen["predictions"][0]["bytesBase64Encoded"]) == (256, 256)

    gemini = requests.post(
        f"{standin.url}/v1beta/models/gemini-2.5-flash-image:generateContent",
        headers={"x-goog-api-key": "AIzaGood"},
        json={
            "contents": [{"parts": [{"text": "p"}]}],
            "generationConfig": {"imageConfig": {"aspectRatio": "3:4"}},
        },
        timeout=10,
    ).json()
    parts = gemini["candidates"][0]["content"]["parts"]
    inline = next(p["inlineData"] for p in parts if "inlineData" in p)
    assert _png_size(inline["data"]) == (192, 256)


def test_errors_in_each_dialect_for_rate_limits_and_outages(standin):
    r = requests.post(
        f"{standin.url}/v1/images/generations",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "gpt-image-1.5", "prompt": "NOCREDIT"},
        timeout=10,
    )
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    g = requests.post(
        f"{standin.url}/v1beta/models/imagen-4.0-generate-001:predict",
        headers={"x-goog-api-key": "AIzaGood"},
        json={"instances": [{"prompt": "UPSTREAM500"}], "parameters": {"sampleCount": 1}},
        timeout=10,
    )
    assert g.status_code == 500 and g.json()["error"]["status"] == "INTERNAL"


def test_latency_is_applied_and_concurrent_requests_are_counted():
    with StandIn(latency=0.3, image_size=64) as server:

        def call(_):
            return requests.post(
                f"{server.url}/v1/images/generations",
                headers={"Authorization": "Bearer sk-good"},
                json={"model": "gpt-image-1.5", "prompt": "p", "size": "auto"},
                timeout=10,
            ).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(call, range(20)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 20
        # Slept concurrently, not one after the other.
        assert 0.3 <= elapsed < 3
        assert server.count("openai.generate") == 20
        assert server.max_in_flight > 1 and server.in_flight == 0
        assert server.requests[-1].body["model"] == "gpt-image-1.5"
        server.reset()
        assert server.count() == 0


# --- edits ---------------------------------------------------------------------------------------


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 10, 255)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def _mask(width: int, height: int) -> bytes:
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    layer.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    out = io.BytesIO()
    layer.save(out, "PNG")
    return out.getvalue()


def test_openai_edit_reads_the_multipart_form_as_the_sdk_sends_it(standin):
    # What openai-python sends for images.edit(image=[...], mask=..., n=1): image[] parts.
    r = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer sk-good"},
        data={"model": "gpt-image-1.5", "prompt": "a fawn", "n": "1", "size": "auto"},
        files=[
            ("image[]", ("a.png", _png(64, 48), "image/png")),
            ("image[]", ("b.png", _png(30, 30), "image/png")),
            ("mask", ("m.png", _mask(64, 48), "image/png")),
        ],
        timeout=10,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert _png_size(body["data"][0]["b64_json"]) == (64, 48)  # "auto": the first image's size
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 2 * 194
    edit = standin.requests[-1]
    assert edit.endpoint == "openai.edit"
    assert [f["name"] for f in edit.body["files"]] == ["image[]", "image[]", "mask"]


@pytest.mark.parametrize(
    ("mask", "says"),
    [
        (lambda: _mask(10, 10), "mask size does not match"),
        (lambda: _png(64, 48), "mask size does not match"),  # no transparency at all
    ],
)
def test_openai_edit_refuses_a_mask_it_cannot_use(standin, mask, says):
    r = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer sk-good"},
        data={"model": "gpt-image-1.5", "prompt": "a fawn"},
        files=[("image", ("a.png", _png(64, 48), "image/png")), ("mask", ("m.png", mask()))],
        timeout=10,
    )
    assert r.status_code == 400 and says in r.json()["error"]["message"]


def test_each_edit_dialect_refuses_the_other_encoding(standin):
    as_json = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer sk-good"},
        json={"model": "gpt-image-1.5", "prompt": "p"},
        timeout=10,
    )
    assert as_json.status_code == 400 and "multipart" in as_json.json()["error"]["message"]
    as_form = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer xai-good"},
        data={"model": "grok-imagine-image", "prompt": "p"},
        files=[("image", ("a.png", _png(8, 8), "image/png"))],
        timeout=10,
    )
    assert as_form.status_code == 400 and "JSON" in as_form.json()["error"]


def test_xai_edit_takes_image_or_images_as_data_urls_and_bills_the_inputs(standin):
    url = "data:image/png;base64," + base64.b64encode(_png(40, 20)).decode()
    one = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer xai-good"},
        json={
            "model": "grok-imagine-image",
            "prompt": "p",
            "image": {"url": url},
            "response_format": "b64_json",
        },
        timeout=10,
    )
    assert one.status_code == 200
    assert _png_size(one.json()["data"][0]["b64_json"]) == (40, 20)
    assert one.json()["usage"]["cost_in_usd_ticks"] == 220_000_000
    both = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer xai-good"},
        json={
            "model": "grok-imagine-image",
            "prompt": "p",
            "image": {"url": url},
            "images": [{"url": url}],
        },
        timeout=10,
    )
    assert both.status_code == 422 and "either image or images" in both.json()["error"]
    four = requests.post(
        f"{standin.url}/v1/images/edits",
        headers={"Authorization": "Bearer xai-good"},
        json={"model": "grok-imagine-image", "prompt": "p", "images": [{"url": url}] * 4},
        timeout=10,
    )
    assert four.status_code == 422


def test_gemini_edit_takes_inline_data_in_either_spelling(standin):
    data = base64.b64encode(_png(24, 12)).decode()
    for part in (
        {"inline_data": {"mime_type": "image/png", "data": data}},
        {"inlineData": {"mimeType": "image/png", "data": data}},
    ):
        r = requests.post(
            f"{standin.url}/v1beta/models/gemini-2.5-flash-image:generateContent",
            headers={"x-goog-api-key": "AIzaGood"},
            json={"contents": [{"parts": [part, {"text": "make it snow"}]}]},
            timeout=10,
        )
        assert r.status_code == 200
        parts = r.json()["candidates"][0]["content"]["parts"]
        inline = next(p["inlineData"] for p in parts if "inlineData" in p)
        assert _png_size(inline["data"]) == (24, 12)
