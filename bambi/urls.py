import json

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.http import require_GET

from accounts import views as account_views
from bambi import views
from bambi.api import BambiAPI

# The JSON API under /api/: each app's router, one document describing them all.
api = BambiAPI(
    title="Bambi AI JSON API",
    version="1.0.0",
    description=(
        "Same powers as the dashboard, same-origin session auth: log in through "
        "/accounts/login/ (the `sessionid` cookie), then send Django's `csrftoken` cookie "
        "and the same value in `X-CSRFToken` with every POST, PATCH and DELETE. JSON in, "
        'JSON out. Success: `{"data": ...}`. Failure: `{"error": "<sentence>"}`. '
        "Requests are camelCase, rows snake_case. See docs/api.md for examples."
    ),
    servers=[{"url": "/"}],
    urls_namespace="api",
    openapi_extra={
        "tags": [
            {"name": "keys", "description": "Providers and the user's stored keys."},
            {"name": "generations", "description": "Generating images, the gallery, usage."},
            {"name": "billing", "description": "Premium through Stripe."},
        ]
    },
)
api.add_router("", "byok.api.router")
api.add_router("", "generations.api.router")
api.add_router("", "billing.api.router")


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI description of the JSON API (public: it describes, it grants nothing),
    generated from the routers and schemas that serve it."""
    document = api.get_openapi_schema(path_prefix="/api/")
    return HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=1), content_type="application/json"
    )


urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("api/openapi.json", openapi_document, name="api_openapi"),
    path("api/", api.urls),
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
]

handler400 = "bambi.views.bad_request"
handler403 = "bambi.views.permission_denied"
handler404 = "bambi.views.page_not_found"
handler500 = "bambi.views.server_error"
