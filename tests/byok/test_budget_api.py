"""`monthlyBudgetUsd` on stored keys, through the JSON API and the key pages: set when the key
is added, changed or removed alone with PATCH, refused with a sentence when it is not an amount
(nothing changes then)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from byok.models import ApiConfiguration
from tests.factories import make_configuration, new_key

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

LIST = "/api/api-configurations/"


def send(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_a_key_is_added_with_its_budget(logged_in, user, providers, provider_http):
    key = new_key("openai")
    provider_http.valid(providers["openai"], key)
    body = {"providerId": str(providers["openai"].pk), "apiKey": key, "name": "Work"}
    response = send(logged_in, LIST, {**body, "monthlyBudgetUsd": "5.00"})
    assert response.status_code == 201, response.content
    assert response.json()["data"]["monthly_budget_usd"] == "5.0000"
    assert ApiConfiguration.objects.get(user=user).monthly_budget_usd == Decimal("5")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("12.5", "12.5000"), (7, "7.0000"), (0.17, "0.1700"), ("0.0125", "0.0125"), ("0", "0.0000")],
)
def test_patch_sets_the_budget_alone(logged_in, user, providers, given, stored):
    configuration = make_configuration(user, providers["xai"], name="Same")
    response = send(logged_in, f"{LIST}{configuration.pk}/", {"monthlyBudgetUsd": given}, "patch")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["monthly_budget_usd"] == stored
    configuration.refresh_from_db()
    assert configuration.monthly_budget_usd == Decimal(stored)
    assert configuration.name == "Same"


def test_patch_with_null_removes_the_budget(logged_in, user, providers):
    configuration = make_configuration(user, providers["xai"])
    ApiConfiguration.objects.filter(pk=configuration.pk).update(monthly_budget_usd=Decimal("3"))
    response = send(logged_in, f"{LIST}{configuration.pk}/", {"monthlyBudgetUsd": None}, "patch")
    assert response.status_code == 200
    assert response.json()["data"]["monthly_budget_usd"] is None
    assert ApiConfiguration.objects.get(pk=configuration.pk).monthly_budget_usd is None


def test_patch_without_the_budget_leaves_it(logged_in, user, providers):
    configuration = make_configuration(user, providers["xai"])
    ApiConfiguration.objects.filter(pk=configuration.pk).update(monthly_budget_usd=Decimal("3"))
    response = send(logged_in, f"{LIST}{configuration.pk}/", {"name": "Renamed"}, "patch")
    assert response.status_code == 200
    assert response.json()["data"]["monthly_budget_usd"] == "3.0000"


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ("-1", "A budget cannot be negative"),
        (-0.5, "A budget cannot be negative"),
        ("five", "Enter the budget as an amount in US dollars"),
        ("NaN", "Enter the budget as an amount in US dollars"),
        ("1.23456", "at most 4 decimal places"),
        ("1000000", "A budget cannot be more than $999,999.99."),
        (True, "“monthlyBudgetUsd” must be an amount in US dollars"),
        ({"usd": 5}, "“monthlyBudgetUsd” must be an amount in US dollars"),
    ],
)
def test_a_budget_that_is_not_an_amount_is_a_400_and_changes_nothing(
    logged_in, user, providers, given, sentence
):
    configuration = make_configuration(user, providers["xai"])
    ApiConfiguration.objects.filter(pk=configuration.pk).update(monthly_budget_usd=Decimal("3"))
    response = send(
        logged_in,
        f"{LIST}{configuration.pk}/",
        {"name": "Changed", "monthlyBudgetUsd": given},
        "patch",
    )
    assert response.status_code == 400
    assert sentence in response.json()["error"]
    configuration.refresh_from_db()
    assert configuration.monthly_budget_usd == Decimal("3")
    assert configuration.name != "Changed"


def test_the_key_page_sets_and_removes_the_budget(logged_in, user, providers):
    configuration = make_configuration(user, providers["xai"], name="Grok")
    url = f"/dashboard/keys/{configuration.pk}/budget/"

    response = logged_in.post(url, {"monthly_budget_usd": "12,50"})
    assert response.status_code == 302
    assert ApiConfiguration.objects.get(pk=configuration.pk).monthly_budget_usd == Decimal("12.5")
    page = logged_in.get("/dashboard/keys/").content.decode()
    assert "$0.00 of $12.50" in page

    response = logged_in.post(url, {"monthly_budget_usd": "-3"})
    assert response.status_code == 400
    assert "A budget cannot be negative" in response.content.decode()
    assert ApiConfiguration.objects.get(pk=configuration.pk).monthly_budget_usd == Decimal("12.5")

    assert logged_in.post(url, {"monthly_budget_usd": ""}).status_code == 302
    assert ApiConfiguration.objects.get(pk=configuration.pk).monthly_budget_usd is None


def test_another_users_key_budget_is_a_404(logged_in, other_user, providers):
    theirs = make_configuration(other_user, providers["xai"])
    response = logged_in.post(f"/dashboard/keys/{theirs.pk}/budget/", {"monthly_budget_usd": "1"})
    assert response.status_code == 404
    assert ApiConfiguration.objects.get(pk=theirs.pk).monthly_budget_usd is None
