"""Asking a provider about a key, and what to tell the user about the answer.

`key_check` asks (through the key-check rate limits) and never raises for the provider's answer
or a network failure: the key is valid, invalid, or could not be checked ("unreachable", 502,
or 504 when the provider did not answer in time). `refusal` turns a check that did not say
"valid" into the KeyNotAccepted to raise; `key_hint` and `scrub_reason` keep the key out of
what is stored and shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from bambi.errors import BambiError
from bambi.ratelimit import key_check_allowed
from byok.models import ApiConfiguration, Provider

# A status line for each way a check can end without an answer on the key itself.
UNREACHABLE_STATUS = 502
TIMEOUT_STATUS = 504


class KeyNotAccepted(BambiError):
    """The key could not be stored: the provider refused it (400) or could not be asked
    (502, 504 on a timeout). `message` is a sentence for the user; nothing was written."""


@dataclass(frozen=True)
class KeyCheckResult:
    """What a provider said about a key: `status` is valid / invalid / unreachable;
    `timed_out` says an "unreachable" check ran out of time (504 rather than 502)."""

    status: str
    reason: str | None
    timed_out: bool = False

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"


def key_hint(key: str) -> str:
    """A recognisable, harmless hint: `sk-…Qa42` (at most 7 characters of the key).

    Short keys reveal less, so the hint never gives away most of a key."""
    key = key.strip()
    if len(key) >= 16:
        return f"{key[:3]}…{key[-4:]}"
    if len(key) >= 8:
        return f"…{key[-2:]}"
    return "…"


# Providers echo a masked key in some messages ("Incorrect API key provided: sk-ab****1234").
_MASKED_KEY = re.compile(r"\S*\*{3,}\S*")


@sensitive_variables("key", "chunk")
def scrub_reason(reason: str | None, key: str | None = None) -> str | None:
    """The provider's reason without the key or any echoed part of it, so it can be stored,
    shown and logged."""
    if not reason:
        return reason
    reason = _MASKED_KEY.sub("…", reason)
    if key:
        key = key.strip()
        if key and key in reason:
            reason = reason.replace(key, key_hint(key))
        # Any 8-character run of the key is more than the hint shows.
        for start in range(max(len(key) - 7, 0)):
            chunk = key[start : start + 8]
            if len(chunk) == 8 and chunk in reason:
                reason = reason.replace(chunk, "…")
    return reason[:500]


@sensitive_variables("key")
def key_check(
    *, provider: Provider, key: str, user, request: HttpRequest | None = None
) -> KeyCheckResult:
    """Ask the provider (at the row's `api_base_url`) whether `key` works. Never raises for
    an answer of the provider or a network failure: those become invalid / unreachable.

    Counted against the key-check rate limits of `user` and of the client first: over them,
    RateLimitExceeded is raised and the provider is not asked (bambi.ratelimit)."""
    from byok.providers import get_provider

    key_check_allowed(user=user, request=request)

    adapter = get_provider(provider.slug, provider.api_base_url)
    check = adapter.validate_key(key)
    return KeyCheckResult(
        status=check.status,
        reason=scrub_reason(check.reason, key),
        timed_out=check.status == "unreachable" and check.timed_out,
    )


def refusal(check: KeyCheckResult, provider: Provider, *, stored: bool = False) -> KeyNotAccepted:
    """The exception that tells the user why a key was not accepted. `stored`: the key is
    already saved (a re-validation), so an unanswered check leaves it as it was."""
    names = {"provider": provider.name}
    if check.status == "invalid":
        if check.reason:
            message = _("%(provider)s refused this key: %(reason)s") % {
                **names,
                "reason": check.reason,
            }
        else:
            message = _("%(provider)s refused this key.") % names
        return KeyNotAccepted(message, http_status=400)
    timed_out = check.timed_out
    if stored and timed_out:
        message = _(
            "%(provider)s did not answer in time, so the key could not be checked; it keeps "
            "its current status. Please try again in a moment."
        )
    elif stored:
        message = _(
            "%(provider)s could not be reached, so the key could not be checked; it keeps its "
            "current status. Please try again in a moment."
        )
    elif timed_out:
        message = _(
            "%(provider)s did not answer in time, so the key could not be checked and was "
            "not saved. Please try again in a moment."
        )
    else:
        message = _(
            "%(provider)s could not be reached, so the key could not be checked and was not "
            "saved. Please try again in a moment."
        )
    return KeyNotAccepted(
        message % names, http_status=TIMEOUT_STATUS if timed_out else UNREACHABLE_STATUS
    )


def revalidation_message(check: KeyCheckResult, configuration: ApiConfiguration) -> str:
    """A sentence for the user about a re-validation."""
    if check.is_valid:
        return _("%(provider)s accepted the key “%(name)s”.") % {
            "provider": configuration.provider.name,
            "name": configuration.name,
        }
    return refusal(check, configuration.provider, stored=True).message
