"""Receivers of the generations app."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from generations.counts import counts_forget
from generations.models import ImageGeneration


@receiver(post_save, sender=ImageGeneration, dispatch_uid="generation-counts-on-create")
def generation_created(sender, instance: ImageGeneration, created: bool, **kwargs) -> None:
    # Every way of making a generation (dashboard, API, /v1/) saves it through the ORM; the
    # deletions go through generations.deletion, which forgets the counts itself.
    if created:
        counts_forget(user_ids=[instance.user_id])
