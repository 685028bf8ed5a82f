"""`manage.py billing_setup` and the webhook endpoint row made from STRIPE_WEBHOOK_SECRET."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs

import pytest
import responses
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from djstripe.models import WebhookEndpoint

from billing.services import WEBHOOK_EVENTS, webhook_endpoint_sync, webhook_endpoint_url
from tests.stripe_standin import API, WEBHOOK_SECRET, load

pytestmark = pytest.mark.django_db


class StripeCatalogue:
    """Stripe's product and price list, as the command sees them."""

    def __init__(self, rsps):
        self.product = None
        self.prices: list[dict] = []
        self.webhooks: list[dict] = []
        self.posts: list[tuple[str, dict]] = []
        rsps.add_callback(responses.GET, f"{API}/v1/products/bambi_premium", self._product)
        rsps.add_callback(responses.POST, f"{API}/v1/products", self._create_product)
        rsps.add_callback(responses.GET, re.compile(rf"{API}/v1/prices\?.*"), self._prices)
        rsps.add_callback(responses.POST, f"{API}/v1/prices", self._create_price)
        rsps.add_callback(
            responses.GET, re.compile(rf"{API}/v1/webhook_endpoints(\?.*)?$"), self._webhooks
        )
        rsps.add_callback(responses.POST, f"{API}/v1/webhook_endpoints", self._create_webhook)

    @staticmethod
    def _form(request) -> dict:
        return {k: v[0] for k, v in parse_qs(request.body or "").items()}

    def _product(self, request):
        if self.product is None:
            return (404, {}, json.dumps(load("error_no_such_product")))
        return (200, {}, json.dumps(self.product))

    def _create_product(self, request):
        body = self._form(request)
        self.posts.append(("product", body))
        self.product = {**load("product"), "id": body["id"], "name": body["name"]}
        return (200, {}, json.dumps(self.product))

    def _prices(self, request):
        listing = {"object": "list", "data": self.prices, "has_more": False, "url": "/v1/prices"}
        return (200, {}, json.dumps(listing))

    def _create_price(self, request):
        body = self._form(request)
        self.posts.append(("price", body))
        price = {
            **load("price"),
            "product": body["product"],
            "unit_amount": int(body["unit_amount"]),
            "currency": body["currency"],
            "lookup_key": body["lookup_key"],
        }
        self.prices = [price]
        return (200, {}, json.dumps(price))

    def _webhooks(self, request):
        listing = {
            "object": "list",
            "data": self.webhooks,
            "has_more": False,
            "url": "/v1/webhook_endpoints",
        }
        return (200, {}, json.dumps(listing))

    def _create_webhook(self, request):
        body = self._form(request)
        self.posts.append(("webhook", body))
        created = {**load("webhook_endpoint_created"), "url": body["url"]}
        self.webhooks = [{k: v for k, v in created.items() if k != "secret"}]
        return (200, {}, json.dumps(created))


@pytest.fixture
def catalogue_api(stripe_keys):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield StripeCatalogue(rsps)


def run(*args) -> str:
    out = io.StringIO()
    call_command("billing_setup", *args, stdout=out)
    return out.getvalue()


def test_billing_setup_without_a_stripe_key_says_what_to_set(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY is not set"):
        run()


def test_billing_setup_creates_product_and_price_once_and_prints_them(catalogue_api, settings):
    settings.STRIPE_PREMIUM_PRICE_ID = ""

    first = run()
    second = run()

    kinds = [kind for kind, _body in catalogue_api.posts]
    assert kinds == ["product", "price"]  # the second run found both
    product_body, price_body = (body for _kind, body in catalogue_api.posts)
    assert product_body["id"] == "bambi_premium"
    assert price_body == {
        **price_body,
        "product": "bambi_premium",
        "unit_amount": "500",
        "currency": "eur",
        "recurring[interval]": "month",
        "lookup_key": "bambi_premium_monthly_eur",
    }
    for output in (first, second):
        assert "Set STRIPE_PREMIUM_PRICE_ID=price_1SbAmBiPrEmIuMeUr5" in output
        assert webhook_endpoint_url() in output
        assert "customer.subscription.deleted" in output
    assert WebhookEndpoint.objects.count() == 1


def test_billing_setup_replaces_a_price_with_the_wrong_amount(catalogue_api):
    catalogue_api.product = load("product") | {"id": "bambi_premium"}
    catalogue_api.prices = [load("price") | {"unit_amount": 900}]

    run()

    assert [kind for kind, _ in catalogue_api.posts] == ["price"]
    assert catalogue_api.posts[0][1]["transfer_lookup_key"] == "true"


def test_billing_setup_can_register_the_webhook_in_stripe_once(catalogue_api, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""

    first = run("--create-webhook")
    second = run("--create-webhook")

    webhook_posts = [body for kind, body in catalogue_api.posts if kind == "webhook"]
    assert len(webhook_posts) == 1
    assert webhook_posts[0]["url"] == webhook_endpoint_url()
    assert [webhook_posts[0][f"enabled_events[{i}]"] for i in range(5)] == WEBHOOK_EVENTS
    assert "Set STRIPE_WEBHOOK_SECRET=whsec_bAmBiNeWlYcReAtEdSeCrEt" in first
    assert "already exists" in second
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "whsec_bAmBiNeWlYcReAtEdSeCrEt00000000000000"


def test_endpoint_row_is_made_from_the_secret_and_is_idempotent(stripe_keys):
    first = webhook_endpoint_sync()
    second = webhook_endpoint_sync()

    assert first.pk == second.pk
    assert WebhookEndpoint.objects.count() == 1
    assert second.secret == WEBHOOK_SECRET
    assert second.url == webhook_endpoint_url()
    assert second.url.startswith("https://bambi.example/stripe/webhook/")
    assert str(second.djstripe_uuid) in second.url


def test_rolling_the_signing_secret_keeps_the_url_and_drops_the_old_secret(stripe_keys, settings):
    before = webhook_endpoint_sync()
    settings.STRIPE_WEBHOOK_SECRET = "whsec_bAmBiRoLlEdSeCrEt00000000000000000"

    after = webhook_endpoint_sync()

    assert after.djstripe_uuid == before.djstripe_uuid
    assert WebhookEndpoint.objects.get().secret == "whsec_bAmBiRoLlEdSeCrEt00000000000000000"


def test_a_new_secret_key_moves_the_url_and_removes_the_old_row_only(stripe_keys, settings):
    operator_row = WebhookEndpoint.objects.create(
        id="we_1OpErAtOrMaDe0001",
        url="https://elsewhere.example/hook",
        secret="whsec_operator",
        enabled_events=["*"],
        status="enabled",
        livemode=False,
    )
    old = webhook_endpoint_sync()
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"

    new = webhook_endpoint_sync()

    assert new.djstripe_uuid != old.djstripe_uuid
    assert set(WebhookEndpoint.objects.values_list("pk", flat=True)) == {
        new.pk,
        operator_row.pk,
    }


def test_migrate_makes_the_endpoint_row_without_an_admin_step(stripe_keys):
    assert not WebhookEndpoint.objects.exists()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert WebhookEndpoint.objects.get().secret == WEBHOOK_SECRET


def test_no_secret_no_row(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert webhook_endpoint_sync() is None
    assert not WebhookEndpoint.objects.exists()
