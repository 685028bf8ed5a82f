"""The usage page (/dashboard/usage/), its CSV export and the spending in /api/usage/: what was
spent per key, provider, model and day in a usage period, and the budgets."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from byok.models import ApiConfiguration
from generations.models import Image, ImageGeneration
from generations.spending import usage_periods
from tests.factories import image_model, make_configuration

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _generation(user, configuration, model, *, cost: str, images: int, days_ago: float, **extra):
    generation = ImageGeneration.objects.create(
        user=user,
        configuration=configuration,
        provider=configuration.provider if configuration else model.provider,
        model=model,
        prompt="A fox",
        status=extra.pop("status", "completed"),
        cost_estimate=Decimal(cost),
    )
    Image.objects.bulk_create(
        Image(generation=generation, index=n, storage_path=f"x/{generation.pk}/{n}.png")
        for n in range(images)
    )
    ImageGeneration.objects.filter(pk=generation.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return generation


@pytest.fixture
def spent(user, providers):
    """Two keys, three models, spread over days of the current period; one failed generation
    and one of the previous period; another user's generation."""
    User.objects.filter(pk=user.pk).update(
        reset_date=timezone.now() + timedelta(days=20),
        created_at=timezone.now() - timedelta(days=80),
    )
    user.refresh_from_db()
    openai = make_configuration(user, providers["openai"], name="Work")
    xai = make_configuration(user, providers["xai"], name="=HYPERLINK(1)")
    gpt = image_model("openai", "gpt-image-1.5")
    dalle = image_model("openai", "dall-e-3")
    grok = image_model("xai", "grok-imagine-image")
    made = [
        _generation(user, openai, gpt, cost="0.1330", images=1, days_ago=1),
        _generation(user, openai, gpt, cost="0.2660", images=2, days_ago=1),
        _generation(user, openai, dalle, cost="0.0800", images=1, days_ago=3),
        _generation(user, xai, grok, cost="0.0150", images=1, days_ago=3),
        _generation(user, xai, grok, cost="0.0400", images=2, days_ago=5),
    ]
    _generation(user, openai, gpt, cost="0", images=0, days_ago=2, status="failed")
    old = _generation(user, openai, gpt, cost="1.0000", images=4, days_ago=40)
    stranger = User.objects.exclude(pk=user.pk).first()
    return {"openai": openai, "xai": xai, "made": made, "old": old, "stranger": stranger}


def _data_attrs(html: str, tag: str) -> dict[str, Decimal]:
    pattern = rf'<{tag}[^>]*data-day="([0-9-]+)"[^>]*data-usd="([0-9.]+)"'
    return {day: Decimal(usd) for day, usd in re.findall(pattern, html)}


def test_the_usage_page_is_in_the_navigation_and_needs_a_login(logged_in):
    assert Client().get("/dashboard/usage/").status_code == 302
    page = logged_in.get("/dashboard/").content.decode()
    assert 'href="/dashboard/usage/"' in page


