"""Reads of the generations app. Every row is reached through its owner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from generations.models import GenerationInput, Image, ImageGeneration

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
