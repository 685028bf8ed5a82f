"""Edits through POST /api/generations/: input images (gallery ids or data: URLs) and a mask,
each refused with a sentence when unusable, stored privately with the generation, their
versions (parent -> children), what the provider was sent, and what the edit cost."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from byok.models import ImageModel
from generations import provenance
from generations.models import GenerationInput, ImageGeneration
from generations.selectors import generation_versions
from tests.factories import image_model
from tests.images import (
    b64,
    data_url,
    gif_bytes,
    jpeg_bytes,
    mask_png,
    media_files,
    noisy_png,
    pixels,
    png_bytes,
    webp_bytes,
)
from tests.recorded import edit_body, edit_url, generate_url, success_body
from tests.wire import multipart_parts, request_images

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def post(client: Client, body: dict):
    return client.post("/api/generations/", data=json.dumps(body), content_type="application/json")


def edit_request(configuration, model_id: str, inputs, mask=None, prompt="make it snow", **params):
    body = {
        "configId": str(configuration.pk),
        "prompt": prompt,
        "parameters": {"modelId": model_id, **params},
        "inputImages": inputs,
    }
    if mask is not None:
        body["mask"] = {"dataUrl": data_url(mask)}
    return body


def generated_image(client, configs, rsps, picture: bytes | None = None) -> dict:
    """One image in the user's gallery (made with gpt-image-1.5): its API row."""
    rsps.post(
        generate_url("openai", "gpt-image-1.5"),
        json=success_body("openai", "gpt-image-1.5", [picture or png_bytes(64, 48)]),
    )
    body = {
        "configId": str(configs["openai"].pk),
        "prompt": "A fawn in a clearing",
        "parameters": {"modelId": "gpt-image-1.5"},
    }
    response = post(client, body)
    assert response.status_code == 201, response.content
    return response.json()["data"]


# --- one edit per provider ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "model_id"),
    [
        ("openai", "gpt-image-1.5"),
        ("google", "gemini-2.5-flash-image"),
        ("xai", "grok-imagine-image"),
    ],
)
def test_an_edit_sends_the_inputs_to_the_provider_and_keeps_them(
    logged_in, user, configs, rsps, slug, model_id
):
    first, second = png_bytes(64, 48), jpeg_bytes(20, 20)
    rsps.post(edit_url(slug, model_id), json=edit_body(slug))

    response = post(
        logged_in,
        edit_request(
            configs[slug],
            model_id,
            [{"dataUrl": data_url(first)}, {"dataUrl": data_url(second, "image/jpeg")}],
        ),
    )

    assert response.status_code == 201, response.content
    row = response.json()["data"]
    request = rsps.calls[-1].request
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    assert request_images(body, request.headers["Content-Type"]) == [
        (first, "image/png"),
        (second, "image/jpeg"),
    ]
    assert [(i["width"], i["height"], i["format"]) for i in row["inputs"]] == [
        (64, 48, "png"),
        (20, 20, "jpeg"),
    ]
    assert row["mask"] is None and row["parent"] is None and row["parent_id"] is None
    # Kept privately beside the outputs, as they were sent.
    generation = ImageGeneration.objects.get(pk=row["id"])
    stored = [i.storage_path for i in generation.inputs.order_by("index")]
    assert stored == [
        f"images/{user.pk}/{generation.pk}/inputs/0.png",
        f"images/{user.pk}/{generation.pk}/inputs/1.jpg",
    ]
    served = logged_in.get(row["inputs"][0]["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == first
    assert logged_in.get(row["inputs"][1]["thumbnail_url"])["Content-Type"] == "image/webp"


def test_an_openai_edit_sends_the_mask_and_keeps_it(logged_in, user, configs, rsps):
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))
    mask = mask_png(64, 48)

    response = post(
        logged_in,
        edit_request(
            configs["openai"],
            "gpt-image-1.5",
            [{"dataUrl": data_url(png_bytes(64, 48))}],
            mask=mask,
            inputFidelity="high",
            outputFormat="webp",
            outputCompression=60,
        ),
    )

    assert response.status_code == 201, response.content
    row = response.json()["data"]
    request = rsps.calls[-1].request
    parts = multipart_parts(request.body, request.headers["Content-Type"])
    assert [p.data for p in parts if p.name == "mask"] == [mask]
    fields = {p.name: p.text for p in parts if p.filename is None}
    assert fields["input_fidelity"] == "high" and fields["output_compression"] == "60"
    # The edit keeps its input's shape: no default size was added.
    assert "size" not in fields and "moderation" not in fields
    assert row["mask"]["width"] == 64
    assert b"".join(logged_in.get(row["mask"]["url"]).streaming_content) == mask
    assert row["parameters"]["input_fidelity"] == "high"


