"""Stripe events posted to dj-stripe's webhook view with a real signature; the Stripe API
calls dj-stripe makes while syncing are answered by the stand-in (tests/stripe_standin.py)."""

from __future__ import annotations

import json
import time

import pytest
from djstripe.models import Customer, Event, Subscription, WebhookEventTrigger

from accounts.models import SecurityEvent
from billing.plans import FREE, PREMIUM, plan_for
from byok.models import ApiConfiguration
from tests.factories import make_configuration
from tests.stripe_standin import make_event, post_event, sign

pytestmark = pytest.mark.django_db


def plan_events(user):
    return list(
        SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PLAN_CHANGED)
        .order_by("created_at", "id")
        .values_list("detail", flat=True)
    )


def checkout_completed(client, endpoint, stripe_api, **kwargs):
    event = make_event("checkout.session.completed", stripe_api.checkout_session, **kwargs)
    return post_event(client, endpoint, event)


def subscription_event(client, endpoint, stripe_api, event_type, **fields):
    """Stripe changes the subscription, then sends the event carrying that state."""
    state = stripe_api.set_subscription(**fields)
    return post_event(client, endpoint, make_event(event_type, state))


def test_checkout_completed_makes_the_user_premium_and_audits_it(
    client, endpoint, stripe_api, user
):
    assert plan_for(user) == FREE

    response = checkout_completed(client, endpoint, stripe_api)

    assert response.status_code == 200
    assert plan_for(user) == PREMIUM
    customer = Customer.objects.get(id="cus_TbAmBiCuStOmEr1")
    assert customer.subscriber == user  # linked from the session's client_reference_id
    assert Subscription.objects.get(id="sub_1SbAmBiSuBsCrIpT1").stripe_data["status"] == "active"
    [detail] = plan_events(user)
    assert detail["from"] == "free" and detail["to"] == "premium"
    assert detail["subscription"] == "sub_1SbAmBiSuBsCrIpT1"


def test_checkout_for_a_customer_made_by_bambi_keeps_the_link_and_records_once(
    client, endpoint, stripe_api, user
):
    Customer.objects.create(id="cus_TbAmBiCuStOmEr1", subscriber=user, livemode=False)

    checkout_completed(client, endpoint, stripe_api)
    subscription_event(client, endpoint, stripe_api, "customer.subscription.created")

    assert plan_for(user) == PREMIUM
    assert Customer.objects.filter(subscriber=user).count() == 1
    assert [(d["from"], d["to"]) for d in plan_events(user)] == [("free", "premium")]


def test_subscription_created_before_checkout_completed_links_through_its_metadata(
    client, endpoint, stripe_api, user
):
    response = subscription_event(client, endpoint, stripe_api, "customer.subscription.created")

    assert response.status_code == 200
    assert Customer.objects.get(id="cus_TbAmBiCuStOmEr1").subscriber == user
    assert plan_for(user) == PREMIUM


def test_renewal_keeps_premium_and_records_nothing_new(client, endpoint, stripe_api, user):
    checkout_completed(client, endpoint, stripe_api)
    item = stripe_api.subscription["items"]["data"][0]
    renewed = {**item, "current_period_start": 1797592000, "current_period_end": 1800270400}

    response = subscription_event(
        client,
        endpoint,
        stripe_api,
        "customer.subscription.updated",
        items={**stripe_api.subscription["items"], "data": [renewed]},
    )

    assert response.status_code == 200
    assert plan_for(user) == PREMIUM
    assert len(plan_events(user)) == 1
    page = client_page(client, user)
    assert "Renews on" in page and "2027" in page


def client_page(client, user) -> str:
    client.force_login(user)
    return client.get("/dashboard/billing/").content.decode()


def test_cancellation_at_period_end_keeps_premium_until_the_subscription_is_deleted(
    client, endpoint, stripe_api, user, catalogue
):
    checkout_completed(client, endpoint, stripe_api)
    for n in range(3):  # Premium allows more than one key
        make_configuration(user, catalogue["openai"], name=f"key {n}", key=f"sk-x{n}" * 8)

    subscription_event(
        client,
        endpoint,
        stripe_api,
        "customer.subscription.updated",
        cancel_at_period_end=True,
        canceled_at=1796000000,
    )
    assert plan_for(user) == PREMIUM
    assert "ends on" in client_page(client, user)

    response = subscription_event(
        client,
        endpoint,
        stripe_api,
        "customer.subscription.deleted",
        status="canceled",
        ended_at=1797592000,
    )

    assert response.status_code == 200
    assert plan_for(user) == FREE
    assert [(d["from"], d["to"]) for d in plan_events(user)] == [
        ("free", "premium"),
        ("premium", "free"),
    ]
    assert plan_events(user)[-1]["status"] == "canceled"
    # A downgrade loses nothing: the extra keys are still stored.
    assert ApiConfiguration.objects.filter(user=user).count() == 3


def test_payment_failed_makes_the_subscription_past_due_which_is_free_until_paid(
    client, endpoint, stripe_api, user
):
    checkout_completed(client, endpoint, stripe_api)
    # Stripe's state after the failed renewal; the invoice event arrives before the
    # subscription event: Bambi re-reads the subscription itself.
    stripe_api.set_subscription(status="past_due")

    response = post_event(
        client, endpoint, make_event("invoice.payment_failed", stripe_api.invoice)
    )

    assert response.status_code == 200
    assert Subscription.objects.get(id="sub_1SbAmBiSuBsCrIpT1").stripe_data["status"] == (
        "past_due"
    )
    assert plan_for(user) == FREE
    assert plan_events(user)[-1] == {
        **plan_events(user)[-1],
        "from": "premium",
        "to": "free",
        "status": "past_due",
    }
    assert "Your last payment failed" in client_page(client, user)

    # The retry succeeds: Premium comes back with the subscription update.
    subscription_event(
        client, endpoint, stripe_api, "customer.subscription.updated", status="active"
    )
    assert plan_for(user) == PREMIUM
    assert [d["to"] for d in plan_events(user)] == ["premium", "free", "premium"]


