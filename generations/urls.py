from django.urls import path

from generations import gallery, usage, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/generate/", views.generate, name="generate"),
    path("dashboard/generations/<uuid:pk>/", views.generation_detail, name="generation_detail"),
    path("dashboard/gallery/", gallery.gallery, name="gallery"),
    path("dashboard/gallery/delete/", gallery.gallery_delete, name="gallery_delete"),
    path("dashboard/images/<uuid:pk>/", views.image_file, name="image_file"),
    path("dashboard/images/<uuid:pk>/thumbnail/", views.image_thumbnail, name="image_thumbnail"),
    path("dashboard/usage/", usage.usage, name="usage"),
    path("dashboard/usage/export.csv", usage.usage_export, name="usage_export"),
    path("dashboard/inputs/<uuid:pk>/", views.input_file, name="input_file"),
    path("dashboard/inputs/<uuid:pk>/thumbnail/", views.input_thumbnail, name="input_thumbnail"),
    path("dashboard/account/export/", views.export, name="data_export"),
]
