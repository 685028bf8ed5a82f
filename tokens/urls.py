from django.urls import path

from tokens import views

urlpatterns = [
    path("dashboard/tokens/", views.tokens, name="tokens"),
    path("dashboard/tokens/<uuid:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
