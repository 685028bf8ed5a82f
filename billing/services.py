"""Writes of the billing app: the Stripe customer, Checkout and Portal sessions, the audit of
plan changes, and the webhook endpoint row that carries STRIPE_WEBHOOK_SECRET.

Stripe is reached through the `stripe` library (as dj-stripe does), with the key and API
version dj-stripe is configured with. A Stripe failure becomes `BillingUnavailable` (502) and
leaves nothing behind in Bambi's database: each service writes only after Stripe answered, or
inside a transaction that the failure rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid

import stripe
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from djstripe.models import Customer, WebhookEndpoint
from djstripe.settings import djstripe_settings

from accounts.models import SecurityEvent, User
from accounts.services import security_event_record
from bambi.errors import BambiError
from billing.plans import FREE, PREMIUM, Plan, current_subscription, plan_for
from billing.selectors import stripe_customer_get

logger = logging.getLogger(__name__)

# The events Bambi acts on; the README asks operators to send exactly these.
WEBHOOK_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
]

# Endpoint rows made from STRIPE_WEBHOOK_SECRET carry this id prefix, so a sync can tell them
# from endpoints an operator created in the admin (those are never touched).
ENV_ENDPOINT_ID_PREFIX = "we_bambi_env_"


class BillingUnavailable(BambiError):
    """Billing cannot be done now: Stripe failed (502) or billing is not configured (503)."""

    http_status = 502


class BillingRefused(BambiError):
    """The request makes no sense for this user now (400), e.g. no subscription to manage."""

    http_status = 400


def _api_key() -> str:
    return djstripe_settings.get_default_api_key(livemode=settings.STRIPE_LIVE_MODE)


def stripe_options() -> dict:
    return {"api_key": _api_key(), "stripe_version": djstripe_settings.STRIPE_API_VERSION}


def billing_configured() -> bool:
    # Read at call time: tests and operators change settings without restarting imports.
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PREMIUM_PRICE_ID)


def _require_configured() -> None:
    if not billing_configured():
        raise BillingUnavailable(
            _("Billing is not configured on this server, so Premium cannot be bought yet."),
            http_status=503,
        )


def _stripe_failed(exc: stripe.StripeError) -> BillingUnavailable:
    # Stripe's own message may name internal ids; the user gets a plain sentence and the
    # operator finds the details in the log.
    logger.warning("Stripe call failed: %s (%s)", type(exc).__name__, exc)
    return BillingUnavailable(
        _(
            "Stripe could not be reached or refused the request. Nothing was charged; "
            "please try again in a minute."
        )
    )


def stripe_customer_for(*, user: User) -> Customer:
    """The user's Stripe customer, created in Stripe the first time and reused afterwards.

    The user row is locked so two simultaneous first checkouts create one customer; dj-stripe
    also sends a stable Idempotency-Key. If Stripe fails, the transaction rolls back the
    idempotency row and nothing is stored.
    """
    existing = stripe_customer_get(user=user)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()
            existing = stripe_customer_get(user=user)
            if existing is not None:
                return existing
            customer, _created = Customer.get_or_create(
                subscriber=user, livemode=settings.STRIPE_LIVE_MODE, api_key=_api_key()
            )
            return customer
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc


def checkout_session_create(*, user: User, success_url: str, cancel_url: str) -> dict:
    """A Stripe Checkout session (subscription mode) for the Premium price.

    Returns {"sessionId", "url"}. Raises BillingUnavailable (503 not configured, 502 Stripe
    failed) or BillingRefused (already Premium: a second subscription would charge twice).
    """
    _require_configured()
    if plan_for(user) == PREMIUM:
        raise BillingRefused(
            _("You are already on Premium. Use “Manage subscription” to change or cancel it.")
        )
    customer = stripe_customer_for(user=user)
    try:
        session = stripe.checkout.Session.create(
            mode="subscription",
            customer=customer.id,
            client_reference_id=str(user.pk),
            line_items=[{"price": settings.STRIPE_PREMIUM_PRICE_ID, "quantity": 1}],
            success_url=success_url,
            cancel_url=cancel_url,
            # Lets the webhook link a subscription to its user even without the session.
            subscription_data={"metadata": {"bambi_user_id": str(user.pk)}},
            **stripe_options(),
        )
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    return {"sessionId": session["id"], "url": session["url"]}


def portal_session_create(*, user: User, return_url: str) -> str:
    """The URL of a Stripe Customer Portal session (change card, invoices, cancel).

    Raises BillingRefused when the user has no Stripe customer yet (nothing to manage).
    """
    _require_configured()
    customer = stripe_customer_get(user=user)
    if customer is None:
        raise BillingRefused(_("You have no subscription to manage yet. Upgrade to Premium first."))
    try:
        session = stripe.billing_portal.Session.create(
            customer=customer.id, return_url=return_url, **stripe_options()
        )
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    return session["url"]


# Subscriptions Stripe would still charge (or retry) for.
_LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")


def subscriptions_cancel_for_deleted_account(user: User) -> None:
    """Account deletion hook: cancel the user's subscriptions in Stripe at once, so a deleted
    account is never charged again. The Stripe customer is kept (its invoices are accounting
    records). If Stripe fails the account is still deleted (the user asked for it): the error
    is logged with the subscription ids for an operator to cancel by hand."""
    from djstripe.models import Subscription

    subscriptions = list(
        Subscription.objects.filter(
            customer__subscriber=user, stripe_data__status__in=_LIVE_STATUSES
        ).values_list("id", flat=True)
    )
    for subscription_id in subscriptions:
        try:
            stripe.Subscription.cancel(subscription_id, **stripe_options())
        except stripe.StripeError as exc:
            logger.error(
                "Could not cancel Stripe subscription %s of deleted user %s: %s. "
                "Cancel it in the Stripe dashboard.",
                subscription_id,
                user.pk,
                exc,
            )


def last_recorded_plan(*, user: User) -> Plan:
    """The plan the audit log last recorded for the user (Free when it never changed)."""
    event = (
        SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PLAN_CHANGED)
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return FREE
    return PREMIUM if event.detail.get("to") == PREMIUM.slug else FREE


@transaction.atomic
def plan_change_record(
    *, user: User, stripe_event: str = "", request: HttpRequest | None = None
) -> SecurityEvent | None:
    """Write a `plan_changed` SecurityEvent if the derived plan differs from the last one
    recorded; otherwise do nothing. Safe to call any number of times (replays, out-of-order
    events): it compares states, it does not count events.

    The user row is locked so two webhooks for the same user cannot both record one change.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    before = last_recorded_plan(user=user)
    after = plan_for(user)
    if before == after:
        return None
    subscription = current_subscription(user)
    return security_event_record(
        kind=SecurityEvent.Kind.PLAN_CHANGED,
        user=user,
        request=request,
        **{
            "from": before.slug,
            "to": after.slug,
            "subscription": subscription.id if subscription else None,
            "status": subscription.stripe_data.get("status") if subscription else None,
            "stripe_event": stripe_event,
        },
    )


