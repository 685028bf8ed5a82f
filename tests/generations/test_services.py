"""generation_run end to end: real adapters, provider HTTP mocked with `responses`.

Each run goes in the way both callers send it: GenerationForm cleans, then generation_run
(the form's own rules are tested in test_forms.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import SecurityEvent
from billing.plans import PlanLimitReached
from generations.models import ApiUsage, Image, ImageGeneration
from generations.services import GenerationFailed
from tests.factories import image_model, run_generation
from tests.images import b64, image_format, image_size, jpeg_bytes, media_files, png_bytes
from tests.recorded import MODELS, generate_url, recorded, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def run(user, configuration, model, prompt="A red fox in the snow", **parameters):
    return run_generation(user, configuration, prompt, model=str(model.pk), **parameters)


@pytest.mark.parametrize(("slug", "model_id"), MODELS)
def test_every_provider_generates_stores_and_counts(user, configs, rsps, slug, model_id):
    model = image_model(slug, model_id)
    pictures = [png_bytes(64, 48)] if slug != "xai" else [jpeg_bytes(40, 30)]
    rsps.post(generate_url(slug, model_id), json=success_body(slug, model_id, pictures))

    generation = run(user, configs[slug], model)

    generation.refresh_from_db()
    assert generation.status == ImageGeneration.Status.COMPLETED
    assert generation.provider.slug == slug and generation.model == model
    assert generation.duration_ms is not None and generation.cost_estimate is not None
    image = generation.images.get()
    assert (image.width, image.height) == image_size(pictures[0])
    assert image.format == image_format(pictures[0]).lower()
    assert image.storage_path == f"images/{user.pk}/{generation.pk}/0.{image.storage_path[-3:]}"
    # The WebP thumbnail is named now and made on its first request (test_views).
    assert image.thumbnail_path == f"images/{user.pk}/{generation.pk}/0_thumb.webp"
    assert media_files() == [image.storage_path]
    user.refresh_from_db()
    assert user.usage_count == 1
    usage = ApiUsage.objects.get(generation=generation)
    assert usage.user == user and usage.provider.slug == slug
    configs[slug].refresh_from_db()
    assert configs[slug].last_used_at is not None
    # The request went out with the key in the provider's header and nothing secret was kept.
    sent = rsps.calls[0].request
    key = configs[slug].clear_key
    assert key in (sent.headers.get("Authorization", "") + sent.headers.get("x-goog-api-key", ""))
    assert key not in json.dumps(generation.parameters)
    assert key not in sent.url


def test_google_imagen_always_sends_sample_count(user, configs, rsps):
    model = image_model("google", "imagen-4.0-generate-001")
    rsps.post(
        generate_url("google", model.model_id),
        json=success_body("google", model.model_id, [png_bytes(16, 16), png_bytes(16, 16)]),
    )
    generation = run(user, configs["google"], model, count=2, aspectRatio="16:9")
    body = json.loads(rsps.calls[0].request.body)
    assert body["parameters"]["sampleCount"] == 2
    assert body["parameters"]["aspectRatio"] == "16:9"
    assert generation.images.count() == 2


def test_xai_exact_cost_is_kept(user, configs, rsps):
    model = image_model("xai", "grok-imagine-image")
    rsps.post(generate_url("xai", model.model_id), json=success_body("xai", model.model_id))
    generation = run(user, configs["xai"], model)
    assert generation.cost_estimate == Decimal("0.0200")


def test_catalogue_price_by_quality_when_provider_gives_no_cost(user, configs, rsps):
    model = image_model("openai", "dall-e-3")
    rsps.post(generate_url("openai", "dall-e-3"), json=success_body("openai", "dall-e-3"))
    generation = run(user, configs["openai"], model, quality="hd")
    assert generation.cost_estimate == Decimal("0.0800")
    assert generation.parameters == {
        "model_id": "dall-e-3",
        "count": 1,
        "size": "1024x1024",
        "quality": "hd",
        "style": "vivid",
    }


def test_url_answer_is_downloaded_without_the_key(user, configs, rsps):
    model = image_model("xai", "grok-imagine-image")
    picture = jpeg_bytes(30, 20)
    rsps.post(
        generate_url("xai", model.model_id),
        json=recorded("xai", "image_url", image_url="https://imgen.x.ai/xai-tmp-imgen-1.jpeg"),
    )
    rsps.get("https://imgen.x.ai/xai-tmp-imgen-1.jpeg", body=picture, content_type="image/jpeg")
    generation = run(user, configs["xai"], model)
    image = generation.images.get()
    assert (image.width, image.height, image.format) == (30, 20, "jpeg")
    download = rsps.calls[1].request
    assert "Authorization" not in download.headers
    assert configs["xai"].clear_key not in str(download.headers)


def test_data_uri_base64_is_decoded(user, configs, rsps):
    model = image_model("xai", "grok-imagine-image")
    rsps.post(
        generate_url("xai", model.model_id),
        json=recorded("xai", "image_b64", image_b64=b64(png_bytes(12, 34))),
    )
    image = run(user, configs["xai"], model).images.get()
    assert (image.width, image.height, image.format) == (12, 34, "png")


# --- failures: status, failed row, refund, no files, no image rows ----------------------------

OPENAI_ERRORS = [
    (401, recorded("openai", "error_invalid_api_key"), 400),
    (400, recorded("openai", "error_content_policy"), 422),
    (429, recorded("openai", "error_rate_limit"), 429),
    (429, recorded("openai", "error_insufficient_quota"), 429),
    (400, recorded("openai", "error_invalid_size"), 400),
    (500, recorded("openai", "error_server"), 502),
]


@pytest.mark.parametrize(("status", "answer", "expected"), OPENAI_ERRORS)
def test_provider_errors_fail_the_generation_and_refund(
    user, configs, rsps, status, answer, expected
):
    model = image_model("openai", "dall-e-3")
    rsps.post(generate_url("openai", "dall-e-3"), status=status, json=answer)

    with pytest.raises(GenerationFailed) as caught:
        run(user, configs["openai"], model)

    assert caught.value.http_status == expected
    generation = ImageGeneration.objects.get()
    assert generation.status == ImageGeneration.Status.FAILED
    assert answer["error"]["message"].split(":")[0] in generation.error_message
    assert generation.error_message in caught.value.message
    user.refresh_from_db()
    assert user.usage_count == 0
    assert media_files() == []
    assert not Image.objects.exists() and not ApiUsage.objects.exists()
    configs["openai"].refresh_from_db()
    assert configs["openai"].is_valid is (expected != 400 or status != 401)


def test_invalid_key_marks_configuration_invalid_and_logs_it(user, configs, rsps):
    model = image_model("xai", "grok-imagine-image")
    rsps.post(
        generate_url("xai", model.model_id),
        status=400,
        json=recorded("xai", "error_incorrect_api_key"),
    )
    with pytest.raises(GenerationFailed) as caught:
        run(user, configs["xai"], model)
    assert caught.value.http_status == 400
    configs["xai"].refresh_from_db()
    assert configs["xai"].is_valid is False
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.KEY_INVALIDATED).exists()


def test_google_bad_key_is_invalid_key(user, configs, rsps):
    model = image_model("google", "imagen-4.0-generate-001")
    rsps.post(
        generate_url("google", model.model_id),
        status=400,
        json=recorded("google", "error_api_key_invalid"),
    )
    with pytest.raises(GenerationFailed):
        run(user, configs["google"], model)
    configs["google"].refresh_from_db()
    assert configs["google"].is_valid is False


@pytest.mark.parametrize(
    ("slug", "model_id", "answer"),
    [
        ("xai", "grok-imagine-image", recorded("xai", "image_empty")),
        ("google", "imagen-4.0-generate-001", recorded("google", "imagen_all_filtered")),
        ("google", "gemini-2.5-flash-image", recorded("google", "gemini_image_safety")),
    ],
)
def test_silent_refusals_are_422_and_refunded(user, configs, rsps, slug, model_id, answer):
    rsps.post(generate_url(slug, model_id), json=answer)
    with pytest.raises(GenerationFailed) as caught:
        run(user, configs[slug], image_model(slug, model_id))
    assert caught.value.http_status == 422
    user.refresh_from_db()
    assert user.usage_count == 0
    assert ImageGeneration.objects.get().status == "failed"
    assert media_files() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"\x00\x01garbage", "application/octet-stream"),
    ],
)
def test_html_or_garbage_answer_is_a_failed_generation(user, configs, rsps, body, content_type):
    rsps.post(generate_url("openai", "dall-e-3"), body=body, content_type=content_type)
    with pytest.raises(GenerationFailed) as caught:
        run(user, configs["openai"], image_model("openai", "dall-e-3"))
    assert caught.value.http_status == 502
    assert ImageGeneration.objects.get().status == "failed"
    user.refresh_from_db()
    assert user.usage_count == 0


def test_bytes_that_are_not_an_image_are_refused_and_nothing_is_stored(user, configs, rsps):
    model = image_model("openai", "dall-e-2")
    good, bad = png_bytes(8, 8), b"%PDF-1.4 not an image at all"
    rsps.post(
        generate_url("openai", "dall-e-2"),
        json=recorded("openai", "dalle3_b64", image_b64=[b64(good), b64(bad)]),
    )
    with pytest.raises(GenerationFailed) as caught:
        run(user, configs["openai"], model, count=2)
    assert caught.value.http_status == 502
    assert media_files() == [] and not Image.objects.exists()
    user.refresh_from_db()
    assert user.usage_count == 0


def test_timeout_is_504_and_not_retried(user, configs, rsps):
    import requests

    rsps.post(generate_url("openai", "dall-e-3"), body=requests.ReadTimeout("slow"))
    with pytest.raises(GenerationFailed) as caught:
        run(user, configs["openai"], image_model("openai", "dall-e-3"))
    assert caught.value.http_status == 504
    assert len(rsps.calls) == 1


def test_database_failure_after_files_written_leaves_no_orphans(user, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-2"), json=success_body("openai", "dall-e-2"))
    # A trigger that refuses ApiUsage rows makes the final transaction fail after the files.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON generations_apiusage "
                "BEGIN SELECT RAISE(ABORT, 'no'); END;"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no'; "
                "END $$ LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON "
                "generations_apiusage FOR EACH ROW EXECUTE FUNCTION refuse();"
            )
    with pytest.raises(GenerationFailed):
        run(user, configs["openai"], image_model("openai", "dall-e-2"))
    assert media_files() == []
    assert not Image.objects.exists()
    assert ImageGeneration.objects.get().status == "failed"
    user.refresh_from_db()
    assert user.usage_count == 0


def test_plan_limit_refuses_without_calling_the_provider(user, configs, rsps):
    user.usage_count = 50
    user.save()
    with pytest.raises(PlanLimitReached):
        run(user, configs["openai"], image_model("openai", "dall-e-3"))
    assert len(rsps.calls) == 0
    assert not ImageGeneration.objects.exists()
