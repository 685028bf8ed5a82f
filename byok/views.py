"""Dashboard pages for keys: /dashboard/keys/ and one page per key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from bambi.errors import BambiError, with_error_headers
from billing.plans import PlanLimitReached, plan_for
from billing.services import billing_configured
from byok import services
from byok.forms import ApiConfigurationCreateForm, RenameForm, ReplaceKeyForm, selectable_providers
from byok.guidance import key_guides
from byok.key_checks import KeyNotAccepted, revalidation_message
from byok.selectors import api_configuration_get, api_configurations_for, key_invalid_reasons


def _limit_sentence(limit: int) -> str:
    """The plan's key limit; the upgrade is offered only where Premium can be bought."""
    if billing_configured():
        return services.plan_limit_sentence(limit, with_url=False)
    return ngettext(
        "Your plan allows %(limit)s stored API key.",
        "Your plan allows %(limit)s stored API keys.",
        limit,
    ) % {"limit": limit}


def _keys_page(
    request: HttpRequest,
    form: ApiConfigurationCreateForm,
    status: int = 200,
    providers: list | None = None,
):
    plan = plan_for(request.user)  # once per request: it is a subscription query
    configurations = list(api_configurations_for(user=request.user))
    reasons = key_invalid_reasons(user=request.user, configurations=configurations)
    for configuration in configurations:
        configuration.invalid_reason = reasons.get(str(configuration.pk))
    providers = providers if providers is not None else list(selectable_providers())
    return render(
        request,
        "byok/keys.html",
        {
            "active_nav": "keys",
            "configurations": configurations,
            "form": form,
            "plan": plan,
            "can_add": services.can_add_configuration(
                user=request.user, plan=plan, count=len(configurations)
            ),
            "limit_sentence": (
                _limit_sentence(plan.configurations) if plan.configurations is not None else ""
            ),
            "guides": key_guides(providers),
            "selected_provider": str(
                form["provider"].value() or (providers[0].pk if providers else "")
            ),
            "billing_url": reverse("billing"),
        },
        status=status,
    )


def _with_default_name(data, providers: list):
    """The key is named after its provider when the name is left empty."""
    if (data.get("name") or "").strip():
        return data
    provider = next((p for p in providers if str(p.pk) == data.get("provider")), None)
    if provider is None:
        return data
    data = data.copy()
    data["name"] = provider.name
    return data


@sensitive_post_parameters("api_key")
@login_required
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    providers = list(selectable_providers())
    if request.method == "GET":
        return _keys_page(request, ApiConfigurationCreateForm(), providers=providers)
    form = ApiConfigurationCreateForm(_with_default_name(request.POST, providers))
    if not form.is_valid():
        return _keys_page(request, form, status=400, providers=providers)
    try:
        configuration = services.api_configuration_create(
            user=request.user,
            provider=form.cleaned_data["provider"],
            name=form.cleaned_data["name"],
            api_key=form.cleaned_data["api_key"],
            request=request,
        )
    except PlanLimitReached as exc:
        # The page offers the upgrade with a button rather than the URL in the sentence.
        limit = plan_for(request.user).configurations or 0
        form.add_error(None, _limit_sentence(limit))
        return _keys_page(request, form, status=exc.http_status, providers=providers)
    except BambiError as exc:
        form.add_error("api_key" if isinstance(exc, KeyNotAccepted) else None, exc.message)
        page = _keys_page(request, form, status=exc.http_status, providers=providers)
        return with_error_headers(page, exc)
    messages.success(
        request,
        _("Key “%(name)s” checked with %(provider)s and saved.")
        % {"name": configuration.name, "provider": configuration.provider.name},
    )
    return redirect("keys")


def _edit_page(request, configuration, rename_form=None, replace_form=None, status=200):
    return render(
        request,
        "byok/key_edit.html",
        {
            "active_nav": "keys",
            "configuration": configuration,
            "rename_form": rename_form or RenameForm(initial={"name": configuration.name}),
            "replace_form": replace_form or ReplaceKeyForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def key_edit(request: HttpRequest, pk) -> HttpResponse:
    configuration = api_configuration_get(user=request.user, pk=pk)
    return _edit_page(request, configuration)


@login_required
@require_POST
def key_rename(request: HttpRequest, pk) -> HttpResponse:
    configuration = api_configuration_get(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, configuration, rename_form=form, status=400)
    services.api_configuration_rename(
        configuration=configuration, name=form.cleaned_data["name"], request=request
    )
    messages.success(request, _("Key renamed to “%(name)s”.") % {"name": configuration.name})
    return redirect("keys")


@sensitive_post_parameters("api_key")
@login_required
@require_POST
def key_replace(request: HttpRequest, pk) -> HttpResponse:
    configuration = api_configuration_get(user=request.user, pk=pk)
    form = ReplaceKeyForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, configuration, replace_form=form, status=400)
    try:
        services.api_configuration_replace_key(
            configuration=configuration, api_key=form.cleaned_data["api_key"], request=request
        )
    except BambiError as exc:
        form.add_error("api_key" if isinstance(exc, KeyNotAccepted) else None, exc.message)
        configuration.refresh_from_db()
        page = _edit_page(request, configuration, replace_form=form, status=exc.http_status)
        return with_error_headers(page, exc)
    messages.success(
        request,
        _("The key of “%(name)s” was checked and replaced.") % {"name": configuration.name},
    )
    return redirect("keys")


@login_required
@require_POST
def key_validate(request: HttpRequest, pk) -> HttpResponse:
    configuration = api_configuration_get(user=request.user, pk=pk)
    try:
        check = services.api_configuration_revalidate(configuration=configuration, request=request)
    except BambiError as exc:
        messages.error(request, exc.message)
        page = _keys_page(request, ApiConfigurationCreateForm(), exc.http_status)
        return with_error_headers(page, exc)
    sentence = revalidation_message(check, configuration)
    if check.is_valid:
        messages.success(request, sentence)
    elif check.status == "invalid":
        messages.error(request, sentence)
    else:
        messages.warning(request, sentence)
    return redirect("keys")


@login_required
@require_http_methods(["GET", "POST"])
def key_delete(request: HttpRequest, pk) -> HttpResponse:
    configuration = api_configuration_get(user=request.user, pk=pk)
    if request.method == "POST":
        name = configuration.name
        services.api_configuration_delete(configuration=configuration, request=request)
        messages.success(request, _("Key “%(name)s” deleted.") % {"name": name})
        return redirect("keys")
    return render(
        request,
        "byok/key_delete.html",
        {"active_nav": "keys", "configuration": configuration},
    )