# --- versions: an edit of a gallery image is its child ------------------------------------------


def test_editing_gallery_images_builds_a_version_chain(logged_in, user, configs, rsps):
    original = generated_image(logged_in, configs, rsps)
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))

    first_edit = post(
        logged_in,
        edit_request(
            configs["openai"], "gpt-image-1.5", [{"imageId": original["images"][0]["id"]}]
        ),
    ).json()["data"]
    second_edit = post(
        logged_in,
        edit_request(
            configs["openai"], "gpt-image-1.5", [{"imageId": first_edit["images"][0]["id"]}]
        ),
    ).json()["data"]

    assert first_edit["parent"]["id"] == original["id"]
    assert first_edit["parent_id"] == original["id"]
    assert first_edit["inputs"][0]["source_image_id"] == original["images"][0]["id"]
    assert second_edit["parent"]["prompt"] == "make it snow"
    # The provider was sent the stored file: the original picture.
    sent = request_images(
        rsps.calls[-1].request.body, rsps.calls[-1].request.headers["Content-Type"]
    )
    assert pixels(sent[0][0]) == pixels(png_bytes(64, 48))
    latest = ImageGeneration.objects.get(pk=second_edit["id"])
    versions = generation_versions(generation=latest)
    assert [str(g.pk) for g in versions["ancestors"]] == [original["id"], first_edit["id"]]
    middle = generation_versions(generation=ImageGeneration.objects.get(pk=first_edit["id"]))
    assert [str(g.pk) for g in middle["children"]] == [second_edit["id"]]
    # Deleting the original keeps its edits (and what they were sent).
    assert logged_in.delete(f"/api/generations/{original['id']}/").status_code == 200
    again = logged_in.get(f"/api/generations/{first_edit['id']}/").json()["data"]
    assert again["parent"] is None and again["inputs"][0]["source_image_id"] is None
    assert logged_in.get(again["inputs"][0]["url"]).status_code == 200


def test_another_users_image_is_a_404_and_nothing_happens(
    logged_in, user, other_user, configs, rsps
):
    theirs = Client()
    theirs.force_login(other_user)
    from tests.factories import make_configuration

    their_configs = {"openai": make_configuration(other_user, configs["openai"].provider)}
    image_id = generated_image(theirs, their_configs, rsps)["images"][0]["id"]
    calls, files = len(rsps.calls), media_files()

    for image in (image_id, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = post(
            logged_in, edit_request(configs["openai"], "gpt-image-1.5", [{"imageId": image}])
        )
        assert response.status_code == 404 and response.json() == {"error": "Not found."}
    assert len(rsps.calls) == calls and media_files() == files
    assert not ImageGeneration.objects.filter(user=user).exists()
    # Their inputs are theirs too.
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))
    edited = post(
        theirs,
        edit_request(their_configs["openai"], "gpt-image-1.5", [{"imageId": image_id}]),
    ).json()["data"]
    assert logged_in.get(edited["inputs"][0]["url"]).status_code == 404
    assert logged_in.get(edited["inputs"][0]["thumbnail_url"]).status_code == 404


# --- refusals: a sentence, a 400, nothing stored, no provider call -----------------------------

GOOD = {"dataUrl": data_url(png_bytes(64, 48))}


