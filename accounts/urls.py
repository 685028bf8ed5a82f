from django.urls import path

from accounts import views

urlpatterns = [
    path("dashboard/account/", views.account, name="account"),
]
