"""Dashboard pages for personal API tokens: /dashboard/tokens/ and the revoke confirmation.

A new token's secret is shown on the page that answers the form (never through a redirect:
that would put it in the session or a URL), with `Cache-Control: no-store` so that the
browser keeps no copy of that page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.plans import PlanLimitReached, plan_for
from tokens.forms import ApiTokenForm
from tokens.selectors import api_token_get, api_tokens_for
from tokens.services import (
    active_tokens,
    api_token_create,
    api_token_revoke,
    token_limit_sentence,
)


def _tokens_page(
    request: HttpRequest, form: ApiTokenForm, *, created=None, status: int = 200
) -> HttpResponse:
    plan = plan_for(request.user)
    working = active_tokens(user=request.user).count()
    response = render(
        request,
        "tokens/tokens.html",
        {
            "active_nav": "tokens",
            "tokens": list(api_tokens_for(user=request.user)),
            "form": form,
            "created": created,
            "can_add": working < plan.api_tokens,
            "working": working,
            "plan": plan,
            "limit_sentence": token_limit_sentence(plan=plan),
            "v1_url": request.build_absolute_uri(reverse("openai_compat:api-root")),
            "billing_url": reverse("billing"),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _tokens_page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form, status=400)
    try:
        created = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            allowed_models=form.cleaned_data["allowed_models"],
            request=request,
        )
    except PlanLimitReached as exc:
        form.add_error(None, exc.message)
        return _tokens_page(request, form, status=exc.http_status)
    return _tokens_page(request, ApiTokenForm(), created=created, status=201)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk) -> HttpResponse:
    token = api_token_get(user=request.user, pk=pk)
    if request.method == "GET":
        return render(request, "tokens/token_revoke.html", {"active_nav": "tokens", "token": token})
    api_token_revoke(token=token, request=request)
    messages.success(
        request,
        _("Token “%(name)s” revoked: requests with it are refused from now on.")
        % {"name": token.name},
    )
    return redirect("tokens")
