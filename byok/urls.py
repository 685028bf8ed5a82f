from django.urls import path

from byok import api, views

urlpatterns = [
    path("dashboard/keys/", views.keys, name="keys"),
    path("dashboard/keys/<uuid:pk>/", views.key_edit, name="key_edit"),
    path("dashboard/keys/<uuid:pk>/rename/", views.key_rename, name="key_rename"),
    path("dashboard/keys/<uuid:pk>/replace/", views.key_replace, name="key_replace"),
    path("dashboard/keys/<uuid:pk>/validate/", views.key_validate, name="key_validate"),
    path("dashboard/keys/<uuid:pk>/delete/", views.key_delete, name="key_delete"),
    path("api/providers/", api.providers, name="api_providers"),
    path("api/api-configurations/", api.configurations, name="api_configurations"),
    path("api/api-configurations/<uuid:pk>/", api.configuration, name="api_configuration"),
    path("api/validate-api-key/", api.validate_api_key, name="api_validate_api_key"),
]
