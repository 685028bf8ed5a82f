"""Create or find Bambi's Premium product and its 5 €/month price in Stripe, make the webhook
endpoint row from STRIPE_WEBHOOK_SECRET, and print what to put in the environment and which
URL and events to register in Stripe. Idempotent: run it as often as you like.

    manage.py billing_setup                    # product, price, endpoint row, instructions
    manage.py billing_setup --create-webhook   # also register the endpoint in Stripe (once)
"""

from __future__ import annotations

import stripe
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from djstripe.settings import djstripe_settings

from billing.services import (
    WEBHOOK_EVENTS,
    stripe_options,
    webhook_endpoint_sync,
    webhook_endpoint_url,
)

PRODUCT_ID = "bambi_premium"  # Stripe accepts our own product id: found again by id next time
PRICE_LOOKUP_KEY = "bambi_premium_monthly_eur"
PRICE_EUR_CENTS = 500


class Command(BaseCommand):
    help = "Create or find the Premium product and its 5 €/month price in Stripe (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--create-webhook",
            action="store_true",
            help="Also create the webhook endpoint in Stripe if none has Bambi's URL yet.",
        )

    def handle(self, *args, create_webhook: bool = False, **options):
        if not settings.STRIPE_SECRET_KEY:
            raise CommandError(
                "STRIPE_SECRET_KEY is not set: put your Stripe secret key (sk_test_... or "
                "sk_live_...) in the environment and run billing_setup again."
            )
        try:
            product = self._product()
            price = self._price(product)
            secret = self._webhook(create_webhook)
        except stripe.StripeError as exc:
            raise CommandError(f"Stripe refused or could not be reached: {exc}") from exc

        out = self.stdout
        out.write(f"Product: {product['id']} ({product['name']})")
        out.write(f"Premium price: {price['id']} (5.00 EUR per month)")
        if settings.STRIPE_PREMIUM_PRICE_ID == price["id"]:
            out.write(self.style.SUCCESS("STRIPE_PREMIUM_PRICE_ID is already set to it."))
        else:
            out.write(self.style.WARNING(f"Set STRIPE_PREMIUM_PRICE_ID={price['id']}"))
        out.write(f"Webhook URL to register in Stripe: {webhook_endpoint_url()}")
        out.write(f"Events to send: {', '.join(WEBHOOK_EVENTS)}")
        if secret:
            out.write(self.style.WARNING(f"Set STRIPE_WEBHOOK_SECRET={secret}"))
        if webhook_endpoint_sync(secret=secret or None):
            out.write(self.style.SUCCESS("Webhook endpoint row is ready (STRIPE_WEBHOOK_SECRET)."))
        else:
            out.write(
                self.style.WARNING(
                    "STRIPE_WEBHOOK_SECRET is not set: register the URL above in Stripe, put "
                    "its signing secret (whsec_...) in the environment, then run "
                    "`manage.py migrate` or this command again."
                )
            )

    def _product(self):
        try:
            return stripe.Product.retrieve(PRODUCT_ID, **stripe_options())
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
        return stripe.Product.create(
            id=PRODUCT_ID,
            name="Bambi Premium",
            description="Unlimited generations and unlimited stored API keys.",
            metadata={"bambi_plan": "premium"},
            **stripe_options(),
        )

    def _price(self, product):
        found = stripe.Price.list(
            lookup_keys=[PRICE_LOOKUP_KEY], active=True, limit=1, **stripe_options()
        )
        for price in found["data"]:
            recurring = price.get("recurring") or {}
            if (
                price.get("unit_amount") == PRICE_EUR_CENTS
                and price.get("currency") == "eur"
                and recurring.get("interval") == "month"
                and recurring.get("interval_count") == 1
            ):
                return price
        # No matching price (or the lookup key points at another amount): make the right one
        # and move the lookup key to it, so the next run finds it.
        return stripe.Price.create(
            product=product["id"],
            unit_amount=PRICE_EUR_CENTS,
            currency="eur",
            recurring={"interval": "month"},
            lookup_key=PRICE_LOOKUP_KEY,
            transfer_lookup_key=True,
            nickname="Premium monthly",
            **stripe_options(),
        )

    def _webhook(self, create: bool) -> str:
        """With --create-webhook, register Bambi's URL in Stripe unless already there, and
        return the new signing secret (Stripe shows it only at creation)."""
        if not create:
            return ""
        url = webhook_endpoint_url()
        for endpoint in stripe.WebhookEndpoint.list(
            limit=100, **stripe_options()
        ).auto_paging_iter():
            if endpoint.get("url") == url:
                self.stdout.write("The webhook endpoint already exists in Stripe.")
                return ""
        created = stripe.WebhookEndpoint.create(
            url=url,
            enabled_events=WEBHOOK_EVENTS,
            description="Bambi AI",
            # Events rendered in the version dj-stripe and the handlers read.
            api_version=djstripe_settings.STRIPE_API_VERSION,
            **stripe_options(),
        )
        return created.get("secret") or ""
