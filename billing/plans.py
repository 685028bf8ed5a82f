"""The one place that says which plan a user is on and what it allows.

The plan is never stored: it is derived, at every request, from the Subscription rows that
dj-stripe keeps in sync with Stripe (webhooks re-fetch each subscription from the API, so a
row always holds Stripe's latest state).

Rules:
- Premium = at least one of the user's subscriptions (any of their Stripe customers, in the
  configured live/test mode) is `active` or `trialing`. A second subscription (a double
  checkout, one made by an operator in the dashboard) changes nothing; the plan is Premium as
  long as any of them grants it, so cancelling one of two keeps Premium.
- Or: an operator gave the user complimentary Premium (the admin's action, audited in the
  security log) and `User.complimentary_premium_until` is still in the future. It is an
  honest, separate fact (no fake Stripe subscription), shown as such on the billing page, and
  it ends by itself.
- Everything else is Free: no customer, `canceled`, `incomplete` (first payment not made),
  `incomplete_expired`, `unpaid`, `paused` and `past_due`.
- `past_due` (a renewal payment failed; Stripe retries for a while) is Free. Premium is sold
  as a paid period (README: 5 €/month), and the period in question is not paid. Nothing
  is lost by it: stored keys stay stored and usable, only adding keys and generating past 50
  are blocked, and the moment Stripe collects the payment (a retry, or a new card in the
  Customer Portal) the subscription is `active` again and Premium comes back at once with the
  `customer.subscription.updated` event. The billing page tells the user the payment failed
  and links to the portal to fix the card.

Callers: byok (key limit), tokens (API token limit), generations (quota, /api/usage/), the
admin's user list (through `with_plan_annotations`, one query for the whole page) and the
billing page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bambi.errors import BambiError

PREMIUM_STATUSES = ("active", "trialing")


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    generations_per_period: int | None  # None = unlimited
    configurations: int | None  # None = unlimited
    monthly_price_eur: int
    api_tokens: int  # personal API tokens that work at once (tokens app)


FREE = Plan(
    "free",
    _("Free"),
    generations_per_period=50,
    configurations=1,
    monthly_price_eur=0,
    api_tokens=1,
)
PREMIUM = Plan("premium", _("Premium"), None, None, monthly_price_eur=5, api_tokens=20)
PLANS = {FREE.slug: FREE, PREMIUM.slug: PREMIUM}

# Set on users by `with_plan_annotations` (the admin's list): read instead of querying again.
_PREMIUM_ATTR = "billing_is_premium"
_STATUS_ATTR = "billing_subscription_status"


def _subscriptions():
    """Subscriptions of the configured mode (a test-mode subscription never grants live
    Premium), newest first."""
    from djstripe.models import Subscription

    return Subscription.objects.filter(livemode=settings.STRIPE_LIVE_MODE).order_by(
        "-created", "-djstripe_created"
    )


def _premium_subscriptions():
    return _subscriptions().filter(stripe_data__status__in=PREMIUM_STATUSES)


def premium_subscription(user):
    """The user's newest premium-granting dj-stripe Subscription, or None."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return _premium_subscriptions().filter(customer__subscriber=user).first()


def premium_subscription_exists(user_id) -> tuple[str, tuple]:
    """`premium_subscription`'s question as an SQL `EXISTS (...)` and its parameters, for a
    statement that decides on the plan in the same round trip (generations.quota)."""
    from django.db import connection

    rows = _premium_subscriptions().filter(customer__subscriber_id=user_id).values("pk")[:1]
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    return f"EXISTS ({sql})", tuple(params)


def current_subscription(user):
    """The subscription the user's billing is about: the premium-granting one if any, else
    the newest one whatever its status (past_due, canceled...), else None."""
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return None
    return premium_subscription(user) or (
        _subscriptions().filter(customer__subscriber=user).first()
    )


def complimentary_premium_active(user, now=None) -> bool:
    """Whether an operator's gift of Premium covers `user` now (no query: a user field)."""
    until = getattr(user, "complimentary_premium_until", None)
    return until is not None and until > (now or timezone.now())


def plan_for(user) -> Plan:
    """The user's plan now (Free for anonymous users)."""
    annotated = getattr(user, _PREMIUM_ATTR, None)
    if annotated is not None:
        return PREMIUM if annotated else FREE
    if complimentary_premium_active(user):
        return PREMIUM
    return PREMIUM if premium_subscription(user) is not None else FREE


def subscription_status_for(user) -> str | None:
    """Stripe's status of the user's current subscription (see `current_subscription`)."""
    if hasattr(user, _STATUS_ATTR):
        return getattr(user, _STATUS_ATTR)
    subscription = current_subscription(user)
    return subscription.stripe_data.get("status") if subscription is not None else None


def with_plan_annotations(users: QuerySet) -> QuerySet:
    """Annotate a user queryset so `plan_for` and `subscription_status_for` need no query
    per user (the admin's list of users)."""
    premium = _premium_subscriptions().filter(customer__subscriber=OuterRef("pk"))
    newest = _subscriptions().filter(customer__subscriber=OuterRef("pk"))
    status = KT("stripe_data__status")
    # IS NOT NULL first: "NULL > now" is NULL in SQL, and "false OR NULL" would be too.
    complimentary = Q(complimentary_premium_until__isnull=False) & Q(
        complimentary_premium_until__gt=timezone.now()
    )
    return users.annotate(
        **{
            _PREMIUM_ATTR: ExpressionWrapper(
                Exists(premium) | complimentary, output_field=BooleanField()
            ),
            # Same choice as `current_subscription`: the premium-granting one, else the newest.
            _STATUS_ATTR: Coalesce(
                Subquery(premium.annotate(s=status).values("s")[:1]),
                Subquery(newest.annotate(s=status).values("s")[:1]),
            ),
        }
    )


class PlanLimitReached(BambiError):
    """The user's plan does not allow this (403); the message offers the upgrade."""

    http_status = 403
