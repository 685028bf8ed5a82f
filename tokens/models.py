"""Personal API tokens: how a script or an OpenAI-compatible client acts as a user.

The secret (`bmb_` + 43 url-safe characters, 256 random bits) is shown once, when the token
is made, and never stored: the row keeps its SHA-256 (`secret_hash`, the lookup key) and its
first characters (`prefix`) so a person can tell their tokens apart.

Why a plain, unsalted SHA-256 and not a password hash: a password hash is slow and salted
because passwords are guessable; this secret is 256 random bits, so no dictionary or rainbow
table applies and one fast hash is as strong as the secret. A slow hash would cost every API
request its time, and a salt would make the hash unfindable by an index. It is not keyed with
SECRET_KEY either: rotating SECRET_KEY would then silently break every user's scripts.

A token is usable while it is neither revoked nor past `expires_at`. Budgets (and whatever else
a token will be limited by) are columns of this row, checked where the generation is run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "bmb_"


class ApiToken(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(
        _("prefix"), max_length=16, help_text=_("The secret's first characters, to recognise it.")
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    allowed_models = models.JSONField(
        _("allowed models"),
        null=True,
        blank=True,
        help_text=_("“provider/model” ids this token may use; empty: every model."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        """ "revoked", "expired" or "active"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    def allows_model(self, model) -> bool:
        """Whether this token may generate with `model` (a byok ImageModel)."""
        if not self.allowed_models:
            return True
        return model_ref(model) in self.allowed_models


def model_ref(model) -> str:
    """A model as tokens name it: "provider/model_id" (model ids are unique per provider)."""
    return f"{model.provider.slug}/{model.model_id}"
