"""The official `openai` Python SDK against Bambi's /v1/, unchanged: models.list,
images.generate for a model of each provider (b64_json and url), and the SDK's own
exceptions and retries for Bambi's refusals."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import httpx2
import openai
import pytest
import requests
from django.utils import timezone
from PIL import Image as PILImage

from accounts.models import User
from byok.models import ImageModel
from generations.models import ApiUsage, ImageGeneration
from tests.factories import make_configuration, make_token, make_user
from tests.openai_compat.conftest import MODELS, sdk_for
from tokens.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_models_list_names_the_models_the_user_can_call_now(sdk, user, providers_on_standin):
    make_configuration(user, providers_on_standin["openai"])
    make_configuration(user, providers_on_standin["google"])

    listed = {model.id: model for model in sdk.models.list()}

    assert {MODELS["openai"], MODELS["google-imagen"], MODELS["google-gemini"]} <= set(listed)
    assert not any(model.startswith("grok") for model in listed)  # no xAI key
    expected = ImageModel.objects.filter(
        is_active=True, provider__slug__in=["openai", "google"]
    ).count()
    assert len(listed) == expected
    assert listed["gpt-image-1.5"].owned_by == "openai"
    assert listed["gpt-image-1.5"].object == "model"
    assert isinstance(listed["gpt-image-1.5"].created, int)


def test_models_list_keeps_to_the_tokens_allowed_models(live_server, user, keys):
    allowed = ImageModel.objects.get(model_id="grok-imagine-image")
    limited = make_token(user, name="grok only", allowed_models=[allowed])

    listed = [model.id for model in sdk_for(live_server, limited.secret).models.list()]

    assert listed == ["grok-imagine-image"]


@pytest.mark.parametrize(
    ("name", "size", "fmt", "dimensions"),
    [
        ("openai", "1536x1024", "PNG", (1536, 1024)),
        ("google-imagen", "1792x1024", "PNG", (64, 36)),
        ("google-gemini", "1024x1536", "PNG", (43, 64)),
        ("xai", "1024x1024", "JPEG", (64, 64)),
    ],
)
def test_images_generate_with_a_model_of_each_provider(
    sdk, user, token, keys, standin, name, size, fmt, dimensions
):
    model_id = MODELS[name]

    result = sdk.images.generate(model=model_id, prompt="a fawn in the snow", size=size, n=1)

    [item] = result.data
    picture = PILImage.open(io.BytesIO(base64.b64decode(item.b64_json)))
    assert picture.format == fmt
    # The stand-in draws the ratio it was asked for: the size reached the provider honestly.
    assert picture.size == dimensions
    assert isinstance(result.created, int)
    # An ordinary generation: in the gallery, made with the user's key, charged once.
    generation = ImageGeneration.objects.get(user=user)
    assert generation.status == "completed"
    assert generation.model.model_id == model_id
    assert generation.api_token_id == token.token.pk
    assert generation.prompt == "a fawn in the snow"
    assert ApiUsage.objects.filter(generation=generation).count() == 1
    assert User.objects.get(pk=user.pk).usage_count == 1
    usage = requests.get(
        f"{sdk.base_url}".replace("/v1/", "/api/usage/"),
        headers={"Authorization": f"Bearer {token.secret}"},
        timeout=10,
    ).json()["data"]
    assert usage["usage_count"] == 1


def test_response_format_url_answers_a_bambi_url_for_the_tokens_owner(
    live_server, sdk, token, keys, other_user
):
    result = sdk.images.generate(
        model="grok-imagine-image", prompt="a fawn", response_format="url", n=2
    )

    urls = [item.url for item in result.data]
    assert len(urls) == 2 and all(
        url.startswith(f"{live_server.url}/dashboard/images/") for url in urls
    )
    mine = requests.get(urls[0], headers={"Authorization": f"Bearer {token.secret}"}, timeout=10)
    assert mine.status_code == 200
    assert mine.headers["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(mine.content)).format == "JPEG"
    theirs = make_token(other_user).secret
    assert (
        requests.get(urls[0], headers={"Authorization": f"Bearer {theirs}"}, timeout=10).status_code
        == 404
    )
    anonymous = requests.get(urls[0], allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302


def test_a_model_id_may_name_its_provider(sdk, keys):
    result = sdk.images.generate(model="google/gemini-2.5-flash-image", prompt="a fawn")
    assert result.data[0].b64_json


def test_an_unsupported_size_is_a_bad_request_naming_the_sizes_the_model_takes(sdk, keys, standin):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(model="imagen-4.0-generate-001", prompt="a fawn", size="1536x1024")

    error = refused.value
    assert error.status_code == 400
    assert error.param == "size"
    assert error.code == "invalid_size"
    assert "1024x1024, 1792x1024, 1024x1792, auto" in error.message
    assert standin.count("google.predict") == 0
    assert not ImageGeneration.objects.exists()


@pytest.mark.parametrize("how", ["wrong", "expired", "revoked"])
def test_a_wrong_expired_or_revoked_token_is_an_authentication_error(live_server, user, keys, how):
    created = make_token(user)
    secret = created.secret
    if how == "wrong":
        secret = secret[:-3] + "xyz"
    elif how == "expired":
        ApiToken.objects.filter(pk=created.token.pk).update(
            expires_at=timezone.now() - timedelta(hours=1)
        )
    else:
        ApiToken.objects.filter(pk=created.token.pk).update(revoked_at=timezone.now())
    client = sdk_for(live_server, secret, max_retries=0)

    for call in (
        lambda: client.models.list(),
        lambda: client.images.generate(model="gpt-image-1.5", prompt="a fawn"),
    ):
        with pytest.raises(openai.AuthenticationError) as refused:
            call()
        assert refused.value.code == "invalid_api_key"
    assert not ImageGeneration.objects.exists()


@pytest.mark.parametrize("billing_on", [True, False])
def test_the_plans_monthly_limit_is_a_permission_denied_error(
    sdk, user, keys, standin, settings, billing_on
):
    if billing_on:
        settings.STRIPE_SECRET_KEY = "sk_test_" + "b" * 24
        settings.STRIPE_PREMIUM_PRICE_ID = "price_bambi"
    User.objects.filter(pk=user.pk).update(usage_count=50)  # Free: 50 a month

    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.images.generate(model="gpt-image-1.5", prompt="a fawn")

    assert refused.value.code == "plan_limit_reached"
    assert "You have used all 50 generations of your plan this month" in refused.value.message
    # Premium is offered only where it can be bought.
    assert ("Premium" in refused.value.message) is billing_on
    assert standin.count("openai.generate") == 0


def test_a_model_outside_the_tokens_list_is_a_permission_denied_error(live_server, user, keys):
    allowed = ImageModel.objects.get(model_id="gpt-image-1.5")
    limited = make_token(user, name="openai only", allowed_models=[allowed])

    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk_for(live_server, limited.secret, max_retries=0).images.generate(
            model="grok-imagine-image", prompt="a fawn"
        )

    assert refused.value.code == "model_not_allowed"
    assert not ImageGeneration.objects.exists()


def test_an_unknown_model_is_not_found(sdk, keys):
    with pytest.raises(openai.NotFoundError) as refused:
        sdk.images.generate(model="dall-e-9", prompt="a fawn")
    assert refused.value.code == "model_not_found"
    assert refused.value.param == "model"


def test_bambis_rate_limit_is_a_rate_limit_error_with_retry_after(
    sdk, user, keys, standin, settings
):
    settings.RATE_LIMIT_GENERATIONS_PER_MINUTE = 1
    sdk.images.generate(model="gpt-image-1.5", prompt="first")

    with pytest.raises(openai.RateLimitError) as refused:
        sdk.images.generate(model="gpt-image-1.5", prompt="second")

    retry_after = int(refused.value.response.headers["retry-after"])
    assert 1 <= retry_after <= 120
    assert refused.value.code == "rate_limit_exceeded"
    assert standin.count("openai.generate") == 1  # the refused call reached no provider
    assert User.objects.get(pk=user.pk).usage_count == 1


class Recorder:
    """The statuses of every HTTP answer the SDK received (its transport's own hook)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.retry_after: list[str | None] = []

    def __call__(self, response: httpx2.Response) -> None:
        self.statuses.append(response.status_code)
        self.retry_after.append(response.headers.get("retry-after"))


def recording_sdk(live_server, token, *, max_retries: int) -> tuple[openai.OpenAI, Recorder]:
    """The SDK with `max_retries`, and the Recorder of every answer its transport receives."""
    seen = Recorder()
    client = sdk_for(
        live_server,
        token.secret,
        max_retries=max_retries,
        http_client=openai.DefaultHttpxClient(event_hooks={"response": [seen]}),
    )
    return client, seen


def test_the_sdk_retries_a_provider_rate_limit_after_its_retry_after(
    live_server, token, user, keys, standin
):
    client, seen = recording_sdk(live_server, token, max_retries=2)
    # The provider refuses every generation for the next 2 seconds and says so in Retry-After,
    # which Bambi passes on. Retrying sooner would be refused again and counted.
    standin.throttle(2)

    result = client.images.generate(model="gpt-image-1.5", prompt="a patient fawn")

    assert result.data[0].b64_json
    assert seen.statuses == [429, 200]
    assert seen.retry_after[0] == "2"
    assert standin.count("openai.generate") == 2
    statuses = list(
        ImageGeneration.objects.filter(user=user)
        .order_by("created_at")
        .values_list("status", flat=True)
    )
    assert statuses == ["failed", "completed"]
    assert User.objects.get(pk=user.pk).usage_count == 1  # the refused attempt cost nothing


def test_a_failure_after_the_provider_answered_tells_the_sdk_not_to_retry(
    live_server, token, user, keys, standin
):
    client, seen = recording_sdk(live_server, token, max_retries=2)
    standin.answer_image = b"this is not an image"  # the provider answered (and billed)

    with pytest.raises(openai.InternalServerError) as failed:
        client.images.generate(model="gpt-image-1.5", prompt="a fawn")

    assert failed.value.status_code == 502
    assert failed.value.response.headers["x-should-retry"] == "false"
    assert seen.statuses == [502]
    assert standin.count("openai.generate") == 1  # one paid call, not three


def test_a_provider_server_error_may_be_retried_and_is_never_charged(
    live_server, token, user, keys, standin
):
    client, seen = recording_sdk(live_server, token, max_retries=1)

    with pytest.raises(openai.InternalServerError):
        client.images.generate(model="gpt-image-1.5", prompt="UPSTREAM500 a fawn")

    assert seen.statuses == [502, 502]  # the provider said it failed: nothing was made
    assert standin.count("openai.generate") == 2
    assert User.objects.get(pk=user.pk).usage_count == 0


def test_a_free_user_without_keys_lists_no_models(live_server, providers_on_standin):
    lonely = make_user()
    assert list(sdk_for(live_server, make_token(lonely).secret).models.list()) == []
