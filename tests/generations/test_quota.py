"""The monthly quota: atomic reserve/refund, lazy reset, the bulk command, and the concurrency
tests (parallel requests at 49/50: exactly one gets through), on PostgreSQL and on SQLite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from billing.plans import PREMIUM, PlanLimitReached
from byok.models import Provider
from generations.models import Image, ImageGeneration
from generations.quota import next_reset_after, quota_refund, quota_reserve, usage_for
from tests.factories import image_model, make_configuration, make_premium
from tests.images import media_files

# The stand-in answers after 0.3 s, so that the parallel requests below overlap.
pytestmark = [pytest.mark.sqlite, pytest.mark.standin(latency=0.3)]


def _at(user, count: int, reset_in: timedelta = timedelta(days=10)) -> None:
    User.objects.filter(pk=user.pk).update(usage_count=count, reset_date=timezone.now() + reset_in)
    user.refresh_from_db()


@pytest.mark.django_db
def test_reserve_counts_until_the_limit_then_refuses(user):
    _at(user, 48)
    quota_reserve(user=user)
    quota_reserve(user=user)
    assert user.usage_count == 50
    with pytest.raises(PlanLimitReached, match="50 generations"):
        quota_reserve(user=user)
    user.refresh_from_db()
    assert user.usage_count == 50


@pytest.mark.django_db
def test_reserve_and_refund_read_back_aware_datetimes_of_the_stored_period(user):
    _at(user, 3)
    reservation = quota_reserve(user=user)
    stored = User.objects.get(pk=user.pk)
    assert timezone.is_aware(reservation.reset_date) and timezone.is_aware(user.reset_date)
    assert reservation.reset_date == user.reset_date == stored.reset_date
    assert (reservation.usage_count, stored.usage_count) == (4, 4)
    assert quota_refund(reservation=reservation, user=user) is True
    assert user.usage_count == 3 == User.objects.get(pk=user.pk).usage_count


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "passes"),
    [("active", True), ("trialing", True), ("past_due", False), ("canceled", False)],
)
def test_reserve_reads_the_plan_from_the_subscription_in_the_same_statement(user, status, passes):
    # No plan given (as generation_run calls it): the UPDATE itself asks whether a
    # subscription grants Premium, so an active one lifts the limit and anything else
    # leaves the Free limit in place.
    customer = make_premium(user)
    customer.subscriptions.update(stripe_data={"status": status})
    _at(user, 50)
    with CaptureQueriesContext(connection) as ctx:
        if passes:
            quota_reserve(user=user)
        else:
            with pytest.raises(PlanLimitReached, match="50 generations"):
                quota_reserve(user=user)
    user.refresh_from_db()
    assert user.usage_count == (51 if passes else 50)
    if passes:
        assert len(ctx.captured_queries) == 1  # the plan costs no round trip of its own


@pytest.mark.django_db
def test_premium_has_no_limit_but_is_still_counted(user):
    _at(user, 500)
    quota_reserve(user=user, plan=PREMIUM)
    user.refresh_from_db()
    assert user.usage_count == 501


@pytest.mark.django_db
def test_refund_gives_the_slot_back(user):
    _at(user, 49)
    reservation = quota_reserve(user=user)
    assert quota_refund(reservation=reservation, user=user) is True
    assert user.usage_count == 49


@pytest.mark.django_db
def test_refund_after_the_period_rolled_over_does_not_eat_the_new_period(user):
    _at(user, 10)
    reservation = quota_reserve(user=user)
    # The period ends and a new one starts (another request reset it) during the call.
    User.objects.filter(pk=user.pk).update(
        usage_count=3, reset_date=reservation.reset_date + timedelta(days=30)
    )
    assert quota_refund(reservation=reservation) is False
    user.refresh_from_db()
    assert user.usage_count == 3


@pytest.mark.django_db
def test_expired_period_resets_lazily_on_first_use(user):
    _at(user, 50, reset_in=-timedelta(days=2))
    old_reset = user.reset_date
    quota_reserve(user=user)
    user.refresh_from_db()
    assert user.usage_count == 1
    assert user.reset_date > timezone.now()
    assert user.reset_date == next_reset_after(old_reset, timezone.now())


@pytest.mark.django_db
def test_usage_display_reads_an_expired_period_as_empty_without_writing(user):
    _at(user, 50, reset_in=-timedelta(days=2))
    usage = usage_for(user)
    assert (usage.used, usage.level) == (0, "ok")
    user.refresh_from_db()
    assert user.usage_count == 50


@pytest.mark.django_db
@pytest.mark.parametrize(("used", "level"), [(39, "ok"), (40, "warn"), (49, "warn"), (50, "full")])
def test_usage_levels_warn_at_80_and_100_percent(user, used, level):
    _at(user, used)
    assert usage_for(user).level == level


def test_next_reset_keeps_the_anchor_day_across_short_months():
    anchor = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert next_reset_after(anchor, datetime(2026, 2, 1, tzinfo=UTC)) == datetime(
        2026, 2, 28, 9, 0, tzinfo=UTC
    )
    assert next_reset_after(anchor, datetime(2026, 3, 1, tzinfo=UTC)) == datetime(
        2026, 3, 31, 9, 0, tzinfo=UTC
    )
    assert next_reset_after(anchor, datetime(2026, 12, 31, 10, tzinfo=UTC)) == datetime(
        2027, 1, 31, 9, 0, tzinfo=UTC
    )


@pytest.mark.django_db
def test_reset_usage_command_resets_expired_periods_only_and_is_idempotent(user, other_user):
    _at(user, 50, reset_in=-timedelta(hours=1))
    _at(other_user, 7)
    out = StringIO()
    call_command("reset_usage", stdout=out)
    assert "1 user" in out.getvalue()
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (user.usage_count, other_user.usage_count) == (0, 7)
    assert user.reset_date > timezone.now()
    out = StringIO()
    call_command("reset_usage", stdout=out)
    assert "0 user" in out.getvalue()


# --- concurrency, across real connections (SQLite: a file database, as runserver uses) ------------


def _fire(user, body: dict, n: int) -> list[int]:
    """POST `body` to /api/generations/ from `n` threads at once; each thread has its own
    database connection (Django's are per thread) and closes it at the end."""
    seed = Client()
    seed.force_login(user)
    cookies = seed.cookies
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = Client()
            client.cookies = cookies
            barrier.wait(timeout=10)
            response = client.post("/api/generations/", data=body, content_type="application/json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_at_49_of_50_let_exactly_one_through(catalogue, user, standin):
    Provider.objects.filter(slug="xai").update(api_base_url=standin.url)
    configuration = make_configuration(user, Provider.objects.get(slug="xai"))
    model = image_model("xai", "grok-imagine-image")
    _at(user, 49)
    body = {
        "configId": str(configuration.pk),
        "prompt": "A fox in the snow",
        "parameters": {"modelId": str(model.pk)},
    }

    statuses = _fire(user, body, 12)

    assert sorted(statuses) == [201] + [403] * 11
    user.refresh_from_db()
    assert user.usage_count == 50
    assert standin.count("xai.generate") == 1
    assert ImageGeneration.objects.filter(status="completed").count() == 1
    image = Image.objects.get()
    assert media_files() == [image.storage_path]  # the thumbnail comes on first request


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_on_an_expired_period_reset_it_once(catalogue, user, standin):
    Provider.objects.filter(slug="xai").update(api_base_url=standin.url)
    configuration = make_configuration(user, Provider.objects.get(slug="xai"))
    model = image_model("xai", "grok-imagine-image")
    _at(user, 50, reset_in=-timedelta(minutes=5))
    body = {
        "configId": str(configuration.pk),
        "prompt": "A fox in the snow",
        "parameters": {"modelId": str(model.pk)},
    }

    statuses = _fire(user, body, 6)

    # Every request fits in the new period, and the counter was started again only once.
    assert statuses == [201] * 6
    user.refresh_from_db()
    assert user.usage_count == 6
    assert user.reset_date > timezone.now()


@pytest.mark.django_db(transaction=True)
def test_parallel_failures_all_refund(catalogue, user, standin):
    Provider.objects.filter(slug="xai").update(api_base_url=standin.url)
    configuration = make_configuration(user, Provider.objects.get(slug="xai"))
    model = image_model("xai", "grok-imagine-image")
    _at(user, 45)
    body = {
        "configId": str(configuration.pk),
        "prompt": "UPSTREAM500 please",
        "parameters": {"modelId": str(model.pk)},
    }
    statuses = _fire(user, body, 8)
    assert sorted(set(statuses)) <= [403, 502] and statuses.count(502) >= 5
    user.refresh_from_db()
    assert user.usage_count == 45
    assert media_files() == []
