"""Small factories for tests: real rows through the real models, no mocks."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from accounts.models import User

PASSWORD = "correct-horse-battery-staple-42"
_counter = itertools.count(1)


def make_user(
    email: str | None = None, *, password: str = PASSWORD, verified: bool = True, **extra
) -> User:
    email = email or f"user{next(_counter)}@example.com"
    user = User.objects.create_user(email=email, password=password, **extra)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


def make_premium(user: User):
    """Make `user` Premium the way Stripe's webhooks leave it: a customer with an active
    subscription (billing/plans.py derives the plan from it)."""
    from djstripe.models import Customer

    suffix = user.pk.hex[:20]
    customer = Customer.objects.create(id=f"cus_{suffix}", subscriber=user, livemode=False)
    customer.subscriptions.create(
        id=f"sub_{suffix}", livemode=False, stripe_data={"status": "active"}
    )
    return customer


def make_token(user: User, name: str = "Script", **options):
    """A personal API token of `user`, made by the service the page and the API use; the
    result carries `.token` (the row) and `.secret` (the bmb_… string, shown once)."""
    from tokens.services import api_token_create

    return api_token_create(user=user, name=name, **options)
