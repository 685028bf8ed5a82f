"""Deleting generations: the user's (gallery, API), the operators' (admin), the retention
policy (`purge_generations`) and the account's files (account deletion). A generation's files
are its images, the inputs of an edit, and their thumbnails.

Rows go in a transaction; files go once the rows are gone for good (after commit), so a
rolled-back delete keeps its files and no row ever points at a missing file.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bambi.ids import parse_uuid
from generations import storage
from generations.counts import counts_forget
from generations.models import GenerationInput, Image, ImageGeneration


def _paths_of(generations: Iterable[ImageGeneration]) -> list[str]:
    """Every file of these generations: images, their inputs, and the thumbnails of both."""
    generations = list(generations)
    rows = [
        *Image.objects.filter(generation__in=generations).only("storage_path", "thumbnail_path"),
        *GenerationInput.objects.filter(generation__in=generations).only(
            "storage_path", "thumbnail_path"
        ),
    ]
    return [path for row in rows for path in (row.storage_path, row.thumbnail_path) if path]


def generations_delete(*, user: User, generation_ids: Iterable) -> int:
    """Delete the user's generations among `generation_ids`, with their images and files.

    Ids that are not the user's are ignored (they are simply not found). Files are deleted
    once the rows are gone for good (after commit), so a rolled-back delete keeps its files.
    Returns how many generations were deleted.
    """
    ids = [pk for pk in map(parse_uuid, generation_ids) if pk is not None]
    with transaction.atomic():
        generations = list(ImageGeneration.objects.filter(user=user, pk__in=ids))
        paths = _paths_of(generations)
        prefixes = [storage.generation_prefix(user.pk, g.pk) for g in generations]
        ImageGeneration.objects.filter(pk__in=[g.pk for g in generations]).delete()
        counts_forget(user_ids=[user.pk] if generations else [])

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
            counts_forget(user_ids=[g.user_id for g in batch])
        total_generations += len(batch)
        total_files += storage.files_delete(paths)
    return total_generations, total_files


def user_files_delete(user: User) -> None:
    """Account deletion hook: remove every file of the user (rows go with the user)."""
    storage.prefix_delete(storage.user_prefix(user.pk))
