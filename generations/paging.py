"""Numbered pages over the keyset pages of `generations.selectors`: old `?page=N` links of
the gallery, and the JSON API's list (`?page=N`, and its cursors `?before=` / `?after=`).

A page number becomes a position in the index on (user, created_at, id): an OFFSET over that
index's entries (creation time and id, an index-only scan), never over whole rows; the page's
rows are then read by id or by keyset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from generations.counts import cached_count, count_keep
from generations.models import ImageGeneration
from generations.search import search_words
from generations.selectors import (
    Cursor,
    GalleryFilters,
    GalleryPage,
    gallery_generations,
    gallery_page,
    generations_for,
    newer_than,
    older_than,
    searched,
)

# How deep a legacy `?page=N` link may reach: past it, the oldest page is shown.
LEGACY_PAGE_MAX = 100_000


def gallery_page_number(
    *, user, filters: GalleryFilters, number: int, size: int = 24
) -> GalleryPage:
    """Page `number` (from 1, newest first) of the gallery, for links made when the gallery
    was paged by number: the row just before it is found in the index alone (creation time
    and id, no other column read), and the page is then the keyset page after it, whose links
    are cursors. A number past the last page shows the oldest page."""
    if number <= 1:
        return gallery_page(user=user, filters=filters, size=size)
    queryset = searched(
        gallery_generations(user=user, filters=filters),
        user=user,
        words=search_words(filters.query),
    )
    offset = (min(number, LEGACY_PAGE_MAX) - 1) * size - 1
    boundary = queryset.values_list("created_at", "pk")[offset : offset + 2]
    if len(boundary) < 2:  # page `number` would be empty (or is the last row alone)
        return gallery_page(user=user, filters=filters, oldest=True, size=size)
    created_at, pk = boundary[0]
    return gallery_page(
        user=user, filters=filters, before=Cursor(created_at=created_at, pk=pk), size=size
    )


@dataclass
class ListPage:
    generations: list[ImageGeneration]
    count: int
    newer: Cursor | None  # `after` this for the page before; None on the first page
    older: Cursor | None  # `before` this for the page after; None on the last page


def _whole(user, keys: list[tuple[datetime, uuid.UUID]]) -> list[ImageGeneration]:
    """The generations of `keys` (creation time, id), read whole, in that order."""
    by_pk = {g.pk: g for g in generations_for(user=user).filter(pk__in=[pk for _t, pk in keys])}
    return [by_pk[pk] for _t, pk in keys if pk in by_pk]


def generations_count(*, user) -> int:
    """How many generations the user has (cached: generations.counts)."""
    return cached_count(
        user_id=user.pk,
        name="all",
        count=ImageGeneration.objects.filter(user=user).count,
    )


def generations_list_page(
    *,
    user,
    number: int | None = None,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = 20,
) -> ListPage | None:
    """One page of the user's generations, newest first: page `number` (from 1), or the
    `size` just older than `before`, or just newer than `after` (the first page when fewer
    remain). The page's rows are found in the index on (user, created_at, id) alone (an
    index range scan from a cursor; for a page number, its position in the same index, no
    other column read), then read whole by id. None for a page number past the last."""
    keys_of = (
        ImageGeneration.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "pk")
    )
    offset = 0
    if after is not None:
        keys = list(keys_of.filter(newer_than(after)).order_by("created_at", "pk")[: size + 1])
        if len(keys) > size:
            keys = keys[:size][::-1]
            older = Cursor(*keys[-1])
            rows = _whole(user, keys)
            return ListPage(rows, generations_count(user=user), Cursor(*keys[0]), older)
        before = None  # fewer than a page newer: the first page
    if before is not None:
        keys = list(keys_of.filter(older_than(before))[: size + 1])
    else:
        offset = (min(number or 1, LEGACY_PAGE_MAX) - 1) * size
        keys = list(keys_of[offset : offset + size + 1])
        if not keys and offset:
            return None
    more = len(keys) > size
    keys = keys[:size]
    if more or not keys or before is not None:
        count = generations_count(user=user)
    else:
        # The last page of numbered pages tells how many rows there are: keep it.
        count = offset + len(keys)
        count_keep(user_id=user.pk, name="all", value=count)
    newer = None
    if before is not None:
        newer = Cursor(*keys[0]) if keys else before
    elif keys and offset:
        newer = Cursor(*keys[0])
    older = Cursor(*keys[-1]) if more else None
    return ListPage(_whole(user, keys), count, newer, older)
