"""JSON API of the byok app (see DESIGN.md, "JSON API"). Requests in camelCase, rows in
snake_case; the key itself is never part of an answer."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from bambi.api import ApiError, api_view, form_errors_sentence, ok, read_json
from byok import services
from byok.forms import ApiConfigurationCreateForm, ApiConfigurationUpdateForm, ApiKeyCheckForm
from byok.models import ApiConfiguration, Provider
from byok.selectors import active_providers, api_configuration_get, api_configurations_for


def provider_row(provider: Provider) -> dict:
    return {
        "id": str(provider.id),
        "name": provider.name,
        "slug": provider.slug,
        "description": provider.description,
        "website_url": provider.website_url,
        "models": [
            {
                "id": str(model.id),
                "name": model.name,
                "model_id": model.model_id,
                "description": model.description,
                "capabilities": model.capabilities,
            }
            for model in getattr(provider, "active_models", [])
        ],
    }


def configuration_row(configuration: ApiConfiguration) -> dict:
    provider = configuration.provider
    return {
        "id": str(configuration.id),
        "name": configuration.name,
        "provider": {"id": str(provider.id), "name": provider.name, "slug": provider.slug},
        "key_hint": configuration.key_hint,
        "is_valid": configuration.is_valid,
        "last_validated_at": configuration.last_validated_at,
        "created_at": configuration.created_at,
        "updated_at": configuration.updated_at,
    }


def _form_data(body: dict, names: dict[str, str]) -> dict:
    """Map the body's camelCase names to form fields; every value given must be a string."""
    data = {}
    for json_name, field in names.items():
        value = body.get(json_name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError(_("“%(name)s” must be a string.") % {"name": json_name})
        data[field] = value
    return data


def _valid_form(form):
    if not form.is_valid():
        raise ApiError(form_errors_sentence(form))
    return form.cleaned_data


@api_view(["GET"])
def providers(request: HttpRequest) -> JsonResponse:
    return ok([provider_row(p) for p in active_providers()])


@api_view(["GET", "POST"])
@sensitive_variables("body", "data", "raw", "value")
def configurations(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        rows = [configuration_row(c) for c in api_configurations_for(user=request.user)]
        return ok(rows)
    body = read_json(request)
    form = ApiConfigurationCreateForm(
        _form_data(body, {"name": "name", "providerId": "provider", "apiKey": "api_key"})
    )
    data = _valid_form(form)
    try:
        configuration = services.api_configuration_create(
            user=request.user,
            provider=data["provider"],
            name=data["name"],
            api_key=data["api_key"],
            request=request,
        )
    except services.KeyNotAccepted as exc:
        raise ApiError(exc.message, exc.status) from None
    return ok(configuration_row(configuration), status=201)


@api_view(["GET", "PATCH", "DELETE"])
@sensitive_variables("body", "data", "raw", "value")
def configuration(request: HttpRequest, pk) -> JsonResponse:
    # Looked up before the body is read: another user's id is a 404 whatever the body holds.
    config = api_configuration_get(user=request.user, pk=pk)
    if request.method == "GET":
        return ok(configuration_row(config))
    if request.method == "DELETE":
        services.api_configuration_delete(configuration=config, request=request)
        return ok({"success": True})
    body = read_json(request)
    form = ApiConfigurationUpdateForm(_form_data(body, {"name": "name", "apiKey": "api_key"}))
    data = _valid_form(form)
    try:
        config = services.api_configuration_update(
            configuration=config,
            name=data.get("name") or None,
            api_key=data.get("api_key") or None,
            request=request,
        )
    except services.KeyNotAccepted as exc:
        raise ApiError(exc.message, exc.status) from None
    return ok(configuration_row(config))


@api_view(["POST"])
@sensitive_variables("body", "data", "raw", "value")
def validate_api_key(request: HttpRequest) -> JsonResponse:
    """`providerId` + `apiKey`: check a key without storing it. `configId` instead: check the
    stored key of that configuration again and record the answer on it (the dashboard's
    "Re-validate")."""
    body = read_json(request)
    config_id = body.get("configId")
    if config_id is not None:
        if not isinstance(config_id, str):
            raise ApiError(_("“configId” must be a string."))
        config = _own_configuration(request, config_id)
        check = services.api_configuration_revalidate(configuration=config, request=request)
        if check.status == "unreachable":
            error = services.unreachable_error(check, config.provider, stored=True)
            raise ApiError(error.message, error.status)
        config.refresh_from_db()
        return ok(
            {
                "isValid": check.is_valid,
                "error": None if check.is_valid else services.revalidation_message(check, config),
                "configuration": configuration_row(config),
            }
        )

    form = ApiKeyCheckForm(_form_data(body, {"providerId": "provider", "apiKey": "api_key"}))
    data = _valid_form(form)
    check = services.api_key_validate(
        user=request.user, provider=data["provider"], api_key=data["api_key"], request=request
    )
    if check.status == "unreachable":
        error = services.unreachable_error(check, data["provider"])
        raise ApiError(error.message, error.status)
    if check.is_valid:
        return ok({"isValid": True, "error": None})
    reason = check.reason or _("%(provider)s refused this key.") % {"provider": data["provider"]}
    return ok({"isValid": False, "error": reason})


def _own_configuration(request: HttpRequest, pk: str) -> ApiConfiguration:
    try:
        uuid.UUID(pk)
    except ValueError:
        raise Http404 from None
    return api_configuration_get(user=request.user, pk=pk)