def test_the_page_shows_spend_per_key_provider_and_model(logged_in, spent):
    response = logged_in.get("/dashboard/usage/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-total-usd="0.5340"' in page  # failed and older generations not counted
    # gpt-image-1.5 on "Work": 2 generations, 3 images, $0.399
    assert re.search(
        r"Work</td>\s*<td[^>]*>OpenAI</td>\s*<td[^>]*>GPT Image 1.5</td>\s*<td[^>]*>2</td>"
        r"\s*<td[^>]*>3</td>\s*<td[^>]*>\$0.399</td>",
        page,
    ), page
    assert "$0.055" in page  # the xAI key: 0.015 + 0.04
    assert 'aria-current="page"' in page and ">Usage<" in page


def test_the_charts_numbers_are_the_tables_numbers(logged_in, spent):
    page = logged_in.get("/dashboard/usage/").content.decode()
    bars = _data_attrs(page, "rect")
    rows = _data_attrs(page, "tr")
    assert bars == rows
    assert len(bars) >= 28  # every day of the period, zeros included
    assert sum(bars.values()) == Decimal("0.5340")
    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert bars[day] == Decimal("0.3990")
    # The highest day's bar is the tallest: 160 units, the others in proportion.
    tallest = re.search(rf'height="([0-9.]+)" data-day="{day}"', page)
    assert tallest and float(tallest.group(1)) == 160.0


def test_a_previous_period_is_picked_by_its_month(logged_in, user, spent):
    previous = usage_periods(user)[1]
    page = logged_in.get(f"/dashboard/usage/?month={previous.slug}").content.decode()
    assert 'data-total-usd="1.0000"' in page
    assert f'value="{previous.slug}" selected' in page
    assert 'id="budgets"' not in page  # budgets are about the running period
    assert logged_in.get("/dashboard/usage/?month=1999-01").status_code == 404
    assert logged_in.get("/dashboard/usage/?month=junk").status_code == 404


def test_the_page_lists_the_budgets_and_how_much_is_used(logged_in, user, spent):
    ApiConfiguration.objects.filter(pk=spent["openai"].pk).update(
        monthly_budget_usd=Decimal("0.50"),
        budget_spent_usd=Decimal("0.4790"),
        budget_period_end=user.reset_date,
    )
    page = logged_in.get("/dashboard/usage/").content.decode()
    assert "$0.479 of $0.50 (95%)" in page
    assert 'data-level="warn"' in page


def test_the_csv_has_every_usage_row_of_the_period(logged_in, spent):
    response = logged_in.get("/dashboard/usage/export.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "date",
        "key_name",
        "provider",
        "model",
        "images",
        "cost_usd",
        "generation_id",
    ]
    body = rows[1:]
    assert {row[6] for row in body} == {str(g.pk) for g in spent["made"]}
    assert sum(Decimal(row[5]) for row in body) == Decimal("0.5340")
    assert sum(int(row[4]) for row in body) == 7
    # A key name that a spreadsheet would run as a formula is written as text.
    assert "'=HYPERLINK(1)" in {row[1] for row in body}
    assert [row[0] for row in body] == sorted(row[0] for row in body)  # oldest first


def test_the_csv_of_everything_includes_earlier_periods(logged_in, spent):
    response = logged_in.get("/dashboard/usage/export.csv?month=all")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    assert len(rows) == 6
    assert str(spent["old"].pk) in {row[6] for row in rows}


def test_the_csv_streams_in_chunks_without_losing_or_repeating_rows(user, spent):
    from generations.spending import usage_rows

    ids = [row.generation_id for row in usage_rows(user, None, chunk=2)]
    assert len(ids) == len(set(ids)) == 6


def test_another_users_usage_is_never_shown(client, other_user, spent):
    client.force_login(other_user)
    page = client.get("/dashboard/usage/").content.decode()
    assert 'data-total-usd="0.0000"' in page
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get("/dashboard/usage/export.csv").streaming_content).decode()
            )
        )
    )
    assert rows[1:] == []


def test_api_usage_has_spend_and_budgets(logged_in, user, spent):
    ApiConfiguration.objects.filter(pk=spent["xai"].pk).update(
        monthly_budget_usd=Decimal("0.05"),
        budget_spent_usd=Decimal("0.05"),
        budget_period_end=user.reset_date,
    )
    data = logged_in.get("/api/usage/").json()["data"]
    spend = data["spend"]
    assert Decimal(spend["total_usd"]) == Decimal("0.534")
    by_key = {row["name"]: row for row in spend["by_key"]}
    assert Decimal(by_key["Work"]["spent_usd"]) == Decimal("0.479")
    assert (by_key["Work"]["generations"], by_key["Work"]["images"]) == (3, 4)
    by_provider = {row["slug"]: Decimal(row["spent_usd"]) for row in spend["by_provider"]}
    assert by_provider == {"openai": Decimal("0.479"), "xai": Decimal("0.055")}
    assert spend["by_token"] == []
    (budget,) = data["budgets"]
    assert budget["kind"] == "key" and budget["id"] == str(spent["xai"].pk)
    assert Decimal(budget["monthly_budget_usd"]) == Decimal("0.05")
    assert (budget["percent"], budget["level"]) == (100, "full")
