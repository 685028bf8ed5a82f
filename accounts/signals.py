"""Audit-log receivers for Django's and allauth's account signals."""

from allauth.account.signals import (
    email_confirmed,
    password_changed,
    password_reset,
    user_signed_up,
)
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import SecurityEvent, User
from accounts.services import security_event_record

Kind = SecurityEvent.Kind


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    security_event_record(kind=Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        security_event_record(kind=Kind.LOGOUT, user=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Record which account was targeted (when it exists), never the password tried.
    email = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    user = User.objects.filter(email__iexact=email).first() if email else None
    security_event_record(kind=Kind.LOGIN_FAILED, user=user, request=request, email=email[:254])


@receiver(user_signed_up)
def _signed_up(sender, request, user, **kwargs):
    sociallogin = kwargs.get("sociallogin")
    method = sociallogin.account.provider if sociallogin else "email"
    security_event_record(kind=Kind.SIGNUP, user=user, request=request, method=method)


@receiver(password_changed)
def _password_changed(sender, request, user, **kwargs):
    security_event_record(kind=Kind.PASSWORD_CHANGED, user=user, request=request)


@receiver(password_reset)
def _password_reset(sender, request, user, **kwargs):
    security_event_record(kind=Kind.PASSWORD_RESET, user=user, request=request)


@receiver(email_confirmed)
def _email_confirmed(sender, request, email_address, **kwargs):
    security_event_record(kind=Kind.EMAIL_CONFIRMED, user=email_address.user, request=request)
