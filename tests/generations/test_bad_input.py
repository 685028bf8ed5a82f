"""Hostile input gets a 4xx with a sentence and changes nothing: never a 500, never an HTML page
under /api/. Deeply nested JSON, unpaired surrogates, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE,
and provider error bodies whose fields are not the strings their documentation promises."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from accounts.models import SecurityEvent
from byok.models import ApiConfiguration
from generations.models import ImageGeneration
from tests.factories import image_model, make_configuration, new_key
from tests.recorded import check_url, generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LONE_SURROGATE = "\ud800"
DEEP = 100_000  # far past Python's recursion limit


def _post(client, path: str, raw: bytes, method: str = "post"):
    return getattr(client, method)(path, data=raw, content_type="application/json")


def _json_error(response, status: int) -> str:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


@pytest.fixture
def endpoints(user, configs):
    """Every JSON endpoint that reads a body, with a body that is valid for it."""
    openai = configs["openai"]
    model = image_model("openai", "dall-e-3")
    return [
        (
            "post",
            "/api/generations/",
            {
                "configId": str(openai.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk)},
            },
        ),
        (
            "post",
            "/api/api-configurations/",
            {"name": "Mine", "providerId": str(openai.provider_id), "apiKey": new_key("openai")},
        ),
        ("patch", f"/api/api-configurations/{openai.pk}/", {"name": "Renamed"}),
        (
            "post",
            "/api/validate-api-key/",
            {"providerId": str(openai.provider_id), "apiKey": new_key("openai")},
        ),
    ]


def _nothing_changed(user, configs) -> None:
    assert not ImageGeneration.objects.exists()
    assert ApiConfiguration.objects.filter(user=user).count() == len(configs)
    assert {c.name for c in ApiConfiguration.objects.filter(user=user)} == {
        c.name for c in configs.values()
    }
    user.refresh_from_db()
    assert user.usage_count == 0


def test_deeply_nested_json_is_a_400_everywhere(logged_in, user, configs, endpoints, rsps):
    for method, path, body in endpoints:
        field = next(iter(body))
        raw = json.dumps({**body, field: "__DEEP__"}).encode()
        raw = raw.replace(b'"__DEEP__"', b"[" * DEEP + b"]" * DEEP)
        error = _json_error(_post(logged_in, path, raw, method), 400)
        assert "nested too deeply" in error, (path, error)
    _nothing_changed(user, configs)
    assert len(rsps.calls) == 0


def test_an_unpaired_surrogate_in_any_text_is_a_400_everywhere(
    logged_in, user, configs, endpoints, rsps
):
    for method, path, body in endpoints:
        for field, value in body.items():
            if not isinstance(value, str):
                continue
            hostile = {**body, field: value[:3] + LONE_SURROGATE + value[3:]}
            error = _json_error(_post(logged_in, path, json.dumps(hostile).encode(), method), 400)
            assert "not valid Unicode" in error, (path, field, error)
        # In a key of a nested object too.
        nested = {**body, "parameters": {LONE_SURROGATE: 1}}
        assert _post(logged_in, path, json.dumps(nested).encode(), method).status_code == 400
    _nothing_changed(user, configs)
    assert len(rsps.calls) == 0
    assert not SecurityEvent.objects.filter(kind__startswith="key_").exists()


def test_a_surrogate_pair_is_an_ordinary_character(logged_in, user, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-3"), json=success_body("openai", "dall-e-3"))
    body = {
        "configId": str(configs["openai"].pk),
        "prompt": "A fox \ud83e\udd8a",  # 🦊 written with \u escapes, as JSON encoders do
        "parameters": {"modelId": str(image_model("openai", "dall-e-3").pk)},
    }
    response = _post(logged_in, "/api/generations/", json.dumps(body).encode())
    assert response.status_code == 201, response.content
    assert ImageGeneration.objects.get().prompt == "A fox 🦊"


def test_a_body_over_the_upload_limit_is_a_413_json_everywhere(
    logged_in, user, configs, endpoints, rsps
):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    for method, path, body in endpoints:
        field = next(iter(body))
        raw = json.dumps({**body, field: "x" * (size + 1)}).encode()
        error = _json_error(_post(logged_in, path, raw, method), 413)
        assert "too large" in error and "MB" in error
    _nothing_changed(user, configs)
    assert len(rsps.calls) == 0


def test_a_form_body_over_the_upload_limit_is_a_413_page_not_a_500(logged_in, configs):
    response = logged_in.post(
        "/dashboard/generate/",
        data=b"prompt=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Request not understood" in page and "too large" in page and "Traceback" not in page


def test_a_host_not_allowed_is_a_plain_400_not_a_500(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_a_form_body_over_the_limit_under_api_is_json(logged_in):
    # The CSRF check reads a form body before the view does: Django's 400 handler answers.
    response = logged_in.post(
        "/api/generations/",
        data=b"prompt=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert response["Content-Type"] == "application/json"
    assert 400 <= response.status_code < 500 and response.json()["error"]


def test_an_undecodable_form_field_is_read_as_replacement_text(logged_in, user, configs, rsps):
    rsps.post(generate_url("openai", "dall-e-3"), json=success_body("openai", "dall-e-3"))
    model = image_model("openai", "dall-e-3")
    raw = (
        f"configuration={configs['openai'].pk}&model={model.pk}&prompt=A%20fox%ED%A0%80"
    ).encode()
    response = logged_in.post(
        "/dashboard/generate/", data=raw, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302, response.content[-1000:]
    assert ImageGeneration.objects.get().prompt.startswith("A fox\ufffd")


# --- provider error bodies whose fields are not strings ---------------------------------------

ODD_MESSAGES = [{"text": "nested"}, ["a", "list"], 42, None, True]


@pytest.mark.parametrize("message", ODD_MESSAGES)
def test_a_key_check_answer_with_an_odd_message_is_a_sentence(
    logged_in, user, providers, rsps, message
):
    provider = providers["openai"]
    rsps.get(
        check_url(provider),
        status=401,
        json={"error": {"message": message, "type": "invalid_request_error", "code": None}},
    )
    response = _post(
        logged_in,
        "/api/validate-api-key/",
        json.dumps({"providerId": str(provider.pk), "apiKey": new_key("openai")}).encode(),
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["isValid"] is False
    assert isinstance(data["error"], str) and data["error"].endswith(".")


@pytest.mark.parametrize("message", ODD_MESSAGES)
@pytest.mark.parametrize(
    ("slug", "model_id"),
    [("openai", "dall-e-3"), ("google", "imagen-4.0-generate-001"), ("xai", "grok-imagine-image")],
)
def test_a_generation_error_with_an_odd_message_is_a_sentence(
    logged_in, user, providers, rsps, slug, model_id, message
):
    configuration = make_configuration(user, providers[slug])
    error = {"message": message, "code": message, "status": message, "type": message}
    body = {"error": error} if slug != "xai" else {"code": message, "error": message}
    rsps.post(generate_url(slug, model_id), status=500, json=body)
    response = _post(
        logged_in,
        "/api/generations/",
        json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(image_model(slug, model_id).pk)},
            }
        ).encode(),
    )
    assert _json_error(response, 502).endswith(".")
    user.refresh_from_db()
    assert user.usage_count == 0
