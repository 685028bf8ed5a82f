"""Search in prompts: every word of the query, each as the start of a word."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, F, Func, QuerySet, Value

from generations.models import ImageGeneration

SEARCH_MAX_WORDS = 8


def search_words(query: str) -> list[str]:
    """The words of a search (letters and digits; at most SEARCH_MAX_WORDS), lower case."""
    return re.findall(r"\w+", query.lower())[:SEARCH_MAX_WORDS]


# Search on PostgreSQL. PostgreSQL guesses a fixed, small number of matches for a prefix
# search ("light:*"), so left to itself it either tests every prompt of the user (tens of
# milliseconds for a rare word) or reads every match of every user from the GIN index (the
# same for a common word). So the page is found in two steps whose cost does not depend on
# that guess: first the newest rows of the page's range (8 per row wanted, at most
# SEARCH_WINDOW) are tested in index order (a common word fills the page there); only when
# they do not, the GIN index lists the user's matches (a rarer word: fewer of them).
SEARCH_WINDOW = 400
# A LIMIT nobody reaches: a subquery with a LIMIT is planned on its own, so PostgreSQL reads
# the GIN index for it instead of folding it into a scan of every row.
_FENCE = 10**9


class _PromptMatches(Func):
    """`to_tsvector('simple', prompt) @@ to_tsquery('simple', <words>)`: PostgreSQL full
    text, `simple` configuration (no stemming, any language; the GIN index of migration 0004
    has the same expression), every word as the start of a word ("light" finds
    "lighthouse"). Only \\w characters reach the query, so none of tsquery's operators can."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    arg_joiner = ") @@ to_tsquery('simple'::regconfig, "
    output_field = BooleanField()

    def __init__(self, words: list[str]):
        super().__init__(F("prompt"), Value(_tsquery(words)))


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"{word}:*" for word in words)


def gin_matches(*, user, words: list[str]) -> QuerySet:
    return (ImageGeneration.objects.filter(user=user).filter(_PromptMatches(words)).values("pk"))[
        :_FENCE
    ]


def first_matching(
    queryset: QuerySet, limit: int, *, user, words: list[str], fields: tuple[str, ...]
) -> list[ImageGeneration]:
    """The first `limit` rows of `queryset` (ordered) whose prompt has every word of the
    search, as ImageGeneration objects with `fields` loaded (the first three must be id,
    created_at and updated_at): PostgreSQL full text as above, elsewhere (SQLite) a
    case-insensitive substring test per word."""
    if not words:
        return list(queryset[:limit])
    if connection.vendor != "postgresql":
        for word in words:
            queryset = queryset.filter(prompt__icontains=word)
        return list(queryset[:limit])
    # The window is a subquery with a LIMIT (read in index order, planned on its own); the
    # outer WHERE tests its rows in that order and stops at `limit` matches, so a common word
    # costs `limit` prompts tested, not the whole window.
    size = min(SEARCH_WINDOW, max(8 * limit, 64))
    window, params = queryset.values_list(*fields[:3], "prompt")[:size].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.id, w.created_at, w.updated_at FROM ({window}) w "
            "WHERE to_tsvector('simple'::regconfig, w.prompt) "
            "@@ to_tsquery('simple'::regconfig, %s) LIMIT %s",
            [*params, _tsquery(words), limit],
        )
        found = [
            ImageGeneration(id=pk, created_at=created_at, updated_at=updated_at)
            for pk, created_at, updated_at in cursor.fetchall()
        ]
    if len(found) >= limit:
        return found
    # Not enough in the window: a rarer word (or a short range). The GIN index lists them.
    return list(queryset.filter(pk__in=gin_matches(user=user, words=words))[:limit])
