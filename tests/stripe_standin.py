"""Stripe for the tests: dummy keys, recorded API objects (tests/fixtures/stripe/, API version
2026-08-26.dahlia), a `responses` stand-in for the Stripe API answering with them, and events
signed the way Stripe signs them. Nothing else is mocked. The fixtures that use these
(`stripe_keys`, `stripe_api`, `endpoint`) are in tests/conftest.py."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs

import responses

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe"
SECRET_KEY = "sk_test_51SbAmBiTeStKeY0000000000000000"
PUBLISHABLE_KEY = "pk_test_51SbAmBiTeStKeY0000000000000000"
WEBHOOK_SECRET = "whsec_bAmBiTeStSiGnInGsEcReT0000000000000000"
PRICE_ID = "price_1SbAmBiPrEmIuMeUr5"
API = "https://api.stripe.com"
_PLACEHOLDER_USER = "00000000-0000-0000-0000-000000000000"
_event_ids = itertools.count(1)


def load(name: str) -> dict:
    """A recorded Stripe object: tests/fixtures/stripe/<name>.json."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def for_user(data: dict, user) -> dict:
    """A fixture with the recorded placeholder user id replaced by this user's id."""
    return json.loads(json.dumps(data).replace(_PLACEHOLDER_USER, str(user.pk)))


class StripeStandIn:
    """What the Stripe API answers. `subscription` is Stripe's *current* state of the
    subscription: dj-stripe re-fetches it on every event, whatever the event says."""

    def __init__(self, rsps: responses.RequestsMock, user):
        self.rsps = rsps
        self.user = user
        self.account = load("account")
        self.customer = for_user(load("customer"), user)
        self.product = load("product")
        self.price = load("price")
        self.subscription = for_user(load("subscription"), user)
        self.checkout_session = for_user(load("checkout_session"), user)
        self.invoice = for_user(load("invoice_payment_failed"), user)
        self.customer_creations = 0
        self.checkout_bodies: list[dict] = []
        self.portal_bodies: list[dict] = []
        self.canceled: list[str] = []
        self.down = False
        self._register()

    # --- state helpers -------------------------------------------------------------------
    def set_subscription(self, **fields) -> dict:
        self.subscription = {**self.subscription, **fields}
        return copy.deepcopy(self.subscription)

    # --- responses plumbing --------------------------------------------------------------
    def _json(self, payload, status=200):
        if self.down:
            return (500, {}, json.dumps(load("error_api_connection")))
        return (status, {"Request-Id": "req_bAmBiStAnDiN"}, json.dumps(payload))

    def _register(self) -> None:
        get = responses.GET
        self.rsps.add_callback(get, f"{API}/v1/account", lambda r: self._json(self.account))
        # Objects read back by id, answered as they are when asked (a test may change them).
        by_id = [
            (r"customers/cus_\w+", lambda: self.customer),
            (r"subscriptions/sub_\w+", lambda: self.subscription),
            (r"products/prod_\w+/features", lambda: load("product_features")),
            (r"products/prod_\w+", lambda: self.product),
            (r"prices/price_\w+", lambda: self.price),
            (r"checkout/sessions/cs_\w+", lambda: self.checkout_session),
            (r"invoices/in_\w+", lambda: self.invoice),
        ]
        for path, answer in by_id:
            self.rsps.add_callback(
                get,
                re.compile(rf"{API}/v1/{path}(\?.*)?$"),
                lambda r, answer=answer: self._json(answer()),
            )
        self.rsps.add_callback(responses.POST, f"{API}/v1/customers", self._create_customer)
        self.rsps.add_callback(
            responses.POST,
            re.compile(rf"{API}/v1/customers/cus_\w+$"),
            lambda r: self._json(self.customer),
        )
        self.rsps.add_callback(
            responses.DELETE,
            re.compile(rf"{API}/v1/subscriptions/sub_\w+$"),
            self._cancel_subscription,
        )
        self.rsps.add_callback(
            responses.POST, f"{API}/v1/checkout/sessions", self._create_checkout_session
        )
        self.rsps.add_callback(
            responses.POST, f"{API}/v1/billing_portal/sessions", self._create_portal_session
        )

    @staticmethod
    def _form(request) -> dict:
        return {k: v[0] for k, v in parse_qs(request.body or "").items()}

    def _create_customer(self, request):
        if self.down:
            return self._json(None)
        self.customer_creations += 1
        body = self._form(request)
        self.customer = {**self.customer, "email": body.get("email")}
        return self._json(self.customer)

    def _cancel_subscription(self, request):
        if self.down:
            return self._json(None)
        self.canceled.append(request.url.rsplit("/", 1)[-1])
        return self._json(self.set_subscription(status="canceled", ended_at=1795100000))

    def _create_checkout_session(self, request):
        if self.down:
            return self._json(None)
        self.checkout_bodies.append(self._form(request))
        return self._json(for_user(load("checkout_session_created"), self.user))

    def _create_portal_session(self, request):
        if self.down:
            return self._json(None)
        self.portal_bodies.append(self._form(request))
        return self._json(load("billing_portal_session"))


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it: v1 = HMAC-SHA256(secret, "t.body")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def make_event(event_type: str, obj: dict, *, event_id: str | None = None, **extra) -> dict:
    event = load("event")
    event["id"] = event_id or f"evt_1SbAmBiEvEnT{next(_event_ids):05d}"
    event["type"] = event_type
    event["data"] = {"object": copy.deepcopy(obj), **extra}
    return event


def post_event(client, endpoint, event: dict, *, signature: str | None = None):
    payload = json.dumps(event)
    headers = {} if signature == "" else {"HTTP_STRIPE_SIGNATURE": signature or sign(payload)}
    return client.post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/",
        data=payload,
        content_type="application/json",
        **headers,
    )
