"""The JSON API layer (bambi/api.py): what every answer looks like, byte for byte.

The bodies below are what the API answered before it moved onto django-ninja (recorded from the
old views, English and French): a refusal is `{"error": "<sentence>"}` written by Django's JSON
encoder, the first failed check of a body answers its own sentence, never a list of schema
errors, and the checks happen in the order they always did (the CSRF token before the method,
the owner of a path id before the body)."""

from __future__ import annotations

import json
import secrets
import uuid

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import image_model, make_configuration
from tests.recorded import generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

BIG = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)


@pytest.fixture
def french(user) -> Client:
    client = Client(headers={"Accept-Language": "fr"})
    client.force_login(user)
    return client


def _send(client: Client, method: str, path: str, body=None, *, raw=None, content_type=None):
    data = raw if raw is not None else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type=content_type or "application/json")


def _error(response, status: int) -> bytes:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.content


@pytest.fixture
def generation_body(configs):
    return {
        "configId": str(configs["openai"].pk),
        "prompt": "A fox",
        "parameters": {"modelId": str(image_model("openai", "dall-e-3").pk)},
    }


# --- bodies: every check answers its own sentence, in the request's language ------------------


BODY_ENDPOINTS = [
    ("post", "/api/generations/"),
    ("post", "/api/api-configurations/"),
    ("post", "/api/validate-api-key/"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
@pytest.mark.parametrize(
    ("raw", "content_type", "english", "french_"),
    [
        (
            '{"a": 1}',
            "text/plain",
            b'{"error": "Send the request body as JSON (Content-Type: application/json)."}',
            b'{"error": "Envoyez le corps de la requ\\u00eate en JSON '
            b'(Content-Type: application/json)."}',
        ),
        (
            "{not json",
            None,
            b'{"error": "The request body is not valid JSON."}',
            b'{"error": "Le corps de la requ\\u00eate n\\u2019est pas un JSON valide."}',
        ),
        ("[1]", None, b'{"error": "The request body must be a JSON object."}', None),
        ("null", None, b'{"error": "The request body must be a JSON object."}', None),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400_sentence(
    logged_in, french, configs, method, path, raw, content_type, english, french_
):
    assert _error(_send(logged_in, method, path, raw=raw, content_type=content_type), 400) == (
        english
    )
    if french_:
        assert _error(_send(french, method, path, raw=raw, content_type=content_type), 400) == (
            french_
        )


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_a_body_over_the_limit_is_a_413_sentence(logged_in, french, configs, method, path):
    assert _error(_send(logged_in, method, path, raw=BIG), 413) == (
        b'{"error": "The request body is too large (at most 2.5\\u00a0MB)."}'
    )
    assert _error(_send(french, method, path, raw=BIG), 413) == (
        b'{"error": "Le corps de la requ\\u00eate est trop volumineux (2,5\\u00a0Mio au maximum)."}'
    )


@pytest.mark.parametrize(
    ("change", "status", "english", "french_"),
    [
        (
            {"prompt": 5},
            400,
            b'{"error": "The prompt must be text."}',
            b'{"error": "Le prompt doit \\u00eatre du texte."}',
        ),
        (
            {"parameters": "size=1024"},
            400,
            b'{"error": "\\u201cparameters\\u201d must be a JSON object."}',
            b'{"error": "\\u00ab\\u00a0parameters\\u00a0\\u00bb doit \\u00eatre un objet JSON."}',
        ),
        (
            {"parameters": {"zoom": 2}},
            400,
            b'{"error": "Unknown parameter \\u201czoom\\u201d."}',
            b'{"error": "Param\\u00e8tre inconnu\\u00a0: \\u00ab\\u00a0zoom\\u00a0\\u00bb."}',
        ),
        (
            {"parameters": {"size": {"w": 1}}},
            400,
            b'{"error": "The parameter \\u201csize\\u201d must be a string or a number."}',
            None,
        ),
        (
            {"parameters": {"count": True}},
            400,
            b'{"error": "The parameter \\u201ccount\\u201d must be a string or a number."}',
            b'{"error": "Le param\\u00e8tre \\u00ab\\u00a0count\\u00a0\\u00bb doit \\u00eatre une '
            b'cha\\u00eene ou un nombre."}',
        ),
        # The form's own rules, all of them in one sentence, field by field.
        (
            {"prompt": "   ", "parameters": {}},
            400,
            b'{"error": "Model: Choose a model. '
            b'Prompt: Write a prompt describing the image you want."}',
            None,
        ),
        # The first check that fails answers, in the order the fields are checked.
        (
            {"configId": "nope", "prompt": 5},
            404,
            b'{"error": "Not found."}',
            b'{"error": "Introuvable."}',
        ),
        ({"prompt": 5, "parameters": "x"}, 400, b'{"error": "The prompt must be text."}', None),
    ],
)
def test_a_generation_request_answers_the_sentence_of_its_first_failed_check(
    logged_in, french, generation_body, change, status, english, french_
):
    body = {**generation_body, **change}
    assert _error(_send(logged_in, "post", "/api/generations/", body), status) == english
    if french_:
        assert _error(_send(french, "post", "/api/generations/", body), status) == french_


@pytest.mark.parametrize("config_id", [None, 7, "nope", "ce65621d-091f-495c-b258-9cb1e7b5fdea"])
def test_a_generation_with_no_key_of_the_users_is_a_404(logged_in, generation_body, config_id):
    body = {**generation_body, "configId": config_id}
    assert _error(_send(logged_in, "post", "/api/generations/", body), 404) == (
        b'{"error": "Not found."}'
    )


def test_key_fields_must_be_strings_and_the_form_says_the_rest(logged_in, french, providers):
    pid = str(providers["openai"].pk)
    answer = _send(logged_in, "post", "/api/api-configurations/", {"name": 3, "providerId": pid})
    assert _error(answer, 400) == b'{"error": "\\u201cname\\u201d must be a string."}'
    answer = _send(french, "post", "/api/api-configurations/", {"name": ["a"]})
    assert _error(answer, 400) == (
        b'{"error": "\\u00ab\\u00a0name\\u00a0\\u00bb doit \\u00eatre une cha\\u00eene."}'
    )
    # null is "not given": the form asks for it in its own words.
    answer = _send(logged_in, "post", "/api/api-configurations/", {"name": None})
    assert _error(answer, 400) == (
        b'{"error": "Name: Give the key a name. Provider: Choose a provider. '
        b'API key: Enter the API key."}'
    )
    answer = _send(french, "post", "/api/api-configurations/", {})
    assert _error(answer, 400) == (
        b'{"error": "Nom: Donnez un nom \\u00e0 la cl\\u00e9. Fournisseur: Choisissez un '
        b'fournisseur. Cl\\u00e9 API: Saisissez la cl\\u00e9 API."}'
    )


def test_checking_a_stored_key_reads_only_config_id(logged_in):
    answer = _send(logged_in, "post", "/api/validate-api-key/", {"configId": 7})
    assert _error(answer, 400) == b'{"error": "\\u201cconfigId\\u201d must be a string."}'
    # With configId, the other fields are not read: only the (unknown) key answers.
    body = {"configId": str(uuid.uuid4()), "apiKey": 5, "providerId": []}
    assert _error(_send(logged_in, "post", "/api/validate-api-key/", body), 404) == (
        b'{"error": "Not found."}'
    )


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "1.5", "²", "١"])
def test_a_page_that_is_not_a_whole_number_from_1_is_a_400(logged_in, french, page):
    answer = logged_in.get("/api/generations/", {"page": page})
    assert _error(answer, 400) == (
        b'{"error": "\\u201cpage\\u201d must be a whole number from 1."}'
    )
    answer = french.get("/api/generations/", {"page": page})
    assert _error(answer, 400) == (
        b'{"error": "\\u00ab\\u00a0page\\u00a0\\u00bb doit \\u00eatre un nombre entier '
        b'\\u00e0 partir de 1."}'
    )


def test_a_page_past_the_last_is_a_404(logged_in, french):
    assert _error(logged_in.get("/api/generations/?page=2"), 404) == (
        b'{"error": "There is no page 2."}'
    )
    assert _error(french.get("/api/generations/?page=2"), 404) == (
        b'{"error": "La page 2 n\\u2019existe pas."}'
    )


# --- who may ask, and how ----------------------------------------------------------------------


def test_anonymous_requests_are_a_401_sentence(client):
    assert _error(client.get("/api/generations/"), 401) == (
        b'{"error": "You need to be logged in."}'
    )
    french = Client(headers={"Accept-Language": "fr"})
    assert _error(french.get("/api/usage/"), 401) == (
        b'{"error": "Vous devez \\u00eatre connect\\u00e9."}'
    )


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/providers/", "GET"),
        ("/api/api-configurations/", "GET, POST"),
        ("/api/validate-api-key/", "POST"),
        ("/api/generations/", "GET, POST"),
    ],
)
def test_a_method_an_endpoint_does_not_take_is_a_405_with_allow(logged_in, client, path, allow):
    for who in (logged_in, client):  # before the login is even looked at
        answer = who.put(path, data="", content_type="application/json")
        assert _error(answer, 405) == b'{"error": "This method is not allowed here."}'
        assert answer["Allow"] == allow


