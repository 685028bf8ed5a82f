import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class ImageGeneration(models.Model):
    """One generation request (one prompt, one or more images)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    configuration = models.ForeignKey(
        "byok.ApiConfiguration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generations",
        verbose_name=_("stored key"),
    )
    model = models.ForeignKey(
        "byok.ImageModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.ForeignKey(
        "byok.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_token = models.ForeignKey(
        "tokens.ApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generations",
        verbose_name=_("API token"),
        help_text=_("The personal API token the request came with; empty: the dashboard."),
    )
    prompt = models.TextField(_("prompt"))
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error_message = models.TextField(_("error"), blank=True)
    cost_estimate = models.DecimalField(
        _("estimated cost (USD)"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    images_filtered = models.PositiveSmallIntegerField(
        _("images blocked"),
        default=0,
        help_text=_("Images asked for that the provider's safety filter withheld (not charged)."),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The gallery's keyset pages (generations.selectors.gallery_page): newest first,
            # the id breaking ties between generations made in the same microsecond.
            models.Index(fields=["user", "-created_at", "-id"], name="generation_user_keyset"),
            # Usage reads count the user's abandoned generations (generations.quota): this
            # keeps it a probe of a near-empty index, whatever the gallery.
            models.Index(
                fields=["user", "created_at"],
                condition=models.Q(status="pending"),
                name="generation_pending",
            ),
        ]
        verbose_name = _("image generation")
        verbose_name_plural = _("image generations")

    def __str__(self) -> str:
        return self.prompt[:60]

    def filtered_notice(self, returned: int) -> str | None:
        """The sentence saying how many of the images asked for the provider's safety filter
        blocked, in the active language; None when none was. `returned`: images stored."""
        if not self.images_filtered:
            return None
        return ngettext(
            "%(blocked)s of %(asked)s images was blocked by %(provider)s’s safety filter; "
            "blocked images are not charged.",
            "%(blocked)s of %(asked)s images were blocked by %(provider)s’s safety filter; "
            "blocked images are not charged.",
            self.images_filtered,
        ) % {
            "blocked": self.images_filtered,
            "asked": self.images_filtered + returned,
            "provider": self.provider.name if self.provider else _("the provider"),
        }


class Image(models.Model):
    """One stored image of a generation; files live in default_storage, never at a public URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    generation = models.ForeignKey(ImageGeneration, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(default=0)
    storage_path = models.CharField(max_length=255)
    thumbnail_path = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=16, blank=True)
    bytes = models.PositiveIntegerField(null=True, blank=True)
    revised_prompt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["generation", "index"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.storage_path


class ApiUsage(models.Model):
    """One row per provider call made for a user (the seed's `api_usage`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_usage"
    )
    configuration = models.ForeignKey(
        "byok.ApiConfiguration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("stored key"),
    )
    provider = models.ForeignKey(
        "byok.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generation = models.ForeignKey(
        ImageGeneration, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage"
    )
    request_type = models.CharField(max_length=32, default="image_generation")
    request_count = models.PositiveIntegerField(default=1)
    tokens_used = models.PositiveIntegerField(null=True, blank=True)
    cost_estimate = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="usage_user_created")]
        verbose_name = _("API usage")
        verbose_name_plural = _("API usage")

    def __str__(self) -> str:
        return f"{self.request_type} × {self.request_count}"
