"""The plan, derived from synced Subscription rows, and the limits it drives through the real
key and generation endpoints."""

from __future__ import annotations

import json

import pytest
from djstripe.models import Customer

from accounts.models import User
from billing.plans import FREE, PREMIUM, plan_for, subscription_status_for, with_plan_annotations
from tests.factories import image_model, make_configuration, make_user
from tests.images import png_bytes
from tests.recorded import generate_url, success_body
from tests.stripe_standin import make_event, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def subscribe(user, *statuses, customer_id="cus_TbAmBiCuStOmEr1", livemode=False):
    customer = Customer.objects.create(id=customer_id, subscriber=user, livemode=livemode)
    for n, status in enumerate(statuses):
        customer.subscriptions.create(
            id=f"sub_{customer_id}_{n}", livemode=livemode, stripe_data={"status": status}
        )
    return customer


@pytest.mark.parametrize(
    "statuses, plan",
    [
        ((), FREE),
        (("active",), PREMIUM),
        (("trialing",), PREMIUM),
        (("past_due",), FREE),
        (("unpaid",), FREE),
        (("incomplete",), FREE),
        (("incomplete_expired",), FREE),
        (("canceled",), FREE),
        (("paused",), FREE),
        # Several subscriptions: Premium while any of them grants it.
        (("canceled", "active"), PREMIUM),
        (("active", "past_due"), PREMIUM),
        (("canceled", "past_due"), FREE),
    ],
)
def test_plan_follows_the_subscription_statuses(user, statuses, plan):
    subscribe(user, *statuses)
    assert plan_for(user) == plan


def test_a_test_mode_subscription_does_not_grant_live_premium(user, settings):
    settings.STRIPE_LIVE_MODE = True
    subscribe(user, "active", livemode=False)
    assert plan_for(user) == FREE


def test_another_users_subscription_does_not_count(user, other_user):
    subscribe(other_user, "active")
    assert plan_for(user) == FREE
    assert plan_for(other_user) == PREMIUM


def test_annotated_users_give_the_same_answers_in_one_query(
    user, other_user, django_assert_num_queries
):
    third = make_user()
    subscribe(user, "canceled", "active")
    subscribe(other_user, "past_due", customer_id="cus_TbAmBiOtHeR01")

    with django_assert_num_queries(1):
        users = {u.pk: u for u in with_plan_annotations(User.objects.all())}
        answers = {pk: (plan_for(u), subscription_status_for(u)) for pk, u in users.items()}

    assert answers[user.pk] == (PREMIUM, "active")
    assert answers[other_user.pk] == (FREE, "past_due")
    assert answers[third.pk] == (FREE, None)
    for u in (user, other_user, third):  # and the same as the one-user path
        assert (plan_for(u), subscription_status_for(u)) == answers[u.pk]


def test_admin_user_list_shows_plan_and_subscription_status(client, user, other_user):
    admin = make_user(is_staff=True, is_superuser=True)
    subscribe(user, "active")
    subscribe(other_user, "past_due", customer_id="cus_TbAmBiOtHeR01")
    client.force_login(admin)

    html = client.get("/admin/accounts/user/").content.decode()

    assert '<td class="field-plan">Premium</td>' in html
    assert '<td class="field-subscription_status">past_due</td>' in html
    assert '<td class="field-subscription_status">active</td>' in html
    assert html.count('<td class="field-plan">Free</td>') == 2  # other_user and the admin


# --- the plan drives the limits, through the real endpoints ----------------------------------


@pytest.fixture
def openai(providers):
    return providers["openai"]


def add_key_through_api(client, provider, provider_http, n):
    key = f"sk-proj-bAmBiBiLlInGtEsTkEy{n:04d}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaQa42"
    provider_http.valid(provider, key)
    return client.post(
        "/api/api-configurations/",
        data=json.dumps({"name": f"key {n}", "providerId": str(provider.pk), "apiKey": key}),
        content_type="application/json",
    )


def become_premium(client, endpoint, stripe_api):
    event = make_event("checkout.session.completed", stripe_api.checkout_session)
    assert post_event(client, endpoint, event).status_code == 200


def test_free_users_second_key_is_refused(logged_in, user, openai, stripe_api, provider_http):
    assert add_key_through_api(logged_in, openai, provider_http, 1).status_code == 201

    response = add_key_through_api(logged_in, openai, provider_http, 2)

    assert response.status_code == 403
    assert "Premium" in response.json()["error"]


def test_premium_users_second_key_is_accepted(
    logged_in, user, openai, endpoint, stripe_api, provider_http
):
    become_premium(logged_in, endpoint, stripe_api)
    assert add_key_through_api(logged_in, openai, provider_http, 1).status_code == 201

    response = add_key_through_api(logged_in, openai, provider_http, 2)

    assert response.status_code == 201


def test_after_downgrade_the_extra_keys_stay_but_no_new_one_is_accepted(
    logged_in, user, openai, endpoint, stripe_api, provider_http
):
    become_premium(logged_in, endpoint, stripe_api)
    add_key_through_api(logged_in, openai, provider_http, 1)
    add_key_through_api(logged_in, openai, provider_http, 2)
    deleted = make_event(
        "customer.subscription.deleted", stripe_api.set_subscription(status="canceled")
    )
    post_event(logged_in, endpoint, deleted)

    listed = logged_in.get("/api/api-configurations/").json()["data"]
    refused = add_key_through_api(logged_in, openai, provider_http, 3)

    assert plan_for(user) == FREE
    assert len(listed) == 2
    assert refused.status_code == 403


def generate(client, configuration, rsps):
    model = image_model("openai", "gpt-image-1.5")
    rsps.post(
        generate_url("openai", "gpt-image-1.5"),
        json=success_body("openai", "gpt-image-1.5", [png_bytes(32, 32)]),
    )
    return client.post(
        "/api/generations/",
        data=json.dumps(
            {
                "configId": str(configuration.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk)},
            }
        ),
        content_type="application/json",
    )


@pytest.fixture
def stored_key(user, openai):
    return make_configuration(
        user, openai, name="mine", key="sk-proj-bAmBiStOrEdKeY000000000000000000000000000000Qa42"
    )


def test_free_user_at_50_generations_is_refused(logged_in, user, stored_key, stripe_api, rsps):
    User.objects.filter(pk=user.pk).update(usage_count=50)

    response = generate(logged_in, stored_key, rsps)

    assert response.status_code == 403
    assert "Premium" in response.json()["error"]


def test_premium_user_at_50_generations_is_not_refused(
    logged_in, user, stored_key, endpoint, stripe_api, rsps
):
    become_premium(logged_in, endpoint, stripe_api)
    User.objects.filter(pk=user.pk).update(usage_count=50)

    response = generate(logged_in, stored_key, rsps)

    assert response.status_code == 201, response.content
    user.refresh_from_db()
    assert user.usage_count == 51
    usage = logged_in.get("/api/usage/").json()["data"]
    assert usage["plan"] == "premium" and usage["usage_limit"] is None
