"""Ids from outside (URLs, forms, JSON, Stripe metadata): the one UUID parser."""

from __future__ import annotations

import uuid


def parse_uuid(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (any type: a number, None, a list...).

    Callers turn None into their own answer: a 404 for an id of something the user owns (an
    unknown id and someone else's id look the same), "ignored" for a list of ids to delete.
    """
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
