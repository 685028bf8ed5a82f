"""Budget alerts: at 80 % and at 100 % of a monthly budget, one e-mail per budget, level and
period, through the configured mail backend. (The dashboard's banner reads the same levels
from spending.budgets_for; it needs no record.)

Why a conditional UPDATE before the mail: two generations settling at once on two app servers
can both see the budget cross 80 %; the row's `budget_alerted_*` columns are claimed with one
UPDATE whose WHERE says "not yet sent at this level for this period", so exactly one of them
sends. The mail goes out after the claim commits; a mail server that fails loses that alert
(logged), it never fails the generation that crossed the line.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bambi.budgets import MonthlyBudget
from bambi.templatetags.bambi_format import usd
from generations.budgets import BudgetHold

logger = logging.getLogger(__name__)

LEVELS = (100, 80)


def alert_level(spent: Decimal, budget: Decimal | None) -> int:
    """100 at or past the budget, 80 at or past 80 % of it, else 0."""
    if budget is None:
        return 0
    if spent >= budget:
        return 100
    if spent * 100 >= budget * 80:
        return 80
    return 0


def budget_alerts_send(*, holds: list[BudgetHold]) -> int:
    """After a generation was settled: send the alert of every budget it took to 80 % or 100 %
    that was not sent yet this period. Returns how many were claimed (and sent)."""
    sent = 0
    for hold in holds:
        if not hold.budgeted:  # no budget when it was reserved: nothing to alert about
            continue
        row = hold.model.objects.filter(pk=hold.pk).select_related("user").first()
        if row is None:
            continue
        level = alert_level(row.spent_in(hold.period_end), row.monthly_budget_usd)
        if not level:
            continue
        already = Q(budget_alerted_period=hold.period_end, budget_alerted_percent__gte=level)
        claimed = (
            hold.model.objects.filter(pk=hold.pk)
            .exclude(already)
            .update(budget_alerted_percent=level, budget_alerted_period=hold.period_end)
        )
        if claimed:
            sent += 1
            transaction.on_commit(
                lambda row=row, level=level, period=hold.period_end: _mail(row, level, period)
            )
    return sent


def _mail(row: MonthlyBudget, level: int, period_end) -> None:
    """The alert, in the language active now: the user's own, since their request crossed
    the line (the page language they chose, or their browser's)."""
    is_key = row._meta.label_lower == "byok.apiconfiguration"
    values = {
        "name": row.name,
        "spent": usd(row.spent_in(period_end)),
        "budget": usd(row.monthly_budget_usd),
        "date": date_format(period_end, "DATE_FORMAT"),
    }
    if level >= 100:
        subject = (
            _("Your key “%(name)s” has reached its monthly budget")
            if is_key
            else _("Your API token “%(name)s” has reached its monthly budget")
        ) % values
    else:
        subject = (
            _("Your key “%(name)s” has used 80%% of its monthly budget")
            if is_key
            else _("Your API token “%(name)s” has used 80%% of its monthly budget")
        ) % values
    page = reverse("key_edit", args=[row.pk]) if is_key else reverse("token_budget", args=[row.pk])
    body = render_to_string(
        "generations/email/budget_alert.txt",
        {
            **values,
            "level": level,
            "is_key": is_key,
            "page_url": settings.APP_URL.rstrip("/") + page,
            "usage_url": settings.APP_URL.rstrip("/") + reverse("usage"),
        },
    )
    try:
        send_mail(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
            body,
            None,  # DEFAULT_FROM_EMAIL
            [row.user.email],
        )
    except Exception:
        logger.exception("Could not send the %s %% budget alert of %s", level, row.pk)
