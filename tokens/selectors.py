"""Reads of the tokens app. A token is only ever reached through its owner."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from tokens.models import ApiToken


def api_tokens_for(*, user) -> QuerySet[ApiToken]:
    """The user's tokens that are not revoked (working or expired), newest first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def api_token_get(*, user, pk) -> ApiToken:
    """The user's token `pk` (not revoked); Http404 when it is missing or someone else's."""
    return get_object_or_404(api_tokens_for(user=user), pk=pk)
