"""Reads of the billing app: what the billing page shows about a user's subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from djstripe.models import Customer

from accounts.models import User
from billing.plans import Plan, complimentary_premium_active, current_subscription, plan_for

STATUS_LABELS = {
    "active": _("Active"),
    "trialing": _("Trial"),
    "past_due": _("Payment failed"),
    "unpaid": _("Unpaid"),
    "incomplete": _("Awaiting first payment"),
    "incomplete_expired": _("Expired"),
    "canceled": _("Cancelled"),
    "paused": _("Paused"),
}

# Statuses where Stripe still expects money: the page asks the user to fix the card.
PAYMENT_PROBLEM_STATUSES = ("past_due", "unpaid", "incomplete")


def _timestamp(value) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def stripe_customer_get(*, user: User) -> Customer | None:
    """The user's Stripe customer in the configured mode, or None (never calls Stripe)."""
    return (
        Customer.objects.filter(
            subscriber=user, livemode=settings.STRIPE_LIVE_MODE, date_purged__isnull=True
        )
        .order_by("djstripe_created")
        .first()
    )


@dataclass(frozen=True)
class BillingOverview:
    plan: Plan
    status: str | None  # Stripe's subscription status, None without a subscription
    period_end: datetime | None  # end of the paid period (renewal or end of access)
    cancels_at: datetime | None  # set when the subscription ends at that date
    has_customer: bool
    # Premium given by an operator (billing.plans), until this moment; None when not running.
    complimentary_until: datetime | None = None

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status or "", self.status or ""))

    @property
    def payment_problem(self) -> bool:
        return self.status in PAYMENT_PROBLEM_STATUSES


def billing_overview(*, user: User) -> BillingOverview:
    subscription = current_subscription(user)
    data = subscription.stripe_data if subscription is not None else {}
    items = ((data.get("items") or {}).get("data")) or []
    # Since API 2025-03-31.basil the billing period lives on the items, not the subscription.
    period_end = _timestamp(
        max((item.get("current_period_end") or 0 for item in items), default=0)
        or data.get("current_period_end")
    )
    cancels_at = _timestamp(data.get("cancel_at"))
    if cancels_at is None and data.get("cancel_at_period_end"):
        cancels_at = period_end
    if data.get("status") not in ("active", "trialing"):
        cancels_at = None  # already ended or not started: "cancels on" would mislead
    return BillingOverview(
        plan=plan_for(user),
        status=data.get("status"),
        period_end=period_end,
        cancels_at=cancels_at,
        has_customer=stripe_customer_get(user=user) is not None,
        complimentary_until=(
            user.complimentary_premium_until if complimentary_premium_active(user) else None
        ),
    )