def test_replayed_event_changes_nothing(client, endpoint, stripe_api, user):
    event = make_event("checkout.session.completed", stripe_api.checkout_session)
    first = post_event(client, endpoint, event)
    calls_after_first = len(stripe_api.rsps.calls)

    again = post_event(client, endpoint, event)

    assert first.status_code == again.status_code == 200
    assert Event.objects.filter(id=event["id"]).count() == 1
    assert len(plan_events(user)) == 1
    assert plan_for(user) == PREMIUM
    assert len(stripe_api.rsps.calls) == calls_after_first  # not even re-synced


def test_out_of_order_events_end_in_stripes_latest_subscription_state(
    client, endpoint, stripe_api, user
):
    checkout_completed(client, endpoint, stripe_api)
    stale_update = make_event("customer.subscription.updated", stripe_api.subscription)
    # Stripe cancels the subscription; the deletion is delivered first...
    subscription_event(
        client, endpoint, stripe_api, "customer.subscription.deleted", status="canceled"
    )
    assert plan_for(user) == FREE

    # ...then the older "active" update arrives late. dj-stripe re-fetches the subscription,
    # so the stale payload cannot resurrect Premium.
    response = post_event(client, endpoint, stale_update)

    assert response.status_code == 200
    assert stale_update["data"]["object"]["status"] == "active"
    assert Subscription.objects.get(id="sub_1SbAmBiSuBsCrIpT1").stripe_data["status"] == (
        "canceled"
    )
    assert plan_for(user) == FREE
    assert [d["to"] for d in plan_events(user)] == ["premium", "free"]


def test_a_late_past_due_event_after_recovery_leaves_premium(client, endpoint, stripe_api, user):
    checkout_completed(client, endpoint, stripe_api)
    late_past_due = make_event(
        "customer.subscription.updated", {**stripe_api.subscription, "status": "past_due"}
    )
    # Stripe's latest state is active (the retry was paid) when the late event lands.
    response = post_event(client, endpoint, late_past_due)

    assert response.status_code == 200
    assert plan_for(user) == PREMIUM
    assert len(plan_events(user)) == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing header
        "t=1795000000,v1=" + "0" * 64,  # garbage
        "wrong secret",
        "stale",
    ],
)
def test_bad_signature_is_400_and_nothing_is_processed(
    client, endpoint, stripe_api, user, signature
):
    event = make_event("checkout.session.completed", stripe_api.checkout_session)
    payload = json.dumps(event)
    if signature == "wrong secret":
        signature = sign(payload, secret="whsec_someoneElsesSecret000000000000")
    elif signature == "stale":  # a correctly signed but 10-minute-old delivery (replay attack)
        signature = sign(payload, timestamp=int(time.time()) - 600)

    response = post_event(client, endpoint, event, signature=signature)

    assert response.status_code == 400
    assert not Event.objects.exists()
    assert not WebhookEventTrigger.objects.filter(processed=True).exists()
    assert not WebhookEventTrigger.objects.filter(valid=True).exists()
    assert plan_for(user) == FREE
    assert plan_events(user) == []
    assert len(stripe_api.rsps.calls) == 0  # rejected before any Stripe call


def test_unknown_webhook_url_is_404(client, endpoint, stripe_api):
    event = make_event("checkout.session.completed", stripe_api.checkout_session)
    payload = json.dumps(event)
    response = client.post(
        "/stripe/webhook/8b0c7c0e-0f55-4d9e-9d1a-3a4b5c6d7e8f/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
    )
    assert response.status_code == 404


@pytest.mark.parametrize("event_type", ["balance.available", "billing.credit_grant.created"])
def test_event_types_bambi_does_not_use_are_acknowledged(
    client, endpoint, stripe_api, user, event_type
):
    event = make_event(event_type, {"id": "obj_1SbAmBiOtHeR", "object": "unknown"})

    response = post_event(client, endpoint, event)

    assert response.status_code == 200
    assert WebhookEventTrigger.objects.get().processed
    assert plan_for(user) == FREE


# --- dj-stripe's test-secret header --------------------------------------------------------------

FORGED_SECRET = "whsec_attackerChosenSecret00000000000000"


def _forged(client, endpoint, event):
    """An event signed with a secret of the sender's choice, named in dj-stripe's header."""
    payload = json.dumps(event)
    return client.post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret=FORGED_SECRET),
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET=FORGED_SECRET,
    )


def test_the_test_secret_header_is_refused_even_with_debug_on(
    client, endpoint, stripe_api, user, settings
):
    settings.DEBUG = True  # dj-stripe honours the header only with DEBUG on
    event = make_event("checkout.session.completed", stripe_api.checkout_session)

    response = _forged(client, endpoint, event)

    assert response.status_code == 400
    assert not Event.objects.exists()
    assert plan_for(user) == FREE
    assert len(stripe_api.rsps.calls) == 0


def test_the_test_secret_header_works_when_explicitly_allowed(
    client, endpoint, stripe_api, user, settings
):
    settings.DEBUG = True
    settings.STRIPE_WEBHOOK_TEST_HEADER = True
    event = make_event("checkout.session.completed", stripe_api.checkout_session)

    response = _forged(client, endpoint, event)

    assert response.status_code == 200
    assert plan_for(user) == PREMIUM
