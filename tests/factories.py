"""Factories for tests: real rows through the real models (no mocks), and realistic values.

The one place that makes users, stored keys and generations. Fixtures built on these live in
tests/conftest.py; the providers' wire shapes live in tests/recorded.py."""

from __future__ import annotations

import itertools
import secrets
import string

from allauth.account.models import EmailAddress

from accounts.models import User
from byok.key_checks import key_hint
from byok.models import ApiConfiguration, ImageModel, Provider
from generations.forms import GenerationForm
from generations.models import ImageGeneration
from generations.schemas import normalise_parameters
from generations.services import generation_run
from tests.recorded import contract

PASSWORD = "correct-horse-battery-staple-42"
_counter = itertools.count(1)
_ALPHABET = string.ascii_letters + string.digits


def make_user(
    email: str | None = None, *, password: str = PASSWORD, verified: bool = True, **extra
) -> User:
    """A user who can log in: `password`, and a primary e-mail address (confirmed unless
    `verified=False`). `extra` goes to the model (`is_staff=True`, `usage_count=49`, ...)."""
    email = email or f"user{next(_counter)}@example.com"
    user = User.objects.create_user(email=email, password=password, **extra)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_key(slug: str) -> str:
    """A fresh key of the provider's real shape (unique per call: leak tests search for it):
    the prefix and length of the key in its contract.json (tests/fixtures/providers/<slug>/),
    the rest random. Never one containing "bad": the provider stand-in (tests/standin.py)
    refuses those."""
    shape = contract(slug)["key"]
    dash = shape.rfind("-", 0, 10)
    prefix = shape[: dash + 1] if dash >= 0 else shape[:4]  # "sk-proj-", "xai-", "AIza"
    while True:
        key = prefix + _random(len(shape) - len(prefix))
        if "bad" not in key.lower():
            return key


def make_configuration(
    user: User, provider: Provider, *, name: str | None = None, key: str | None = None, **extra
) -> ApiConfiguration:
    """A stored key written straight through the model: encrypted, no provider call, no plan
    check (so a test can hold rows the Free plan would not let a user add). `extra` goes to
    the model (`is_valid=False`, ...).

    `configuration.clear_key` is the key in clear, for the test's own assertions only (leak
    tests search for it); the row itself never holds it."""
    key = key or new_key(provider.slug)
    configuration = ApiConfiguration(
        user=user,
        provider=provider,
        name=name or f"{provider.name} key",
        key_hint=key_hint(key),
        **extra,
    )
    configuration.api_key = key
    configuration.save()
    configuration.clear_key = key
    return configuration


def image_model(slug: str, model_id: str) -> ImageModel:
    """A model of the seeded catalogue (the `catalogue` fixture seeds it)."""
    return ImageModel.objects.get(provider__slug=slug, model_id=model_id)


def run_generation(
    user: User, configuration: ApiConfiguration, prompt: str, **parameters
) -> ImageGeneration:
    """A generation made through the real proxy, the way the generate page and the API make
    it: the API's parameter names (`modelId`, `size`, ... or `model=<pk>`), the form, then
    generation_run. The provider's HTTP answer is the test's (`rsps` or the stand-in). A
    provider refusal raises GenerationFailed, the failed row stored."""
    form = GenerationForm(
        data={
            "configuration": str(configuration.pk),
            "prompt": prompt,
            **normalise_parameters(parameters),
        },
        user=user,
    )
    assert form.is_valid(), form.errors
    return generation_run(user=user, **form.run_arguments())


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
