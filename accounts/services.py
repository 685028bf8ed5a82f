"""Writes of the accounts app: the audit log and account deletion."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest

from accounts.models import SecurityEvent, User
from bambi.client_ip import client_ip

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
