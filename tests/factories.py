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
