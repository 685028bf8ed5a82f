import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bambi.budgets import MonthlyBudget
from byok.crypto import EncryptedSecretField


class Provider(models.Model):
    """An image provider (OpenAI, Google, xAI). `slug` picks the adapter in byok.providers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    website_url = models.URLField(_("website"), blank=True)
    api_base_url = models.URLField(
        _("API base URL"), help_text=_("Adapters build every provider URL from this base.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name


class ImageModel(models.Model):
    """A model of a provider. `capabilities` (JSON) drives validation and cost estimates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    name = models.CharField(_("name"), max_length=100)
    model_id = models.CharField(_("model id"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    capabilities = models.JSONField(_("capabilities"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model_id"], name="unique_model_per_provider"
            )
        ]
        verbose_name = _("image model")
        verbose_name_plural = _("image models")

    def __str__(self) -> str:
        return f"{self.name} ({self.model_id})"


class ApiConfiguration(MonthlyBudget):
    """A stored key: a user's key for one provider. `api_key` (the secret itself) reads clear
    in memory and is stored encrypted.

    Names: every word a person reads (pages, messages, the admin, the API's prose) calls this
    row a *key* ("stored key" where the secret could be meant). The row keeps the name of its
    table and of the JSON API (`api_configurations`, `configId`): in code it is an
    `ApiConfiguration`, a `configuration`, and `key` / `api_key` is always the secret string.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_configurations"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="configurations")
    name = models.CharField(_("name"), max_length=100)
    api_key = EncryptedSecretField(db_column="encrypted_api_key", bind_to=("pk", "user_id"))
    key_hint = models.CharField(_("key"), max_length=32, blank=True)
    is_valid = models.BooleanField(_("valid"), default=True)
    last_validated_at = models.DateTimeField(_("last validated"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apiconf_user_created")]
        verbose_name = _("stored key")
        verbose_name_plural = _("stored keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint})"
