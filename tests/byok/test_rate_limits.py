"""Rate limits on key checks and generations (bambi.ratelimit).

The provider is the loopback stand-in, so "reaches no provider" is counted where the provider
counts: requests it received. Every refusal is a 429 with Retry-After and a sentence, on the
JSON API and on the dashboard's forms.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from bambi import ratelimit
from byok.models import ApiConfiguration, ImageModel, Provider
from tests.factories import make_configuration, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.standin(image_size=32)]


def _check(client, provider, key: str, **extra):
    return client.post(
        "/api/validate-api-key/",
        {"providerId": str(provider.pk), "apiKey": key},
        content_type="application/json",
        **extra,
    )


def _assert_refusal(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many API key checks" in response.json()["error"]


def test_twelve_quick_key_checks_get_a_429_and_the_provider_sees_ten(
    client, user, standin, providers_on_standin
):
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")

    statuses = [
        _check(client, openai, f"sk-stolen-{n:04d}-abcdefgh").status_code for n in range(12)
    ]

    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    assert standin.count("openai.models") == 10


def test_the_refusal_says_when_to_come_back(client, user, providers_on_standin):
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")
    for n in range(10):
        _check(client, openai, f"sk-stolen-{n:04d}-abcdefgh")

    response = _check(client, openai, "sk-stolen-last-abcdefgh")

    _assert_refusal(response)
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 120
    assert "Try again in" in response.json()["error"]


def test_adding_and_replacing_keys_through_the_api_are_checks_too(
    client, user, standin, providers_on_standin
):
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")
    for n in range(5):
        bad = client.post(
            "/api/api-configurations/",
            {"name": f"k{n}", "providerId": str(openai.pk), "apiKey": f"sk-bad-{n}-abcdefgh"},
            content_type="application/json",
        )
        assert bad.status_code == 400  # the provider refused it: checked, not stored
    configuration = make_configuration(user, openai)
    for n in range(5):
        client.patch(
            f"/api/api-configurations/{configuration.pk}/",
            {"apiKey": f"sk-bad-replacement-{n}"},
            content_type="application/json",
        )
    calls = standin.count("openai.models")

    refused = client.patch(
        f"/api/api-configurations/{configuration.pk}/",
        {"apiKey": "sk-one-more-replacement"},
        content_type="application/json",
    )

    _assert_refusal(refused)
    assert standin.count("openai.models") == calls  # the refused one reached no provider
    configuration.refresh_from_db()
    assert configuration.api_key == configuration.clear_key  # unchanged


def test_the_keys_form_answers_429_with_the_sentence(
    client, standin, providers_on_standin, settings
):
    settings.RATE_LIMIT_KEY_CHECKS_PER_MINUTE = 3
    user = make_user()
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")
    for n in range(3):
        client.post(
            "/dashboard/keys/",
            {"name": "Mine", "provider": str(openai.pk), "api_key": f"sk-bad-{n}-abcdefgh"},
        )

    response = client.post(
        "/dashboard/keys/",
        {"name": "Mine", "provider": str(openai.pk), "api_key": "sk-good-key-abcdefgh"},
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many API key checks" in response.content.decode()
    assert standin.count("openai.models") == 3
    assert not ApiConfiguration.objects.filter(user=user).exists()


def test_the_replace_form_and_the_recheck_button_answer_429(
    client, user, standin, providers_on_standin, settings
):
    settings.RATE_LIMIT_KEY_CHECKS_PER_MINUTE = 1
    client.force_login(user)
    configuration = make_configuration(user, Provider.objects.get(slug="openai"))
    assert client.post(f"/dashboard/keys/{configuration.pk}/validate/").status_code == 302

    replaced = client.post(
        f"/dashboard/keys/{configuration.pk}/replace/", {"api_key": "sk-new-key-abcdefgh"}
    )
    rechecked = client.post(f"/dashboard/keys/{configuration.pk}/validate/")

    for response in (replaced, rechecked):
        assert response.status_code == 429
        assert "Retry-After" in response
        assert "Too many API key checks" in response.content.decode()
    assert standin.count("openai.models") == 1


def test_one_address_is_limited_across_accounts(standin, providers_on_standin, settings):
    settings.RATE_LIMIT_KEY_CHECKS_PER_IP_PER_MINUTE = 30
    from django.test import Client

    openai = Provider.objects.get(slug="openai")
    statuses = []
    for n in range(4):  # four accounts, one address: 40 checks, 30 allowed
        client = Client(REMOTE_ADDR="198.51.100.23")
        client.force_login(make_user())
        statuses += [
            _check(client, openai, f"sk-x-{n}-{i:03d}-abcd").status_code for i in range(10)
        ]

    assert statuses.count(200) == 30
    assert statuses.count(429) == 10
    assert standin.count("openai.models") == 30


def test_the_daily_limit_outlasts_the_minute(client, user, providers_on_standin, settings):
    settings.RATE_LIMIT_KEY_CHECKS_PER_DAY = 3
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")
    for n in range(3):
        assert _check(client, openai, f"sk-day-{n}-abcdefgh").status_code == 200

    response = _check(client, openai, "sk-day-more-abcdefgh")

    _assert_refusal(response)
    assert int(response["Retry-After"]) > 3600


def test_a_limit_of_zero_is_off(client, user, providers_on_standin, settings):
    settings.RATE_LIMIT_KEY_CHECKS_PER_MINUTE = 0
    settings.RATE_LIMIT_KEY_CHECKS_PER_IP_PER_MINUTE = 0
    client.force_login(user)
    openai = Provider.objects.get(slug="openai")

    statuses = {_check(client, openai, f"sk-any-{n:03d}-abcdefgh").status_code for n in range(15)}

    assert statuses == {200}


def test_generations_are_limited_per_minute_before_any_quota_or_provider(
    client, user, standin, providers_on_standin, settings
):
    settings.RATE_LIMIT_GENERATIONS_PER_MINUTE = 2
    client.force_login(user)
    configuration = make_configuration(user, Provider.objects.get(slug="xai"))
    model = ImageModel.objects.get(provider__slug="xai", model_id="grok-imagine-image")
    body = {
        "configId": str(configuration.pk),
        "prompt": "a fawn",
        "parameters": {"modelId": str(model.pk)},
    }

    statuses = [
        client.post("/api/generations/", body, content_type="application/json").status_code
        for _ in range(3)
    ]
    refused = client.post("/api/generations/", body, content_type="application/json")

    assert statuses == [201, 201, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many generations" in refused.json()["error"]
    assert standin.count("xai.generate") == 2
    assert User.objects.get(pk=user.pk).usage_count == 2  # refusals reserve nothing


def test_the_generate_page_answers_429_with_the_sentence(
    client, user, standin, providers_on_standin, settings
):
    settings.RATE_LIMIT_GENERATIONS_PER_MINUTE = 1
    client.force_login(user)
    configuration = make_configuration(user, Provider.objects.get(slug="xai"))
    model = ImageModel.objects.get(provider__slug="xai", model_id="grok-imagine-image")
    form = {"configuration": str(configuration.pk), "model": str(model.pk), "prompt": "a fawn"}
    assert client.post("/dashboard/generate/", form).status_code == 302

    response = client.post("/dashboard/generate/", form)

    assert response.status_code == 429
    assert "Retry-After" in response
    assert "Too many generations" in response.content.decode()
    assert standin.count("xai.generate") == 1


def test_a_burst_across_the_window_edge_is_still_limited(monkeypatch, user):
    """Fixed windows would let 10 + 10 through around the minute's edge; the estimate that
    weighs the previous window does not."""
    clock = [1_000_000 * 60 + 59.5]  # half a second before a minute's edge
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    limit = ratelimit.Limit("edge-test", 10, 60)
    allowed = 0
    for n in range(20):
        if n == 10:
            clock[0] += 1.0  # the minute turns in the middle of the burst
        try:
            ratelimit.hit([(limit, "someone")], "Too many.")
            allowed += 1
        except ratelimit.RateLimitExceeded:
            pass

    assert allowed == 10
