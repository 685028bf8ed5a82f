"""Bambi's handlers for the Stripe events dj-stripe receives.

dj-stripe verifies the signature, stores the Event and, in its own handlers (connected first,
so they run before these), re-fetches the object from the Stripe API and syncs its rows. So
when a handler below runs, the Subscription rows already hold Stripe's *latest* state,
whatever order the events came in. The plan itself is derived from those rows
(`billing.plans`); these handlers only:

1. link a Stripe customer to its user when dj-stripe cannot know it (a customer made by
   Checkout rather than by `stripe_customer_for`), from the session's `client_reference_id`
   or the `bambi_user_id` metadata Bambi puts on subscriptions;
2. record a plan change in the audit log (`plan_change_record` compares states, so a replay
   or a duplicate event records nothing).

dj-stripe does not fire these signals again for an event it already stored (a replay), and
both steps are idempotent anyway. A downgrade deletes nothing: keys and images stay.
"""

from __future__ import annotations

import logging

import stripe
from django.dispatch import receiver
from djstripe.models import Customer, Event, Subscription
from djstripe.settings import djstripe_settings
from djstripe.signals import WEBHOOK_SIGNALS

from accounts.models import User
from bambi.ids import parse_uuid
from billing.services import plan_change_record

logger = logging.getLogger(__name__)


def _user_by_id(value) -> User | None:
    pk = parse_uuid(value)
    return User.objects.filter(pk=pk).first() if pk is not None else None


def _customer(customer_id) -> Customer | None:
    if not isinstance(customer_id, str) or not customer_id:
        return None
    return Customer.objects.select_related("subscriber").filter(id=customer_id).first()


def _link(customer: Customer | None, user_id) -> User | None:
    """The customer's user, linking it to `user_id` first if it has no user yet.
    A customer already linked to someone is never moved to another user."""
    if customer is None:
        return None
    if customer.subscriber is not None:
        return customer.subscriber
    user = _user_by_id(user_id) if user_id else None
    if user is None:
        user = _user_by_id((customer.stripe_data.get("metadata") or {}).get("djstripe_subscriber"))
    if user is None:
        return None
    customer.subscriber = user
    customer.save(update_fields=["subscriber"])
    logger.info("Linked Stripe customer %s to user %s", customer.id, user.pk)
    return user


def _record(user: User | None, event: Event) -> None:
    if user is not None:
        plan_change_record(user=user, stripe_event=event.id)


@receiver(WEBHOOK_SIGNALS["checkout.session.completed"], sender=Event)
def on_checkout_completed(sender, event: Event, **kwargs) -> None:
    session = event.data.get("object", {})
    if session.get("mode") != "subscription":
        return
    user = _link(_customer(session.get("customer")), session.get("client_reference_id"))
    _record(user, event)


@receiver(WEBHOOK_SIGNALS["customer.subscription.created"], sender=Event)
@receiver(WEBHOOK_SIGNALS["customer.subscription.updated"], sender=Event)
@receiver(WEBHOOK_SIGNALS["customer.subscription.deleted"], sender=Event)
def on_subscription_changed(sender, event: Event, **kwargs) -> None:
    data = event.data.get("object", {})
    subscription = (
        Subscription.objects.select_related("customer__subscriber")
        .filter(id=data.get("id"))
        .first()
    )
    if subscription is None:  # gone from Stripe before we processed the event
        return
    metadata = subscription.stripe_data.get("metadata") or {}
    user = _link(subscription.customer, metadata.get("bambi_user_id"))
    _record(user, event)


def _invoice_subscription_id(invoice: dict) -> str | None:
    # Since API 2025-03-31.basil the subscription sits under parent.subscription_details;
    # older versions had it at the top level.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = details.get("subscription") or invoice.get("subscription")
    if isinstance(subscription_id, dict):
        subscription_id = subscription_id.get("id")
    return subscription_id or None


@receiver(WEBHOOK_SIGNALS["invoice.payment_failed"], sender=Event)
def on_payment_failed(sender, event: Event, **kwargs) -> None:
    """A renewal failed: Stripe moves the subscription to `past_due` (Free, see plans.py).
    The `customer.subscription.updated` event saying so may come before or after this one,
    so re-sync the subscription from the API here too: the plan is right either way."""
    invoice = event.data.get("object", {})
    subscription_id = _invoice_subscription_id(invoice)
    if subscription_id:
        data = stripe.Subscription.retrieve(
            subscription_id,
            api_key=event.default_api_key,
            stripe_version=djstripe_settings.STRIPE_API_VERSION,
        )
        subscription = Subscription.sync_from_stripe_data(data, api_key=event.default_api_key)
        metadata = subscription.stripe_data.get("metadata") or {}
        user = _link(subscription.customer, metadata.get("bambi_user_id"))
    else:
        user = _link(_customer(invoice.get("customer")), None)
    _record(user, event)
