"""Personal API tokens through the JSON API: made and revoked from a session only, then used
as `Authorization: Bearer bmb_…` on every other /api/ route, without CSRF."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent
from generations.models import ApiUsage, ImageGeneration
from tests.factories import make_premium, make_token
from tests.recorded import generate_url, success_body
from tokens.models import ApiToken

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TOKENS = "/api/tokens/"


def _post(client: Client, path: str, body: dict, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def bearer(secret: str) -> Client:
    """A client that sends nothing but the token: no cookie, and CSRF enforced as a browser's
    requests are (so a pass proves the token needs no CSRF token)."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- managing tokens (session only) ---------------------------------------------------------


def test_a_session_makes_a_token_whose_secret_is_shown_once_and_stored_hashed(
    session, user, catalogue
):
    response = _post(
        session,
        TOKENS,
        {"name": "CI script", "expiresAt": "2099-01-31", "allowedModels": ["gpt-image-1.5"]},
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    secret = data["token"]
    assert secret.startswith("bmb_") and len(secret) >= 4 + 32
    assert data["name"] == "CI script"
    assert data["prefix"] == secret[:12]
    assert data["status"] == "active"
    assert data["allowed_models"] == ["openai/gpt-image-1.5"]
    assert data["expires_at"].startswith("2099-01-31T00:00:00")
    assert data["last_used_at"] is None

    listed = session.get(TOKENS)
    assert listed.status_code == 200
    [row] = listed.json()["data"]
    assert row["id"] == data["id"] and row["prefix"] == secret[:12]
    assert "token" not in row
    assert secret not in listed.content.decode()
    # Stored as a hash only: no column of the row, nor the audit log, holds the secret.
    token = ApiToken.objects.get()
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.secret_hash != secret and len(token.secret_hash) == 64
    assert secret not in json.dumps(list(SecurityEvent.objects.values("detail")), default=str)
    assert secret[4:] not in json.dumps(list(SecurityEvent.objects.values("detail")), default=str)


def test_two_tokens_never_share_a_secret(user):
    make_premium(user)
    secrets_ = {make_token(user, name=f"t{n}").secret for n in range(5)}
    assert len(secrets_) == 5


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ({}, "Give the token a name"),
        ({"name": "x" * 101}, "The name is too long"),
        ({"name": "old", "expiresAt": "2001-01-01"}, "The expiry must be in the future."),
        ({"name": "bad date", "expiresAt": "next week"}, "Write the expiry as a date"),
        ({"name": "m", "allowedModels": ["no-such-model"]}, "There is no model “no-such-model”"),
        ({"name": "m", "allowedModels": "gpt-image-1.5"}, "“allowedModels” is not valid."),
        ({"name": 5}, "“name” must be a string."),
    ],
)
def test_a_bad_token_request_is_a_400_sentence_and_makes_nothing(
    session, catalogue, body, sentence
):
    response = _post(session, TOKENS, body)

    assert response.status_code == 400
    assert sentence in response.json()["error"]
    assert not ApiToken.objects.exists()


