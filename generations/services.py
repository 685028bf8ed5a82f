"""The generation run: the synchronous proxy from a cleaned request to a provider and back.

`generation_run` is the one path for the generate page and POST /api/generations/, edits
included; both clean their input with GenerationForm first (generations/forms.py), so it checks
nothing again. Another entry (an OpenAI-compatible endpoint) checks its inputs with the same
functions (generations/inputs.py) and calls it the same way. The other jobs of the app have
their own modules: quota.py (taking and giving back slots, the sweep of abandoned
generations), storage.py (files, thumbnails), costs.py (what a call cost), provenance.py,
deletion.py, export.py.

Its steps, and why they are not one big transaction:

1. check the per-minute rate limit (nothing is written when refused);
2. write an edit's input files; then, in one short transaction committed at once, reserve one
   quota slot (generations.quota), the estimated cost against the key's and the token's
   monthly budgets (generations.budgets) — one conditional UPDATE each — and write the
   generation row as `pending` with its input rows (the gallery shows it during the call). A
   refusal by either, or a failed write, leaves nothing reserved and nothing written (the
   input files are deleted again); a worker that dies after the commit leaves a pending row
   that the sweep fails and refunds;
3. decrypt the key and call the provider, outside any transaction: the call can take a minute
   and must not hold a row lock or a connection in a transaction meanwhile;
4. write the files (decoded and checked first, provenance written into each), then the rows
   in one atomic block; if that block fails the files are deleted again, so no file exists
   without its row;
5. on any failure: the generation becomes `failed` with the provider's own message, the slot
   and the budget reservation are refunded, and the key is marked invalid when the provider
   said the key is bad. On success the budget is settled to the real cost in step 4's block.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from bambi import timing
from bambi.dates import add_months
from bambi.ratelimit import generation_allowed
from bambi.redaction import redact
from byok.catalogue import estimate_cost
from byok.crypto import DecryptionError
from byok.models import ApiConfiguration, ImageModel
from byok.providers import errors as provider_errors
from byok.providers import get_provider
from byok.services import api_configuration_mark_invalid
from generations import storage
from generations.budget_alerts import budget_alerts_send
from generations.budgets import BudgetHold, budgets_refund, budgets_reserve, budgets_settle
from generations.costs import call_cost, money, tokens_used
from generations.failures import GenerationFailed, failure_sentence
from generations.inputs import InputImage
from generations.models import ApiUsage, GenerationInput, Image, ImageGeneration
from generations.provenance import provenance_record
from generations.quota import Reservation, quota_refund, quota_reserve
from tokens.models import ApiToken
from tokens.services import api_token_check_model

logger = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)


@sensitive_variables("key")
def generation_run(
    *,
    user: User,
    configuration: ApiConfiguration,
    model: ImageModel,
    prompt: str,
    options: dict,
    input_images: Sequence[InputImage] = (),
    mask: InputImage | None = None,
    api_token: ApiToken | None = None,
) -> ImageGeneration:
    """Generate images with one of the user's keys and keep them in their gallery.

    The arguments are what GenerationForm cleaned for `user`: the key is theirs and usable,
    the model active and of the key's provider, `options` allowed by the model with its
    defaults filled in. With `input_images` it is an edit: the images (and `mask`, which marks
    with transparent pixels what to change in the first) were checked by generations.inputs
    (`inputs_check` against this model) and are stored with the generation; the first that
    came from the user's gallery makes its generation this one's `parent`. `api_token`: the
    personal token the request came with (None from the dashboard), recorded on the
    generation. Returns the completed generation. Raises TokenNotAllowed (the token may not
    use this model), RateLimitExceeded (too many generations this minute; nothing stored),
    PlanLimitReached (quota used up) or GenerationFailed (the provider failed: the generation
    is stored as failed, quota refunded); all of them are BambiErrors with the sentence and
    status to answer, and none but the last writes anything.
    """
    provider = configuration.provider
    input_images = list(input_images)
    cost_estimate = estimate_cost(model.capabilities or {}, options, inputs=len(input_images))

    api_token_check_model(token=api_token, model=model)  # TokenNotAllowed: 403, nothing done
    generation_allowed(user=user)  # RateLimitExceeded: nothing reserved, no provider call
    generation_id = uuid.uuid4()
    # An edit's input files first (their folder is named after the generation's id): the
    # rows that follow name them, so no row can exist without its file.
    stored_inputs = (
        storage.inputs_store(
            user_id=user.pk, generation_id=generation_id, images=input_images, mask=mask
        )
        if input_images
        else []
    )
    try:
        # One transaction: the slot, the budgets and the pending row are committed together,
        # so a worker that dies at any point after it leaves a pending row that the sweep
        # fails and refunds, and a refusal (PlanLimitReached, BudgetReached) or a failed
        # write leaves nothing reserved and nothing written.
        with timing.step("reserve"), transaction.atomic():
            reservation = quota_reserve(user=user)
            holds = budgets_reserve(
                # Every budget that applies: the key's, and the API token's when one is used.
                subjects=[configuration, api_token],
                estimate=cost_estimate,
                period_end=reservation.reset_date,
            )
            generation = _pending_rows(
                generation_id=generation_id,
                user=user,
                configuration=configuration,
                model=model,
                api_token=api_token,
                prompt=prompt,
                options=options,
                cost_estimate=cost_estimate,
                input_images=input_images,
                stored_inputs=stored_inputs,
            )
    except BaseException:
        storage.files_delete([item.storage_path for item in stored_inputs])
        raise

    started = time.monotonic()
    key = None
    _release_connection()
    try:
        key = configuration.api_key
        output = get_provider(provider.slug, provider.api_base_url).generate(
            key=key,
            model_id=model.model_id,
            prompt=generation.prompt,
            options=options,
            images=input_images,
            mask=mask,
        )
        if not output.images:
            raise provider_errors.ContentRefused()
        with timing.step("store"):
            stored = storage.images_store(
                user_id=user.pk,
                generation_id=generation.pk,
                images=[image.data for image in output.images],
                records=[
                    provenance_record(generation, image_index=index, inputs=len(input_images))
                    for index in range(len(output.images))
                ],
            )
    except DecryptionError:
        logger.error("Key of configuration %s cannot be decrypted", configuration.pk)
        message = _("Bambi could not read this stored key. Enter it again on the Keys page.")
        _mark_invalid(configuration, "stored key cannot be decrypted")
        _fail(generation, reservation, holds, user, started, error=message)
        raise GenerationFailed(generation, message, 400) from None
    except provider_errors.ProviderError as exc:
        exc.scrub(key)
        if isinstance(exc, provider_errors.InvalidKey):
            _mark_invalid(configuration, exc.message)
        _fail(generation, reservation, holds, user, started, error=exc.message)
        raise GenerationFailed(
            generation, failure_sentence(exc), exc.http_status, cause=exc
        ) from None
    except storage.ImageTooLarge as exc:
        logger.warning("Provider %s sent an oversized image: %s", provider.slug, exc)
        said = _(
            "The provider sent an image of %(width)s×%(height)s pixels, more than Bambi keeps "
            "(%(limit)s megapixels). Nothing was charged to your quota."
        ) % {"width": exc.width, "height": exc.height, "limit": exc.limit_megapixels}
        _fail(generation, reservation, holds, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    except storage.UnreadableImage as exc:
        logger.warning("Provider %s sent an unreadable image: %s", provider.slug, exc)
        said = _("The provider sent an image Bambi could not read.")
        _fail(generation, reservation, holds, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    except Exception:
        # Anything unexpected from an adapter (a bug, an odd answer) is the provider call
        # failing, not a 500 for the user; the traceback goes to the log (keys redacted).
        logger.exception("Generation %s failed unexpectedly", generation.pk)
        said = _("The provider sent an answer Bambi could not use.")
        _fail(generation, reservation, holds, user, started, error=said)
        raise GenerationFailed(generation, said, 502) from None
    finally:
        key = None  # the clear key goes out of scope with this call

    duration_ms = int((time.monotonic() - started) * 1000)
    asked = max(int(options.get("count") or 1), 1)
    # A safety filter may withhold some of the images asked for: the provider says so (Imagen's
    # raiFilteredReason, xAI's moderated slots) or just sends fewer. They are not charged.
    filtered = max(output.filtered, asked - len(stored), 0)
    cost, cost_basis = call_cost(model, options, output, len(stored), len(input_images))
    try:
        with timing.step("commit"), transaction.atomic():
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
            generation.cost_estimate = money(cost)
            generation.cost_basis = cost_basis
            generation.error_message = ""
            generation.images_filtered = filtered
            generation.save(
                update_fields=[
                    "status",
                    "duration_ms",
                    "cost_estimate",
                    "cost_basis",
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
                tokens_used=tokens_used(output.usage),
                cost_estimate=money(cost),
                period_start=_period_start(reservation),
                period_end=reservation.reset_date,
            )
            budgets_settle(holds=holds, cost=money(cost))
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
        _fail(generation, reservation, holds, user, started, error=message)
        raise GenerationFailed(generation, message, 502) from None
    try:
        budget_alerts_send(holds=holds)
    except Exception:  # an alert that cannot be sent never fails the generation it follows
        logger.exception("Budget alerts after generation %s failed", generation.pk)
    # The caller answers with this generation as it is: model and provider are loaded already,
    # and the images are the rows just written, so reading it all back would be 2 queries more.
    generation.configuration = configuration
    generation.model = model
    generation.provider = provider
    _cache_related(generation, "images", sorted(images, key=lambda image: image.index))
    return generation


def _pending_rows(
    *,
    generation_id,
    user,
    configuration,
    model,
    api_token,
    prompt,
    options,
    cost_estimate,
    input_images,
    stored_inputs,
) -> ImageGeneration:
    """The pending generation row with its input rows (inside the caller's transaction)."""
    sources = [image.source_image for image in input_images]
    parent = next((source.generation for source in sources if source is not None), None)
    generation = ImageGeneration.objects.create(
        id=generation_id,
        user=user,
        configuration=configuration,
        model=model,
        provider=configuration.provider,
        api_token=api_token,
        prompt=prompt,
        # Only validated option values and the model's id: never anything from the key.
        parameters={"model_id": model.model_id, **options},
        status=ImageGeneration.Status.PENDING,
        cost_estimate=cost_estimate,
        parent=parent,
    )
    inputs = (
        GenerationInput.objects.bulk_create(
            GenerationInput(
                generation=generation,
                index=item.index,
                is_mask=item.is_mask,
                storage_path=item.storage_path,
                thumbnail_path=item.thumbnail_path,
                width=item.width,
                height=item.height,
                format=item.format,
                bytes=item.bytes,
                source_image=None if item.is_mask else sources[item.index],
            )
            for item in stored_inputs
        )
        if stored_inputs
        else []
    )
    _cache_related(generation, "inputs", inputs)
    return generation


def _cache_related(generation: ImageGeneration, name: str, rows: list) -> None:
    """Make `generation.<name>.all()` answer `rows` without a query, the way prefetch_related
    stores what it fetched (the caller answers with rows it has just written)."""
    queryset = getattr(generation, name).all()  # lazy: no query
    queryset._result_cache = rows
    queryset._prefetch_done = True
    generation.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _release_connection() -> None:
    """Give this thread's database connection back before the slow provider call.

    A provider call holds the request for seconds; holding a pooled connection all that time
    would cap a process at DATABASE_POOL_MAX generations in flight (bench/concurrency.py: 20
    with 2 workers × pool 10, the rest failed waiting for the pool). The next query checks a
    connection out again. Inside an atomic block (tests, ATOMIC_REQUESTS) it must stay.
    """
    if not connection.in_atomic_block:
        connection.close()


def _fail(
    generation,
    reservation: Reservation,
    holds: list[BudgetHold],
    user,
    started: float,
    *,
    error: str,
) -> None:
    """Mark the generation failed and give its slot and its budget reservations back, all or
    none, and only if it is
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
            budgets_refund(holds=holds)


def _mark_invalid(configuration: ApiConfiguration, reason: str) -> None:
    api_configuration_mark_invalid(configuration=configuration, reason=reason)


def _period_start(reservation: Reservation):
    return add_months(reservation.reset_date, -1)
