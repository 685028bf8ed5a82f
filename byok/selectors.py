"""Reads of the byok app. User data is only ever reached through its owner."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import SecurityEvent
from byok.models import ApiConfiguration, ImageModel, Provider


def api_configurations_for(*, user) -> QuerySet[ApiConfiguration]:
    """The user's configurations, newest first."""
    return (
        ApiConfiguration.objects.filter(user=user)
        .select_related("provider")
        .order_by("-created_at")
    )


def api_configuration_get(*, user, pk) -> ApiConfiguration:
    """The user's configuration `pk`; Http404 when it is missing or someone else's."""
    return get_object_or_404(api_configurations_for(user=user), pk=pk)


def active_providers() -> QuerySet[Provider]:
    """Active providers, each with its active models prefetched as `active_models`."""
    return Provider.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "models",
            queryset=ImageModel.objects.filter(is_active=True).order_by("name"),
            to_attr="active_models",
        )
    )


def active_image_models() -> QuerySet[ImageModel]:
    """Models that can be used now: active, of an active provider."""
    return ImageModel.objects.filter(is_active=True, provider__is_active=True).select_related(
        "provider"
    )


def image_models_named(ref: str) -> list[ImageModel]:
    """The active models `ref` names: "provider/model_id" (one at most), or a bare model id,
    which more than one provider may use."""
    provider_slug, slash, model_id = ref.partition("/")
    models = active_image_models()
    if slash:
        found = list(models.filter(provider__slug=provider_slug, model_id=model_id))
        if found:
            return found
    return list(models.filter(model_id=ref).order_by("provider__slug"))


def key_invalid_reasons(*, user, configurations: list[ApiConfiguration]) -> dict:
    """For each invalid key among `configurations`: the provider's last stated reason (from
    the audit log, where the check or the failed generation recorded it), or None."""
    invalid = [str(c.pk) for c in configurations if not c.is_valid]
    if not invalid:
        return {}
    reasons: dict = {}
    events = (
        SecurityEvent.objects.filter(
            user=user,
            kind__in=[SecurityEvent.Kind.KEY_INVALIDATED, SecurityEvent.Kind.KEY_VALIDATED],
            detail__configuration_id__in=invalid,
        )
        .order_by("-created_at", "-pk")
        .values_list("detail", flat=True)[:50]
    )
    for detail in events:
        pk = detail.get("configuration_id")
        # The newest event that says "invalid" for each key; a check that could not reach
        # the provider ("unreachable") says nothing about the key.
        if pk not in reasons and detail.get("result", "invalid") == "invalid":
            reasons[pk] = detail.get("reason") or None
    return reasons


# --- the catalogue as the generation path reads it ------------------------------------------------

_models: dict = {}  # pk -> (monotonic expiry, ImageModel with its provider)


def image_model_for_generation(pk) -> ImageModel | None:
    """The model `pk` with its provider (active or not: the caller says why it cannot be used),
    or None.

    Read once and then kept by this process for CATALOGUE_CACHE_SECONDS (30): the catalogue
    changes a few times a year, a generation reads it every time (one SQL round trip of the
    ~10 Bambi adds to a call). Honest about changes: saving or deleting a model or a provider
    (the admin, the catalogue commands) forgets every kept copy in the process that saved it at
    once (`image_models_forget`, connected in ByokConfig.ready), and the other processes read
    the new row within CATALOGUE_CACHE_SECONDS. An update() that bypasses signals waits for the
    expiry too. The copy is shared by the process's threads: nothing may modify it.
    """
    now = time.monotonic()
    kept = _models.get(pk)
    if kept is not None and kept[0] > now:
        return kept[1]
    model = ImageModel.objects.select_related("provider").filter(pk=pk).first()
    seconds = float(getattr(settings, "CATALOGUE_CACHE_SECONDS", 30))
    if model is not None and seconds > 0:
        _models[pk] = (now + seconds, model)
    return model


def image_models_forget(**_kwargs) -> None:
    """Forget every kept model (a signal receiver: any save or delete in the catalogue)."""
    _models.clear()
