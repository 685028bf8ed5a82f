"""Budget alerts: at 80 % and 100 % of a monthly budget, one e-mail per budget, level and period
(in the user's language, through the configured mail backend), and a banner on the dashboard."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from byok.models import ApiConfiguration
from generations.budget_alerts import budget_alerts_send
from generations.budgets import budgets_reserve
from tests.factories import image_model, make_configuration
from tests.recorded import generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

GROK = ("xai", "grok-imagine-image")  # $0.02 an image


def _key(user, provider, *, budget: str, spent: str) -> ApiConfiguration:
    configuration = make_configuration(user, provider, name="Grok")
    ApiConfiguration.objects.filter(pk=configuration.pk).update(
        monthly_budget_usd=Decimal(budget),
        budget_spent_usd=Decimal(spent),
        budget_period_end=User.objects.get(pk=user.pk).reset_date,
    )
    return configuration


def _generate(client, configuration, capture, **headers):
    with capture(execute=True):
        return client.post(
            "/api/generations/",
            data=json.dumps(
                {
                    "configId": str(configuration.pk),
                    "prompt": "A fox",
                    "parameters": {"modelId": str(image_model(*GROK).pk)},
                }
            ),
            content_type="application/json",
            **headers,
        )


@pytest.fixture
def grok(rsps, providers):
    rsps.post(generate_url(*GROK), json=success_body(*GROK))
    return providers["xai"]


def test_one_mail_at_80_and_one_at_100_percent_per_period(
    logged_in, user, grok, mailoutbox, django_capture_on_commit_callbacks
):
    configuration = _key(user, grok, budget="0.20", spent="0.12")
    capture = django_capture_on_commit_callbacks
    assert _generate(logged_in, configuration, capture).status_code == 201
    assert mailoutbox == []  # 70 %

    _generate(logged_in, configuration, capture)  # 80 %
    (first,) = mailoutbox
    assert first.to == [user.email]
    assert first.subject == "[Bambi AI] Your key “Grok” has used 80% of its monthly budget"
    assert "$0.16" in first.body and "$0.20" in first.body
    assert f"/dashboard/keys/{configuration.pk}/" in first.body

    _generate(logged_in, configuration, django_capture_on_commit_callbacks)  # 90 %: no new mail
    assert len(mailoutbox) == 1

    _generate(logged_in, configuration, django_capture_on_commit_callbacks)  # 100 %
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == "[Bambi AI] Your key “Grok” has reached its monthly budget"

    refused = _generate(logged_in, configuration, django_capture_on_commit_callbacks)
    assert refused.status_code == 403
    assert len(mailoutbox) == 2
    # The key itself never appears in a mail.
    assert configuration.clear_key not in first.body + mailoutbox[1].body


def test_the_mail_is_in_the_users_language(
    logged_in, user, grok, mailoutbox, django_capture_on_commit_callbacks
):
    configuration = _key(user, grok, budget="0.10", spent="0.08")
    _generate(
        logged_in, configuration, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="fr"
    )
    (mail,) = mailoutbox
    assert mail.subject == "[Bambi AI] Votre clé « Grok » a atteint son budget mensuel"
    assert "0,10\u00a0$" in mail.body


def test_a_new_period_alerts_again(user, grok, mailoutbox, django_capture_on_commit_callbacks):
    configuration = _key(user, grok, budget="0.10", spent="0.09")
    period = User.objects.get(pk=user.pk).reset_date
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        holds = budgets_reserve(
            subjects=[configuration], estimate=Decimal("0.01"), period_end=period
        )
        assert budget_alerts_send(holds=holds) == 1
        assert budget_alerts_send(holds=holds) == 0  # claimed once, whoever asks again
    later = period + timedelta(days=31)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        holds = budgets_reserve(
            subjects=[configuration], estimate=Decimal("0.10"), period_end=later
        )
        assert budget_alerts_send(holds=holds) == 1
    assert len(mailoutbox) == 2


def test_the_dashboard_shows_a_banner_at_80_and_100_percent(logged_in, user, providers):
    calm = _key(user, providers["xai"], budget="1.00", spent="0.10")
    page = logged_in.get("/dashboard/").content.decode()
    assert "budget-banner" not in page

    ApiConfiguration.objects.filter(pk=calm.pk).update(budget_spent_usd=Decimal("0.85"))
    page = logged_in.get("/dashboard/").content.decode()
    assert "“Grok” has used 85% of its monthly budget: $0.85 of $1.00." in page
    assert 'data-level="warn"' in page

    ApiConfiguration.objects.filter(pk=calm.pk).update(budget_spent_usd=Decimal("1.00"))
    page = logged_in.get("/dashboard/").content.decode()
    assert "“Grok” has reached its monthly budget: $1.00 of $1.00 spent." in page
    assert f'href="/dashboard/keys/{calm.pk}/#budget"' in page

    # Spent in a period that has ended: nothing to warn about.
    User.objects.filter(pk=user.pk).update(reset_date=timezone.now() + timedelta(days=40))
    assert "budget-banner" not in logged_in.get("/dashboard/").content.decode()
