from django.contrib import admin
from django.urls import include, path, re_path

from accounts import views as account_views
from bambi import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("api/openapi.json", views.openapi_document, name="api_openapi"),
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
