"""/v1/ over HTTP (Django's test client, the provider stand-in behind): OpenAI's error shapes
for every refusal, which stored key pays, how OpenAI's sizes reach each provider, and the
headers that tell OpenAI's clients whether a retry is safe."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from byok.models import ApiConfiguration
from generations.models import ImageGeneration
from tests.factories import make_configuration, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

GENERATIONS = "/v1/images/generations"


@pytest.fixture
def v1(token) -> Client:
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


def post(client: Client, body, **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(GENERATIONS, data=data, content_type="application/json", headers=headers)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    return body["error"]


def sent_to(standin, endpoint: str) -> dict:
    """The body of the last request the stand-in received at `endpoint`."""
    return [r for r in standin.requests if r.endpoint == endpoint][-1].body


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        ({"prompt": "a fawn"}, "model", "missing_required_parameter", "Missing required"),
        ({"model": "gpt-image-1.5"}, "prompt", "missing_required_parameter", "'prompt'"),
        ({"model": "gpt-image-1.5", "prompt": 7}, "prompt", "invalid_type", "Invalid type"),
        ({"model": "gpt-image-1.5", "prompt": "a", "n": "2"}, "n", "invalid_type", "'n'"),
        ({"model": "gpt-image-1.5", "prompt": "a", "n": 0}, "n", "invalid_value", "'n'"),
        ({"model": "gpt-image-1.5", "prompt": "a", "n": 11}, "n", "invalid_value", "at most 10"),
        ({"model": "gpt-image-1.5", "prompt": "a", "zoom": 2}, "zoom", "unknown_parameter", "zoom"),
        (
            {"model": "gpt-image-1.5", "prompt": "a", "response_format": "png"},
            "response_format",
            "invalid_value",
            "b64_json",
        ),
        ({"model": "gpt-image-1.5", "prompt": "a", "stream": True}, "stream", None, "stream"),
        (
            {"model": "gpt-image-1.5", "prompt": "a", "moderation": "low"},
            "moderation",
            "invalid_value",
            "auto",
        ),
        (
            {"model": "gpt-image-1.5", "prompt": "a", "quality": "ultra"},
            "quality",
            "invalid_value",
            "low, medium, high, auto",
        ),
        (
            {"model": "gemini-2.5-flash-image", "prompt": "a", "quality": "high"},
            "quality",
            "invalid_value",
            "has no quality setting",
        ),
        (
            {"model": "gpt-image-1.5", "prompt": "a", "output_compression": 50},
            "output_compression",
            "invalid_value",
            "JPEG and WebP",
        ),
        (
            {"model": "grok-imagine-image", "prompt": "a", "size": "512x512"},
            "size",
            "invalid_size",
            "takes: 1024x1024, 1536x1024, 1024x1536, 1792x1024, 1024x1792, auto",
        ),
        (
            {"model": "gpt-image-1.5", "prompt": "a", "size": "1792x1024"},
            "size",
            "invalid_size",
            "1024x1024, 1536x1024, 1024x1536, auto",
        ),
        (
            {
                "model": "gemini-2.5-flash-image",
                "prompt": "a",
                "size": "1024x1024",
                "aspect_ratio": "1:1",
            },
            "aspect_ratio",
            None,
            "not both",
        ),
        (
            {"model": "gemini-2.5-flash-image", "prompt": "a", "aspect_ratio": "7:3"},
            "aspect_ratio",
            "invalid_value",
            "21:9",
        ),
        ('{"model": ', None, None, "not valid JSON"),
        ("[1, 2]", None, None, "JSON object"),
    ],
)
def test_a_bad_body_is_a_400_in_openais_shape_naming_the_field(
    v1, keys, standin, body, param, code, words
):
    error = error_of(post(v1, body), 400)

    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["code"] == code
    assert words in error["message"]
    assert standin.count() == 0
    assert not ImageGeneration.objects.exists()


def test_every_v1_route_wants_a_token_not_a_session(client, user, keys):
    client.force_login(user)
    for response in (client.get("/v1/models"), post(client, {"model": "x", "prompt": "y"})):
        error = error_of(response, 401)
        assert error["code"] == "invalid_api_key"
        assert response["WWW-Authenticate"] == 'Bearer realm="Bambi AI"'


def test_a_bad_token_is_a_401_on_every_v1_route(user, keys):
    for secret in ("bmb_nope", "", "sk-not-a-bambi-token"):
        client = Client(headers={"Authorization": f"Bearer {secret}"})
        for response in (
            client.get("/v1/models"),
            client.get("/v1/models/gpt-image-1.5"),
            post(client, {"model": "gpt-image-1.5", "prompt": "y"}),
        ):
            assert error_of(response, 401)["code"] == "invalid_api_key"


def test_the_most_recently_validated_key_pays_unless_x_bambi_key_names_one(
    v1, user, providers_on_standin, standin
):
    older = make_configuration(
        user, providers_on_standin["openai"], key="sk-proj-older-key-0123456789abcdef", name="A"
    )
    newer = make_configuration(
        user, providers_on_standin["openai"], key="sk-proj-newer-key-0123456789abcdef", name="B"
    )
    now = timezone.now()
    ApiConfiguration.objects.filter(pk=older.pk).update(last_validated_at=now - timedelta(days=2))
    ApiConfiguration.objects.filter(pk=newer.pk).update(last_validated_at=now - timedelta(days=1))

    assert post(v1, {"model": "gpt-image-1.5", "prompt": "default"}).status_code == 200
    assert standin.requests[-1].key == "sk-proj-newer-key-0123456789abcdef"

    chosen = post(
        v1, {"model": "gpt-image-1.5", "prompt": "chosen"}, **{"X-Bambi-Key": str(older.pk)}
    )
    assert chosen.status_code == 200
    assert standin.requests[-1].key == "sk-proj-older-key-0123456789abcdef"
    generations = ImageGeneration.objects.order_by("created_at")
    assert [g.configuration_id for g in generations] == [newer.pk, older.pk]


def test_x_bambi_key_must_be_a_usable_key_of_the_users_for_that_model(
    v1, user, other_user, keys, providers_on_standin, standin
):
    theirs = make_configuration(other_user, providers_on_standin["openai"])
    refused = {
        "someone else's": str(theirs.pk),
        "not an id": "first",
        "another provider's": str(keys["xai"].pk),
    }
    for label, value in refused.items():
        error = error_of(
            post(v1, {"model": "gpt-image-1.5", "prompt": "a"}, **{"X-Bambi-Key": value}), 400
        )
        assert error["code"] == "invalid_bambi_key", label
    ApiConfiguration.objects.filter(pk=keys["openai"].pk).update(is_valid=False)
    error = error_of(
        post(
            v1, {"model": "gpt-image-1.5", "prompt": "a"}, **{"X-Bambi-Key": str(keys["openai"].pk)}
        ),
        400,
    )
    assert "The provider rejected this key" in error["message"]
    assert standin.count() == 0


def test_a_model_without_a_valid_key_of_its_provider_is_not_found(v1, user, providers_on_standin):
    make_configuration(user, providers_on_standin["openai"])
    error = error_of(post(v1, {"model": "grok-imagine-image", "prompt": "a"}), 404)
    assert error["code"] == "model_not_found"
    assert "You have no valid xAI key" in error["message"]
    assert error_of(v1.get("/v1/models/grok-imagine-image"), 404)["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("model", "fields", "endpoint", "expected"),
    [
        ("gpt-image-1.5", {"size": "1024x1536"}, "openai.generate", {"size": "1024x1536"}),
        ("gpt-image-1.5", {"size": "auto"}, "openai.generate", {"size": "auto"}),
        (
            "gpt-image-1.5",
            {"output_format": "jpeg", "output_compression": 0, "quality": "low"},
            "openai.generate",
            {"output_format": "jpeg", "output_compression": 0, "quality": "low"},
        ),
        ("grok-imagine-image", {"size": "1792x1024"}, "xai.generate", {"aspect_ratio": "16:9"}),
        ("grok-imagine-image", {"size": "1024x1792"}, "xai.generate", {"aspect_ratio": "9:16"}),
        ("grok-imagine-image", {"resolution": "2k"}, "xai.generate", {"resolution": "2k"}),
    ],
)
def test_openai_fields_reach_each_provider_in_its_own_terms(
    v1, keys, standin, model, fields, endpoint, expected
):
    response = post(v1, {"model": model, "prompt": "a fawn", **fields})

    assert response.status_code == 200, response.content[:300]
    body = sent_to(standin, endpoint)
    assert {name: body.get(name) for name in expected} == expected
    assert "size" not in body or endpoint == "openai.generate"


def test_sizes_become_google_aspect_ratios(v1, keys, standin):
    post(v1, {"model": "imagen-4.0-generate-001", "prompt": "a", "size": "1024x1792"})
    assert sent_to(standin, "google.predict")["parameters"]["aspectRatio"] == "9:16"
    post(v1, {"model": "gemini-2.5-flash-image", "prompt": "a", "size": "1536x1024"})
    config = sent_to(standin, "google.generateContent")["generationConfig"]["imageConfig"]
    assert config["aspectRatio"] == "3:2"
    post(v1, {"model": "gemini-2.5-flash-image", "prompt": "a", "aspect_ratio": "21:9"})
    config = sent_to(standin, "google.generateContent")["generationConfig"]["imageConfig"]
    assert config["aspectRatio"] == "21:9"


@pytest.mark.parametrize(
    ("prompt", "status", "kind", "code", "retry"),
    [
        ("REFUSE this", 400, "image_generation_user_error", "moderation_blocked", None),
        ("RATELIMIT this", 429, "requests", "rate_limit_exceeded", None),
        ("NOCREDIT this", 429, "insufficient_quota", "insufficient_quota", "false"),
        ("UPSTREAM500 this", 502, "server_error", "upstream_error", None),
    ],
)
def test_provider_failures_in_openais_terms_and_whether_to_retry(
    v1, user, keys, standin, prompt, status, kind, code, retry
):
    response = post(v1, {"model": "gpt-image-1.5", "prompt": prompt})

    error = error_of(response, status)
    assert (error["type"], error["code"]) == (kind, code)
    assert response.get("x-should-retry") == retry
    generation = ImageGeneration.objects.get()
    assert generation.status == "failed"
    user.refresh_from_db()
    assert user.usage_count == 0


def test_a_provider_timeout_is_a_504_never_retried(v1, keys, standin, settings):
    settings.PROVIDER_READ_TIMEOUT = 0.2
    standin.latency = 0.6
    try:
        response = post(v1, {"model": "gpt-image-1.5", "prompt": "slow"})
    finally:
        standin.latency = 0.0
    error = error_of(response, 504)
    assert error["code"] == "upstream_timeout"
    assert response["x-should-retry"] == "false"


def test_an_invalid_provider_key_is_a_400_and_marks_the_key(v1, user, providers_on_standin):
    bad = make_configuration(
        user, providers_on_standin["openai"], key="sk-proj-bad-key-0123456789abcdef"
    )
    error = error_of(post(v1, {"model": "gpt-image-1.5", "prompt": "a"}), 400)
    assert error["code"] == "provider_key_invalid"
    bad.refresh_from_db()
    assert bad.is_valid is False


def test_wrong_methods_and_unknown_urls_answer_in_openais_shape(v1):
    response = v1.delete("/v1/models")
    assert error_of(response, 405)
    assert response["Allow"] == "GET"
    assert error_of(v1.get(GENERATIONS), 405)
    error = error_of(v1.get("/v1/chat/completions"), 404)
    assert error["code"] == "unknown_url"


def test_a_crash_under_v1_is_a_500_in_openais_shape_never_retried(v1, keys, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("openai_compat.api.generation_run", crash)
    v1.raise_request_exception = False

    response = post(v1, {"model": "gpt-image-1.5", "prompt": "a"})

    error = error_of(response, 500)
    assert error["type"] == "server_error"
    assert response["x-should-retry"] == "false"


def test_an_expired_token_says_when_it_expired(user, keys):
    created = make_token(user)
    created.token.expires_at = timezone.now() - timedelta(days=1)
    created.token.save()
    client = Client(headers={"Authorization": f"Bearer {created.secret}"})
    error = error_of(client.get("/v1/models"), 401)
    assert error["message"].startswith("This API token expired on ")