@pytest.mark.parametrize(
    ("model_id", "inputs", "mask", "params", "says"),
    [
        (
            "gpt-image-1.5",
            [{"dataUrl": data_url(gif_bytes(), "image/png")}],
            None,
            {},
            "Input image 1 is a GIF; send a PNG, JPEG or WebP image.",
        ),
        (
            "gpt-image-1.5",
            [{"dataUrl": "data:image/gif;base64," + b64(gif_bytes())}],
            None,
            {},
            "Input image 1 must be a data URL of a PNG, JPEG or WebP image",
        ),
        (
            "gpt-image-1.5",
            [GOOD, {"dataUrl": "data:image/png;base64,!!notbase64"}],
            None,
            {},
            "Input image 2 is not valid base64",
        ),
        (
            "gpt-image-1.5",
            [{"dataUrl": data_url(b"not an image at all")}],
            None,
            {},
            "Input image 1 is not an image Bambi can read (PNG, JPEG or WebP).",
        ),
        (
            "gpt-image-1.5",
            [{"dataUrl": data_url(png_bytes(64, 48)[:-30])}],
            None,
            {},
            "Input image 1 is not an image Bambi can read",
        ),
        (
            "imagen-4.0-generate-001",
            [GOOD],
            None,
            {},
            "Imagen 4 makes images from text only; it takes no input images.",
        ),
        (
            "grok-imagine-image",
            [GOOD] * 4,
            None,
            {},
            "Grok Imagine takes at most 3 input images; you gave 4.",
        ),
        (
            "gemini-2.5-flash-image",
            [GOOD],
            mask_png(64, 48),
            {},
            "Gemini 2.5 Flash Image does not take a mask",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            mask_png(32, 32),
            {},
            "The mask is 32×32 pixels but the first input image is 64×48",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            mask_png(64, 48, alpha=False),
            {},
            "The mask has no transparency",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            mask_png(64, 48, hole=()),
            {},
            "The mask has no transparent pixel, so it marks nothing to change.",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            jpeg_bytes(64, 48),
            {},
            "The mask must be a PNG (with transparency); this file is a JPEG.",
        ),
        ("gpt-image-1.5", [], mask_png(64, 48), {}, "A mask needs an input image to apply to."),
        (
            "gpt-image-1.5",
            [GOOD],
            None,
            {"moderation": "low"},
            "GPT Image 1.5 has no moderation setting when editing images.",
        ),
        (
            "gpt-image-1.5",
            [],
            None,
            {"inputFidelity": "high"},
            "Input fidelity applies only when you give input images to edit.",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            None,
            {"outputCompression": 50},
            "Compression applies to JPEG and WebP output",
        ),
        (
            "gpt-image-1.5",
            [GOOD],
            None,
            {"outputFormat": "jpeg", "background": "transparent"},
            "JPEG has no transparency",
        ),
        (
            "gpt-image-1.5",
            [{"url": "https://example.com/a.png"}],
            None,
            {},
            'Each input image must be an object {"imageId": "…"} or {"dataUrl"',
        ),
        (
            "gpt-image-1.5",
            [{"imageId": "x", "dataUrl": "y"}],
            None,
            {},
            "Each input image must be an object",
        ),
    ],
)
def test_unusable_inputs_are_refused_with_a_sentence(
    logged_in, user, configs, rsps, model_id, inputs, mask, params, says
):
    slug = ImageModel.objects.get(model_id=model_id).provider.slug
    response = post(logged_in, edit_request(configs[slug], model_id, inputs, mask, **params))

    assert response.status_code == 400, response.content
    assert says in response.json()["error"]
    assert len(rsps.calls) == 0 and media_files() == []
    assert not ImageGeneration.objects.exists() and not GenerationInput.objects.exists()
    user.refresh_from_db()
    assert user.usage_count == 0


def test_input_images_must_be_a_list_and_a_mask_an_object(logged_in, configs, rsps):
    body = edit_request(configs["openai"], "gpt-image-1.5", [GOOD])
    body["inputImages"] = GOOD
    assert post(logged_in, body).json() == {"error": "“inputImages” must be a list."}
    body = edit_request(configs["openai"], "gpt-image-1.5", [GOOD])
    body["mask"] = data_url(mask_png(64, 48))
    assert "“mask” must be an object" in post(logged_in, body).json()["error"]


