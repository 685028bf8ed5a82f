"""Monthly budgets on stored keys: the estimate is reserved before the provider call (with the
quota slot, in one step), settled to the real cost after it, given back on failure; a call that
does not fit is a 403 that reaches no provider. At the boundaries (exact fit, one cent over, a
refund after the period rolled over) and under concurrency, on PostgreSQL and on SQLite."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import User
from byok.models import ApiConfiguration, Provider
from generations.budgets import BudgetReached, budgets_refund, budgets_reserve, budgets_settle
from generations.models import ImageGeneration
from generations.quota import generations_sweep_pending
from tests.factories import image_model, make_configuration
from tests.recorded import generate_url, success_body

pytestmark = pytest.mark.sqlite

GROK = ("xai", "grok-imagine-image")  # $0.02 an image in the catalogue, and xAI says its cost


def _period(user) -> object:
    user.refresh_from_db()
    return user.reset_date


def _key(user, provider, *, budget: str | None, spent: str = "0") -> ApiConfiguration:
    configuration = make_configuration(user, provider)
    ApiConfiguration.objects.filter(pk=configuration.pk).update(
        monthly_budget_usd=None if budget is None else Decimal(budget),
        budget_spent_usd=Decimal(spent),
        budget_period_end=_period(user),
    )
    configuration.refresh_from_db()
    return configuration


def _spent(configuration) -> Decimal:
    configuration.refresh_from_db()
    return configuration.budget_spent_usd


def _generate(client: Client, configuration, prompt: str = "A fox", **parameters):
    model = image_model(*GROK)
    return client.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": prompt,
                "parameters": {"modelId": str(model.pk), **parameters},
            }
        ),
        content_type="application/json",
    )


def _xai_answers(rsps, *, ticks: int = 200_000_000, status: int = 200) -> None:
    if status != 200:
        rsps.post(
            generate_url(*GROK), status=status, json={"code": "Internal", "error": "It broke."}
        )
        return
    body = success_body(*GROK)
    body["usage"] = {"cost_in_usd_ticks": ticks}
    rsps.post(generate_url(*GROK), json=body)


# --- through the JSON API, provider mocked at the HTTP layer -------------------------------------


@pytest.mark.django_db
def test_an_estimate_that_fits_exactly_goes_through_and_spends_the_budget(
    logged_in, user, providers, rsps
):
    configuration = _key(user, providers["xai"], budget="0.10", spent="0.08")
    _xai_answers(rsps)

    response = _generate(logged_in, configuration)

    assert response.status_code == 201, response.content
    assert _spent(configuration) == Decimal("0.1000")
    assert len(rsps.calls) == 1


@pytest.mark.django_db
def test_one_cent_over_is_refused_with_403_before_the_provider_and_nothing_is_taken(
    logged_in, user, providers, rsps
):
    configuration = _key(user, providers["xai"], budget="0.10", spent="0.09")
    _xai_answers(rsps)
    used_before = User.objects.get(pk=user.pk).usage_count

    response = _generate(logged_in, configuration)

    assert response.status_code == 403
    assert response.json() == {
        "error": "This key's monthly budget of $0.10 is reached: $0.09 spent, this generation "
        "is estimated at $0.02. Raise it on the keys page."
    }
    assert len(rsps.calls) == 0  # the provider was never asked
    assert _spent(configuration) == Decimal("0.0900")
    # Refused by the budget, so no quota slot was taken either, and no generation stored.
    assert User.objects.get(pk=user.pk).usage_count == used_before
    assert not ImageGeneration.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_refusal_is_in_the_users_language(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget="5", spent="4.99")
    response = logged_in.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": "Un renard",
                "parameters": {"modelId": str(image_model(*GROK).pk), "count": 2},
            }
        ),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 403
    assert response.json()["error"].replace("\u00a0", " ") == (
        "Le budget mensuel de cette clé, 5,00 $, est atteint : 4,99 $ dépensés, cette "
        "génération est estimée à 0,04 $. Augmentez-le sur la page des clés."
    )


@pytest.mark.django_db
def test_the_real_cost_replaces_the_estimate_after_the_call(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget="1.00", spent="0.50")
    _xai_answers(rsps, ticks=150_000_000)  # xAI says it cost $0.015, not the $0.02 estimated

    assert _generate(logged_in, configuration).status_code == 201

    assert _spent(configuration) == Decimal("0.5150")
    generation = ImageGeneration.objects.get(user=user)
    assert generation.cost_estimate == Decimal("0.0150")


@pytest.mark.django_db
def test_a_failed_call_gives_the_whole_reservation_back(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget="0.10", spent="0.08")
    _xai_answers(rsps, status=500)

    assert _generate(logged_in, configuration).status_code == 502

    assert _spent(configuration) == Decimal("0.0800")
    # And the next one, which fits, still goes through.
    rsps.reset()
    _xai_answers(rsps)
    assert _generate(logged_in, configuration).status_code == 201
    assert _spent(configuration) == Decimal("0.1000")


@pytest.mark.django_db
def test_spending_is_counted_on_keys_without_a_budget(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget=None)
    _xai_answers(rsps)
    assert _generate(logged_in, configuration).status_code == 201
    assert _generate(logged_in, configuration).status_code == 201
    assert _spent(configuration) == Decimal("0.0400")


@pytest.mark.django_db
def test_a_budget_of_zero_lets_nothing_through(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget="0")
    _xai_answers(rsps)
    response = _generate(logged_in, configuration)
    assert response.status_code == 403
    assert "$0.00" in response.json()["error"]
    assert len(rsps.calls) == 0


@pytest.mark.django_db
def test_the_budget_renews_with_the_users_usage_period(logged_in, user, providers, rsps):
    configuration = _key(user, providers["xai"], budget="0.10", spent="0.10")
    _xai_answers(rsps)
    assert _generate(logged_in, configuration).status_code == 403

    # The user's period ends: the stored counter belongs to the period that just ended.
    ended = timezone.now() - timedelta(minutes=1)
    User.objects.filter(pk=user.pk).update(reset_date=ended)
    ApiConfiguration.objects.filter(pk=configuration.pk).update(budget_period_end=ended)

    assert _generate(logged_in, configuration).status_code == 201
    configuration.refresh_from_db()
    assert configuration.budget_spent_usd == Decimal("0.0200")
    assert configuration.budget_period_end == User.objects.get(pk=user.pk).reset_date


# --- the reservation itself ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refund_after_the_period_rolled_over_does_not_credit_the_new_period(user, providers):
    configuration = _key(user, providers["xai"], budget="1.00", spent="0.40")
    period = _period(user)
    with transaction.atomic():
        holds = budgets_reserve(
            subjects=[configuration], estimate=Decimal("0.30"), period_end=period
        )
    assert _spent(configuration) == Decimal("0.7000")

    # A new period starts during the provider call; another generation spends $0.05 in it.
    new_period = period + timedelta(days=30)
    with transaction.atomic():
        budgets_reserve(subjects=[configuration], estimate=Decimal("0.05"), period_end=new_period)
    assert _spent(configuration) == Decimal("0.0500")

    budgets_refund(holds=holds)  # the old call failed
    assert _spent(configuration) == Decimal("0.0500")
    budgets_settle(holds=holds, cost=Decimal("0.10"))  # nor does a late settlement count
    assert _spent(configuration) == Decimal("0.0500")
    assert configuration.budget_period_end == new_period


@pytest.mark.django_db
def test_a_refused_reservation_leaves_the_other_budgets_untouched(user, providers):
    roomy = _key(user, providers["xai"], budget="10")
    full = _key(user, providers["openai"], budget="0.05", spent="0.04")
    with pytest.raises(BudgetReached), transaction.atomic():
        budgets_reserve(subjects=[roomy, full], estimate=Decimal("0.02"), period_end=_period(user))
    assert _spent(roomy) == Decimal("0")
    assert _spent(full) == Decimal("0.0400")


@pytest.mark.django_db
def test_the_sweep_gives_an_abandoned_generations_reservation_back(user, providers):
    User.objects.filter(pk=user.pk).update(reset_date=timezone.now() + timedelta(days=10))
    configuration = _key(user, providers["xai"], budget="1.00", spent="0.30")
    generation = ImageGeneration.objects.create(
        user=user,
        configuration=configuration,
        prompt="A fox",
        status="pending",
        cost_estimate=Decimal("0.0400"),
    )
    ImageGeneration.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    assert generations_sweep_pending() == 1
    assert generations_sweep_pending() == 0

    assert _spent(configuration) == Decimal("0.2600")


# --- concurrency, across real connections ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.standin(latency=0.3)  # the parallel requests overlap
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_never_spend_past_the_budget(catalogue, user, standin):
    Provider.objects.filter(slug="xai").update(api_base_url=standin.url)
    configuration = _key(user, Provider.objects.get(slug="xai"), budget="0.06")  # fits 3
    seed = Client()
    seed.force_login(user)
    barrier = threading.Barrier(12)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = Client()
            client.cookies = seed.cookies
            barrier.wait(timeout=10)
            status = _generate(client, configuration).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] * 3 + [403] * 9
    assert standin.count("xai.generate") == 3
    assert _spent(configuration) == Decimal("0.0600")


@pytest.mark.django_db
def test_a_model_priced_by_tokens_settles_to_the_usage_the_answer_reports(
    logged_in, user, providers, rsps
):
    """An operator may give a gpt-image model `token_prices`: the budget then settles to the
    token usage OpenAI reports (here 50 text tokens in, 4160 image tokens out)."""
    model = image_model("openai", "gpt-image-1.5")
    model.capabilities = {
        **model.capabilities,
        "token_prices": {"text_input": "5.00", "image_input": "8.00", "output": "32.00"},
    }
    model.save()
    configuration = _key(user, providers["openai"], budget="1.00")
    body = success_body("openai", "gpt-image-1.5")
    body["usage"] = {
        "input_tokens": 50,
        "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
        "output_tokens": 4160,
        "total_tokens": 4210,
    }
    rsps.post(generate_url("openai", "gpt-image-1.5"), json=body)
    response = logged_in.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk), "quality": "high"},
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    # 50 × $5 + 4160 × $32 per million = $0.13337: reserved $0.133, settled to $0.1334.
    assert _spent(configuration) == Decimal("0.1334")
    assert ImageGeneration.objects.get(user=user).cost_estimate == Decimal("0.1334")


@pytest.mark.parametrize(
    "usage",
    [None, {}, {"output_tokens": "many"}, {"output_tokens": -1}, {"output_tokens": True}],
)
def test_a_usage_that_cannot_be_priced_falls_back_to_the_catalogue(usage):
    from byok.catalogue import cost_from_usage

    prices = {"text_input": "5", "image_input": "8", "output": "32"}
    assert cost_from_usage({"token_prices": prices}, usage) is None
    assert cost_from_usage({}, {"output_tokens": 10}) is None
