"""Generations a dead worker left `pending`: failed and their quota slot given back, exactly
once, by `sweep_pending_generations`, by `reset_usage` and when the user's quota runs out;
never counted by the usage meter, which reads without writing."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from generations.models import ImageGeneration
from generations.quota import generations_sweep_pending
from tests.factories import image_model
from tests.recorded import generate_url, success_body

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

ABANDONED = "Bambi stopped before the provider answered; this generation was not counted."


def _at(user, count: int, reset_in: timedelta = timedelta(days=10)) -> None:
    User.objects.filter(pk=user.pk).update(usage_count=count, reset_date=timezone.now() + reset_in)
    user.refresh_from_db()


def _pending(user, age: timedelta) -> ImageGeneration:
    """A generation whose slot was reserved `age` ago and whose worker never came back."""
    generation = ImageGeneration.objects.create(user=user, prompt="A fox", status="pending")
    ImageGeneration.objects.filter(pk=generation.pk).update(created_at=timezone.now() - age)
    return generation


def _sweep_command() -> str:
    out = StringIO()
    call_command("sweep_pending_generations", stdout=out)
    return out.getvalue()


def test_command_fails_abandoned_generations_and_refunds_once(user, other_user):
    _at(user, 10)
    _at(other_user, 4)
    mine = _pending(user, timedelta(minutes=30))
    theirs = _pending(other_user, timedelta(hours=2))

    assert "Swept 2 generation(s)" in _sweep_command()
    assert "Swept 0 generation(s)" in _sweep_command()  # running it again refunds nothing

    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (user.usage_count, other_user.usage_count) == (9, 3)
    for generation in (mine, theirs):
        generation.refresh_from_db()
        assert generation.status == "failed"
        assert generation.error_message == ABANDONED


def test_a_fresh_pending_generation_is_not_touched(user):
    _at(user, 10)
    live = _pending(user, timedelta(minutes=2))  # its provider call may still be running

    assert "Swept 0 generation(s)" in _sweep_command()

    live.refresh_from_db()
    user.refresh_from_db()
    assert live.status == "pending" and user.usage_count == 10


def test_a_slot_from_a_period_that_has_ended_is_not_taken_from_the_new_one(user):
    _at(user, 3)  # the new period: 3 generations so far
    old = _pending(user, timedelta(days=45))

    assert generations_sweep_pending() == 1

    old.refresh_from_db()
    user.refresh_from_db()
    assert old.status == "failed" and user.usage_count == 3


def test_reset_usage_sweeps_too(user):
    _at(user, 10)
    _pending(user, timedelta(hours=1))
    out = StringIO()
    call_command("reset_usage", stdout=out)
    assert "Swept 1 abandoned" in out.getvalue()
    user.refresh_from_db()
    assert user.usage_count == 9


def test_the_meter_never_counts_an_abandoned_slot_and_reading_it_writes_nothing(
    logged_in, user, other_user
):
    _at(user, 50)
    _at(other_user, 7)
    mine = _pending(user, timedelta(hours=1))
    _pending(user, timedelta(minutes=2))  # a live call: its slot is in use, and counted
    _pending(user, timedelta(days=45))  # from a period that has ended: not this period's slot
    theirs = _pending(other_user, timedelta(hours=1))

    data = logged_in.get("/api/usage/").json()["data"]

    assert (data["usage_count"], data["remaining"]) == (49, 1)
    assert "49" in logged_in.get("/dashboard/").content.decode()
    # A read: nothing was failed, nothing refunded.
    mine.refresh_from_db()
    theirs.refresh_from_db()
    user.refresh_from_db()
    assert mine.status == theirs.status == "pending" and user.usage_count == 50

    # The sweep (housekeeping) gives the slot back; the meter reads the same before and after.
    assert generations_sweep_pending() == 3
    user.refresh_from_db()
    assert user.usage_count == 49
    assert logged_in.get("/api/usage/").json()["data"]["usage_count"] == 49


def test_a_user_at_the_limit_because_of_an_abandoned_slot_can_generate(
    logged_in, user, configs, rsps
):
    model = image_model("openai", "dall-e-2")
    _at(user, 50)
    abandoned = _pending(user, timedelta(hours=1))
    rsps.post(generate_url("openai", "dall-e-2"), json=success_body("openai", "dall-e-2"))

    response = logged_in.post(
        "/api/generations/",
        json.dumps(
            {
                "configId": str(configs["openai"].pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk)},
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    abandoned.refresh_from_db()
    user.refresh_from_db()
    assert abandoned.status == "failed" and user.usage_count == 50


def test_a_request_failing_after_the_sweep_took_its_generation_refunds_once(
    logged_in, user, configs, rsps
):
    """The sweep runs while the provider call is still out (a call far slower than any
    provider should be); the call then fails: the slot comes back once, not twice."""
    model = image_model("openai", "dall-e-2")
    _at(user, 20)

    def provider_answers_late(request):
        # Seen from an hour later, this generation looks abandoned.
        assert generations_sweep_pending(now=timezone.now() + timedelta(hours=1)) == 1
        return 500, {}, json.dumps({"error": {"message": "Internal error", "type": "server"}})

    rsps.add_callback("POST", generate_url("openai", "dall-e-2"), provider_answers_late)
    response = logged_in.post(
        "/api/generations/",
        json.dumps(
            {
                "configId": str(configs["openai"].pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk)},
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 502
    user.refresh_from_db()
    assert user.usage_count == 20  # reserved once, refunded once
    generation = ImageGeneration.objects.get(user=user)
    assert generation.status == "failed" and generation.error_message == ABANDONED
