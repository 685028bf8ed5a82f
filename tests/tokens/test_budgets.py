"""Monthly budgets on API tokens: `monthlyBudgetUsd` when a token is made and with PATCH (the
session only), and the budget enforced on generations made with the token, together with the
key's budget: through the JSON API with a bearer token, and through /v1/ with the real
`openai` SDK (tests/openai_compat)."""

from __future__ import annotations

import json
from decimal import Decimal

import openai
import pytest
from django.test import Client

from byok.models import ApiConfiguration
from generations.models import ImageGeneration
from tests.factories import image_model, make_configuration, make_token, make_user
from tests.openai_compat.conftest import sdk_for
from tests.recorded import generate_url, success_body
from tokens.models import ApiToken

GROK = ("xai", "grok-imagine-image")  # $0.02 an image


def _bearer(secret: str) -> Client:
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})


def _generate(client: Client, configuration):
    return client.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(image_model(*GROK).pk)},
            }
        ),
        content_type="application/json",
    )


def _spent(row) -> Decimal:
    row.refresh_from_db()
    return row.budget_spent_usd


# --- the token API and page --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_token_is_made_with_its_budget_and_patch_changes_it(logged_in, user, catalogue):
    made = logged_in.post(
        "/api/tokens/",
        data=json.dumps({"name": "CI", "monthlyBudgetUsd": "2.50"}),
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    row = made.json()["data"]
    assert row["monthly_budget_usd"] == "2.5000"
    url = f"/api/tokens/{row['id']}/"

    changed = logged_in.patch(url, data='{"monthlyBudgetUsd": 1}', content_type="application/json")
    assert changed.status_code == 200
    assert changed.json()["data"]["monthly_budget_usd"] == "1.0000"

    refused = logged_in.patch(
        url, data='{"monthlyBudgetUsd": "-2"}', content_type="application/json"
    )
    assert refused.status_code == 400
    assert "A budget cannot be negative" in refused.json()["error"]
    assert ApiToken.objects.get(pk=row["id"]).monthly_budget_usd == Decimal("1")

    assert logged_in.patch(url, data="{}", content_type="application/json").status_code == 400
    cleared = logged_in.patch(
        url, data='{"monthlyBudgetUsd": null}', content_type="application/json"
    )
    assert cleared.json()["data"]["monthly_budget_usd"] is None


@pytest.mark.django_db
def test_a_token_cannot_change_its_own_budget(user, catalogue):
    token = make_token(user, monthly_budget_usd=Decimal("1"))
    response = _bearer(token.secret).patch(
        f"/api/tokens/{token.token.pk}/",
        data='{"monthlyBudgetUsd": "1000"}',
        content_type="application/json",
    )
    assert response.status_code == 403
    assert ApiToken.objects.get(pk=token.token.pk).monthly_budget_usd == Decimal("1")


@pytest.mark.django_db
@pytest.mark.sqlite
def test_the_tokens_page_sets_a_budget(logged_in, user, catalogue):
    token = make_token(user)
    url = f"/dashboard/tokens/{token.token.pk}/budget/"
    assert logged_in.get(url).status_code == 200
    assert logged_in.post(url, {"monthly_budget_usd": "abc"}).status_code == 400
    assert logged_in.post(url, {"monthly_budget_usd": "3"}).status_code == 302
    assert ApiToken.objects.get(pk=token.token.pk).monthly_budget_usd == Decimal("3")
    assert "$0.00 of $3.00" in logged_in.get("/dashboard/tokens/").content.decode()
    other = make_token(make_user())
    assert logged_in.get(f"/dashboard/tokens/{other.token.pk}/budget/").status_code == 404


# --- enforced on generations made with the token ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.sqlite
def test_the_tokens_budget_refuses_with_403_before_the_provider(user, providers, rsps):
    rsps.post(generate_url(*GROK), json=success_body(*GROK))
    configuration = make_configuration(user, providers["xai"], name="Grok")  # no key budget
    token = make_token(user, name="CI", monthly_budget_usd=Decimal("0.04"))
    client = _bearer(token.secret)

    assert _generate(client, configuration).status_code == 201
    assert _generate(client, configuration).status_code == 201
    refused = _generate(client, configuration)

    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "This token's monthly budget of $0.04 is reached: $0.04 spent, this generation is "
        "estimated at $0.02. Raise it on the tokens page."
    )
    assert len(rsps.calls) == 2
    assert _spent(token.token) == Decimal("0.0400")
    assert _spent(configuration) == Decimal("0.0400")  # the key counted the same money
    # The dashboard (no token) is not held by the token's budget.
    session = Client()
    session.force_login(user)
    assert _generate(session, configuration).status_code == 201
    assert _spent(token.token) == Decimal("0.0400")


