"""POST /v1/images/edits driven by the official `openai` SDK's `images.edit()`, unchanged,
against a live Bambi and the provider stand-in: a model of each provider that takes input
images (each sent the images in its own dialect), a mask, a refusal, files that are too big,
`url` answers, and the refusals a user can cause, as the SDK's own exceptions."""

from __future__ import annotations

import base64
import io

import openai
import pytest
import requests
from PIL import Image as PILImage

from accounts.models import User
from generations.models import ImageGeneration
from tests.images import image_size, jpeg_bytes, mask_png, noisy_png, png_bytes, webp_bytes
from tests.wire import json_images

pytestmark = pytest.mark.django_db(transaction=True)

EDITED_COLOUR = (255, 128, 0)  # what the stand-in paints where a mask is transparent


def _sent(standin, endpoint: str):
    return [r for r in standin.requests if r.endpoint == endpoint][-1].body


def _images_sent(standin, endpoint: str) -> list[bytes]:
    """The input images the provider received, in its own dialect: OpenAI's multipart parts,
    Gemini's inline data, xAI's JSON data: URLs."""
    body = _sent(standin, endpoint)
    if endpoint == "openai.edit":
        return [part["data"] for part in body["files"] if part["name"].startswith("image")]
    return [data for data, _mime in json_images(body)]


def _usage(user) -> int:
    return User.objects.get(pk=user.pk).usage_count


@pytest.mark.parametrize(
    ("model", "endpoint"),
    [
        ("gpt-image-1.5", "openai.edit"),
        ("gemini-2.5-flash-image", "google.generateContent"),
        ("grok-imagine-image", "xai.edit"),
    ],
)
def test_images_edit_with_a_model_of_each_provider(
    sdk, user, token, keys, standin, tmp_path, model, endpoint
):
    first, second = png_bytes(64, 48), webp_bytes(32, 32)
    (tmp_path / "photo.png").write_bytes(first)
    (tmp_path / "style.webp").write_bytes(second)

    with (tmp_path / "photo.png").open("rb") as a, (tmp_path / "style.webp").open("rb") as b:
        answer = sdk.images.edit(model=model, image=[a, b], prompt="make it snow")

    assert isinstance(answer, openai.types.ImagesResponse)
    picture = base64.b64decode(answer.data[0].b64_json)
    assert image_size(picture) == (64, 48)  # the stand-in edits the first image, keeps its shape
    assert _images_sent(standin, endpoint) == [first, second]  # the exact bytes, in order
    generation = ImageGeneration.objects.get()
    assert generation.status == "completed"
    assert generation.api_token_id == token.token.pk
    assert generation.prompt == "make it snow"
    assert [(i.index, i.width, i.height) for i in generation.inputs.filter(is_mask=False)] == [
        (0, 64, 48),
        (1, 32, 32),
    ]
    assert _usage(user) == 1


