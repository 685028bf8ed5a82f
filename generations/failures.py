"""How a failed generation is told: the error it raises and the sentence the user reads.

`GenerationFailed` carries the failed generation row, the sentence and the status to answer;
`failure_sentence` leads with what happened, by kind of provider error, then the provider's own
words."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bambi.errors import BambiError
from byok.providers import errors as provider_errors
from generations.models import ImageGeneration


class GenerationFailed(BambiError):
    """The provider call (or storing its answer) failed; the generation row says why.

    `message` is a sentence for the user (it includes the provider's own words when useful);
    `http_status` is what the API answers (400/422/429/502/504). `cause` is the provider's
    error when the provider answered with one (None when the call went through and what came
    back could not be used: the provider may have billed the key for it).
    """

    def __init__(
        self,
        generation: ImageGeneration,
        message: str,
        http_status: int,
        cause: provider_errors.ProviderError | None = None,
    ):
        super().__init__(message, http_status=http_status)
        self.generation = generation
        self.cause = cause

    def headers(self) -> dict[str, str]:
        return self.cause.headers() if self.cause is not None else {}


# What the user is told first about a failed provider call, by kind (the first that matches);
# the provider's own words follow.
FAILURE_LEADS = [
    (
        provider_errors.InvalidKey,
        gettext_lazy(
            "The provider rejected this API key; it is now marked invalid. Replace it on "
            "the Keys page."
        ),
    ),
    (provider_errors.ContentRefused, gettext_lazy("The provider refused to make this image.")),
    (
        provider_errors.OutOfCredit,
        gettext_lazy("The provider account behind this key is out of credit."),
    ),
    (
        provider_errors.RateLimited,
        gettext_lazy("The provider is rate-limiting this key; wait a moment and try again."),
    ),
    (provider_errors.BadRequest, gettext_lazy("The provider did not accept the request.")),
    (
        provider_errors.ProviderTimeout,
        gettext_lazy("The provider took too long to answer. Nothing was charged to your quota."),
    ),
    (
        provider_errors.ProviderUnavailable,
        gettext_lazy("The provider failed to make the image. Nothing was charged to your quota."),
    ),
    (provider_errors.ProviderError, gettext_lazy("The provider could not complete the request.")),
]


def failure_sentence(exc: provider_errors.ProviderError) -> str:
    """A sentence for the user that names what happened and keeps the provider's words."""
    said = exc.message
    if isinstance(exc, provider_errors.RefusedByBambi):
        # Bambi's own refusal, not the provider's words: said as it is.
        return _("%(said)s Nothing was charged to your quota.") % {"said": said}
    lead = next(str(lead) for kind, lead in FAILURE_LEADS if isinstance(exc, kind))
    if said and said not in lead:
        return _("%(lead)s The provider said: %(said)s") % {"lead": lead, "said": said}
    return lead
