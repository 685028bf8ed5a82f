"""The one place that says which plan a user is on and what it allows.

Premium = a Stripe subscription (synced by dj-stripe) in status `active` or `trialing`.
Everything else - no customer, canceled, past_due, unpaid, incomplete - is Free.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

PREMIUM_STATUSES = ("active", "trialing")


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    generations_per_period: int | None  # None = unlimited
    configurations: int | None  # None = unlimited
    monthly_price_eur: int


FREE = Plan("free", _("Free"), generations_per_period=50, configurations=1, monthly_price_eur=0)
PREMIUM = Plan("premium", _("Premium"), None, None, monthly_price_eur=5)


def premium_subscription(user):
    """The user's current premium-granting dj-stripe Subscription, or None."""
    from djstripe.models import Subscription

    if not user.is_authenticated:
        return None
    return (
        Subscription.objects.filter(
            customer__subscriber=user, stripe_data__status__in=PREMIUM_STATUSES
        )
        .order_by("-created")
        .first()
    )


def plan_for(user) -> Plan:
    return PREMIUM if premium_subscription(user) is not None else FREE


class PlanLimitReached(Exception):
    """The user's plan does not allow this; the message offers the upgrade."""
