"""Upgrade (Stripe Checkout) and Manage subscription (Customer Portal), from the billing page
and from the JSON API, with the Stripe API answered by the stand-in."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import stripe
from django.urls import reverse
from djstripe.models import Customer, IdempotencyKey

from accounts.models import SecurityEvent
from tests.stripe_standin import PRICE_ID

pytestmark = pytest.mark.django_db

CHECKOUT_API = "/api/stripe/create-checkout-session/"
PORTAL_API = "/api/stripe/create-portal-session/"


def make_premium(user):
    customer = Customer.objects.create(id="cus_TbAmBiCuStOmEr1", subscriber=user, livemode=False)
    customer.subscriptions.create(
        id="sub_1SbAmBiSuBsCrIpT1", livemode=False, stripe_data={"status": "active"}
    )
    return customer


def test_api_checkout_creates_a_subscription_session_for_the_premium_price(
    logged_in, user, stripe_api
):
    response = logged_in.post(CHECKOUT_API)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["sessionId"].startswith("cs_test_")
    assert data["url"].startswith("https://checkout.stripe.com/")
    [body] = stripe_api.checkout_bodies
    assert body["mode"] == "subscription"
    assert body["line_items[0][price]"] == PRICE_ID
    assert body["line_items[0][quantity]"] == "1"
    assert body["customer"] == "cus_TbAmBiCuStOmEr1"
    assert body["client_reference_id"] == str(user.pk)
    assert body["success_url"] == "http://testserver/dashboard/billing/?checkout=success"
    assert body["cancel_url"] == "http://testserver/dashboard/billing/?checkout=cancel"


def test_the_stripe_customer_is_created_once_and_reused(logged_in, user, stripe_api):
    logged_in.post(CHECKOUT_API)
    logged_in.post(CHECKOUT_API)
    logged_in.post("/dashboard/billing/upgrade/")

    assert stripe_api.customer_creations == 1
    assert len(stripe_api.checkout_bodies) == 3
    customer = Customer.objects.get(subscriber=user)
    assert customer.id == "cus_TbAmBiCuStOmEr1"
    create_call = next(c for c in stripe_api.rsps.calls if c.request.url.endswith("/v1/customers"))
    assert "Idempotency-Key" in create_call.request.headers
    assert f"metadata[djstripe_subscriber]={user.pk}" in create_call.request.body


def test_upgrade_button_redirects_the_browser_to_checkout(logged_in, stripe_api):
    response = logged_in.post("/dashboard/billing/upgrade/")

    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")


def test_stripe_down_during_checkout_is_a_502_sentence_and_nothing_is_stored(
    logged_in, user, stripe_api
):
    stripe_api.down = True

    response = logged_in.post(CHECKOUT_API)
    page = logged_in.post("/dashboard/billing/upgrade/")

    assert response.status_code == 502
    assert "Nothing was charged" in response.json()["error"]
    assert page.status_code == 502
    assert "Nothing was charged" in page.content.decode()
    assert not Customer.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_stripe_down_after_the_customer_exists_keeps_the_customer_for_next_time(
    logged_in, user, stripe_api
):
    logged_in.post(CHECKOUT_API)
    stripe_api.down = True
    assert logged_in.post(CHECKOUT_API).status_code == 502
    stripe_api.down = False

    assert logged_in.post(CHECKOUT_API).status_code == 200
    assert stripe_api.customer_creations == 1


def test_checkout_when_already_premium_is_refused_so_nobody_pays_twice(logged_in, user, stripe_api):
    make_premium(user)

    response = logged_in.post(CHECKOUT_API)

    assert response.status_code == 400
    assert "already on Premium" in response.json()["error"]
    assert stripe_api.checkout_bodies == []


def test_portal_session_for_a_customer(logged_in, user, stripe_api):
    make_premium(user)

    response = logged_in.post(PORTAL_API)
    page = logged_in.post("/dashboard/billing/manage/")

    assert response.status_code == 200
    assert response.json()["data"]["url"].startswith("https://billing.stripe.com/p/session/")
    assert page.status_code == 303
    assert page["Location"].startswith("https://billing.stripe.com/p/session/")
    assert stripe_api.portal_bodies[0] == {
        "customer": "cus_TbAmBiCuStOmEr1",
        "return_url": "http://testserver/dashboard/billing/",
    }


def test_portal_without_a_customer_is_a_400_sentence(logged_in, stripe_api):
    response = logged_in.post(PORTAL_API)

    assert response.status_code == 400
    assert "no subscription to manage" in response.json()["error"]
    assert stripe_api.portal_bodies == []
    assert stripe_api.customer_creations == 0


def test_portal_with_stripe_down_is_502(logged_in, user, stripe_api):
    make_premium(user)
    stripe_api.down = True

    response = logged_in.post(PORTAL_API)

    assert response.status_code == 502
    assert "error" in response.json()


@pytest.mark.parametrize("url", [CHECKOUT_API, PORTAL_API])
def test_anonymous_api_calls_are_401(client, url):
    response = client.post(url)
    assert response.status_code == 401
    assert response.json() == {"error": "You need to be logged in."}


@pytest.mark.parametrize("url", [CHECKOUT_API, PORTAL_API])
def test_api_answers_405_to_get(logged_in, url):
    assert logged_in.get(url).status_code == 405


@pytest.mark.parametrize(
    "url", ["/dashboard/billing/", "/dashboard/billing/upgrade/", "/dashboard/billing/manage/"]
)
def test_anonymous_pages_redirect_to_login(client, url):
    response = client.get(url) if url.endswith("billing/") else client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_without_stripe_keys_the_page_says_so_and_offers_no_upgrade(logged_in, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PREMIUM_PRICE_ID = ""

    page = logged_in.get("/dashboard/billing/")
    api = logged_in.post(CHECKOUT_API)
    post = logged_in.post("/dashboard/billing/upgrade/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Billing is not configured" in html
    assert "Upgrade" not in html  # billing off: no upsell anywhere
    assert reverse("billing_upgrade") not in html
    assert api.status_code == 503 and "not configured" in api.json()["error"]
    assert post.status_code == 503
    assert not Customer.objects.exists()


def test_billing_page_shows_both_plans_and_the_current_one(logged_in, stripe_api):
    html = logged_in.get("/dashboard/billing/").content.decode()

    assert "0 € / month" in html and "5 € / month" in html
    assert "50 generations a month" in html and "Unlimited generations" in html
    assert "Upgrade to Premium" in html
    assert "Manage subscription" not in html  # nothing to manage before the first checkout


def test_return_from_checkout_says_premium_is_being_activated_until_the_webhook(
    logged_in, user, stripe_api
):
    pending = logged_in.get("/dashboard/billing/?checkout=success").content.decode()
    assert "Payment received — Premium is being activated" in pending

    make_premium(user)  # the webhook landed
    done = logged_in.get("/dashboard/billing/?checkout=success").content.decode()
    assert "being activated" not in done
    assert "you are on Premium" in done
    assert "Manage subscription" in done
    assert "Upgrade to Premium</button>" not in done


def test_cancelled_checkout_says_nothing_was_charged(logged_in, stripe_api):
    html = logged_in.get("/dashboard/billing/?checkout=cancel").content.decode()
    assert "nothing was charged" in html


def test_checkout_writes_no_security_event_by_itself(logged_in, user, stripe_api):
    logged_in.post(CHECKOUT_API)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PLAN_CHANGED).exists()


class SilentStripe:
    """A TCP server on loopback that accepts connections and never answers: Stripe hanging."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)  # held open, never answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.mark.slow  # waits out the real connect and read timeouts (~10 s)
def test_stripe_not_answering_is_a_502_in_under_15_seconds(
    logged_in, stripe_keys, monkeypatch, settings
):
    silent = SilentStripe()
    monkeypatch.setattr(stripe, "api_base", silent.url)
    # The suite's fixture turns retries off; this test runs with the production settings.
    monkeypatch.setattr(stripe, "max_network_retries", settings.STRIPE_MAX_NETWORK_RETRIES)
    try:
        started = time.monotonic()
        response = logged_in.post(CHECKOUT_API)
        elapsed = time.monotonic() - started
    finally:
        silent.close()

    assert response.status_code == 502
    assert "Nothing was charged" in response.json()["error"]
    assert elapsed < 15
    # One attempt and the bounded retries, each given up after the read timeout.
    assert len(silent.connections) == 1 + settings.STRIPE_MAX_NETWORK_RETRIES
    assert not Customer.objects.exists()