def test_one_file_as_image_and_a_mask_mark_what_gpt_image_changes(sdk, user, keys, standin):
    photo = png_bytes(64, 48, color=(10, 20, 200))
    mask = mask_png(64, 48)  # its left half transparent: change only that

    answer = sdk.images.edit(
        model="gpt-image-1.5",
        image=("photo.png", photo, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="a red door on the left",
        input_fidelity="high",
        quality="low",
        n=1,
    )

    sent = _sent(standin, "openai.edit")
    assert [part["data"] for part in sent["files"] if part["name"] == "mask"] == [mask]
    assert _images_sent(standin, "openai.edit") == [photo]
    assert sent["fields"]["input_fidelity"] == "high"
    assert sent["fields"]["quality"] == "low"
    with PILImage.open(io.BytesIO(base64.b64decode(answer.data[0].b64_json))) as result:
        rgb = result.convert("RGB")
        assert rgb.getpixel((5, 24)) == EDITED_COLOUR  # under the transparent half
        assert rgb.getpixel((60, 24)) == (10, 20, 200)  # the opaque half kept
    generation = ImageGeneration.objects.get()
    assert generation.inputs.filter(is_mask=True).count() == 1


def test_raw_bytes_are_read_for_what_they_are_not_for_their_name(sdk, keys, standin):
    # The SDK sends bare bytes as "upload", application/octet-stream.
    answer = sdk.images.edit(model="grok-imagine-image", image=jpeg_bytes(40, 30), prompt="dusk")

    assert image_size(base64.b64decode(answer.data[0].b64_json)) == (40, 30)
    [(data, mime)] = json_images(_sent(standin, "xai.edit"))
    assert mime == "image/jpeg"
    assert data == jpeg_bytes(40, 30)


def test_a_url_answer_is_a_bambi_url_for_the_tokens_owner(sdk, token, keys, live_server):
    answer = sdk.images.edit(
        model="gemini-2.5-flash-image",
        image=("a.png", png_bytes(64, 48), "image/png"),
        prompt="in winter",
        response_format="url",
    )

    url = answer.data[0].url
    assert url.startswith(live_server.url + "/")
    anonymous = requests.get(url, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302  # not public: to the login page
    fetched = requests.get(url, headers={"Authorization": f"Bearer {token.secret}"}, timeout=10)
    assert fetched.status_code == 200
    assert image_size(fetched.content) == (64, 48)


@pytest.mark.parametrize(
    ("model", "endpoint"), [("gpt-image-1.5", "openai.edit"), ("grok-imagine-image", "xai.edit")]
)
def test_a_refused_edit_is_a_bad_request_and_costs_nothing(
    sdk, user, keys, standin, model, endpoint
):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model=model, image=("a.png", png_bytes(64, 48), "image/png"), prompt="REFUSE this"
        )

    assert refused.value.code == "moderation_blocked"
    assert standin.count(endpoint) == 1  # the provider was asked, and said no
    assert ImageGeneration.objects.get().status == "failed"
    assert _usage(user) == 0


def test_a_mask_for_a_model_without_masks_is_refused_before_any_call(sdk, user, keys, standin):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="gemini-2.5-flash-image",
            image=("a.png", png_bytes(64, 48), "image/png"),
            mask=("m.png", mask_png(64, 48), "image/png"),
            prompt="a door",
        )

    assert refused.value.param == "mask"
    assert "does not take a mask" in refused.value.message
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()
    assert _usage(user) == 0


def test_a_text_only_model_says_it_takes_no_images(sdk, keys, standin):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="imagen-4.0-generate-001",
            image=("a.png", png_bytes(64, 48), "image/png"),
            prompt="a door",
        )

    assert refused.value.param == "image"
    assert "takes no input images" in refused.value.message
    assert standin.count() == 0


def test_a_file_over_the_image_limit_is_a_bad_request_naming_the_limit(
    sdk, user, keys, standin, settings
):
    settings.INPUT_IMAGE_MAX_BYTES = 50_000
    big = noisy_png(200, 200)  # about 80 KB
    assert len(big) > 50_000

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(model="gpt-image-1.5", image=("big.png", big, "image/png"), prompt="x")

    assert refused.value.param == "image"
    assert "at most 48.8\N{NO-BREAK SPACE}KB is accepted" in refused.value.message
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()
    assert _usage(user) == 0


def test_a_body_over_the_request_limit_is_a_413(sdk, keys, standin, settings):
    settings.GENERATION_REQUEST_MAX_BYTES = 100_000
    big = noisy_png(256, 256)  # about 200 kB

    with pytest.raises(openai.APIStatusError) as refused:
        sdk.images.edit(model="gpt-image-1.5", image=("big.png", big, "image/png"), prompt="x")

    assert refused.value.status_code == 413
    assert "too large" in refused.value.message
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()


def test_too_many_images_for_the_model_is_a_bad_request(sdk, keys, standin):
    pictures = [(f"p{n}.png", png_bytes(16, 16), "image/png") for n in range(4)]

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(model="grok-imagine-image", image=pictures, prompt="x")

    assert refused.value.param == "image"
    assert "at most 3 input images" in refused.value.message
    assert standin.count() == 0
