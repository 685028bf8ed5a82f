from django.urls import path

from billing import views

urlpatterns = [
    path("dashboard/billing/", views.billing, name="billing"),
    path("dashboard/billing/upgrade/", views.upgrade, name="billing_upgrade"),
    path("dashboard/billing/manage/", views.manage, name="billing_manage"),
]