def test_a_token_cannot_manage_tokens(user):
    created = make_token(user)
    client = bearer(created.secret)

    for response in (
        client.get(TOKENS),
        _post(client, TOKENS, {"name": "minted by a token"}),
        client.delete(f"{TOKENS}{created.token.pk}/"),
    ):
        assert response.status_code == 403
        assert "API tokens cannot manage API tokens" in response.json()["error"]
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_free_allows_one_working_token_and_revoking_it_frees_the_slot(session, user, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_" + "b" * 24  # billing configured: Premium on sale
    settings.STRIPE_PREMIUM_PRICE_ID = "price_bambi"
    first = _post(session, TOKENS, {"name": "one"})
    assert first.status_code == 201

    usage = session.get("/api/usage/").json()["data"]
    assert (usage["token_count"], usage["token_limit"]) == (1, 1)
    second = _post(session, TOKENS, {"name": "two"})
    assert second.status_code == 403
    assert "Your Free plan allows 1 working API token" in second.json()["error"]
    assert ApiToken.objects.count() == 1

    revoked = session.delete(f"{TOKENS}{first.json()['data']['id']}/")
    assert revoked.status_code == 200
    assert revoked.json() == {"data": {"success": True}}
    assert session.get(TOKENS).json()["data"] == []
    assert _post(session, TOKENS, {"name": "three"}).status_code == 201


def test_an_expired_token_does_not_count_against_the_plan(session, user):
    created = make_token(user)
    ApiToken.objects.filter(pk=created.token.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    assert _post(session, TOKENS, {"name": "replacement"}).status_code == 201
    statuses = {row["name"]: row["status"] for row in session.get(TOKENS).json()["data"]}
    assert statuses == {"Script": "expired", "replacement": "active"}


def test_premium_allows_twenty_working_tokens(session, user):
    make_premium(user)
    for n in range(20):
        assert _post(session, TOKENS, {"name": f"token {n}"}).status_code == 201
    usage = session.get("/api/usage/").json()["data"]
    assert (usage["token_count"], usage["token_limit"]) == (20, 20)
    refused = _post(session, TOKENS, {"name": "one too many"})
    assert refused.status_code == 403
    assert "20 working API tokens" in refused.json()["error"]


def test_another_users_token_is_a_404_and_stays_working(session, other_user):
    theirs = make_token(other_user)

    assert session.delete(f"{TOKENS}{theirs.token.pk}/").status_code == 404
    assert bearer(theirs.secret).get("/api/usage/").status_code == 200


def test_making_using_and_revoking_go_to_the_audit_log_once_each(session, user):
    created = _post(session, TOKENS, {"name": "audited"}).json()["data"]
    client = bearer(created["token"])
    for _ in range(3):
        assert client.get("/api/usage/").status_code == 200
    session.delete(f"{TOKENS}{created['id']}/")
    session.delete(f"{TOKENS}{created['id']}/")  # a second revoke: 404, nothing recorded

    events = list(
        SecurityEvent.objects.filter(kind__startswith="token_").order_by("created_at", "id")
    )
    assert [e.kind for e in events] == ["token_created", "token_first_used", "token_revoked"]
    assert all(e.user == user and e.detail["token_id"] == created["id"] for e in events)
    assert all(e.detail["prefix"] == created["prefix"] for e in events)


# --- using a token on /api/ -------------------------------------------------------------------


def test_a_token_works_on_the_sessions_routes_without_csrf(user, configs):
    created = make_token(user)
    client = bearer(created.secret)

    assert client.get("/api/usage/").json()["data"]["plan"] == "free"
    [row, *_] = client.get("/api/api-configurations/").json()["data"]
    assert row["id"] in {str(c.pk) for c in configs.values()}
    renamed = client.patch(
        f"/api/api-configurations/{configs['xai'].pk}/",
        data=json.dumps({"name": "Renamed by a script"}),
        content_type="application/json",
    )
    assert renamed.status_code == 200
    assert renamed.json()["data"]["name"] == "Renamed by a script"
    assert client.get("/api/providers/").status_code == 200
    assert client.get("/api/generations/").status_code == 200


def test_a_token_generates_and_the_generation_records_it(user, configs, rsps):
    created = make_token(user, name="CI")
    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))

    response = _post(
        bearer(created.secret),
        "/api/generations/",
        {
            "configId": str(configs["openai"].pk),
            "prompt": "a fawn",
            "parameters": {"modelId": "gpt-image-1.5"},
        },
    )

    assert response.status_code == 201, response.content
    generation = ImageGeneration.objects.get()
    assert generation.api_token_id == created.token.pk
    assert generation.status == "completed"
    assert ApiUsage.objects.filter(generation=generation).count() == 1
    user.refresh_from_db()
    assert user.usage_count == 1
    image_url = response.json()["data"]["images"][0]["url"]
    # The image answers to the token too (and to the owner's session, as always).
    assert bearer(created.secret).get(image_url).status_code == 200


def test_a_model_outside_the_tokens_list_is_a_403_before_any_provider_call(
    user, configs, rsps, catalogue
):
    from byok.models import ImageModel

    allowed = ImageModel.objects.get(model_id="gpt-image-1-mini")
    created = make_token(user, allowed_models=[allowed])

    response = _post(
        bearer(created.secret),
        "/api/generations/",
        {
            "configId": str(configs["openai"].pk),
            "prompt": "a fawn",
            "parameters": {"modelId": "gpt-image-1.5"},
        },
    )

    assert response.status_code == 403
    assert response.json()["error"].startswith(
        "This API token may not use openai/gpt-image-1.5; it is limited to: "
        "openai/gpt-image-1-mini."
    )
    assert len(rsps.calls) == 0
    assert not ImageGeneration.objects.exists()
    user.refresh_from_db()
    assert user.usage_count == 0