def test_a_405_lists_every_method_of_a_detail_path(logged_in, configs):
    answer = logged_in.post(f"/api/api-configurations/{configs['openai'].pk}/")
    assert answer.status_code == 405 and answer["Allow"] == "DELETE, GET, PATCH"


def _csrf_client(user, *, token: bool) -> tuple[Client, dict]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = secrets.token_hex(16)  # Django accepts the unmasked secret as the header token
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, ({"X-CSRFToken": secret} if token else {})


CSRF_REFUSED = b'{"error": "The CSRF token is missing or wrong; send the X-CSRFToken header."}'


def test_an_unsafe_request_without_the_csrf_token_is_a_403_even_before_its_method_is_checked(
    user,
):
    client, _headers = _csrf_client(user, token=False)
    for method, path in [
        ("post", "/api/generations/"),
        ("patch", f"/api/api-configurations/{uuid.uuid4()}/"),
        ("put", "/api/providers/"),  # not a method it takes: the CSRF check comes first
    ]:
        answer = getattr(client, method)(path, data="{}", content_type="application/json")
        assert _error(answer, 403) == CSRF_REFUSED
    assert client.get("/api/providers/").status_code == 200  # reads need no token


def test_with_the_csrf_token_the_request_goes_through(user):
    client, headers = _csrf_client(user, token=True)
    answer = client.post(
        "/api/api-configurations/", data="{}", content_type="application/json", headers=headers
    )
    assert answer.status_code == 400  # past the CSRF check: the form asks for the fields
    answer = client.put("/api/providers/", data="", headers=headers)
    assert answer.status_code == 405