@pytest.mark.django_db
@pytest.mark.sqlite
def test_the_keys_budget_holds_for_a_token_and_undoes_the_tokens_reservation(user, providers, rsps):
    rsps.post(generate_url(*GROK), json=success_body(*GROK))
    configuration = make_configuration(
        user, providers["xai"], name="Grok", monthly_budget_usd=Decimal("0.02")
    )
    token = make_token(user, monthly_budget_usd=Decimal("10"))
    client = _bearer(token.secret)

    assert _generate(client, configuration).status_code == 201
    refused = _generate(client, configuration)

    assert refused.status_code == 403
    assert refused.json()["error"].startswith("This key's monthly budget of $0.02 is reached")
    assert _spent(token.token) == Decimal("0.0200")  # the refused one took nothing from it
    assert len(rsps.calls) == 1


@pytest.mark.django_db
@pytest.mark.sqlite
def test_usage_api_shows_spend_and_budget_per_token(user, providers, rsps):
    rsps.post(generate_url(*GROK), json=success_body(*GROK))
    configuration = make_configuration(user, providers["xai"], name="Grok")
    token = make_token(user, name="CI", monthly_budget_usd=Decimal("0.05"))
    client = _bearer(token.secret)
    _generate(client, configuration)
    _generate(client, configuration)

    data = client.get("/api/usage/").json()["data"]

    (line,) = data["spend"]["by_token"]
    assert (line["id"], line["name"], line["generations"]) == (str(token.token.pk), "CI", 2)
    assert Decimal(line["spent_usd"]) == Decimal("0.04")
    (budget,) = data["budgets"]
    assert (budget["kind"], budget["percent"], budget["level"]) == ("token", 80, "warn")


# --- through /v1/ with the official SDK ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_v1_generation_past_the_tokens_budget_is_a_permission_denied_error(
    live_server, user, providers_on_standin, standin
):
    make_configuration(user, providers_on_standin["openai"])
    token = make_token(user, name="SDK", monthly_budget_usd=Decimal("0.05"))  # fits one
    sdk = sdk_for(live_server, token.secret, max_retries=0)

    first = sdk.images.generate(model="gpt-image-1.5", prompt="a fawn", size="1024x1024")
    assert len(first.data) == 1
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.images.generate(model="gpt-image-1.5", prompt="a fawn", size="1024x1024")

    assert refused.value.code == "budget_reached"
    # The SDK puts "Error code: 403 - " before the server's sentence.
    assert refused.value.message.endswith(
        "This token's monthly budget of $0.05 is reached: $0.034 spent, this generation is "
        "estimated at $0.034. Raise it on the tokens page."
    )
    assert standin.count("openai.generate") == 1
    assert ImageGeneration.objects.filter(user=user).count() == 1
    assert _spent(ApiToken.objects.get(pk=token.token.pk)) == Decimal("0.0340")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_v1_generation_past_the_keys_budget_is_refused_too(
    live_server, user, providers_on_standin, standin
):
    key = make_configuration(user, providers_on_standin["openai"])
    ApiConfiguration.objects.filter(pk=key.pk).update(monthly_budget_usd=Decimal("0.03"))
    token = make_token(user, name="SDK")
    sdk = sdk_for(live_server, token.secret, max_retries=0)

    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.images.generate(model="gpt-image-1.5", prompt="a fawn")

    assert refused.value.code == "budget_reached"
    assert "This key's monthly budget of $0.03 is reached: $0.00 spent" in refused.value.message
    assert standin.count("openai.generate") == 0