@pytest.mark.parametrize(
    ("make_bad", "sentence"),
    [
        (lambda t: "bmb_" + "A" * 43, "This API token is not valid."),
        (lambda t: t.secret[:-1], "This API token is not valid."),
        (lambda t: "", "The Authorization header has no API token after “Bearer”."),
        (
            lambda t: (
                ApiToken.objects.filter(pk=t.token.pk).update(revoked_at=timezone.now())
                and t.secret
            ),
            "This API token has been revoked.",
        ),
        (
            lambda t: (
                ApiToken.objects.filter(pk=t.token.pk).update(
                    expires_at=timezone.now() - timedelta(minutes=1)
                )
                and t.secret
            ),
            "This API token expired on ",
        ),
    ],
    ids=["unknown", "truncated", "empty", "revoked", "expired"],
)
def test_a_bad_expired_or_revoked_token_is_a_401_sentence(user, configs, make_bad, sentence):
    created = make_token(user)
    secret = make_bad(created)
    client = bearer(secret)

    for response in (
        client.get("/api/usage/"),
        _post(client, "/api/generations/", {"configId": str(configs["openai"].pk)}),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="Bambi AI"'
        assert response.json()["error"].startswith(sentence)


def test_a_bad_token_is_refused_even_with_a_valid_session(session, user):
    # The bearer header decides: a rejected token never falls back to the cookie beside it.
    response = session.get("/api/usage/", headers={"Authorization": "Bearer bmb_wrong"})
    assert response.status_code == 401


def test_the_token_decides_whose_data_answers(session, other_user, configs):
    theirs = make_token(other_user)
    # Logged in as the user who has keys, but sending other_user's token: the request is
    # other_user's, who has none.
    assert session.get("/api/api-configurations/").json()["data"] != []
    answer = session.get(
        "/api/api-configurations/", headers={"Authorization": f"Bearer {theirs.secret}"}
    )
    assert answer.status_code == 200
    assert answer.json()["data"] == []


def test_a_deactivated_users_token_is_refused(user):
    created = make_token(user)
    user.is_active = False
    user.save()
    assert bearer(created.secret).get("/api/usage/").status_code == 401


def test_a_wrong_method_with_a_token_is_a_405_not_a_csrf_403(user):
    created = make_token(user)
    response = bearer(created.secret).put("/api/usage/")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_last_use_is_recorded_to_the_minute_without_a_write_per_request(user):
    created = make_token(user)
    client = bearer(created.secret)
    client.get("/api/usage/")
    first = ApiToken.objects.get().last_used_at
    assert first is not None

    client.get("/api/usage/")
    assert ApiToken.objects.get().last_used_at == first  # within the minute: no write

    earlier = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.update(last_used_at=earlier)
    client.get("/api/usage/")
    assert ApiToken.objects.get().last_used_at > earlier


def test_an_image_url_answers_the_owners_token_only(user, other_user, configs, rsps):
    from generations.forms import GenerationForm
    from generations.services import generation_run

    rsps.post(generate_url("openai", "gpt-image-1.5"), json=success_body("openai", "gpt-image-1.5"))
    form = GenerationForm(
        data={"configuration": str(configs["openai"].pk), "model": "gpt-image-1.5", "prompt": "a"},
        user=user,
    )
    assert form.is_valid(), form.errors
    image = generation_run(user=user, **form.run_arguments()).images.all()[0]
    url = f"/dashboard/images/{image.pk}/"

    assert bearer(make_token(user).secret).get(url).status_code == 200
    assert bearer(make_token(other_user).secret).get(url).status_code == 404
    refused = bearer("bmb_" + "x" * 43).get(url)
    assert refused.status_code == 401
    assert refused.json()["error"].startswith("This API token is not valid.")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_tokens_routes_need_a_session(client):
    assert client.get(TOKENS).status_code == 401
    assert _post(client, TOKENS, {"name": "anonymous"}).status_code in (401, 403)
    assert not ApiToken.objects.exists()


def test_every_api_route_but_the_tokens_own_takes_a_token(user, configs):
    from bambi.urls import merged_document

    client = bearer(make_token(user).secret)
    document = merged_document()
    checked = 0
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in item:
            url = path.replace("{id}", "00000000-0000-4000-8000-000000000000")
            if method in ("get", "delete"):
                response = getattr(client, method)(url)
            else:
                response = getattr(client, method)(url, "{}", content_type="application/json")
            if path.startswith("/api/tokens/"):
                assert response.status_code == 403, (method, path)
                continue
            # Authenticated, no CSRF asked: whatever the route then answers (a 404 for the
            # made-up id, a 400 for the empty body, a 503 for billing not configured here).
            assert response.status_code not in (401, 403), (method, path, response.content)
            checked += 1
    assert checked >= 12
