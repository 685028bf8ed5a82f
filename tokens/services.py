"""Writes of the tokens app: making, using and revoking personal API tokens.

A token's secret exists in clear twice: in the answer that creates it (shown once) and in
each request that presents it. Neither is ever stored or logged: the row keeps its SHA-256
(tokens/models.py says why that is enough), and bambi/redaction.py removes `bmb_…` strings
from every log line.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from accounts.models import SecurityEvent
from accounts.services import security_event_record
from bambi.errors import BambiError
from billing.plans import FREE, PlanLimitReached, plan_for
from billing.services import billing_configured
from tokens.models import SECRET_PREFIX, ApiToken, model_ref

logger = logging.getLogger(__name__)

# 32 random bytes: 43 url-safe characters after the prefix.
SECRET_BYTES = 32
PREFIX_LENGTH = len(SECRET_PREFIX) + 8
# "Last used" is shown to the minute: a token used again within the minute keeps its time, so
# a busy script costs no write per request (the same rule as a key's last_used_at).
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(BambiError):
    """The request's API token is missing its secret, unknown, expired or revoked (401)."""

    http_status = 401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="Bambi AI"'}


class TokenNotAllowed(BambiError):
    """The token may not do this: use this model, or manage tokens (403)."""

    http_status = 403


@dataclass(frozen=True)
class CreatedToken:
    """A new token and its secret, which exists only in this object and the answer."""

    token: ApiToken
    secret: str

    def __repr__(self) -> str:  # the secret stays out of tracebacks and debug output
        return f"CreatedToken({self.token.pk})"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def active_tokens(*, user, now: datetime | None = None):
    """The user's tokens that work now (neither revoked nor expired)."""
    now = now or timezone.now()
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def token_limit_sentence(*, plan) -> str:
    """The plan's token limit in a sentence; Premium is offered only to a Free user where it
    can be bought (billing configured)."""
    limit = plan.api_tokens
    if plan.slug != FREE.slug or not billing_configured():
        return ngettext(
            "You have %(limit)s working API token, the most your plan allows. Revoke one to "
            "make another.",
            "You have %(limit)s working API tokens, the most your plan allows. Revoke one to "
            "make another.",
            limit,
        ) % {"limit": limit}
    return ngettext(
        "Your Free plan allows %(limit)s working API token. Revoke it to make another, or "
        "upgrade to Premium for more.",
        "Your Free plan allows %(limit)s working API tokens. Revoke one to make another, or "
        "upgrade to Premium for more.",
        limit,
    ) % {"limit": limit}


def can_add_token(*, user) -> bool:
    return active_tokens(user=user).count() < plan_for(user).api_tokens


def _check_token_limit(user) -> None:
    plan = plan_for(user)
    if active_tokens(user=user).count() >= plan.api_tokens:
        raise PlanLimitReached(token_limit_sentence(plan=plan))


@sensitive_variables("secret")
def api_token_create(
    *,
    user,
    name: str,
    expires_at: datetime | None = None,
    allowed_models: list | None = None,
    request: HttpRequest | None = None,
) -> CreatedToken:
    """Make a token for `user`. `allowed_models`: ImageModels it may use (None or empty: all).

    Raises PlanLimitReached when the user has as many working tokens as the plan allows
    (revoked and expired ones do not count). The secret is in the result only."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    refs = sorted({model_ref(model) for model in allowed_models or ()}) or None
    with transaction.atomic():
        # Lock the owner so two parallel creations cannot both pass the plan's limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        _check_token_limit(user)
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=secret_hash(secret),
            allowed_models=refs,
            expires_at=expires_at,
        )
        security_event_record(
            kind=SecurityEvent.Kind.TOKEN_CREATED,
            user=user,
            request=request,
            token_id=str(token.pk),
            name=token.name,
            prefix=token.prefix,
            expires_at=expires_at.isoformat() if expires_at else None,
            allowed_models=refs,
        )
    logger.info("API token %s created", token.pk)
    return CreatedToken(token=token, secret=secret)


def api_token_revoke(
    *, token: ApiToken, request: HttpRequest | None = None, by_operator=None
) -> ApiToken:
    """Revoke the token at once (its next request is a 401). Revoking it again changes
    nothing and records nothing."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not revoked:
            token.refresh_from_db(fields=["revoked_at"])
            return token
        token.revoked_at = now
        detail = {"token_id": str(token.pk), "name": token.name, "prefix": token.prefix}
        if by_operator is not None:
            detail["revoked_by"] = str(by_operator)
        security_event_record(
            kind=SecurityEvent.Kind.TOKEN_REVOKED, user=token.user, request=request, **detail
        )
    return token


@sensitive_variables("secret")
def api_token_authenticate(*, secret: str, request: HttpRequest | None = None) -> ApiToken:
    """The usable token whose secret this is (its user loaded), marked as used; TokenRefused
    with a sentence otherwise."""
    secret = secret.strip()
    if not secret:
        raise TokenRefused(_("The Authorization header has no API token after “Bearer”."))
    token = ApiToken.objects.select_related("user").filter(secret_hash=secret_hash(secret)).first()
    if token is None or not token.user.is_active:
        raise TokenRefused(
            _(
                "This API token is not valid. Check that you copied it whole, or make a new "
                "one on the API tokens page."
            )
        )
    if token.revoked_at is not None:
        raise TokenRefused(_("This API token has been revoked."))
    now = timezone.now()
    if token.is_expired(now):
        raise TokenRefused(
            _("This API token expired on %(date)s.")
            % {"date": date_format(token.expires_at, "DATETIME_FORMAT")}
        )
    api_token_mark_used(token=token, now=now, request=request)
    return token


def api_token_mark_used(
    *, token: ApiToken, now: datetime, request: HttpRequest | None = None
) -> None:
    """Record the use: at most one write a minute per token, and the audit event of its first
    use exactly once (the conditional UPDATE decides, however many requests race)."""
    if token.last_used_at is None:
        first = ApiToken.objects.filter(pk=token.pk, last_used_at__isnull=True).update(
            last_used_at=now
        )
        token.last_used_at = now
        if first:
            security_event_record(
                kind=SecurityEvent.Kind.TOKEN_FIRST_USED,
                user=token.user,
                request=request,
                token_id=str(token.pk),
                name=token.name,
                prefix=token.prefix,
            )
        return
    if now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_token_check_model(*, token: ApiToken | None, model) -> None:
    """TokenNotAllowed (403) when `token` is limited to other models than `model`."""
    if token is not None and not token.allows_model(model):
        raise TokenNotAllowed(
            _(
                "This API token may not use %(model)s; it is limited to: %(allowed)s. Make a "
                "token that allows it on the API tokens page."
            )
            % {"model": model_ref(model), "allowed": ", ".join(token.allowed_models or ())}
        )
