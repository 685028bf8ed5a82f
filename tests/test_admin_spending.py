"""Operators see spending in the admin: per user (their running usage period) and per provider
(this calendar month, every user), each list in one query whatever its length."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations.models import ApiUsage
from tests.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def operator(client):
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return staff


def _spend(user, provider, cost: str, *, days_ago: float = 0, period_end=None) -> None:
    row = ApiUsage.objects.create(
        user=user,
        provider=provider,
        cost_estimate=Decimal(cost),
        period_end=period_end or user.reset_date,
    )
    ApiUsage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return len(queries), page.content.decode()


def test_the_users_list_shows_spend_this_period_in_the_same_queries_for_any_length(
    client, operator, catalogue
):
    openai, xai = catalogue["openai"], catalogue["xai"]
    spender = make_user("spender@example.com")
    _spend(spender, openai, "0.1330")
    _spend(spender, xai, "0.0200")
    _spend(spender, xai, "5.0000", period_end=spender.reset_date - timedelta(days=31))
    few, page = _queries(client, "/admin/accounts/user/")
    assert "$0.153" in page  # the earlier period's $5 is not this period's

    for n in range(10):
        _spend(make_user(f"more{n}@example.com"), openai, "0.0100")
    many, page = _queries(client, "/admin/accounts/user/")
    assert many == few  # no query per row
    assert page.count("$0.01") >= 10


def test_the_providers_list_shows_spend_this_month_in_the_same_queries_for_any_length(
    client, operator, catalogue
):
    openai, xai = catalogue["openai"], catalogue["xai"]
    few, _page = _queries(client, "/admin/byok/provider/")
    for _n in range(6):
        user = make_user()
        _spend(user, openai, "0.1000")
        _spend(user, xai, "0.0200")
    _spend(make_user(), xai, "9.0000", days_ago=40)  # last month
    many, page = _queries(client, "/admin/byok/provider/")
    assert many == few
    assert "$0.60" in page and "$0.12" in page
    assert "$9.12" not in page
