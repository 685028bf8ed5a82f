import json

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.http import require_GET

from accounts import views as account_views
from bambi import views
from bambi.api import BambiAPI, SessionAuth
from openai_compat.api import api as openai_api
from tokens.auth import TokenAuth

# The JSON API under /api/: each app's router, one document describing them all.
api = BambiAPI(
    title="Bambi AI JSON API",
    version="1.0.0",
    description=(
        "Same powers as the dashboard. Two ways in: a personal API token "
        "(`Authorization: Bearer bmb_…`, made on /dashboard/tokens/; no CSRF token), or the "
        "same-origin session: log in through /accounts/login/ (the `sessionid` cookie), then "
        "send Django's `csrftoken` cookie and the same value in `X-CSRFToken` with every "
        "POST, PATCH and DELETE. Tokens themselves are managed from the session only. The "
        "OpenAI-compatible images API is under /v1/ (tag `openai`). JSON in, "
        'JSON out. Success: `{"data": ...}`. Failure: `{"error": "<sentence>"}`. '
        "Requests are camelCase, rows snake_case. See docs/api.md for examples."
    ),
    servers=[{"url": "/"}],
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    openapi_extra={
        "tags": [
            {"name": "keys", "description": "Providers and the user's stored keys."},
            {"name": "generations", "description": "Generating images, the gallery, usage."},
            {"name": "billing", "description": "Premium through Stripe."},
            {
                "name": "tokens",
                "description": "Personal API tokens (managed from a logged-in session only).",
            },
            {
                "name": "openai",
                "description": "The OpenAI-compatible images API under /v1/, for the official "
                "`openai` SDKs (`base_url=<bambi>/v1`, `api_key=bmb_…`): OpenAI's requests, "
                'answers and errors (`{"error": {"message", "type", "param", "code"}}`). '
                "Bearer token only.",
            },
        ]
    },
)
api.add_router("", "byok.api.router")
api.add_router("", "generations.api.router")
api.add_router("", "billing.api.router")
api.add_router("", "tokens.api.router")


def merged_document() -> dict:
    """/api/'s document with /v1/'s operations, schemas and security schemes added."""
    document = api.get_openapi_schema(path_prefix="/api/")
    extra = openai_api.get_openapi_schema(path_prefix="/v1/")
    document["paths"].update(extra["paths"])
    components = document.setdefault("components", {})
    for section, entries in extra.get("components", {}).items():
        components.setdefault(section, {}).update(entries)
    return document


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI description of the JSON API and of /v1/ (public: it describes, it grants
    nothing), generated from the routers and schemas that serve them."""
    document = merged_document()
    return HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=1), content_type="application/json"
    )


urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("api/openapi.json", openapi_document, name="api_openapi"),
    path("api/", api.urls),
    path("v1/", openai_api.urls),
    path("admin/", admin.site.urls),
    # Two of allauth's pages, changed (accounts.views): confirming an email logs in, and the
    # connected-accounts page exists only with an OAuth provider. Before allauth's own URLs.
    re_path(
        r"^accounts/confirm-email/(?P<key>[-:\w]+)/$",
        account_views.ConfirmEmailView.as_view(),
        name="account_confirm_email",
    ),
    path(
        "accounts/3rdparty/",
        account_views.social_connections,
        name="socialaccount_connections",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("", include("accounts.urls")),
    path("", include("byok.urls")),
    path("", include("generations.urls")),
    path("", include("billing.urls")),
    path("", include("tokens.urls")),
]

handler400 = "bambi.views.bad_request"
handler403 = "bambi.views.permission_denied"
handler404 = "bambi.views.page_not_found"
handler500 = "bambi.views.server_error"
