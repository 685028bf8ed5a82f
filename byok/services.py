"""Writes of the byok app: adding, renaming, replacing, re-validating and deleting keys.

Every key is checked with its provider before it is stored (byok/key_checks.py): a key the
provider refuses is never saved, and neither is one we could not check (provider down or slow).
The clear key lives only in the arguments of these functions and in the adapter call; what is
stored is the ciphertext (see byok/crypto.py) and a short hint such as `sk-…Qa42`.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from accounts.models import SecurityEvent
from accounts.services import security_event_record
from billing.plans import Plan, PlanLimitReached, plan_for
from byok.crypto import DecryptionError
from byok.key_checks import KeyCheckResult, key_check, key_hint, refusal, scrub_reason
from byok.models import ApiConfiguration, Provider

logger = logging.getLogger(__name__)


def plan_limit_sentence(limit: int, *, with_url: bool = True) -> str:
    """The refusal that offers the upgrade. Pages put the link on a button instead of the URL."""
    sentence = ngettext(
        "Your Free plan allows %(limit)s API key. Upgrade to Premium for unlimited keys.",
        "Your Free plan allows %(limit)s API keys. Upgrade to Premium for unlimited keys.",
        limit,
    ) % {"limit": limit}
    if with_url:
        sentence = _("%(sentence)s Upgrade here: %(url)s") % {
            "sentence": sentence,
            "url": reverse("billing"),
        }
    return sentence


def can_add_configuration(*, user, plan: Plan | None = None, count: int | None = None) -> bool:
    """Whether the user's plan lets them add one more configuration.

    `plan` and `count` (how many configurations the user has) spare their queries when the
    caller has them already (the Keys page lists the keys and knows the plan)."""
    limit = (plan or plan_for(user)).configurations
    if limit is None:
        return True
    if count is None:
        count = ApiConfiguration.objects.filter(user=user).count()
    return count < limit


def _check_plan_limit(user) -> None:
    limit = plan_for(user).configurations
    if limit is not None and ApiConfiguration.objects.filter(user=user).count() >= limit:
        raise PlanLimitReached(plan_limit_sentence(limit))


@sensitive_variables("api_key")
def api_configuration_create(
    *,
    user,
    provider: Provider,
    name: str,
    api_key: str,
    monthly_budget_usd: Decimal | None = None,
    request: HttpRequest | None = None,
) -> ApiConfiguration:
    """Check `api_key` with the provider, then store it encrypted, with its monthly budget
    (None: no budget).

    Raises PlanLimitReached when the plan allows no more keys (before asking the provider),
    RateLimitExceeded when the user or client checked too many keys lately (nor is the
    provider asked), KeyNotAccepted when the provider refuses the key or cannot be asked.
    Nothing is stored in any case."""
    api_key = api_key.strip()
    _check_plan_limit(user)
    check = key_check(provider=provider, key=api_key, user=user, request=request)
    if not check.is_valid:
        _record_unstored_check(check, user=user, provider=provider, request=request)
        raise refusal(check, provider)

    with transaction.atomic():
        # Lock the owner so two parallel adds cannot both pass the plan's limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        _check_plan_limit(user)
        configuration = ApiConfiguration(
            user=user,
            provider=provider,
            name=name.strip(),
            key_hint=key_hint(api_key),
            is_valid=True,
            last_validated_at=timezone.now(),
            monthly_budget_usd=monthly_budget_usd,
        )
        configuration.api_key = api_key
        configuration.save()
        security_event_record(
            kind=SecurityEvent.Kind.KEY_CREATED,
            user=user,
            request=request,
            configuration_id=str(configuration.pk),
            provider=provider.slug,
            name=configuration.name,
            key_hint=configuration.key_hint,
        )
    logger.info("API configuration %s added for provider %s", configuration.pk, provider.slug)
    return configuration


def api_configuration_rename(
    *, configuration: ApiConfiguration, name: str, request: HttpRequest | None = None
) -> ApiConfiguration:
    """Give the configuration a new name."""
    old_name = configuration.name
    with transaction.atomic():
        configuration.name = name.strip()
        configuration.save(update_fields=["name", "updated_at"])
        security_event_record(
            kind=SecurityEvent.Kind.KEY_RENAMED,
            user=configuration.user,
            request=request,
            configuration_id=str(configuration.pk),
            old_name=old_name,
            name=configuration.name,
        )
    return configuration


@sensitive_variables("api_key")
def api_configuration_replace_key(
    *, configuration: ApiConfiguration, api_key: str, request: HttpRequest | None = None
) -> ApiConfiguration:
    """Check the new key with the configuration's provider, then store it in place of the old
    one. KeyNotAccepted when refused or not checkable: the old key stays as it was."""
    api_key = api_key.strip()
    provider = configuration.provider
    check = key_check(provider=provider, key=api_key, user=configuration.user, request=request)
    if not check.is_valid:
        _record_unstored_check(
            check,
            user=configuration.user,
            provider=provider,
            request=request,
            configuration_id=str(configuration.pk),
        )
        raise refusal(check, provider)
    with transaction.atomic():
        old_hint = configuration.key_hint
        configuration.api_key = api_key
        configuration.key_hint = key_hint(api_key)
        configuration.is_valid = True
        configuration.last_validated_at = timezone.now()
        configuration.save(
            update_fields=["api_key", "key_hint", "is_valid", "last_validated_at", "updated_at"]
        )
        security_event_record(
            kind=SecurityEvent.Kind.KEY_REPLACED,
            user=configuration.user,
            request=request,
            configuration_id=str(configuration.pk),
            provider=provider.slug,
            old_key_hint=old_hint,
            key_hint=configuration.key_hint,
        )
    return configuration


def api_configuration_set_budget(
    *, configuration: ApiConfiguration, monthly_budget_usd: Decimal | None
) -> ApiConfiguration:
    """Set (or with None remove) the key's monthly budget. What the key spent this period
    stays counted: a budget lowered below it refuses the next generation."""
    configuration.monthly_budget_usd = monthly_budget_usd
    ApiConfiguration.objects.filter(pk=configuration.pk).update(
        monthly_budget_usd=monthly_budget_usd, updated_at=timezone.now()
    )
    return configuration


UNCHANGED: Any = object()


@sensitive_variables("api_key")
def api_configuration_update(
    *,
    configuration: ApiConfiguration,
    name: str | None = None,
    api_key: str | None = None,
    monthly_budget_usd: Decimal | None = UNCHANGED,
    request: HttpRequest | None = None,
) -> ApiConfiguration:
    """Rename, replace the key and/or set the budget (PATCH). The key is checked first, so a
    refused key leaves the name and the budget unchanged too."""
    if api_key:
        configuration = api_configuration_replace_key(
            configuration=configuration, api_key=api_key, request=request
        )
    if name and name.strip() != configuration.name:
        configuration = api_configuration_rename(
            configuration=configuration, name=name, request=request
        )
    if monthly_budget_usd is not UNCHANGED:
        configuration = api_configuration_set_budget(
            configuration=configuration, monthly_budget_usd=monthly_budget_usd
        )
    return configuration


def api_configuration_revalidate(
    *, configuration: ApiConfiguration, request: HttpRequest | None = None
) -> KeyCheckResult:
    """Ask the provider again about the stored key and record the answer.

    valid / invalid update `is_valid` and `last_validated_at`; unreachable changes nothing on
    the configuration (the key is not known to be bad) and is returned with its status."""
    check = key_check(
        provider=configuration.provider,
        key=configuration.api_key,
        user=configuration.user,
        request=request,
    )
    with transaction.atomic():
        if check.status in ("valid", "invalid"):
            configuration.is_valid = check.is_valid
            configuration.last_validated_at = timezone.now()
            configuration.save(update_fields=["is_valid", "last_validated_at", "updated_at"])
        security_event_record(
            kind=SecurityEvent.Kind.KEY_VALIDATED,
            user=configuration.user,
            request=request,
            configuration_id=str(configuration.pk),
            provider=configuration.provider.slug,
            result=check.status,
            reason=check.reason,
        )
    return check


@sensitive_variables("api_key")
def api_key_validate(
    *, user, provider: Provider, api_key: str, request: HttpRequest | None = None
) -> KeyCheckResult:
    """Check a key without storing it (POST /api/validate-api-key/). Recorded in the audit log
    so that using Bambi to test many keys leaves a trace."""
    check = key_check(provider=provider, key=api_key.strip(), user=user, request=request)
    _record_unstored_check(check, user=user, provider=provider, request=request)
    return check


def _record_unstored_check(
    check: KeyCheckResult, *, user, provider: Provider, request: HttpRequest | None, **detail
) -> None:
    """The audit trail of a key that was checked and not stored: refused, not answered, or
    only checked (the log shows someone testing keys through Bambi)."""
    security_event_record(
        kind=SecurityEvent.Kind.KEY_VALIDATED,
        user=user,
        request=request,
        **detail,
        provider=provider.slug,
        result=check.status,
        stored=False,
    )


def api_configuration_delete(
    *, configuration: ApiConfiguration, request: HttpRequest | None = None, by_operator=None
) -> None:
    """Delete the configuration and its encrypted key. Generations made with it keep their
    history (the generations app decides what its foreign key does)."""
    with transaction.atomic():
        detail = {
            "configuration_id": str(configuration.pk),
            "provider": configuration.provider.slug,
            "name": configuration.name,
            "key_hint": configuration.key_hint,
        }
        if by_operator is not None:
            detail["deleted_by"] = str(by_operator)
        user = configuration.user
        configuration.delete()
        security_event_record(
            kind=SecurityEvent.Kind.KEY_DELETED, user=user, request=request, **detail
        )


def api_configuration_mark_invalid(
    *, configuration: ApiConfiguration, reason: str | None = None
) -> ApiConfiguration:
    """Mark the configuration invalid because its provider refused the key during a call
    (e.g. a 401 at generation time). The generations app calls this."""
    try:
        reason = scrub_reason(reason, configuration.api_key)
    except DecryptionError:
        reason = scrub_reason(reason)
    with transaction.atomic():
        ApiConfiguration.objects.filter(pk=configuration.pk).update(
            is_valid=False, updated_at=timezone.now()
        )
        configuration.is_valid = False
        security_event_record(
            kind=SecurityEvent.Kind.KEY_INVALIDATED,
            user=configuration.user,
            configuration_id=str(configuration.pk),
            provider=configuration.provider.slug,
            reason=reason,
        )
    return configuration
