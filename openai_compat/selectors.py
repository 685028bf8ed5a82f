"""What a /v1/ call may use: the models the user can call now, the model a call names, and
the stored key that pays for it."""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext as _

from bambi.ids import parse_uuid
from byok.models import ApiConfiguration, ImageModel
from byok.selectors import active_image_models, image_models_named
from openai_compat.errors import OpenAIError
from tokens.models import ApiToken


def usable_keys(*, user):
    """The user's keys that can pay now: valid, of an active provider; the most recently
    validated first (then the newest), the order in which a call picks one."""
    return (
        ApiConfiguration.objects.filter(user=user, is_valid=True, provider__is_active=True)
        .select_related("provider")
        .order_by(F("last_validated_at").desc(nulls_last=True), "-created_at")
    )


def callable_models(*, user, token: ApiToken | None) -> list[ImageModel]:
    """Active models of the providers the user has a valid key for, that `token` allows."""
    provider_ids = set(usable_keys(user=user).values_list("provider_id", flat=True))
    models = active_image_models().filter(provider_id__in=provider_ids)
    return [
        model
        for model in models.order_by("provider__slug", "model_id")
        if token is None or token.allows_model(model)
    ]


def public_id(model: ImageModel, models: list[ImageModel]) -> str:
    """The id /v1/models lists: the catalogue's model id, or "provider/model" when another
    listed provider has a model of the same id."""
    shared = sum(1 for other in models if other.model_id == model.model_id) > 1
    return f"{model.provider.slug}/{model.model_id}" if shared else model.model_id


def model_for_call(*, user, ref: str) -> ImageModel:
    """The active model `ref` names ("gpt-image-1.5" or "openai/gpt-image-1.5"); among
    providers sharing a bare id, the one the user has a key for. OpenAIError 404 otherwise."""
    found = image_models_named(ref) if ref else []
    if len(found) > 1:
        keyed = set(usable_keys(user=user).values_list("provider_id", flat=True))
        found = [model for model in found if model.provider_id in keyed] or found
    if not found:
        raise OpenAIError(
            _(
                "The model “%(model)s” does not exist or is not available on Bambi. "
                "GET /v1/models lists the models you can call."
            )
            % {"model": ref[:100]},
            http_status=404,
            param="model",
            code="model_not_found",
        )
    return found[0]


def key_for_call(*, user, model: ImageModel, chosen: str | None) -> ApiConfiguration:
    """The stored key that pays: the one `chosen` names (the X-Bambi-Key header, a key id),
    else the user's usable key of the model's provider. OpenAIError when there is none."""
    keys = usable_keys(user=user)
    if chosen is not None:
        pk = parse_uuid(chosen.strip())
        configuration = (
            ApiConfiguration.objects.filter(user=user, pk=pk).select_related("provider").first()
            if pk is not None
            else None
        )
        if configuration is None:
            raise OpenAIError(
                _("X-Bambi-Key names no key of yours; send the id of one of your stored keys."),
                code="invalid_bambi_key",
            )
        if configuration.provider_id != model.provider_id:
            raise OpenAIError(
                _("The key in X-Bambi-Key is a %(key)s key; %(model)s is a %(provider)s model.")
                % {
                    "key": configuration.provider.name,
                    "model": model.model_id,
                    "provider": model.provider.name,
                },
                code="invalid_bambi_key",
            )
        return configuration  # the form says why a chosen key that cannot be used is refused
    configuration = keys.filter(provider_id=model.provider_id).first()
    if configuration is None:
        raise OpenAIError(
            _(
                "You have no valid %(provider)s key on Bambi, so %(model)s cannot be called. "
                "Add one on the Keys page."
            )
            % {"provider": model.provider.name, "model": model.model_id},
            http_status=404,
            param="model",
            code="model_not_found",
        )
    return configuration
