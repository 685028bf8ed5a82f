"""The few exceptions every provider failure becomes (sentry-style: classified by status and body).

Callers catch `ProviderError` and answer `exc.http_status` with `exc.message`. `InvalidKey` is the
one that also marks the configuration `is_valid = False`.

Messages are the provider's own words when it gave some, passed through `bambi.http.redact` and
cut to a sane length; otherwise the class's `default_message`. They never hold a key: the adapter
also scrubs the literal key of the call (`ProviderError.scrub`) before the error leaves it.
"""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext, gettext_noop

from bambi.errors import BambiError
from bambi.http import REDACTED, redact

MAX_MESSAGE_LENGTH = 500


class ProviderError(BambiError):
    """Base class. `.message` is safe to show to the user; `.http_status` is what Bambi answers."""

    http_status: ClassVar[int] = 502
    default_message: ClassVar[str] = gettext_noop(
        "The image provider could not complete the request."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        provider_status: int | None = None,
        code: str | None = None,
    ) -> None:
        text = redact(str(message)).strip() if message else ""
        if len(text) > MAX_MESSAGE_LENGTH:
            text = text[: MAX_MESSAGE_LENGTH - 1] + "…"
        # Defaults are translated here, in the language of the request the error belongs to.
        self.message: str = text or gettext(self.default_message)
        # What the provider answered, for logs and tests; never shown as-is to the user.
        self.provider_status = provider_status
        self.code = code
        super().__init__(self.message)

    def scrub(self, secret: str | None) -> ProviderError:
        """Remove `secret` from the message (a provider may echo the key back). Returns self."""
        if secret and secret in self.message:
            self.message = self.message.replace(secret, REDACTED)
            self.args = (self.message,)
        return self

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, provider_status={self.provider_status!r})"


class InvalidKey(ProviderError):
    """The provider rejected the key: the configuration must be marked invalid."""

    http_status = 400
    default_message = gettext_noop(
        "The provider rejected this API key. Check the key and save it again."
    )


class ContentRefused(ProviderError):
    """The provider's safety system refused the prompt or its result (silent refusals too)."""

    http_status = 422
    default_message = gettext_noop(
        "The provider's safety system refused this prompt. Try rewording it."
    )


class RateLimited(ProviderError):
    """Too many requests for this key right now; trying again later may work. `retry_after`:
    the seconds the provider said to wait (its Retry-After), when it said."""

    http_status = 429
    default_message = gettext_noop(
        "The provider is rate-limiting this key. Wait a moment and try again."
    )
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class OutOfCredit(ProviderError):
    """The key is fine but its account has no credit, hit a spending limit, or is not billed."""

    http_status = 429
    default_message = gettext_noop(
        "The provider account behind this key has no credit left or no billing set up."
    )


class BadRequest(ProviderError):
    """The provider says the request is wrong (unsupported option, unknown or retired model)."""

    http_status = 400
    default_message = gettext_noop("The provider refused the request as invalid.")


class ProviderUnavailable(ProviderError):
    """The provider failed: 5xx, unreadable answer, no image, network error, failed download."""

    http_status = 502
    default_message = gettext_noop(
        "The image provider is unavailable or sent an unusable answer. Try again later."
    )


class ProviderTimeout(ProviderError):
    """The provider did not answer in time. The generation was not retried (it may be billed)."""

    http_status = 504
    default_message = gettext_noop("The image provider took too long to answer.")


class RefusedByBambi(ProviderUnavailable):
    """Bambi itself refused what the provider did (an address, an answer): the message is
    Bambi's own sentence, not the provider's words."""


class PrivateNetworkRefused(RefusedByBambi):
    """Bambi refused to connect: the provider's base URL, or an image address it answered
    with, is on a private network (see bambi.http's network guard). Nothing was sent there."""

    default_message = gettext_noop(
        "The provider sent an image address on a private network; Bambi did not fetch it."
    )


class AnswerTooLarge(RefusedByBambi):
    """The provider's answer went past PROVIDER_MAX_RESPONSE_BYTES; it was not read further."""

    default_message = gettext_noop(
        "The provider's answer was larger than Bambi accepts, so it was not used."
    )
