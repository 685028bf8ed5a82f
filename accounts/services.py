"""Writes of the accounts app: the audit log, account deletion, complimentary Premium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SecurityEvent, User
from bambi.client_ip import client_ip
from bambi.dates import add_months

# Other apps register cleanups that must run when an account goes (e.g. removing image
# files from storage); each is called with the user before the rows are deleted.
ACCOUNT_DELETION_HOOKS: list[Callable[[User], None]] = []


def security_event_record(
    *,
    kind: str,
    user: User | None = None,
    request: HttpRequest | None = None,
    **detail,
) -> SecurityEvent:
    """Append one event to the audit log. `detail` must never hold a secret."""
    if user is not None and not getattr(user, "pk", None):
        user = None
    return SecurityEvent.objects.create(kind=kind, user=user, ip=client_ip(request), detail=detail)


def account_delete(
    *, user: User, request: HttpRequest | None = None, by_operator: User | None = None
) -> None:
    """Delete the user and everything they own (keys, generations, images and their files,
    and their Stripe subscription is cancelled), whether they asked on the account page or
    an operator deleted them in the admin (`by_operator`, recorded in the audit log)."""
    email = user.email
    for hook in ACCOUNT_DELETION_HOOKS:
        hook(user)
    with transaction.atomic():
        user_id = str(user.pk)
        user.delete()
        detail = {"user_id": user_id, "email_domain": email.rsplit("@", 1)[-1]}
        if by_operator is not None:
            detail["deleted_by"] = by_operator.email
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.ACCOUNT_DELETED,
            ip=client_ip(request),
            detail=detail,
        )


COMPLIMENTARY_MAX_MONTHS = 36


def complimentary_premium_grant(
    *,
    user: User,
    months: int,
    by_operator: User,
    reason: str = "",
    request: HttpRequest | None = None,
) -> datetime:
    """Give `user` Premium free of charge for `months` months (an operator's decision, for
    support), counted from now or from the end of a gift still running. billing.plans reads
    the date; the security log records who gave it, for how long and why. Returns the end."""
    if not 1 <= months <= COMPLIMENTARY_MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {COMPLIMENTARY_MAX_MONTHS}")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        current = locked.complimentary_premium_until
        until = add_months(current if current and current > now else now, months)
        User.objects.filter(pk=user.pk).update(complimentary_premium_until=until)
        security_event_record(
            kind=SecurityEvent.Kind.COMPLIMENTARY_PREMIUM,
            user=locked,
            request=request,
            months=months,
            until=until.isoformat(),
            previous_until=current.isoformat() if current else None,
            given_by=by_operator.email,
            reason=reason[:500],
        )
    user.complimentary_premium_until = until
    return until


def complimentary_premium_end(
    *, user: User, by_operator: User, request: HttpRequest | None = None
) -> bool:
    """End an operator's gift of Premium now; False when there was none running."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        current = locked.complimentary_premium_until
        if current is None or current <= timezone.now():
            return False
        User.objects.filter(pk=user.pk).update(complimentary_premium_until=None)
        security_event_record(
            kind=SecurityEvent.Kind.COMPLIMENTARY_PREMIUM_ENDED,
            user=locked,
            request=request,
            previous_until=current.isoformat(),
            ended_by=by_operator.email,
        )
    user.complimentary_premium_until = None
    return True


def onboarding_gallery_seen(*, user: User) -> None:
    """Remember that the user has opened their gallery (the last step of "get started").
    Written once: later visits find the date set and write nothing."""
    if user.gallery_seen_at is None and user.pk is not None:
        now = timezone.now()
        User.objects.filter(pk=user.pk, gallery_seen_at__isnull=True).update(gallery_seen_at=now)
        user.gallery_seen_at = now
