"""Reads of the generations app. Every row is reached through its owner."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from byok.catalogue import PROVIDERS as CATALOGUE
from byok.models import ApiConfiguration, ImageModel
from generations.counts import cached_count, count_keep, count_kept
from generations.models import GenerationInput, Image, ImageGeneration
from generations.search import first_matching, gin_matches, search_words

# How far back (parents) and forward (children) a page lists an image's versions.
VERSIONS_SHOWN = 20


def generations_for(*, user) -> QuerySet[ImageGeneration]:
    """The user's generations, newest first, with model, provider, parent, images and inputs
    loaded."""
    return (
        ImageGeneration.objects.filter(user=user)
        .select_related("model", "provider", "parent")
        .prefetch_related(
            Prefetch("images", queryset=Image.objects.order_by("index")),
            Prefetch("inputs", queryset=GenerationInput.objects.order_by("is_mask", "index")),
        )
        .order_by("-created_at", "-pk")
    )


def generation_get(*, user, pk) -> ImageGeneration:
    """The user's generation `pk`; Http404 when it is missing, malformed or someone else's."""
    return get_object_or_404(generations_for(user=user), pk=pk)


def image_get(*, user, pk) -> Image:
    """The user's image `pk`; Http404 when it is missing or someone else's."""
    return get_object_or_404(
        Image.objects.select_related("generation"), pk=pk, generation__user=user
    )


def recent_generations(*, user, limit: int = 6) -> list[ImageGeneration]:
    return list(generations_for(user=user)[:limit])


def input_get(*, user, pk) -> GenerationInput:
    """The user's input image `pk` (an edit's source or mask); Http404 when it is missing or
    someone else's."""
    return get_object_or_404(
        GenerationInput.objects.select_related("generation"), pk=pk, generation__user=user
    )


def generation_versions(*, generation: ImageGeneration) -> dict:
    """An image's versions around `generation`: `ancestors` (oldest first: what it was edited
    from, and what that was edited from…) and `children` (the edits made from it, oldest first).
    Both stay within the owner's generations (a parent is always the owner's: inputs come from
    the user's own gallery)."""
    ancestors: list[ImageGeneration] = []
    seen = {generation.pk}
    current = generation.parent
    while current is not None and current.pk not in seen and len(ancestors) < VERSIONS_SHOWN:
        ancestors.append(current)
        seen.add(current.pk)
        current = current.parent  # one query per step, at most VERSIONS_SHOWN
    children = list(
        generations_for(user=generation.user_id)
        .filter(parent=generation)
        .order_by("created_at", "pk")[:VERSIONS_SHOWN]
    )
    return {"ancestors": ancestors[::-1], "children": children}


# --- the gallery: filters, search, keyset pages ------------------------------------------------

# What a page of generations needs to find its rendered tiles in the cache (views.
# rendered_generations): the rest is read only for the tiles that are not there yet.
CARD_KEY_FIELDS = ("id", "created_at", "updated_at")


