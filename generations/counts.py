"""How many generations a user has (the gallery's pager, the API list's `pagination`), kept in
the cache instead of a `COUNT(*)` over thousands of rows on every page view.

Every count is stored under the user's *version*, a random token replaced whenever one of the
user's generations is created or deleted (at once, and again when the transaction commits: a
count read by another request in between is stored under a token never read again). So a
count is never served stale from a cache every process shares (CACHE_URL). With the default
per-process cache, another worker process learns of a change when its copy expires:
COUNT_CACHE_SECONDS at most; rows written around the ORM (bulk_create, raw SQL) likewise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

COUNT_CACHE_SECONDS = 60


def _version_key(user_id) -> str:
    return f"generations-version:{user_id}"


def counts_version(*, user_id) -> str:
    """The user's current version token (a fresh one if the cache lost it: the counts kept
    under an older token are then never read again)."""
    key = _version_key(user_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or "lost"
    return version


def _count_key(user_id, name: str) -> str:
    return f"generations-count:{user_id}:{counts_version(user_id=user_id)}:{name}"


def count_kept(*, user_id, name: str) -> int | None:
    """The count `name` (counts of different selections have different names) kept since the
    user's last change, or None."""
    return cache.get(_count_key(user_id, name))


def count_keep(*, user_id, name: str, value: int) -> None:
    cache.set(_count_key(user_id, name), value, COUNT_CACHE_SECONDS)


def cached_count(*, user_id, name: str, count: Callable[[], int]) -> int:
    """`count()` for the user, read from the cache when it was computed since the user's last
    change."""
    value = count_kept(user_id=user_id, name=name)
    if value is None:
        value = count()
        count_keep(user_id=user_id, name=name, value=value)
    return value


def counts_forget(*, user_ids: Iterable) -> None:
    """The users' generations changed: every count kept for them is outdated, now (for the
    rest of this transaction) and again once it commits (a count read by another request in
    between missed the change)."""
    keys = [_version_key(user_id) for user_id in set(user_ids)]

    def forget() -> None:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, None)

    if keys:
        forget()
        transaction.on_commit(forget)
