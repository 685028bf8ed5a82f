from django.urls import path

from byok import views

urlpatterns = [
    path("dashboard/keys/", views.keys, name="keys"),
    path("dashboard/keys/<uuid:pk>/", views.key_edit, name="key_edit"),
    path("dashboard/keys/<uuid:pk>/rename/", views.key_rename, name="key_rename"),
    path("dashboard/keys/<uuid:pk>/replace/", views.key_replace, name="key_replace"),
    path("dashboard/keys/<uuid:pk>/budget/", views.key_budget, name="key_budget"),
    path("dashboard/keys/<uuid:pk>/validate/", views.key_validate, name="key_validate"),
    path("dashboard/keys/<uuid:pk>/delete/", views.key_delete, name="key_delete"),
]
