"""Configuration checks: settings that can be verified without the network are verified at start.

Django runs system checks before `runserver` serves, before `migrate` and in `check`;
`bambi/wsgi.py` runs them when gunicorn loads the app. A value that cannot work (an
ENCRYPTION_KEY that is not a key, an APP_URL without a scheme, a Stripe secret key in the
publishable key's place) therefore stops start-up with a sentence naming the variable and the
expected format, instead of a 500 for the first user who needs it. Values are never echoed:
most of them are secrets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Bambi's own configuration checks; app servers run these (and only these: dj-stripe's checks
# query the database, which must not decide whether the app starts).
TAG = "bambi_configuration"

ENCRYPTION_KEY_FORMAT = (
    "32 random bytes in url-safe base64 (44 characters); make one with scripts/new-encryption-key"
)
_STRIPE_FORMATS = {
    # setting: (pattern, what it should look like)
    "STRIPE_SECRET_KEY": (r"(sk|rk)_(test|live)_\w+", "sk_test_… or sk_live_… (or rk_…)"),
    "STRIPE_PUBLISHABLE_KEY": (r"pk_(test|live)_\w+", "pk_test_… or pk_live_…"),
    "STRIPE_WEBHOOK_SECRET": (r"whsec_\w+", "whsec_…"),
    "STRIPE_PREMIUM_PRICE_ID": (r"price_\w+", "price_… (printed by manage.py billing_setup)"),
}


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


@checks.register(TAG, checks.Tags.security)
def check_encryption_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from byok.crypto import _decode_key

    keys = list(getattr(settings, "ENCRYPTION_KEYS", []))
    if not keys:
        return [
            checks.Error(
                "ENCRYPTION_KEY is empty.",
                hint=f"Set it to one or more comma-separated keys, each {ENCRYPTION_KEY_FORMAT}.",
                id="bambi.E001",
            )
        ]
    errors = []
    for position, raw in enumerate(keys, start=1):
        try:
            _decode_key(raw)
        except ImproperlyConfigured:
            name = (
                "ENCRYPTION_KEY"
                if len(keys) == 1
                else f"The {_ordinal(position)} key of ENCRYPTION_KEY"
            )
            errors.append(
                checks.Error(
                    f"{name} is not a valid key: each key must be {ENCRYPTION_KEY_FORMAT}.",
                    hint="Several keys are separated by commas; the first one encrypts.",
                    id="bambi.E001",
                )
            )
    return errors


def _url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must start with https:// (or http://) followed by a host name"
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "has a port that is not a number"
    return None


@checks.register(TAG)
def check_urls(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    app_url = settings.APP_URL
    problem = _url_problem(app_url)
    if problem is None and urlsplit(app_url).path not in ("", "/"):
        problem = "must be the site's root, without a path"
    if problem:
        errors.append(
            checks.Error(
                f"APP_URL {problem}.",
                hint="For example APP_URL=https://bambi.example.com",
                id="bambi.E002",
            )
        )
    if settings.STRIPE_API_BASE and (problem := _url_problem(settings.STRIPE_API_BASE)):
        errors.append(
            checks.Error(
                f"STRIPE_API_BASE {problem}.",
                hint="Leave it unset to talk to Stripe itself (https://api.stripe.com).",
                id="bambi.E002",
            )
        )
    return errors


@checks.register(TAG)
def check_stripe(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for name, (pattern, shape) in _STRIPE_FORMATS.items():
        value = getattr(settings, name, "")
        if value and not re.fullmatch(pattern, value):
            messages.append(
                checks.Error(
                    f"{name} does not look like a Stripe value of its kind: expected {shape}.",
                    hint="Copy it from the Stripe dashboard (Developers → API keys / Webhooks).",
                    id="bambi.E003",
                )
            )
    secret = settings.STRIPE_SECRET_KEY
    if secret and re.fullmatch(_STRIPE_FORMATS["STRIPE_SECRET_KEY"][0], secret):
        live_key = "_live_" in secret
        if live_key != settings.STRIPE_LIVE_MODE:
            messages.append(
                checks.Error(
                    "STRIPE_SECRET_KEY is a "
                    + ("live" if live_key else "test")
                    + " key but STRIPE_LIVE_MODE is "
                    + ("off." if live_key else "on."),
                    hint="STRIPE_LIVE_MODE=1 goes with live keys; leave it unset with test keys.",
                    id="bambi.E003",
                )
            )
    if secret and not settings.STRIPE_PREMIUM_PRICE_ID:
        messages.append(
            checks.Warning(
                "STRIPE_SECRET_KEY is set but STRIPE_PREMIUM_PRICE_ID is not: billing stays off.",
                hint="Run manage.py billing_setup; it prints the price id to set.",
                id="bambi.W003",
            )
        )
    return messages


@checks.register(TAG)
def check_oauth_pairs(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    warnings = []
    for provider in ("GOOGLE", "GITHUB"):
        client_id = os.environ.get(f"{provider}_CLIENT_ID", "")
        secret = os.environ.get(f"{provider}_CLIENT_SECRET", "")
        if bool(client_id) != bool(secret):
            present, absent = (
                ("CLIENT_ID", "CLIENT_SECRET") if client_id else ("CLIENT_SECRET", "CLIENT_ID")
            )
            warnings.append(
                checks.Warning(
                    f"{provider}_{present} is set but {provider}_{absent} is not: "
                    f"{provider.title()} login stays off.",
                    hint="Set both (README, OAuth) or neither.",
                    id="bambi.W004",
                )
            )
    return warnings


@checks.register(TAG)
def check_limits(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for name in (
        "PROVIDER_CONNECT_TIMEOUT",
        "PROVIDER_READ_TIMEOUT",
        "IMAGE_DOWNLOAD_MAX_BYTES",
        "INPUT_IMAGE_MAX_BYTES",
        "INPUT_IMAGE_MAX_PIXELS",
        "GENERATION_REQUEST_MAX_BYTES",
    ):
        if getattr(settings, name) <= 0:
            errors.append(checks.Error(f"{name} must be a number above 0.", id="bambi.E004"))
    return errors


@checks.register(TAG)
def check_media_root(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Images are written under MEDIA_ROOT unless S3 is configured: it must be writable."""
    backend = settings.STORAGES["default"]["BACKEND"]
    if backend != "django.core.files.storage.FileSystemStorage":
        return []
    path = Path(settings.MEDIA_ROOT)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return []
    what = "is not a directory" if existing == path else f"cannot be created in {existing}"
    if existing == path and existing.is_dir():
        what = "is not writable by this process"
    return [
        checks.Error(
            f"MEDIA_ROOT ({path}) {what}: generated images could not be stored.",
            hint="Point MEDIA_ROOT at a writable directory, or configure S3 storage (README).",
            id="bambi.E005",
        )
    ]


def refuse_bad_configuration() -> None:
    """Raise ImproperlyConfigured listing every serious check message (for app servers, which
    do not run Django's checks themselves)."""
    serious = [
        message
        for message in checks.run_checks(tags=[TAG])
        if message.is_serious() and not message.is_silenced()
    ]
    if serious:
        raise ImproperlyConfigured(
            "Bambi cannot start with this configuration:\n"
            + "\n".join(f"  {message}" for message in serious)
        )
