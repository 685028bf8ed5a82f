from django.urls import path

from billing import api, views

urlpatterns = [
    path("dashboard/billing/", views.billing, name="billing"),
    path("dashboard/billing/upgrade/", views.upgrade, name="billing_upgrade"),
    path("dashboard/billing/manage/", views.manage, name="billing_manage"),
    path(
        "api/stripe/create-checkout-session/",
        api.create_checkout_session,
        name="api_stripe_create_checkout_session",
    ),
    path(
        "api/stripe/create-portal-session/",
        api.create_portal_session,
        name="api_stripe_create_portal_session",
    ),
]
