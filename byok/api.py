"""JSON API of the byok app: providers and the user's stored keys (docs/api.md).

Thin: the forms clean, the services act, and their refusals (KeyNotAccepted, PlanLimitReached,
RateLimitExceeded) answer by themselves (bambi/api.py). The key itself is never in an answer.
"""

# No `from __future__ import annotations`: ninja reads these views' annotations at import,
# through decorators (sensitive_variables) whose globals are not this module's.

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja import Router, Status

from bambi.ids import parse_uuid
from bambi.schemas import Data, JsonBody, Success, cleaned, errors, owned
from byok import services
from byok.forms import ApiConfigurationCreateForm, ApiConfigurationUpdateForm, ApiKeyCheckForm
from byok.key_checks import refusal, revalidation_message
from byok.schemas import (
    ConfigurationCreate,
    ConfigurationOut,
    ConfigurationUpdate,
    KeyCheck,
    KeyCheckOut,
    ProviderOut,
)
from byok.selectors import active_providers, api_configuration_get, api_configurations_for

router = Router(tags=["keys"])

# `id` in a path: one of the user's stored keys, fetched before anything else (else a 404).
OwnConfiguration = owned(api_configuration_get)

PROVIDER_ERRORS = (422, 429, 502, 504)


@router.get(
    "/providers/",
    response=Data[list[ProviderOut]],
    summary="Active providers, each with its active models",
)
def providers(request: HttpRequest):
    return {"data": list(active_providers())}


@router.get(
    "/api-configurations/",
    response=Data[list[ConfigurationOut]],
    summary="The user's stored keys, newest first",
)
def configurations(request: HttpRequest):
    return {"data": list(api_configurations_for(user=request.auth))}


@router.post(
    "/api-configurations/",
    response={201: Data[ConfigurationOut], **errors(404, *PROVIDER_ERRORS)},
    summary="Store a new key (checked with its provider first)",
)
@sensitive_variables("payload", "data")
def configuration_create(request: HttpRequest, payload: ConfigurationCreate = JsonBody(...)):
    """The key is checked with the provider before anything is stored: a refused key is a 400
    with the provider's reason. Over the plan's number of keys (Free: 1) the answer is a 403
    offering Premium."""
    data = cleaned(ApiConfigurationCreateForm(payload.form_data()))
    configuration = services.api_configuration_create(
        user=request.auth,
        provider=data["provider"],
        name=data["name"],
        api_key=data["api_key"],
        request=request,
    )
    return Status(201, {"data": configuration})


@router.get(
    "/api-configurations/{uuid:id}/",
    response={200: Data[ConfigurationOut], **errors(404)},
    summary="One stored key",
)
def configuration(request: HttpRequest, id: OwnConfiguration):
    return {"data": id}


@router.patch(
    "/api-configurations/{uuid:id}/",
    response={200: Data[ConfigurationOut], **errors(404, *PROVIDER_ERRORS)},
    summary="Rename it and/or replace its key",
)
@sensitive_variables("payload", "data")
def configuration_update(
    request: HttpRequest, id: OwnConfiguration, payload: ConfigurationUpdate = JsonBody(...)
):
    data = cleaned(ApiConfigurationUpdateForm(payload.form_data()))
    configuration = services.api_configuration_update(
        configuration=id,
        name=data.get("name") or None,
        api_key=data.get("api_key") or None,
        request=request,
    )
    return {"data": configuration}


@router.delete(
    "/api-configurations/{uuid:id}/",
    response={200: Data[Success], **errors(404)},
    summary="Delete it (its generations stay in the gallery)",
)
def configuration_delete(request: HttpRequest, id: OwnConfiguration):
    services.api_configuration_delete(configuration=id, request=request)
    return {"data": {"success": True}}


@router.post(
    "/validate-api-key/",
    response={200: Data[KeyCheckOut], **errors(404, *PROVIDER_ERRORS)},
    exclude_unset=True,
    summary="Check a key with its provider",
)
@sensitive_variables("payload", "data")
def validate_api_key(request: HttpRequest, payload: KeyCheck = JsonBody(...)):
    """With `providerId` and `apiKey`: check a key without storing it. With `configId`: check
    a stored key again and record the answer on it (the Keys page's "Re-validate"). A refused
    key is a 200 with `isValid: false` and the provider's reason; a provider that cannot be
    reached is a 502/504. Checks are rate-limited per user and per address (429 with
    Retry-After; the provider is not asked)."""
    if payload.configId is not None:
        pk = parse_uuid(payload.configId)
        if pk is None:
            raise Http404
        configuration = api_configuration_get(user=request.auth, pk=pk)
        check = services.api_configuration_revalidate(configuration=configuration, request=request)
        if check.status == "unreachable":
            raise refusal(check, configuration.provider, stored=True)
        configuration.refresh_from_db()
        error = None if check.is_valid else revalidation_message(check, configuration)
        return {"data": {"isValid": check.is_valid, "error": error, "configuration": configuration}}

    data = cleaned(ApiKeyCheckForm(payload.form_data()))
    provider = data["provider"]
    check = services.api_key_validate(
        user=request.auth, provider=provider, api_key=data["api_key"], request=request
    )
    if check.status == "unreachable":
        raise refusal(check, provider)
    if check.is_valid:
        return {"data": {"isValid": True, "error": None}}
    reason = check.reason or _("%(provider)s refused this key.") % {"provider": provider}
    return {"data": {"isValid": False, "error": reason}}
