"""The JSON API: POST/GET /api/generations/, GET/DELETE /api/generations/<id>/, GET /api/usage/."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from generations.models import Image, ImageGeneration
from tests.factories import image_model, make_configuration
from tests.images import media_files, png_bytes
from tests.recorded import MODELS, generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def post(client: Client, body, raw: str | None = None):
    return client.post(
        "/api/generations/",
        data=raw if raw is not None else json.dumps(body),
        content_type="application/json",
    )


def body_for(configuration, model, prompt="A fox", **parameters):
    return {
        "configId": str(configuration.pk),
        "prompt": prompt,
        "parameters": {"modelId": str(model.pk), **parameters},
    }


@pytest.mark.parametrize(("slug", "model_id"), MODELS)
def test_post_generation_answers_201_with_owner_only_image_urls(
    logged_in, user, configs, rsps, slug, model_id
):
    rsps.post(generate_url(slug, model_id), json=success_body(slug, model_id))
    response = post(logged_in, body_for(configs[slug], image_model(slug, model_id)))
    assert response.status_code == 201, response.content
    row = response.json()["data"]
    assert row["status"] == "completed"
    assert row["configuration_id"] == str(configs[slug].pk)
    assert row["model"]["model_id"] == model_id
    (image,) = row["images"]
    assert image["url"] == f"/dashboard/images/{image['id']}/"
    assert image["thumbnail_url"] == f"/dashboard/images/{image['id']}/thumbnail/"
    assert (image["width"], image["height"]) == (64, 48)
    assert logged_in.get(image["url"]).status_code == 200
    assert configs[slug].clear_key not in response.content.decode()


def test_provider_model_id_is_accepted_as_model(logged_in, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-2"), json=success_body("openai", "dall-e-2"))
    body = body_for(configs["openai"], image_model("openai", "dall-e-2"))
    body["parameters"]["modelId"] = "dall-e-2"
    assert post(logged_in, body).status_code == 201


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        (
            401,
            {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}},
            400,
        ),
        (
            400,
            {
                "error": {
                    "message": "Rejected by our safety system.",
                    "code": "content_policy_violation",
                }
            },
            422,
        ),
        (429, {"error": {"message": "Rate limit reached.", "code": "rate_limit_exceeded"}}, 429),
        (503, {"error": {"message": "The engine is currently overloaded."}}, 502),
    ],
)
def test_provider_failures_map_to_statuses_with_a_sentence(
    logged_in, user, configs, rsps, status, answer, expected
):
    rsps.post(generate_url("openai", "dall-e-3"), status=status, json=answer)
    response = post(logged_in, body_for(configs["openai"], image_model("openai", "dall-e-3")))
    assert response.status_code == expected
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert answer["error"]["message"] in error and error.endswith(".")
    generation = ImageGeneration.objects.get()
    assert generation.status == "failed"
    assert generation.error_message == answer["error"]["message"]
    user.refresh_from_db()
    assert user.usage_count == 0


def test_timeout_is_504(logged_in, configs, rsps):
    import requests

    rsps.post(generate_url("xai", "grok-imagine-image"), body=requests.ConnectTimeout())
    response = post(logged_in, body_for(configs["xai"], image_model("xai", "grok-imagine-image")))
    assert response.status_code == 504
    assert "too long" in response.json()["error"]


def test_garbage_answer_is_502_with_nothing_counted(logged_in, user, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-3"), body=b"<html>Bad gateway</html>", status=200)
    response = post(logged_in, body_for(configs["openai"], image_model("openai", "dall-e-3")))
    assert response.status_code == 502
    assert response.json()["error"].endswith(".")
    assert ImageGeneration.objects.get().status == "failed"
    user.refresh_from_db()
    assert user.usage_count == 0


def test_sequential_requests_count_exactly_up_to_the_limit(logged_in, user, configs, rsps):
    user.usage_count = 47
    user.save()
    url = generate_url("openai", "dall-e-3")
    ok = success_body("openai", "dall-e-3")
    # responses answers registrations for one URL in order: successes and failures mixed.
    rsps.post(url, json=ok)
    rsps.post(url, status=500, json={"error": {"message": "The server had an error."}})
    rsps.post(url, json=ok)
    rsps.post(url, status=429, json={"error": {"message": "Slow down.", "code": "rate_limit"}})
    rsps.post(url, json=ok)
    body = body_for(configs["openai"], image_model("openai", "dall-e-3"))

    statuses = [post(logged_in, body).status_code for _ in range(6)]

    assert statuses == [201, 502, 201, 429, 201, 403]
    assert len(rsps.calls) == 5  # the refused one never reached the provider
    user.refresh_from_db()
    assert user.usage_count == 50
    assert ImageGeneration.objects.filter(status="completed").count() == 3
    usage = logged_in.get("/api/usage/").json()["data"]
    assert (usage["usage_count"], usage["remaining"]) == (50, 0)


@pytest.mark.parametrize("billing_on", [True, False])
def test_plan_limit_is_403(logged_in, user, configs, rsps, request, billing_on):
    if billing_on:
        request.getfixturevalue("stripe_keys")  # Stripe configured: Premium on sale
    user.usage_count = 50
    user.save()
    response = post(logged_in, body_for(configs["openai"], image_model("openai", "dall-e-3")))
    assert response.status_code == 403
    error = response.json()["error"]
    assert "You have used all 50 generations of your plan this month" in error
    # Premium is offered only where it can be bought.
    assert ("upgrade to Premium" in error) is billing_on
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(prompt=""),
        lambda b: b.update(prompt=None),
        lambda b: b.update(prompt=["a", "list"]),
        lambda b: b.update(prompt="x" * 4001),
        lambda b: b["parameters"].update(count=5),
        lambda b: b["parameters"].update(size="256x256"),
        lambda b: b["parameters"].update(quality="ultra"),
        lambda b: b["parameters"].update(modelId="no-such-model"),
        lambda b: b["parameters"].pop("modelId"),
        lambda b: b.update(parameters="size=1024"),
        lambda b: b.update(configId=None),
    ],
)
def test_bad_input_is_400_with_nothing_used(logged_in, user, configs, rsps, mutate):
    body = body_for(configs["openai"], image_model("openai", "dall-e-3"))
    mutate(body)
    response = post(logged_in, body)
    assert response.status_code in (400, 404)
    assert response.json()["error"]
    assert len(rsps.calls) == 0 and not ImageGeneration.objects.exists()
    user.refresh_from_db()
    assert user.usage_count == 0


def test_missing_config_id_is_404_and_others_config_is_404(
    logged_in, other_user, providers, configs
):
    theirs = make_configuration(other_user, providers["openai"])
    response = post(logged_in, body_for(theirs, image_model("openai", "dall-e-3")))
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_provider_mismatch_is_400(logged_in, configs):
    response = post(
        logged_in, body_for(configs["openai"], image_model("google", "imagen-3.0-generate-002"))
    )
    assert response.status_code == 400
    assert "key is for OpenAI" in response.json()["error"]


def test_inactive_model_is_400(logged_in, configs):
    model = image_model("openai", "dall-e-3")
    model.is_active = False
    model.save()
    assert post(logged_in, body_for(configs["openai"], model)).status_code == 400


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", ""])
def test_malformed_json_is_400(logged_in, user, raw):
    response = post(logged_in, None, raw=raw)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_anonymous_gets_401_json(client):
    response = client.get("/api/generations/")
    assert response.status_code == 401
    assert response.json()["error"]


def test_list_is_paginated_newest_first_and_only_mine(logged_in, user, other_user, configs):
    for n in range(25):
        ImageGeneration.objects.create(user=user, prompt=f"prompt {n}", status="completed")
    ImageGeneration.objects.create(user=other_user, prompt="not mine")
    first = logged_in.get("/api/generations/").json()
    pagination = first["pagination"]
    assert pagination == {
        "page": 1,
        "pages": 2,
        "count": 25,
        "page_size": 20,
        "next": pagination["next"],
        "previous": None,
    }
    assert first["data"][0]["prompt"] == "prompt 24"
    second = logged_in.get("/api/generations/?page=2").json()
    assert [g["prompt"] for g in second["data"]][-1] == "prompt 0"
    assert second["pagination"]["next"] is None and second["pagination"]["previous"]
    assert logged_in.get("/api/generations/?page=3").status_code == 404
    assert logged_in.get("/api/generations/?page=abc").status_code == 400


def test_detail_and_delete_remove_rows_and_files(
    logged_in, user, other_user, configs, rsps, django_capture_on_commit_callbacks
):
    rsps.post(
        generate_url("openai", "dall-e-2"),
        json=success_body("openai", "dall-e-2", [png_bytes(8, 8), png_bytes(9, 9)]),
    )
    created = post(
        logged_in, body_for(configs["openai"], image_model("openai", "dall-e-2"), count=2)
    ).json()["data"]
    for image in created["images"]:  # the gallery asks for the thumbnails, which makes them
        assert logged_in.get(image["thumbnail_url"]).status_code == 200
    assert len(media_files()) == 4
    url = f"/api/generations/{created['id']}/"
    assert logged_in.get(url).json()["data"]["id"] == created["id"]
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(url).status_code == 404
    assert stranger.delete(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.delete(url)
    assert response.json() == {"data": {"success": True}}
    assert not ImageGeneration.objects.exists() and not Image.objects.exists()
    assert media_files() == []
    assert logged_in.get(url).status_code == 404


def test_usage_reports_plan_counts_and_limits(logged_in, user, configs):
    user.usage_count = 12
    user.save()
    data = logged_in.get("/api/usage/").json()["data"]
    assert data["plan"] == "free"
    assert data["usage_count"] == 12 and data["usage_limit"] == 50
    assert data["config_count"] == 3 and data["config_limit"] == 1
    assert data["reset_date"].startswith(str(user.reset_date.year))


def test_unknown_api_path_is_json(logged_in):
    response = logged_in.get("/api/generations/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- messages that tell the truth ---------------------------------------------------------------


def test_a_spent_google_quota_is_reported_as_out_of_credit_not_as_a_rate_limit(
    logged_in, user, configs, rsps
):
    model_id = "gemini-2.5-flash-image"
    rsps.post(
        generate_url("google", model_id),
        status=429,
        json={
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and billing "
                "details.",
                "status": "RESOURCE_EXHAUSTED",
            }
        },
    )
    response = post(logged_in, body_for(configs["google"], image_model("google", model_id)))
    assert response.status_code == 429
    error = response.json()["error"]
    assert error.startswith("The provider account behind this key is out of credit.")
    assert "wait a moment" not in error
    assert "check your plan and billing details" in error
    user.refresh_from_db()
    assert user.usage_count == 0


IMAGEN = "imagen-4.0-generate-001"


@pytest.mark.parametrize(
    ("asked", "predictions", "blocked", "notice"),
    [
        (
            2,
            [{"raiFilteredReason": "Your current safety filter threshold filtered out 1 image."}],
            1,
            "1 of 2 images was blocked by Google’s safety filter; blocked images are not charged.",
        ),
        # Without a reason in the answer: Imagen just sends fewer images than asked for.
        (
            3,
            [],
            2,
            "2 of 3 images were blocked by Google’s safety filter; blocked images are not charged.",
        ),
    ],
)
def test_imagen_with_images_filtered_says_so_and_costs_only_what_came_back(
    logged_in, user, configs, rsps, asked, predictions, blocked, notice
):
    body = success_body("google", IMAGEN)
    body["predictions"] += predictions
    rsps.post(generate_url("google", IMAGEN), json=body)

    response = post(
        logged_in, body_for(configs["google"], image_model("google", IMAGEN), count=asked)
    )

    assert response.status_code == 201, response.content
    row = response.json()["data"]
    assert len(row["images"]) == 1
    assert row["images_filtered"] == blocked
    assert row["notice"] == notice
    assert row["cost_estimate"] == "0.0400"  # one image at $0.04, not `asked` of them
    page = logged_in.get(f"/dashboard/generations/{row['id']}/").content.decode()
    assert notice.replace("’", "&#x27;") in page or notice in page
    assert "$0.04 " in page  # localised: two decimals unless the price needs a third
    user.refresh_from_db()
    assert user.usage_count == 1  # the request counts once, as any success
    french = logged_in.get(f"/api/generations/{row['id']}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "filtre de sécurité de Google" in french.json()["data"]["notice"]


def test_a_generation_with_nothing_blocked_has_no_notice(logged_in, configs, rsps):
    rsps.post(generate_url("google", IMAGEN), json=success_body("google", IMAGEN))
    response = post(logged_in, body_for(configs["google"], image_model("google", IMAGEN)))
    row = response.json()["data"]
    assert (row["images_filtered"], row["notice"]) == (0, None)
    page = logged_in.get(f"/dashboard/generations/{row['id']}/").content.decode()
    assert "safety filter" not in page


def test_an_xai_moderated_slot_is_counted_as_blocked(logged_in, configs, rsps):
    body = success_body("xai", "grok-imagine-image")
    body["data"].append({"respect_moderation": False})
    rsps.post(generate_url("xai", "grok-imagine-image"), json=body)
    response = post(
        logged_in,
        body_for(configs["xai"], image_model("xai", "grok-imagine-image"), count=2),
    )
    assert response.status_code == 201, response.content
    row = response.json()["data"]
    assert row["images_filtered"] == 1
    assert row["notice"].startswith("1 of 2 images was blocked by xAI’s safety filter")
    assert row["cost_estimate"] == "0.0200"  # xAI's own figure for what it made


def test_a_generation_says_where_its_time_went_and_nothing_else(logged_in, configs, rsps):
    # Server-Timing (bambi/timing.py): the steps of the generation, in milliseconds, for the
    # browser's network panel and bench/generation_overhead.py; never a value of the request.
    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))
    response = post(logged_in, body_for(configs["openai"], image_model("openai", "gpt-image-1.5")))
    assert response.status_code == 201
    entries = [entry.strip().split(";dur=") for entry in response["Server-Timing"].split(",")]
    names = [name for name, _ in entries]
    assert names == ["auth", "validate", "reserve", "provider", "decode", "store", "commit", "app"]
    assert all(float(ms) >= 0 for _, ms in entries)
    header = response["Server-Timing"]
    assert configs["openai"].clear_key not in header and "fox" not in header.lower()


def test_a_generation_takes_a_bounded_number_of_statements(logged_in, configs, rsps):
    # What the proxy costs the database per generation (bench/README.md: each statement is a
    # round trip): the session and the user, the key (the model is kept per process), one
    # transaction for the slot, the key's spend and the pending row, one for the images, the
    # generation and its usage row: 13 with the transactions' own. One more shows here.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))
    body = body_for(configs["openai"], image_model("openai", "gpt-image-1.5"))
    assert post(logged_in, body).status_code == 201  # "last used" written: not measured below
    with CaptureQueriesContext(connection) as ctx:
        assert post(logged_in, body).status_code == 201
    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    assert len(statements) <= 13, statements
    assert statements.count("SELECT") <= 3, statements


def test_a_model_switched_off_in_the_admin_is_refused_at_once(logged_in, configs, rsps):
    # The generation path keeps catalogue rows per process (byok.selectors); a save, as the
    # admin makes it, is seen by the next generation.
    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))
    model = image_model("openai", "gpt-image-1.5")
    assert post(logged_in, body_for(configs["openai"], model)).status_code == 201
    model.is_active = False
    model.save()
    refused = post(logged_in, body_for(configs["openai"], model))
    assert refused.status_code == 400
    assert "not available any more" in refused.json()["error"]


def test_a_model_changed_by_another_process_is_seen_within_the_cache_time(
    logged_in, configs, rsps, settings
):
    # A change this process did not save itself (another server, an update() past the
    # signals) is read again once CATALOGUE_CACHE_SECONDS have passed.
    import time

    from byok.models import ImageModel

    settings.CATALOGUE_CACHE_SECONDS = 0.3
    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))
    model = image_model("openai", "gpt-image-1.5")
    assert post(logged_in, body_for(configs["openai"], model)).status_code == 201
    ImageModel.objects.filter(pk=model.pk).update(is_active=False)
    time.sleep(0.4)
    assert post(logged_in, body_for(configs["openai"], model)).status_code == 400