def test_the_byte_and_pixel_caps_are_refused_before_the_provider(
    logged_in, configs, rsps, settings
):
    settings.INPUT_IMAGE_MAX_PIXELS = 1_000_000
    wide = {"dataUrl": data_url(png_bytes(1200, 1000))}
    big = post(logged_in, edit_request(configs["openai"], "gpt-image-1.5", [GOOD, wide]))
    assert big.status_code == 400
    assert big.json()["error"] == (
        "Input image 2 is 1200×1000 pixels; at most 1.0 megapixels are accepted."
    )
    settings.INPUT_IMAGE_MAX_PIXELS = 4096 * 4096
    settings.INPUT_IMAGE_MAX_BYTES = 100
    heavy = post(logged_in, edit_request(configs["openai"], "gpt-image-1.5", [GOOD]))
    assert heavy.status_code == 400 and "at most 100" in heavy.json()["error"]
    assert len(rsps.calls) == 0


def test_a_body_with_images_may_pass_the_ordinary_limit_but_not_its_own(
    logged_in, configs, rsps, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    rsps.post(edit_url("xai", "grok-imagine-image"), json=edit_body("xai"))
    big = edit_request(
        configs["xai"],
        "grok-imagine-image",
        [
            {"dataUrl": data_url(webp_bytes(32, 32), "image/webp")},
            {"dataUrl": data_url(noisy_png(100, 100))},
        ],
    )
    assert len(json.dumps(big)) > 20_000
    assert post(logged_in, big).status_code == 201
    # The same size without images is what any other body gets past the ordinary limit.
    text_only = {**big, "inputImages": [], "prompt": "p" * 25_000}
    refused = post(logged_in, text_only)
    assert refused.status_code == 413 and "19.5\xa0KB" in refused.json()["error"]
    settings.GENERATION_REQUEST_MAX_BYTES = 20_000
    refused = post(logged_in, big)
    assert refused.status_code == 413 and "too large" in refused.json()["error"]


# --- failures keep what was tried; costs say what they are ----------------------------------------


def test_a_refused_edit_is_a_failed_generation_with_its_inputs_and_no_charge(
    logged_in, user, configs, rsps
):
    rsps.post(
        edit_url("openai", "gpt-image-1.5"),
        status=400,
        json={
            "error": {
                "message": "Invalid mask image format - mask size does not match image size",
                "type": "invalid_request_error",
                "param": "mask",
                "code": None,
            }
        },
    )

    response = post(
        logged_in, edit_request(configs["openai"], "gpt-image-1.5", [GOOD], mask=mask_png(64, 48))
    )

    assert response.status_code == 400
    assert "Invalid mask image format" in response.json()["error"]
    generation = ImageGeneration.objects.get()
    assert generation.status == "failed" and generation.inputs.count() == 2
    user.refresh_from_db()
    assert user.usage_count == 0


@pytest.mark.parametrize(
    ("slug", "model_id", "cost", "basis"),
    [
        # 43 text tokens × $5 + 194 image tokens × $8 + 4160 output tokens × $32, per 1M.
        ("openai", "gpt-image-1.5", "0.1349", "tokens"),
        # 14 × $0.30 + 1290 × $0.30 + 1290 × $30, per 1M.
        ("google", "gemini-2.5-flash-image", "0.0391", "tokens"),
        # xAI states it: $0.02 for the image and $0.002 for the input.
        ("xai", "grok-imagine-image", "0.0220", "reported"),
    ],
)
def test_an_edit_records_what_the_provider_bills_for_the_inputs_too(
    logged_in, configs, rsps, slug, model_id, cost, basis
):
    rsps.post(edit_url(slug, model_id), json=edit_body(slug))

    row = post(logged_in, edit_request(configs[slug], model_id, [GOOD])).json()["data"]

    assert (row["cost_estimate"], row["cost_basis"]) == (cost, basis)
    assert row["cost_is_estimate"] is (basis != "reported")


def test_the_estimate_before_the_call_counts_the_input_images(user, configs):
    from byok.catalogue import estimate_cost

    model = image_model("xai", "grok-imagine-image")
    assert estimate_cost(model.capabilities, {"count": 2}, inputs=3) == Decimal("0.046")
    fidelity = image_model("openai", "gpt-image-1.5").capabilities
    low = estimate_cost(fidelity, {"quality": "low", "input_fidelity": "low"}, inputs=1)
    high = estimate_cost(fidelity, {"quality": "low", "input_fidelity": "high"}, inputs=1)
    assert low == Decimal("0.012") and high == Decimal("0.045")


# --- provenance in the stored edit --------------------------------------------------------------


def test_the_stored_edit_says_what_made_it_and_nothing_about_who(logged_in, user, configs, rsps):
    original = generated_image(logged_in, configs, rsps)
    answer = jpeg_bytes(40, 30)
    rsps.post(edit_url("xai", "grok-imagine-image"), json=edit_body("xai", [answer]))

    row = post(
        logged_in,
        edit_request(
            configs["xai"],
            "grok-imagine-image",
            [{"imageId": original["images"][0]["id"]}],
            prompt="Le faon sous la neige ❄",
            resolution="2k",
        ),
    ).json()["data"]

    stored = b"".join(logged_in.get(row["images"][0]["url"]).streaming_content)
    assert pixels(stored) == pixels(answer)  # the provider's pixels, not re-encoded
    record = provenance.read(stored)
    assert record["software"] == "Bambi AI"
    assert record["generation_id"] == row["id"]
    assert record["prompt"] == "Le faon sous la neige ❄"
    assert (record["provider"], record["model"]) == ("xai", "grok-imagine-image")
    assert record["settings"] == {"count": 1, "resolution": "2k"}
    assert record["edited_from"] == original["id"] and record["input_images"] == 1
    configuration = configs["xai"]
    for secret in (
        configuration.clear_key,
        configuration.key_hint,
        user.email,
        str(user.pk),
        str(configuration.pk),
    ):
        assert secret.encode() not in stored, secret


# --- inputs go with their generation: deletion, retention, export --------------------------------


def _one_edit(client, configs, rsps) -> dict:
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))
    response = post(
        client,
        edit_request(configs["openai"], "gpt-image-1.5", [GOOD], mask=mask_png(64, 48)),
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def test_deleting_an_edit_deletes_its_inputs_and_their_thumbnails(
    logged_in, user, configs, rsps, django_capture_on_commit_callbacks
):
    row = _one_edit(logged_in, configs, rsps)
    logged_in.get(row["inputs"][0]["thumbnail_url"])  # made on first request
    folder = f"images/{user.pk}/{row['id']}/inputs/"
    assert {f for f in media_files() if f.startswith(folder)} == {
        folder + "0.png",
        folder + "0_thumb.webp",
        folder + "mask.png",
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in.delete(f"/api/generations/{row['id']}/").status_code == 200

    assert media_files() == [] and not GenerationInput.objects.exists()


def test_the_retention_purge_deletes_inputs_too(logged_in, user, configs, rsps):
    from datetime import timedelta

    from django.utils import timezone

    from generations.deletion import generations_purge

    row = _one_edit(logged_in, configs, rsps)
    ImageGeneration.objects.filter(pk=row["id"]).update(
        created_at=timezone.now() - timedelta(days=40)
    )

    generations, files = generations_purge(older_than=timedelta(days=30))

    assert (generations, files) == (1, 3)  # the image, the input, the mask
    assert media_files() == []


def test_the_export_holds_the_inputs_and_says_what_each_edit_came_from(
    logged_in, user, configs, rsps
):
    import io
    import zipfile

    original = generated_image(logged_in, configs, rsps)
    rsps.post(edit_url("openai", "gpt-image-1.5"), json=edit_body("openai"))
    edited = post(
        logged_in,
        edit_request(
            configs["openai"], "gpt-image-1.5", [{"imageId": original["images"][0]["id"]}]
        ),
    ).json()["data"]

    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(logged_in.get("/dashboard/account/export/").streaming_content))
    )

    rows = {g["id"]: g for g in json.loads(archive.read("generations.json"))["generations"]}
    edit_row = rows[edited["id"]]
    assert edit_row["edited_from"] == original["id"]
    (item,) = edit_row["inputs"]
    assert item["file"].startswith("inputs/") and item["mask"] is False
    assert pixels(archive.read(item["file"])) == pixels(png_bytes(64, 48))
    sidecar = json.loads(archive.read(edit_row["images"][0]["file"] + ".json"))
    assert sidecar["edited_from"] == original["id"] and sidecar["input_images"] == 1


def test_operators_see_an_edits_inputs_in_the_admin(admin_client, logged_in, configs, rsps):
    row = _one_edit(logged_in, configs, rsps)

    page = admin_client.get(f"/admin/generations/imagegeneration/{row['id']}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "input images" in text.lower() and "64" in text
    assert configs["openai"].clear_key not in text
