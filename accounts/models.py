import uuid
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bambi.dates import add_months


def default_reset_date() -> datetime:
    """A new account's first period ends one calendar month after it starts."""
    return add_months(timezone.now(), 1)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A Bambi user: the email is the login. Usage counters follow the seed's `users` table."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    usage_count = models.PositiveIntegerField(
        _("generations this period"),
        default=0,
        help_text=_("Successful generation requests in the current monthly period."),
    )
    reset_date = models.DateTimeField(
        _("period resets on"),
        default=default_reset_date,
        help_text=_("When the monthly usage counter starts again from zero."),
    )
    # Premium given by an operator (support, partners), not bought: billing.plans reads it
    # beside the Stripe subscription. Set through the admin action, which audits it.
    complimentary_premium_until = models.DateTimeField(
        _("complimentary Premium until"),
        null=True,
        blank=True,
        help_text=_("Premium given by an operator, free of charge, until this moment."),
    )
    # The overview's "get started" list ends with opening the gallery once.
    gallery_seen_at = models.DateTimeField(_("first opened the gallery"), null=True, blank=True)
    created_at = models.DateTimeField(_("joined"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email


class SecurityEvent(models.Model):
    """Audit log read by operators in the admin. `detail` never holds a secret."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Signed up")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        EMAIL_CONFIRMED = "email_confirmed", _("Email confirmed")
        ACCOUNT_DELETED = "account_deleted", _("Account deleted")
        KEY_CREATED = "key_created", _("API key added")
        KEY_RENAMED = "key_renamed", _("API key renamed")
        KEY_REPLACED = "key_replaced", _("API key replaced")
        KEY_VALIDATED = "key_validated", _("API key validated")
        KEY_DELETED = "key_deleted", _("API key deleted")
        KEY_INVALIDATED = "key_invalidated", _("API key refused by provider")
        PLAN_CHANGED = "plan_changed", _("Plan changed")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_FIRST_USED = "token_first_used", _("API token used for the first time")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        COMPLIMENTARY_PREMIUM = "complimentary_premium", _("Complimentary Premium given")
        COMPLIMENTARY_PREMIUM_ENDED = (
            "complimentary_premium_ended",
            _("Complimentary Premium ended"),
        )

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"
