"""The generation run: the synchronous proxy from a cleaned request to a provider and back.

`generation_run` is the one path for the generate page and POST /api/generations/; both clean
their input with GenerationForm first (generations/forms.py), so it checks nothing again. The
other jobs of the app have their own modules: quota.py (taking and giving back slots, the
sweep of abandoned generations), storage.py (files, thumbnails), deletion.py, export.py.

Its steps, and why they are not one big transaction:

1. check the per-minute rate limit (nothing is written when refused);
2. reserve one quota slot: one conditional UPDATE, committed at once (generations.quota);
3. write the generation row as `pending` (committed, so the gallery shows it during the call);
4. decrypt the key and call the provider, outside any transaction: the call can take a minute
   and must not hold a row lock or a connection in a transaction meanwhile;
5. write the files (decoded and checked first), then the rows in one atomic block; if that
   block fails the files are deleted again, so no file exists without its row;
6. on any failure: the generation becomes `failed` with the provider's own message, the slot
   is refunded, and the key is marked invalid when the provider said the key is bad.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from bambi.dates import add_months
from bambi.errors import BambiError
from bambi.ratelimit import generation_allowed
from bambi.redaction import redact
from byok.catalogue import estimate_cost
from byok.crypto import DecryptionError
from byok.models import ApiConfiguration, ImageModel
from byok.providers import errors as provider_errors
from byok.providers import get_provider
from byok.services import api_configuration_mark_invalid
from generations import storage
from generations.models import ApiUsage, Image, ImageGeneration
from generations.quota import Reservation, quota_refund, quota_reserve
from tokens.models import ApiToken
from tokens.services import api_token_check_model

logger = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)


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


@sensitive_variables("key")
def generation_run(
    *,
    user: User,
    configuration: ApiConfiguration,
    model: ImageModel,
    prompt: str,
    options: dict,
    api_token: ApiToken | None = None,
) -> ImageGeneration:
    """Generate images with one of the user's keys and keep them in their gallery.

    The arguments are what GenerationForm cleaned for `user`: the key is theirs and usable,
    the model active and of the key's provider, `options` allowed by the model with its
    defaults filled in. `api_token`: the personal token the request came with (None from the
    dashboard), recorded on the generation. Returns the completed generation. Raises
    TokenNotAllowed (the token may not use this model), RateLimitExceeded (too many
    generations this minute; nothing stored), PlanLimitReached (quota used up) or
    GenerationFailed (the provider failed: the generation is stored as failed, quota
    refunded); all of them are BambiErrors with the sentence and status to answer, and none
    but the last writes anything.
    """
    provider = configuration.provider
    cost_estimate = estimate_cost(model.capabilities or {}, options)

    api_token_check_model(token=api_token, model=model)  # TokenNotAllowed: 403, nothing done
    generation_allowed(user=user)  # RateLimitExceeded: nothing reserved, no provider call
    reservation = quota_reserve(user=user)
    try:
        generation = ImageGeneration.objects.create(
            user=user,
            configuration=configuration,
            model=model,
            provider=provider,
            api_token=api_token,
            prompt=prompt,
            # Only validated option values and the model's id: never anything from the key.
            parameters={"model_id": model.model_id, **options},
            status=ImageGeneration.Status.PENDING,
            cost_estimate=cost_estimate,
        )
    except BaseException:
        quota_refund(reservation=reservation, user=user)
        raise

    started = time.monotonic()
    key = None
    _release_connection()
    try:
        key = configuration.api_key
        output = get_provider(provider.slug, provider.api_base_url).generate(
            key=key, model_id=model.model_id, prompt=generation.prompt, options=options
        )
        if not output.images:
            raise provider_errors.ContentRefused()
        stored = storage.images_store(
            user_id=user.pk,
            generation_id=generation.pk,
            images=[image.data for image in output.images],
        )
    except DecryptionError:
        logger.error("Key of configuration %s cannot be decrypted", configuration.pk)
        message = _("Bambi could not read this stored key. Enter it again on the Keys page.")
        _mark_invalid(configuration, "stored key cannot be decrypted")
        _fail(generation, reservation, user, started, error=message)
        raise GenerationFailed(generation, message, 400) from None
    except provider_errors.ProviderError as exc:
        exc.scrub(key)
        if isinstance(exc, provider_errors.InvalidKey):
            _mark_invalid(configuration, exc.message)
        _fail(generation, reservation, user, started, error=exc.message)
        raise GenerationFailed(
            generation, failure_sentence(exc), exc.http_status, cause=exc
        ) from None
    except storage.ImageTooLarge as exc:
        logger.warning("Provider %s sent an oversized image: %s", provider.slug, exc)
        said = _(
            "The provider sent an image of %(width)s×%(height)s pixels, more than Bambi keeps "
            "(%(limit)s megapixels). Nothing was charged to your quota."
        ) % {"width": exc.width, "height": exc.height, "limit": exc.limit_megapixels}
        _fail(generation, reservation, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    except storage.UnreadableImage as exc:
        logger.warning("Provider %s sent an unreadable image: %s", provider.slug, exc)
        said = _("The provider sent an image Bambi could not read.")
        _fail(generation, reservation, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    except Exception:
        # Anything unexpected from an adapter (a bug, an odd answer) is the provider call
        # failing, not a 500 for the user; the traceback goes to the log (keys redacted).
        logger.exception("Generation %s failed unexpectedly", generation.pk)
        said = _("The provider sent an answer Bambi could not use.")
        _fail(generation, reservation, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    finally:
        key = None  # the clear key goes out of scope with this call

    duration_ms = int((time.monotonic() - started) * 1000)
    asked = max(int(options.get("count") or 1), 1)
    # A safety filter may withhold some of the images asked for: the provider says so (Imagen's
    # raiFilteredReason, xAI's moderated slots) or just sends fewer. They are not charged.
    filtered = max(output.filtered, asked - len(stored), 0)
    cost = output.cost_usd
    if cost is None and cost_estimate is not None:
        # Priced on what came back, not on what was asked for.
        cost = cost_estimate / asked * len(stored)
    try:
        with transaction.atomic():
            images = Image.objects.bulk_create(
                [
                    Image(
                        generation=generation,
                        index=item.index,
                        storage_path=item.storage_path,
                        thumbnail_path=item.thumbnail_path,
                        width=item.width,
                        height=item.height,
                        format=item.format,
                        bytes=item.bytes,
                        revised_prompt=(output.images[item.index].revised_prompt or "")[:4000],
                    )
                    for item in stored
                ]
            )
            generation.status = ImageGeneration.Status.COMPLETED
            generation.duration_ms = duration_ms
            generation.cost_estimate = _money(cost)
            generation.error_message = ""
            generation.images_filtered = filtered
            generation.save(
                update_fields=[
                    "status",
                    "duration_ms",
                    "cost_estimate",
                    "error_message",
                    "images_filtered",
                    "updated_at",
                ]
            )
            ApiUsage.objects.create(
                user=user,
                configuration=configuration,
                provider=provider,
                generation=generation,
                request_count=1,
                tokens_used=_tokens(output.usage),
                cost_estimate=_money(cost),
                period_start=_period_start(reservation),
                period_end=reservation.reset_date,
            )
            now = timezone.now()
            last_used = configuration.last_used_at
            # "Last used" is shown to the minute: a key used again within the minute keeps
            # its time, which spares a statement and a row lock that every generation on
            # the same key would otherwise queue on.
            if last_used is None or now - last_used >= LAST_USED_PRECISION:
                ApiConfiguration.objects.filter(pk=configuration.pk).update(last_used_at=now)
                configuration.last_used_at = now
    except BaseException:
        storage.files_delete(
            [p for item in stored for p in (item.storage_path, item.thumbnail_path)]
        )
        logger.exception("Could not record generation %s", generation.pk)
        message = _("Bambi could not save the images. Nothing was charged to your quota.")
        _fail(generation, reservation, user, started, error=message)
        raise GenerationFailed(generation, message, 502) from None
    # The caller answers with this generation as it is: model and provider are loaded already,
    # and the images are the rows just written, so reading it all back would be 2 queries more.
    generation.configuration = configuration
    generation.model = model
    generation.provider = provider
    _cache_images(generation, sorted(images, key=lambda image: image.index))
    return generation


def _cache_images(generation: ImageGeneration, images: list[Image]) -> None:
    """Make `generation.images.all()` answer `images` without a query, the way
    prefetch_related stores what it fetched."""
    queryset = generation.images.all()  # lazy: no query
    queryset._result_cache = images
    queryset._prefetch_done = True
    generation._prefetched_objects_cache = {"images": queryset}


def _release_connection() -> None:
    """Give this thread's database connection back before the slow provider call.

    A provider call holds the request for seconds; holding a pooled connection all that time
    would cap a process at DATABASE_POOL_MAX generations in flight (bench/concurrency.py: 20
    with 2 workers × pool 10, the rest failed waiting for the pool). The next query checks a
    connection out again. Inside an atomic block (tests, ATOMIC_REQUESTS) it must stay.
    """
    if not connection.in_atomic_block:
        connection.close()


def _fail(generation, reservation: Reservation, user, started: float, *, error: str) -> None:
    """Mark the generation failed and give its slot back, both or neither, and only if it is
    still pending: if the sweep (quota.generations_sweep_pending) took it meanwhile, it has
    refunded the slot already and a second refund would hand out a free generation."""
    generation.status = ImageGeneration.Status.FAILED
    generation.error_message = redact(error)[:2000]
    generation.duration_ms = int((time.monotonic() - started) * 1000)
    generation.cost_estimate = None
    generation.updated_at = timezone.now()
    with transaction.atomic():
        claimed = ImageGeneration.objects.filter(
            pk=generation.pk, status=ImageGeneration.Status.PENDING
        ).update(
            status=generation.status,
            error_message=generation.error_message,
            duration_ms=generation.duration_ms,
            cost_estimate=None,
            updated_at=generation.updated_at,
        )
        if claimed:
            quota_refund(reservation=reservation, user=user)


def _mark_invalid(configuration: ApiConfiguration, reason: str) -> None:
    api_configuration_mark_invalid(configuration=configuration, reason=reason)


def _money(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.0001"))


def _tokens(usage: dict) -> int | None:
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens") or usage.get("totalTokenCount")
    return int(total) if isinstance(total, int) and total >= 0 else None


def _period_start(reservation: Reservation):
    return add_months(reservation.reset_date, -1)