@dataclass(frozen=True)
class GalleryFilters:
    """What the gallery shows. Empty values mean "any"."""

    query: str = ""
    provider: str = ""  # a provider slug
    model: uuid.UUID | None = None
    status: str = ""  # one of ImageGeneration.Status, or ""
    hide_failed: bool = False
    since: date | None = None  # first day shown (UTC)
    until: date | None = None  # last day shown (UTC), inclusive

    @property
    def active(self) -> bool:
        return self != GalleryFilters()

    @property
    def cache_key(self) -> str:
        return hashlib.sha1(repr(self).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    """A position in the gallery's order (newest first): a generation's creation time and id.

    Written into links as `<microseconds since 1970>-<uuid hex>`: stable (it names a row, not an
    offset, so a link still shows the same generations when new ones arrive) and short."""

    created_at: datetime
    pk: uuid.UUID

    def encode(self) -> str:
        moment = self.created_at.astimezone(UTC)
        micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return f"{micros}-{self.pk.hex}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """The cursor written by `encode`; ValueError for anything else."""
        micros, _sep, pk = (raw or "").partition("-")
        if not micros.isdigit() or len(micros) > 18 or len(pk) != 32:
            raise ValueError(raw)
        try:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        except OverflowError:  # past the year 9999
            raise ValueError(raw) from None
        return cls(created_at=moment, pk=uuid.UUID(hex=pk))

    @classmethod
    def of(cls, generation: ImageGeneration) -> Cursor:
        return cls(created_at=generation.created_at, pk=generation.pk)


@dataclass
class GalleryPage:
    generations: list[ImageGeneration] = field(default_factory=list)
    newer: Cursor | None = None  # link target for newer rows (`?after=`); None on the newest
    older: Cursor | None = None  # link target for older rows (`?before=`); None on the oldest

    @property
    def is_newest(self) -> bool:
        return self.newer is None


def older_than(cursor: Cursor) -> Q:
    # The first condition is implied by the second; it is there so that PostgreSQL can use it
    # as the range of its index scan on (user, created_at, id).
    return Q(created_at__lte=cursor.created_at) & (
        Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk)
    )


def newer_than(cursor: Cursor) -> Q:
    return Q(created_at__gte=cursor.created_at) & (
        Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, pk__gt=cursor.pk)
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), UTC)


def gallery_generations(*, user, filters: GalleryFilters) -> QuerySet[ImageGeneration]:
    """The user's generations that match `filters` except the search (see `_first`), newest
    first, with only the fields that find their tiles in the cache (CARD_KEY_FIELDS)."""
    queryset = (
        ImageGeneration.objects.filter(user=user)
        .only(*CARD_KEY_FIELDS)
        .order_by("-created_at", "-pk")
    )
    if filters.provider:
        queryset = queryset.filter(provider__slug=filters.provider)
    if filters.model:
        queryset = queryset.filter(model_id=filters.model)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    elif filters.hide_failed:
        queryset = queryset.exclude(status=ImageGeneration.Status.FAILED)
    if filters.since:
        queryset = queryset.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        queryset = queryset.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    return queryset


def gallery_page(
    *,
    user,
    filters: GalleryFilters,
    before: Cursor | None = None,
    after: Cursor | None = None,
    oldest: bool = False,
    size: int = 24,
) -> GalleryPage:
    """One page of the gallery by keyset: the `size` generations just older than `before`,
    or just newer than `after`, or the oldest ones (`oldest`), or the newest ones. Each is an
    index range scan on (user, created_at, id), as fast on the last page as on the first (no
    OFFSET), and a page's link keeps showing the same rows while new generations arrive."""
    queryset = gallery_generations(user=user, filters=filters)
    words = search_words(filters.query)

    def first(rows: QuerySet, limit: int) -> list[ImageGeneration]:
        return first_matching(rows, limit, user=user, words=words, fields=CARD_KEY_FIELDS)

    if after is not None or oldest:
        ascending = queryset.filter(newer_than(after)) if after is not None else queryset
        rows = first(ascending.order_by("created_at", "pk"), size + 1)
        if len(rows) > size or (oldest and rows):
            page = list(reversed(rows[:size]))
            older = Cursor.of(page[-1])
            has_older = not oldest and bool(first(queryset.filter(older_than(older)), 1))
            newer = Cursor.of(page[0]) if len(rows) > size else None
            return GalleryPage(page, newer=newer, older=older if has_older else None)
        # Nothing newer beyond this page: that is the newest page, shown whole.
        before = None
    rows = first(queryset.filter(older_than(before)) if before else queryset, size + 1)
    page = rows[:size]
    # A page reached with `before` has newer rows: the link was made on one of them. (Were
    # they all deleted since, "newer" shows the newest page, which is this one.)
    newer = None
    if before is not None:
        newer = Cursor.of(page[0]) if page else before
    older = Cursor.of(page[-1]) if len(rows) > size else None
    return GalleryPage(page, newer=newer, older=older)


def searched(queryset: QuerySet, *, user, words: list[str]) -> QuerySet:
    """`queryset` narrowed to the prompts that have every word of a search, as a plain filter
    (for counting, where `first_matching`'s bounded window does not apply)."""
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(pk__in=gin_matches(user=user, words=words))
    for word in words:
        queryset = queryset.filter(prompt__icontains=word)
    return queryset


# A count up to this many rows is exact on every request (a bounded scan); above it, the
# count is computed once and kept in the cache (generations.counts: forgotten when the user
# creates or deletes a generation), so a 10,000-generation gallery does not count its rows on
# every page view. Counts of a search are always kept: counting the matches of a common word
# means testing every prompt of the user.
COUNT_EXACT_UP_TO = 1000


def gallery_count(*, user, filters: GalleryFilters) -> int:
    """How many generations match `filters` (see COUNT_EXACT_UP_TO)."""
    queryset = gallery_generations(user=user, filters=filters).order_by()
    words = search_words(filters.query)
    name = f"gallery:{filters.cache_key}"
    if words:
        return cached_count(
            user_id=user.pk,
            name=name,
            count=lambda: searched(queryset, user=user, words=words).count(),
        )
    count = count_kept(user_id=user.pk, name=name)
    if count is not None:
        return count
    count = queryset.values("pk")[: COUNT_EXACT_UP_TO + 1].count()
    if count > COUNT_EXACT_UP_TO:
        count = queryset.count()
        count_keep(user_id=user.pk, name=name, value=count)
    return count


FILTER_CHOICES_CACHE_SECONDS = 300


@dataclass(frozen=True)
class ModelChoice:
    pk: str
    name: str
    provider_slug: str
    provider_name: str


def gallery_filter_choices() -> list[ModelChoice]:
    """Every model of the catalogue with its provider (active or not: old generations may
    have used one an operator has since switched off), for the gallery's filter lists. Kept
    in the cache for five minutes: the catalogue changes rarely and every gallery view
    shows it."""

    def read() -> list[ModelChoice]:
        rows = ImageModel.objects.order_by("provider__name", "name").values_list(
            "pk", "name", "provider__slug", "provider__name"
        )
        return [ModelChoice(str(pk), name, slug, provider) for pk, name, slug, provider in rows]

    return cache.get_or_set("gallery-filter-choices", read, FILTER_CHOICES_CACHE_SECONDS)


# --- the generate page's defaults --------------------------------------------------------------

# The seeded catalogue lists each provider's models newest first.
_CATALOGUE_RANK = {
    (spec["slug"], model["model_id"]): rank
    for spec in CATALOGUE
    for rank, model in enumerate(spec["models"])
}


def models_newest_first(models: list[ImageModel]) -> list[ImageModel]:
    """`models` newest first: the catalogue's own order for the models Bambi ships, and any
    model an operator added later before them (newest added first)."""
    added = sorted(
        (m for m in models if (m.provider.slug, m.model_id) not in _CATALOGUE_RANK),
        key=lambda m: m.created_at,
        reverse=True,
    )
    shipped = sorted(
        (m for m in models if (m.provider.slug, m.model_id) in _CATALOGUE_RANK),
        key=lambda m: _CATALOGUE_RANK[(m.provider.slug, m.model_id)],
    )
    return added + shipped


def last_generation_settings(*, user) -> dict | None:
    """The key and model of the user's latest generation, or None."""
    return (
        ImageGeneration.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values("configuration_id", "model_id")
        .first()
    )


def generate_defaults(
    *,
    user,
    configurations: list[ApiConfiguration],
    models: list[ImageModel],
    last: dict | None = None,
) -> tuple[ApiConfiguration | None, ImageModel | None]:
    """The key and model the generate form starts with: the ones the user used last when they
    are still usable, else the newest key and that provider's newest model. `last`: the
    latest generation's `configuration_id` and `model_id` when the caller has them."""
    if not configurations:
        return None, None
    if last is None:
        last = last_generation_settings(user=user) or {}
    by_id = {c.pk: c for c in configurations}
    last_model = next((m for m in models if m.pk == last.get("model_id")), None)
    configuration = by_id.get(last.get("configuration_id"))
    if configuration is None and last_model is not None:
        configuration = next(
            (c for c in configurations if c.provider_id == last_model.provider_id), None
        )
    configuration = configuration or configurations[0]
    if last_model is not None and last_model.provider_id == configuration.provider_id:
        return configuration, last_model
    usable = [m for m in models if m.provider_id == configuration.provider_id]
    return configuration, (models_newest_first(usable) or [None])[0]


# --- the overview ------------------------------------------------------------------------------


def latest_images(*, user, limit: int = 8) -> list[ImageGeneration]:
    """The user's latest generations that have images (CARD_KEY_FIELDS only)."""
    return list(
        ImageGeneration.objects.filter(user=user, status=ImageGeneration.Status.COMPLETED)
        .only(*CARD_KEY_FIELDS)
        .order_by("-created_at", "-pk")[:limit]
    )


def latest_generations(*, user, limit: int = 6) -> list[ImageGeneration]:
    """The user's latest generations, whatever their status: CARD_KEY_FIELDS, and the key and
    model (the newest one's are the generate form's defaults, see `generate_defaults`)."""
    return list(
        ImageGeneration.objects.filter(user=user)
        .only(*CARD_KEY_FIELDS, "configuration_id", "model_id")
        .order_by("-created_at", "-pk")[:limit]
    )
