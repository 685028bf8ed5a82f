"""POST /v1/images/edits over HTTP (Django's test client, the stand-in behind): the multipart
shapes OpenAI's SDKs send (`image`, `image[]`, `image[0]`…), and every bad form refused in
OpenAI's error shape, naming the field, before any provider call and without a trace."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from byok.models import ImageModel
from generations.models import ImageGeneration
from tests.factories import make_configuration, make_token
from tests.images import gif_bytes, mask_png, png_bytes, webp_bytes
from tests.openai_compat.test_api import error_of
from tests.wire import json_images

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

EDITS = "/v1/images/edits"


@pytest.fixture
def v1(token) -> Client:
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


def upload(data: bytes, name: str = "a.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def form(**fields) -> dict:
    return {"model": "grok-imagine-image", "prompt": "make it snow", **fields}


def test_indexed_parts_are_images_in_their_order(v1, keys, standin):
    first, second = png_bytes(40, 30), webp_bytes(16, 16)
    response = v1.post(
        EDITS, form(**{"image[1]": upload(second, "b.webp"), "image[0]": upload(first)})
    )

    assert response.status_code == 200, response.content[:300]
    assert [data for data, _ in json_images(standin.requests[-1].body)] == [first, second]
    assert response.json()["data"][0]["b64_json"]


def test_image_and_image_brackets_together_are_all_sent(v1, keys, standin):
    response = v1.post(
        EDITS,
        form(image=upload(png_bytes(40, 30)), **{"image[]": [upload(png_bytes(8, 8), "b.png")]}),
    )

    assert response.status_code == 200, response.content[:300]
    assert len(json_images(standin.requests[-1].body)) == 2


@pytest.mark.parametrize(
    ("fields", "param", "code", "words"),
    [
        ({}, "image", "missing_required_parameter", "'image'"),
        ({"image": "not a file"}, "image", "invalid_type", "file part"),
        ({"model": None}, "model", "missing_required_parameter", "'model'"),
        ({"prompt": None}, "prompt", "missing_required_parameter", "'prompt'"),
        ({"n": "two"}, "n", "invalid_value", "'n'"),
        ({"n": "0"}, "n", "invalid_value", "'n'"),
        ({"stream": "true"}, "stream", None, "stream"),
        ({"zoom": "2"}, "zoom", "unknown_parameter", "zoom"),
        ({"response_format": "png"}, "response_format", "invalid_value", "b64_json"),
        ({"size": "512x512"}, "size", "invalid_size", "1024x1024"),
        ({"model": "no-such-model"}, "model", "model_not_found", "does not exist"),
    ],
)
def test_a_bad_form_is_a_400_naming_the_field(v1, keys, standin, fields, param, code, words):
    body = {**form(), **fields}
    if "image" not in fields and fields != {}:
        body["image"] = upload(png_bytes(16, 16))
    body = {name: value for name, value in body.items() if value is not None}

    response = v1.post(EDITS, body)

    error = error_of(response, 404 if code == "model_not_found" else 400)
    assert error["param"] == param
    assert error["code"] == code
    assert words in error["message"]
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()


@pytest.mark.parametrize(
    ("files", "param", "words"),
    [
        ({"image": upload(gif_bytes(), "a.gif", "image/gif")}, "image", "is a GIF"),
        ({"image": upload(b"%PDF-1.7 not a picture", "a.png")}, "image", "not an image"),
        ({"image": upload(b"", "a.png")}, "image", "is empty"),
        ({"photo": upload(png_bytes())}, "photo", "Unknown parameter"),
        (
            {
                "image": upload(png_bytes(16, 16)),
                "mask": [upload(mask_png(16, 16), "m1.png"), upload(mask_png(16, 16), "m2.png")],
            },
            "mask",
            "one mask",
        ),
    ],
)
def test_unusable_files_are_refused_by_what_they_are(v1, keys, standin, files, param, words):
    response = v1.post(EDITS, {**form(model="gpt-image-1.5"), **files})

    error = error_of(response, 400)
    assert error["param"] == param
    assert words in error["message"]
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()


def test_a_json_body_is_told_to_send_multipart(v1, keys, standin):
    response = v1.post(EDITS, data=json.dumps(form()), content_type="application/json")

    error = error_of(response, 400)
    assert error["code"] == "invalid_content_type"
    assert "multipart/form-data" in error["message"]


def test_edits_want_a_token_and_keep_to_its_models(client, user, keys, standin):
    body = form(image=upload(png_bytes(16, 16)))
    assert error_of(client.post(EDITS, body), 401)["code"] == "invalid_api_key"

    gpt = ImageModel.objects.get(model_id="gpt-image-1.5")
    limited = make_token(user, name="gpt only", allowed_models=[gpt])
    bearer = Client(headers={"Authorization": f"Bearer {limited.secret}"})
    refused = error_of(bearer.post(EDITS, form(image=upload(png_bytes(16, 16)))), 403)
    assert refused["code"] == "model_not_allowed"
    assert standin.count() == 0


def test_x_bambi_key_picks_the_key_that_pays_for_an_edit(
    v1, user, keys, providers_on_standin, standin
):
    other = make_configuration(
        user, providers_on_standin["xai"], key="xai-" + "Z" * 40, name="Second xAI"
    )
    response = v1.post(
        EDITS, form(image=upload(png_bytes(16, 16))), headers={"X-Bambi-Key": str(other.pk)}
    )

    assert response.status_code == 200, response.content[:300]
    assert standin.requests[-1].key == "xai-" + "Z" * 40
    assert ImageGeneration.objects.get().configuration_id == other.pk