def test_an_anonymous_unsafe_request_without_the_token_is_a_403(db):
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/api/generations/", data="{}", content_type="application/json")
    assert _error(answer, 403) == CSRF_REFUSED


def test_another_users_key_is_a_404_whatever_the_body_holds(logged_in, other_user, providers):
    theirs = make_configuration(other_user, providers["openai"])
    for raw, content_type in [("{not json", None), ('{"a": 1}', "text/plain"), (BIG, None)]:
        answer = _send(
            logged_in,
            "patch",
            f"/api/api-configurations/{theirs.pk}/",
            raw=raw,
            content_type=content_type,
        )
        assert _error(answer, 404) == b'{"error": "Not found."}'


@pytest.mark.parametrize(
    "path", ["/api/nope/", "/api/", "/api/api-configurations/not-a-uuid/", "/api/generations/1/"]
)
def test_an_unknown_api_path_is_a_json_404(logged_in, french, path):
    assert _error(logged_in.get(path), 404) == b'{"error": "Not found."}'
    assert _error(french.get(path), 404) == b'{"error": "Introuvable."}'


# --- rows: the same keys in the same order as before -------------------------------------------


def test_rows_keep_their_fields_and_their_order(logged_in, configs):
    answer = logged_in.get(f"/api/api-configurations/{configs['openai'].pk}/")
    assert answer["Content-Type"] == "application/json"
    assert list(answer.json()["data"]) == [
        "id",
        "name",
        "provider",
        "key_hint",
        "is_valid",
        "last_validated_at",
        "created_at",
        "updated_at",
        "monthly_budget_usd",
    ]
    assert b'"key_hint": "sk-\\u2026' in answer.content  # ASCII-escaped, as JsonResponse wrote
    usage = logged_in.get("/api/usage/").json()["data"]
    assert list(usage) == [
        "plan",
        "plan_name",
        "usage_count",
        "usage_limit",
        "remaining",
        "config_count",
        "config_limit",
        "reset_date",
        "token_count",
        "token_limit",
        "spend",
        "budgets",
    ]
    provider = logged_in.get("/api/providers/").json()["data"][0]
    assert list(provider) == ["id", "name", "slug", "description", "website_url", "models"]
    assert list(provider["models"][0]) == ["id", "name", "model_id", "description", "capabilities"]


def test_a_generation_row_keeps_its_fields_and_their_order(
    logged_in,
    generation_body,
    rsps,
):
    rsps.post(generate_url("openai", "dall-e-3"), json=success_body("openai", "dall-e-3"))
    answer = _send(logged_in, "post", "/api/generations/", generation_body)
    assert answer.status_code == 201 and answer["Content-Type"] == "application/json"
    row = answer.json()["data"]
    assert list(row) == [
        "id",
        "status",
        "prompt",
        "parameters",
        "model",
        "provider",
        "configuration_id",
        "error_message",
        "cost_estimate",
        "duration_ms",
        "created_at",
        "images_filtered",
        "notice",
        "images",
        # Added with edits (issue 14), after the fields clients already read.
        "inputs",
        "mask",
        "parent",
        "parent_id",
        "cost_basis",
        "cost_is_estimate",
    ]
    assert list(row["images"][0]) == [
        "id",
        "url",
        "thumbnail_url",
        "download_url",
        "width",
        "height",
        "format",
        "bytes",
        "revised_prompt",
    ]
    listed = logged_in.get("/api/generations/").json()
    assert list(listed) == ["data", "pagination"]
    assert listed["pagination"] == {
        "page": 1,
        "pages": 1,
        "count": 1,
        "page_size": 20,
        "next": None,
        "previous": None,
    }
