"""Reads of the generations app. Every row is reached through its owner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from generations.models import Image, ImageGeneration


def generations_for(*, user) -> QuerySet[ImageGeneration]:
    """The user's generations, newest first, with model, provider and images loaded."""
    return (
        ImageGeneration.objects.filter(user=user)
        .select_related("model", "provider")
        .prefetch_related(Prefetch("images", queryset=Image.objects.order_by("index")))
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
