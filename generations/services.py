"""Writes of the generations app: the synchronous proxy to the providers, deletion, export.

`generation_run` is the one path for the dashboard form and POST /api/generations/. Its steps,
and why they are not one big transaction:

1. validate against the model's capabilities (nothing is written for bad input);
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

import json
import logging
import tempfile
import time
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from bambi.api import form_errors_sentence
from bambi.http import redact
from bambi.ratelimit import generation_allowed
from byok.crypto import DecryptionError
from byok.models import ApiConfiguration
from byok.providers import get_provider
from byok.providers.errors import (
    BadRequest,
    ContentRefused,
    InvalidKey,
    OutOfCredit,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RefusedByBambi,
)
from generations import storage
from generations.forms import OPTION_CAPABILITIES, GenerationForm, is_uuid
from generations.models import ApiUsage, Image, ImageGeneration
from generations.quota import (
    Reservation,
    add_months,
    quota_refund,
    quota_refund_reserved_at,
    quota_reserve,
)

logger = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)

# What API clients may send in `parameters` (camelCase per DESIGN.md; snake_case accepted too).
PARAMETER_NAMES = {
    "modelId": "model",
    "model_id": "model",
    "model": "model",
    "count": "count",
    "n": "count",
    "size": "size",
    "aspectRatio": "aspect_ratio",
    "resolution": "resolution",
    "quality": "quality",
    "style": "style",
    "outputFormat": "output_format",
    "background": "background",
    **{name: name for name in OPTION_CAPABILITIES},
}


class GenerationFailed(Exception):
    """The provider call (or storing its answer) failed; the generation row says why.

    `message` is a sentence for the user (it includes the provider's own words when useful);
    `http_status` is what the API answers (400/422/429/502/504).
    """

    def __init__(self, generation: ImageGeneration, message: str, http_status: int):
        super().__init__(message)
        self.generation = generation
        self.message = message
        self.http_status = http_status


def failure_sentence(exc: ProviderError) -> str:
    """A sentence for the user that names what happened and keeps the provider's words."""
    said = exc.message
    if isinstance(exc, RefusedByBambi):
        # Bambi's own refusal, not the provider's words: said as it is.
        return _("%(said)s Nothing was charged to your quota.") % {"said": said}
    if isinstance(exc, InvalidKey):
        lead = _(
            "The provider rejected this API key; it is now marked invalid. Replace it on "
            "the Keys page."
        )
    elif isinstance(exc, ContentRefused):
        lead = _("The provider refused to make this image.")
    elif isinstance(exc, OutOfCredit):
        lead = _("The provider account behind this key is out of credit.")
    elif isinstance(exc, RateLimited):
        lead = _("The provider is rate-limiting this key; wait a moment and try again.")
    elif isinstance(exc, BadRequest):
        lead = _("The provider did not accept the request.")
    elif isinstance(exc, ProviderTimeout):
        lead = _("The provider took too long to answer. Nothing was charged to your quota.")
    elif isinstance(exc, ProviderUnavailable):
        lead = _("The provider failed to make the image. Nothing was charged to your quota.")
    else:
        lead = _("The provider could not complete the request.")
    if said and said not in lead:
        return _("%(lead)s The provider said: %(said)s") % {"lead": lead, "said": said}
    return lead


def normalise_parameters(parameters) -> dict:
    """API `parameters` -> form field names; bad shapes are a 400 with a sentence."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ValidationError(_("“parameters” must be a JSON object."))
    data: dict = {}
    for key, value in parameters.items():
        name = PARAMETER_NAMES.get(key)
        if name is None:
            raise ValidationError(_("Unknown parameter “%(name)s”.") % {"name": str(key)[:50]})
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(
                _("The parameter “%(name)s” must be a string or a number.") % {"name": key}
            )
        data[name] = value
    return data


def generation_validate(*, user: User, configuration_id, prompt, parameters) -> dict:
    """The form's cleaned data, or ValidationError (400) / Http404 (not the user's key)."""
    configuration_id = _uuid_or_404(configuration_id)
    if not isinstance(prompt, str):
        raise ValidationError(_("The prompt must be text."))
    data = {"configuration": str(configuration_id), "prompt": prompt}
    data.update(normalise_parameters(parameters))
    form = GenerationForm(data=data, user=user)
    if not form.is_valid():
        # The form looks the key up through its owner (one query, not a second one here):
        # a key that is not the user's is a 404, as for every other object of someone else.
        if any(e.code == "unknown" for e in form.errors.as_data().get("configuration", ())):
            raise Http404
        raise ValidationError(form_errors_sentence(form))
    return form.cleaned_data


def _uuid_or_404(value):
    if not is_uuid(value):
        raise Http404
    return value


@sensitive_variables("key")
def generation_run(*, user: User, configuration_id, prompt, parameters) -> ImageGeneration:
    """Generate images with one of the user's keys and keep them in their gallery.

    Returns the completed generation. Raises ValidationError (bad input, nothing stored, no
    quota used), Http404 (the key is not the user's), RateLimitExceeded (too many generations
    this minute; nothing stored), PlanLimitReached (quota used up) or
    GenerationFailed (the provider failed: the generation is stored as failed, quota refunded).
    """
    cleaned = generation_validate(
        user=user, configuration_id=configuration_id, prompt=prompt, parameters=parameters
    )
    configuration: ApiConfiguration = cleaned["configuration"]
    model = cleaned["model"]
    options: dict = cleaned["options"]
    provider = configuration.provider

    generation_allowed(user=user)  # RateLimitExceeded: nothing reserved, no provider call
    reservation = quota_reserve(user=user)
    try:
        generation = ImageGeneration.objects.create(
            user=user,
            configuration=configuration,
            model=model,
            provider=provider,
            prompt=cleaned["prompt"],
            # Only validated option values and the model's id: never anything from the key.
            parameters={"model_id": model.model_id, **options},
            status=ImageGeneration.Status.PENDING,
            cost_estimate=cleaned["cost_estimate"],
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
            raise ContentRefused()
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
    except ProviderError as exc:
        exc.scrub(key)
        if isinstance(exc, InvalidKey):
            _mark_invalid(configuration, exc.message)
        _fail(generation, reservation, user, started, error=exc.message)
        raise GenerationFailed(generation, failure_sentence(exc), exc.http_status) from None
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
    if cost is None and cleaned["cost_estimate"] is not None:
        # Priced on what came back, not on what was asked for.
        cost = cleaned["cost_estimate"] / asked * len(stored)
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
    still pending: if the sweep (generations_sweep_pending) took it meanwhile, it has
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
    from byok.services import api_configuration_mark_invalid

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


# --- generations abandoned by a dead worker ------------------------------------------------------

ABANDONED_MESSAGE = gettext_lazy(
    "Bambi stopped before the provider answered; this generation was not counted."
)


def pending_abandoned_after() -> timedelta:
    """How long a generation may stay pending before it is taken for abandoned.

    Well past anything a live request can take: the provider's read timeout (plus an image
    download of up to twice that) bounds a live call, so at least 10 minutes and 3× that.
    """
    read_timeout = float(getattr(settings, "PROVIDER_READ_TIMEOUT", 120))
    return max(timedelta(minutes=10), timedelta(seconds=3 * read_timeout + 60))


def generations_sweep_pending(*, user: User | None = None, now=None) -> int:
    """Fail the generations left `pending` by a worker killed during the provider call, and
    give each one's quota slot back exactly once; returns how many were swept.

    A crash never charges the user (DESIGN.md). Each generation is claimed with a
    conditional UPDATE (still pending?) in the same transaction as its refund, so two sweeps
    at once, or a sweep racing the request's own failure path (`_fail`, which claims the same
    way), refund once. The refund goes to the period the slot was reserved in; if that
    period has ended there is nothing to give back. Idempotent; `user` limits it to one user
    (the lazy sweep when their usage is read). A live request that somehow outlived the
    cut-off and then succeeds still records its images: the user keeps the slot refunded.
    """
    now = now or timezone.now()
    stale = ImageGeneration.objects.filter(
        status=ImageGeneration.Status.PENDING, created_at__lt=now - pending_abandoned_after()
    )
    if user is not None:
        stale = stale.filter(user=user)
    swept = 0
    # Stored in the language active now (the user's own when their usage page sweeps).
    message = str(ABANDONED_MESSAGE)
    for _batch in range(1000):  # bounded; each pass claims every row it read, or they left
        rows = list(stale.order_by("created_at").values_list("pk", "user_id", "created_at")[:200])
        if not rows:
            break
        for pk, user_id, created_at in rows:
            with transaction.atomic():
                claimed = ImageGeneration.objects.filter(
                    pk=pk, status=ImageGeneration.Status.PENDING
                ).update(
                    status=ImageGeneration.Status.FAILED,
                    error_message=message,
                    cost_estimate=None,
                    updated_at=now,
                )
                if claimed:
                    quota_refund_reserved_at(user_id=user_id, reserved_at=created_at)
            swept += claimed
    if swept:
        logger.warning("Swept %d generation(s) abandoned while pending", swept)
    return swept


# --- thumbnails ----------------------------------------------------------------------------------


def image_thumbnail_ensure(*, image: Image) -> None:
    """Make the image's WebP thumbnail if it is not there yet (it is made on first request).

    Raises Http404 when the image file is gone or unreadable. If the generation was deleted
    while the thumbnail was being made, the thumbnail is deleted again: the deletion removed
    the folder before this write, and nothing else would ever remove that file.
    """
    if not image.thumbnail_path:
        raise Http404
    try:
        made = storage.thumbnail_ensure(
            storage_path=image.storage_path, thumbnail_path=image.thumbnail_path
        )
    except (FileNotFoundError, OSError) as exc:
        logger.warning("Thumbnail of image %s: the image file is missing (%s)", image.pk, exc)
        raise Http404 from None
    except storage.UnreadableImage as exc:
        logger.warning("Thumbnail of image %s: the image cannot be decoded (%s)", image.pk, exc)
        raise Http404 from None
    if made and not Image.objects.filter(pk=image.pk).exists():
        storage.files_delete([image.thumbnail_path])
        raise Http404


# --- deletion ------------------------------------------------------------------------------------


def _paths_of(generations: Iterable[ImageGeneration]) -> list[str]:
    return [
        path
        for image in Image.objects.filter(generation__in=list(generations))
        for path in (image.storage_path, image.thumbnail_path)
        if path
    ]


def generations_delete(*, user: User, generation_ids: Iterable) -> int:
    """Delete the user's generations among `generation_ids`, with their images and files.

    Ids that are not the user's are ignored (they are simply not found). Files are deleted
    once the rows are gone for good (after commit), so a rolled-back delete keeps its files.
    Returns how many generations were deleted.
    """
    ids = [str(i) for i in generation_ids if is_uuid(i)]
    with transaction.atomic():
        generations = list(ImageGeneration.objects.filter(user=user, pk__in=ids))
        paths = _paths_of(generations)
        prefixes = [storage.generation_prefix(user.pk, g.pk) for g in generations]
        ImageGeneration.objects.filter(pk__in=[g.pk for g in generations]).delete()

        def remove_files() -> None:
            storage.files_delete(paths)
            for prefix in prefixes:
                storage.prefix_delete(prefix)

        transaction.on_commit(remove_files)
    return len(generations)


def images_delete(*, images: list[Image]) -> int:
    """Delete single images (operators, from the admin) and, after commit, their files."""
    paths = [p for image in images for p in (image.storage_path, image.thumbnail_path) if p]
    with transaction.atomic():
        deleted, _detail = Image.objects.filter(pk__in=[i.pk for i in images]).delete()
        transaction.on_commit(lambda: storage.files_delete(paths))
    return deleted


def generation_delete(*, generation: ImageGeneration) -> None:
    """Delete one generation (already fetched through its owner) with its files."""
    generations_delete(user=generation.user, generation_ids=[generation.pk])


def generations_purge(*, older_than: timedelta) -> tuple[int, int]:
    """Delete every generation older than `older_than` with its files (retention policy).

    Returns (generations deleted, files deleted). Works in batches so memory stays flat.
    """
    cutoff = timezone.now() - older_than
    total_generations = total_files = 0
    while True:
        batch = list(ImageGeneration.objects.filter(created_at__lt=cutoff).order_by("pk")[:500])
        if not batch:
            break
        paths = _paths_of(batch)
        with transaction.atomic():
            deleted, _detail = ImageGeneration.objects.filter(pk__in=[g.pk for g in batch]).delete()
        total_generations += len(batch)
        total_files += storage.files_delete(paths)
    return total_generations, total_files


def user_files_delete(user: User) -> None:
    """Account deletion hook: remove every file of the user (rows go with the user)."""
    storage.prefix_delete(storage.user_prefix(user.pk))


# --- export --------------------------------------------------------------------------------------


def generation_as_export(generation: ImageGeneration, image_names: list[dict]) -> dict:
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "prompt": generation.prompt,
        "parameters": generation.parameters,
        "model": generation.model.model_id if generation.model else None,
        "provider": generation.provider.slug if generation.provider else None,
        "error_message": generation.error_message,
        "cost_estimate": str(generation.cost_estimate) if generation.cost_estimate else None,
        "duration_ms": generation.duration_ms,
        "created_at": generation.created_at.isoformat(),
        "images": image_names,
    }


def user_data_export(*, user: User):
    """A ZIP of all the user's images plus `generations.json`, in a temporary file.

    Returned open and rewound; the caller streams it (FileResponse closes it, which deletes
    it). Built on disk, not in memory: a gallery can be gigabytes.
    """
    import zipfile

    from generations.selectors import generations_for

    handle = tempfile.TemporaryFile(suffix=".zip")
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            rows = []
            for generation in generations_for(user=user).iterator(chunk_size=200):
                images = []
                for image in generation.images.all():
                    ext = image.storage_path.rsplit(".", 1)[-1]
                    day = f"{generation.created_at:%Y-%m-%d}"
                    name = f"images/{day}_{generation.pk}_{image.index}.{ext}"
                    try:
                        with default_storage.open(image.storage_path, "rb") as source:
                            # Images are compressed already: store them as they are.
                            with archive.open(
                                zipfile.ZipInfo(name, date_time=_zip_time(generation)), "w"
                            ) as target:
                                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                                    target.write(chunk)
                    except (FileNotFoundError, OSError):
                        logger.warning("Export: file %s is missing", image.storage_path)
                        continue
                    images.append(
                        {
                            "file": name,
                            "width": image.width,
                            "height": image.height,
                            "format": image.format,
                            "revised_prompt": image.revised_prompt,
                        }
                    )
                rows.append(generation_as_export(generation, images))
            archive.writestr(
                "generations.json",
                json.dumps(
                    {
                        "exported_at": timezone.now().isoformat(),
                        "account": user.email,
                        "generations": rows,
                    },
                    indent=2,
                    ensure_ascii=False,
                ),
            )
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def _zip_time(generation: ImageGeneration):
    moment = generation.created_at
    return (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
