"""The provider interface and registry, plus the three adapters end to end over real HTTP.

The end-to-end tests talk to tests/standin.py (a loopback server speaking each provider's
dialect), so sockets, headers, timeouts and JSON encoding are the real ones, not mocks.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from decimal import Decimal

import pytest
from PIL import Image as PILImage

from byok.providers import PROVIDERS, get_provider
from byok.providers.base import (
    GenerationOutput,
    KeyCheck,
    PreparedRequest,
    ProviderAdapter,
    ProviderImage,
    decode_b64,
    load_json,
    sniff_mime,
)
from byok.providers.errors import (
    BadRequest,
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from byok.providers.google import GoogleAdapter
from byok.providers.openai import OpenAIAdapter
from byok.providers.xai import XAIAdapter
from generations.inputs import InputImage
from tests.images import b64, image_size, jpeg_bytes, mask_png, png_bytes, webp_bytes
from tests.standin import EDITED_COLOUR

# The end-to-end tests below get the stand-in with small images.
pytestmark = pytest.mark.standin(image_size=32)

# --- registry -----------------------------------------------------------------------------------


def test_registry_has_one_adapter_per_provider_slug():
    assert PROVIDERS == {"openai": OpenAIAdapter, "google": GoogleAdapter, "xai": XAIAdapter}
    for slug, adapter_class in PROVIDERS.items():
        assert adapter_class.slug == slug
        assert issubclass(adapter_class, ProviderAdapter)


def test_get_provider_strips_the_trailing_slash_of_the_base_url():
    adapter = get_provider("google", "http://127.0.0.1:8765///")

    assert isinstance(adapter, GoogleAdapter)
    assert adapter.base_url == "http://127.0.0.1:8765"


def test_get_provider_refuses_an_unknown_slug():
    with pytest.raises(ValueError, match="Unknown provider 'midjourney'"):
        get_provider("midjourney", "https://example.com")


@pytest.mark.parametrize("base_url", ["", "   "])
def test_an_adapter_needs_a_base_url(base_url):
    with pytest.raises(ValueError):
        OpenAIAdapter(base_url)


# --- value objects ------------------------------------------------------------------------------


def test_key_check_is_valid_only_when_valid():
    assert KeyCheck("valid").is_valid
    assert not KeyCheck("invalid", "bad key").is_valid
    assert not KeyCheck("unreachable").is_valid


def test_value_objects_are_frozen():
    output = GenerationOutput(images=[ProviderImage(b"x")])

    with pytest.raises(dataclasses.FrozenInstanceError):
        output.cost_usd = Decimal("1")  # type: ignore[misc]
    assert output.usage == {}
    assert GenerationOutput(images=[]).usage is not output.usage  # no shared default


def test_prepared_request_repr_hides_the_headers_that_carry_the_key():
    prepared = PreparedRequest("POST", "https://x.test/v1", {"Authorization": "Bearer sk-1"}, {})

    assert "sk-1" not in repr(prepared)
    assert "Bearer" not in repr(prepared)


def test_provider_image_repr_does_not_dump_the_bytes():
    image = ProviderImage(png_bytes(), "image/png")

    assert "PNG" not in repr(image)
    assert f"{len(image.data)} bytes" in repr(image)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error_class",
    [
        InvalidKey,
        ContentRefused,
        RateLimited,
        OutOfCredit,
        BadRequest,
        ProviderUnavailable,
        ProviderTimeout,
    ],
)
def test_every_error_has_a_default_sentence_and_is_a_provider_error(error_class):
    error = error_class()

    assert isinstance(error, ProviderError)
    assert error.message == error_class.default_message
    assert error.message.endswith(".")
    assert str(error) == error.message


def test_error_http_statuses_are_what_bambi_answers():
    assert InvalidKey().http_status == 400
    assert ContentRefused().http_status == 422
    assert RateLimited().http_status == 429
    assert OutOfCredit().http_status == 429
    assert BadRequest().http_status == 400
    assert ProviderUnavailable().http_status == 502
    assert ProviderTimeout().http_status == 504


def test_error_keeps_the_provider_message_but_cuts_a_long_one():
    assert BadRequest("Invalid size.").message == "Invalid size."
    assert len(BadRequest("x " * 2000).message) <= 500


def test_error_redacts_a_key_shaped_string_from_the_provider_message():
    error = InvalidKey("Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78Ij90KlMnOp")

    assert "Ab12Cd34" not in error.message
    assert "Ab12Cd34" not in repr(error)


def test_error_scrub_removes_a_known_key_from_message_args_and_repr():
    error = BadRequest("your key plainsecret was refused").scrub("plainsecret")

    assert "plainsecret" not in error.message
    assert "plainsecret" not in str(error.args)
    assert "plainsecret" not in repr(error)


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "mime"),
    [(png_bytes, "image/png"), (jpeg_bytes, "image/jpeg"), (webp_bytes, "image/webp")],
)
def test_sniff_mime_reads_the_real_image_type(maker, mime):
    assert sniff_mime(maker()) == mime


def test_sniff_mime_does_not_guess_for_unknown_bytes():
    assert sniff_mime(b"<html>") is None


def test_decode_b64_accepts_a_data_uri_and_reports_its_type():
    image = png_bytes(3, 2)

    data, mime = decode_b64(f"data:image/png;base64,{b64(image)}")

    assert data == image
    assert mime == "image/png"
    assert image_size(data) == (3, 2)


@pytest.mark.parametrize("value", [None, "", 42, "!!!!", "data:image/png;base64,"])
def test_decode_b64_turns_garbage_into_provider_unavailable(value):
    with pytest.raises(ProviderUnavailable):
        decode_b64(value)


# --- large answers: images decoded from the body's bytes ---------------------------------------


def _answer(value: str, **more) -> bytes:
    return json.dumps({"created": 1, "data": [{"b64_json": value, **more}]}).encode()


def test_a_large_answer_gives_its_images_decoded_and_the_rest_parsed():
    image = os.urandom(30_000)  # any bytes: past the 16 KiB where strings are looked at
    body = _answer(b64(image), revised_prompt='a "quoted" fawn \\ slash')

    payload = load_json(body)

    item = payload["data"][0]
    assert item["revised_prompt"] == 'a "quoted" fawn \\ slash'
    assert decode_b64(item["b64_json"]) == (image, None)


def test_a_large_data_url_keeps_its_type():
    image = os.urandom(30_000)  # any bytes: past the 16 KiB where strings are looked at

    item = load_json(_answer(f"data:image/png;base64,{b64(image)}"))["data"][0]

    assert decode_b64(item["b64_json"]) == (image, "image/png")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text.replace("/", "\\/"),  # JSON's optional escape of "/"
        lambda text: "\\n".join(text[i : i + 76] for i in range(0, len(text), 76)),  # wrapped
    ],
)
def test_a_large_base64_string_with_escapes_is_still_read(mangle):
    image = os.urandom(30_000)  # any bytes: past the 16 KiB where strings are looked at
    body = b'{"data": [{"b64_json": "' + mangle(b64(image)).encode() + b'"}]}'

    item = load_json(body)["data"][0]

    assert decode_b64(item["b64_json"])[0] == image


def test_a_large_answer_that_is_not_json_is_none():
    assert load_json(b'{"data": [{"b64_json": "' + b"A" * 40_000) is None
    assert load_json(b"<html>" + b"x" * 40_000 + b"</html>") is None


# --- end to end over loopback -------------------------------------------------------------------


# (slug, model, good key, options)
CASES = [
    ("openai", "gpt-image-1", "sk-standin-good-key-1", {"size": "1024x1024", "quality": "low"}),
    ("openai", "dall-e-3", "sk-standin-good-key-2", {"size": "1024x1024", "style": "vivid"}),
    ("xai", "grok-imagine-image", "xai-standin-good-key", {"aspect_ratio": "16:9"}),
    ("google", "imagen-4.0-generate-001", "AIza-standin-good-key", {"aspect_ratio": "1:1"}),
    ("google", "gemini-2.5-flash-image", "AIza-standin-good-key", {"aspect_ratio": "4:3"}),
]


@pytest.mark.parametrize(("slug", "model", "key", "options"), CASES)
def test_adapter_generates_real_images_from_the_standin(standin, slug, model, key, options):
    adapter = get_provider(slug, standin.url + "/")

    output = adapter.generate(key=key, model_id=model, prompt="a fawn", options=options)

    assert len(output.images) == 1
    width, height = image_size(output.images[0].data)
    assert width > 0 and height > 0
    assert output.images[0].mime_type in {"image/png", "image/jpeg", "image/webp"}


@pytest.mark.parametrize(("slug", "model", "key", "options"), CASES)
def test_adapter_validates_good_and_bad_keys_against_the_standin(
    standin, slug, model, key, options
):
    adapter = get_provider(slug, standin.url)
    bad_key = key.replace("good", "bad")

    assert adapter.validate_key(key).status == "valid"
    check = adapter.validate_key(bad_key)
    assert check.status == "invalid"
    assert bad_key not in (check.reason or "")


@pytest.mark.parametrize(("slug", "model", "key", "options"), CASES)
def test_adapter_maps_standin_failures_to_the_error_classes(standin, slug, model, key, options):
    adapter = get_provider(slug, standin.url)

    def attempt(prompt: str, use_key: str = key) -> ProviderError:
        with pytest.raises(ProviderError) as caught:
            adapter.generate(key=use_key, model_id=model, prompt=prompt, options=options)
        return caught.value

    assert isinstance(attempt("a fawn", key.replace("good", "bad")), InvalidKey)
    assert isinstance(attempt("REFUSE this"), ContentRefused)
    assert isinstance(attempt("RATELIMIT this"), RateLimited)
    assert isinstance(attempt("UPSTREAM500 this"), ProviderUnavailable)
    # Google says "check your plan and billing details", OpenAI "insufficient_quota", xAI
    # "credits": out of credit, not a rate limit (waiting does not help).
    assert type(attempt("NOCREDIT this")) is OutOfCredit


# (slug, model, good key, endpoint label, takes a mask)
EDIT_CASES = [
    ("openai", "gpt-image-1.5", "sk-standin-good-key-1", "openai.edit", True),
    ("xai", "grok-imagine-image", "xai-standin-good-key", "xai.edit", False),
    ("google", "gemini-2.5-flash-image", "AIza-standin-good-key", "google.generateContent", False),
]


@pytest.mark.parametrize(("slug", "model", "key", "endpoint", "takes_mask"), EDIT_CASES)
def test_adapter_edits_an_image_at_the_standin_in_each_dialect(
    standin, slug, model, key, endpoint, takes_mask
):
    """Over real HTTP, the stand-in reads the request as the provider does (multipart parts,
    data: URLs, inline data) and answers with the first input edited where the mask says."""
    adapter = get_provider(slug, standin.url)
    source = InputImage(png_bytes(32, 24, color=(20, 20, 200)), "image/png", 32, 24)
    mask = InputImage(mask_png(32, 24, hole=(0, 0, 16, 24)), "image/png", 32, 24)
    standin.reset()

    output = adapter.generate(
        key=key,
        model_id=model,
        prompt="make the left half orange",
        options={},
        images=[source],
        mask=mask if takes_mask else None,
    )

    assert standin.count(endpoint) == 1
    with PILImage.open(io.BytesIO(output.images[0].data)) as picture:
        picture = picture.convert("RGB")
        assert picture.size == (32, 24)
        left, right = picture.getpixel((4, 12)), picture.getpixel((28, 12))
    if takes_mask:  # only the transparent half of the mask was "edited"
        assert left == EDITED_COLOUR and right != EDITED_COLOUR
    else:  # the whole picture, derived from the input
        assert left[2] > left[1]


def test_imagen_sample_count_reaches_the_standin(standin):
    adapter = get_provider("google", standin.url)
    standin.reset()

    output = adapter.generate(
        key="AIza-standin-good-key", model_id="imagen-4.0-generate-001", prompt="p", options={}
    )

    assert len(output.images) == 1
    sent = [r for r in standin.requests if r.endpoint == "google.predict"]
    assert sent[0].body["parameters"]["sampleCount"] == 1
    assert sent[0].key == "AIza-standin-good-key"


def test_unreachable_provider_is_unreachable_not_invalid(settings):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    settings.PROVIDER_PRIVATE_HOSTS = ["127.0.0.1:9"]
    adapter = get_provider("openai", "http://127.0.0.1:9")

    assert adapter.validate_key("sk-anything-at-all").status == "unreachable"
    with pytest.raises(ProviderUnavailable):
        adapter.generate(key="sk-x", model_id="gpt-image-1", prompt="p", options={})


# --- whatever a provider (or a proxy in front of it) sends, the answer is a KeyCheck or one of
# the error classes: never a TypeError that becomes a 500 ------------------------------------------

ODD_VALUES = [None, 0, 12.5, True, "", "text", [], ["a", 1], {}, {"nested": {"deeper": [1]}}]
ODD_BODIES = [
    *({"error": {"message": value, "code": value, "type": value}} for value in ODD_VALUES),
    *({"error": {"message": value, "status": value, "details": value}} for value in ODD_VALUES),
    *({"error": value, "code": value} for value in ODD_VALUES),
    *({"message": value} for value in ODD_VALUES),
    *({"data": value, "usage": value, "output_format": value} for value in ODD_VALUES),
    *({"data": [value]} for value in ODD_VALUES),
    *(
        {"data": [{"b64_json": value, "url": value, "revised_prompt": value}]}
        for value in ODD_VALUES
    ),
    *({"predictions": value} for value in ODD_VALUES),
    *(
        {"predictions": [{"bytesBase64Encoded": value, "raiFilteredReason": value}]}
        for value in ODD_VALUES
    ),
    *({"candidates": value, "promptFeedback": value} for value in ODD_VALUES),
    *(
        {"candidates": [{"content": {"parts": value}, "finishReason": value}]}
        for value in ODD_VALUES
    ),
    *(
        {"candidates": [{"content": {"parts": [{"inlineData": value, "text": value}]}}]}
        for value in ODD_VALUES
    ),
    *(
        {"api_key_blocked": value, "api_key_disabled": value, "team_blocked": value}
        for value in ODD_VALUES
    ),
    *({"models": value} for value in ODD_VALUES),
]


@pytest.mark.parametrize("adapter_class", [OpenAIAdapter, GoogleAdapter, XAIAdapter])
@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 408, 422, 429, 500, 503])
def test_odd_answers_become_a_key_check_or_a_provider_error(adapter_class, status):
    import json

    adapter = adapter_class("https://provider.test")
    for body in ODD_BODIES:
        raw = json.dumps(body).encode()
        check = adapter.parse_validation(status, raw, "application/json")
        assert isinstance(check, KeyCheck) and (
            check.reason is None or isinstance(check.reason, str)
        ), body
        try:
            adapter.parse_response(status, raw, "application/json")
        except ProviderError as exc:
            assert isinstance(exc.message, str) and exc.message, body
