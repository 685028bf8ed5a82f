"""Operators' view of generations, images and usage: read-only (the rows are a record of what
happened). Deleting goes through the services so image files go with the rows."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from bambi.admin_paging import BigTableAdmin
from generations import storage
from generations.deletion import generations_delete, images_delete
from generations.models import ApiUsage, GenerationInput, Image, ImageGeneration
from generations.views import _stream


class ReadOnlyAdmin(BigTableAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _thumbnail_tag(image: Image, size: int = 96):
    if not image.thumbnail_path:
        return "—"
    url = reverse("admin:generations_image_thumbnail", args=[image.pk])
    return format_html(
        '<img src="{}" alt="" style="max-width:{}px;max-height:{}px;border-radius:4px">',
        url,
        size,
        size,
    )


class ImageInline(admin.TabularInline):
    model = Image
    extra = 0
    can_delete = False
    fields = ("preview", "index", "width", "height", "format", "bytes", "storage_path")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("preview"))
    def preview(self, image: Image):
        return _thumbnail_tag(image)


class InputInline(admin.TabularInline):
    """An edit's input images and mask (their files are the user's: listed, not shown)."""

    model = GenerationInput
    fk_name = "generation"
    extra = 0
    can_delete = False
    fields = ("index", "is_mask", "width", "height", "format", "bytes", "source_image")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImageGeneration)
class ImageGenerationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "model", "status", "cost_estimate", "duration_ms")
    # "API token: not empty" = made through the API with a personal token (/api/ or /v1/).
    list_filter = (
        "status",
        "provider",
        "cost_basis",
        ("api_token", admin.EmptyFieldListFilter),
        "created_at",
    )
    search_fields = ("user__email", "prompt", "id")
    # No date_hierarchy: its list of years is a SELECT DISTINCT over every row on every page
    # view (22 ms at 100,000 generations, growing); the "created at" filter above stays.
    list_select_related = ("user", "model")
    raw_id_fields = ("parent",)
    inlines = [ImageInline, InputInline]

    def delete_model(self, request, obj) -> None:
        generations_delete(user=obj.user, generation_ids=[obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        for generation in queryset.select_related("user"):
            generations_delete(user=generation.user, generation_ids=[generation.pk])


@admin.register(Image)
class ImageAdmin(ReadOnlyAdmin):
    list_display = ("preview", "generation", "index", "width", "height", "format", "created_at")
    list_select_related = ("generation",)
    search_fields = ("generation__user__email", "generation__id")

    # Deleting (here, or by cascade from a generation) removes the files too.
    def delete_model(self, request, obj) -> None:
        images_delete(images=[obj])

    def delete_queryset(self, request, queryset) -> None:
        images_delete(images=list(queryset))

    @admin.display(description=_("preview"))
    def preview(self, image: Image):
        return _thumbnail_tag(image, 64)

    def get_readonly_fields(self, request, obj=None):
        return ["preview", *[f.name for f in self.model._meta.fields]]

    def get_urls(self):
        view = self.admin_site.admin_view(self.thumbnail_view)
        return [
            path("<uuid:pk>/thumbnail/", view, name="generations_image_thumbnail"),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request, pk):
        """Serves a thumbnail to staff who may view images (the files are not public)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = get_object_or_404(Image, pk=pk)
        storage.image_thumbnail_ensure(image=image)  # made on first request, then kept
        return _stream(image.thumbnail_path, storage.content_type_for("webp"))


@admin.register(ApiUsage)
class ApiUsageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "provider", "request_count", "cost_estimate")
    list_filter = ("provider", "created_at")
    search_fields = ("user__email",)
    list_select_related = ("user", "provider")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