def webhook_endpoint_uuid() -> uuid.UUID:
    """The uuid in the webhook URL: derived from Django's SECRET_KEY and the Stripe mode, so
    it is stable across restarts and deploys, known before Stripe issues a signing secret (the
    URL must be registered first), unchanged when the signing secret is rolled, and not
    guessable (junk posts to a guessed URL would each store a rejected trigger row)."""
    mode = "live" if settings.STRIPE_LIVE_MODE else "test"
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"bambi:stripe-webhook:{mode}".encode(), hashlib.sha256
    ).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def webhook_endpoint_url() -> str:
    """The URL to register in Stripe (Developers > Webhooks)."""
    path = reverse("djstripe:djstripe_webhook_by_uuid", args=[webhook_endpoint_uuid()])
    return settings.APP_URL + path


def webhook_endpoint_sync(*, secret: str | None = None) -> WebhookEndpoint | None:
    """Upsert the dj-stripe WebhookEndpoint row that verifies signatures with
    STRIPE_WEBHOOK_SECRET (no Stripe call, no admin step). A rolled secret replaces the old
    one on the same row (same URL); rows this function made for another URL (SECRET_KEY or
    mode changed) are deleted, so nothing keeps accepting an old secret. Returns None when
    no secret is configured."""
    secret = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    if not secret:
        return None
    endpoint_uuid = webhook_endpoint_uuid()
    endpoint_id = ENV_ENDPOINT_ID_PREFIX + endpoint_uuid.hex[:24]
    with transaction.atomic():
        WebhookEndpoint.objects.filter(id__startswith=ENV_ENDPOINT_ID_PREFIX).exclude(
            id=endpoint_id
        ).delete()
        endpoint, _created = WebhookEndpoint.objects.update_or_create(
            id=endpoint_id,
            defaults={
                "djstripe_uuid": endpoint_uuid,
                "secret": secret,
                "url": webhook_endpoint_url(),
                "enabled_events": WEBHOOK_EVENTS,
                "status": "enabled",
                "livemode": settings.STRIPE_LIVE_MODE,
                "api_version": djstripe_settings.STRIPE_API_VERSION,
                "metadata": {},
                "stripe_data": {
                    "id": endpoint_id,
                    "object": "webhook_endpoint",
                    "description": "Bambi (from STRIPE_WEBHOOK_SECRET)",
                },
            },
        )
    return endpoint
