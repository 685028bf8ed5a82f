"""Complimentary Premium: an operator gives a user Premium for N months from the admin. It is
a field billing/plans.py reads (no fake subscription), every gift and end is in the security
log, the billing page says what it is, and it ends by itself. Also the admin operators see:
branded, users with plan, usage, keys and last generation, dj-stripe reduced to three lists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SecurityEvent, User
from accounts.services import complimentary_premium_end, complimentary_premium_grant
from billing.plans import FREE, PREMIUM, plan_for, with_plan_annotations
from generations.models import ImageGeneration
from generations.quota import quota_reserve
from tests.factories import make_configuration

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

CHANGELIST = "/admin/accounts/user/"


def test_a_gift_makes_the_user_premium_until_it_ends(user, operator):
    assert plan_for(user) == FREE
    until = complimentary_premium_grant(user=user, months=3, by_operator=operator)
    user.refresh_from_db()
    assert plan_for(user) == PREMIUM
    assert until.date() > (timezone.now() + timedelta(days=85)).date()
    # Premium's limits apply: past 50 generations this month.
    User.objects.filter(pk=user.pk).update(usage_count=50)
    user.refresh_from_db()
    quota_reserve(user=user)
    # It ends by itself.
    User.objects.filter(pk=user.pk).update(
        complimentary_premium_until=timezone.now() - timedelta(seconds=1)
    )
    user.refresh_from_db()
    assert plan_for(user) == FREE


def test_a_second_gift_adds_to_the_first_and_each_is_in_the_security_log(user, operator):
    first = complimentary_premium_grant(user=user, months=1, by_operator=operator, reason="bug")
    second = complimentary_premium_grant(user=user, months=2, by_operator=operator)
    assert second > first + timedelta(days=55)
    events = list(
        SecurityEvent.objects.filter(
            user=user, kind=SecurityEvent.Kind.COMPLIMENTARY_PREMIUM
        ).order_by("created_at")
    )
    assert [e.detail["months"] for e in events] == [1, 2]
    assert events[0].detail["given_by"] == operator.email
    assert events[0].detail["reason"] == "bug"
    assert events[1].detail["previous_until"] == first.isoformat()


def test_ending_a_gift_now_is_audited_and_ending_none_is_a_no_op(user, operator):
    assert complimentary_premium_end(user=user, by_operator=operator) is False
    complimentary_premium_grant(user=user, months=1, by_operator=operator)
    assert complimentary_premium_end(user=user, by_operator=operator) is True
    user.refresh_from_db()
    assert plan_for(user) == FREE
    assert SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.COMPLIMENTARY_PREMIUM_ENDED
    ).exists()


def test_months_out_of_range_are_refused(user, operator):
    for months in (0, 37, -1):
        with pytest.raises(ValueError):
            complimentary_premium_grant(user=user, months=months, by_operator=operator)
    user.refresh_from_db()
    assert user.complimentary_premium_until is None


def test_the_admin_list_agrees_in_one_query(user, other_user, operator, django_assert_num_queries):
    complimentary_premium_grant(user=user, months=1, by_operator=operator)
    User.objects.filter(pk=other_user.pk).update(
        complimentary_premium_until=timezone.now() - timedelta(days=1)
    )
    with django_assert_num_queries(1):
        users = {u.pk: plan_for(u) for u in with_plan_annotations(User.objects.all())}
    assert users[user.pk] == PREMIUM
    assert users[other_user.pk] == FREE
    assert users[operator.pk] == FREE


def test_the_admin_action_asks_for_months_then_gives_premium(admin_client, user, other_user):
    chosen = {"action": "give_complimentary_premium", "_selected_action": [user.pk, other_user.pk]}
    page = admin_client.post(CHANGELIST, chosen)
    assert page.status_code == 200
    assert "Give complimentary Premium" in page.content.decode()
    assert user.email in page.content.decode()

    refused = admin_client.post(CHANGELIST, {**chosen, "apply": "1", "months": "40"})
    assert refused.status_code == 200
    assert "less than or equal to 36" in refused.content.decode()
    assert not User.objects.filter(complimentary_premium_until__isnull=False).exists()

    done = admin_client.post(
        CHANGELIST, {**chosen, "apply": "1", "months": "6", "reason": "outage"}
    )
    assert done.status_code == 302
    for someone in (user, other_user):
        someone.refresh_from_db()
        assert plan_for(someone) == PREMIUM
    assert SecurityEvent.objects.filter(kind="complimentary_premium").count() == 2
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "Premium (complimentary until" in listing


def test_the_field_cannot_be_edited_by_hand_in_the_admin(admin_client, user):
    page = admin_client.get(f"{CHANGELIST}{user.pk}/change/").content.decode()
    assert 'name="complimentary_premium_until"' not in page  # read-only: through the action


def test_the_billing_page_says_premium_is_a_gift(logged_in, user, operator):
    complimentary_premium_grant(user=user, months=2, by_operator=operator)
    page = logged_in.get("/dashboard/billing/").content.decode()
    assert "Complimentary Premium until" in page
    assert "a gift from the Bambi AI team" in page
    assert "Premium" in page.split('class="billing-plan-line"', 1)[1][:200]


def test_the_user_list_shows_plan_usage_keys_and_last_generation(admin_client, user, catalogue):
    make_configuration(user, catalogue["openai"])
    ImageGeneration.objects.create(user=user, prompt="x")
    User.objects.filter(pk=user.pk).update(usage_count=7)
    html = admin_client.get(CHANGELIST).content.decode()
    row = html.split(user.email, 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-usage_count">7</td>' in row
    assert '<td class="field-keys_count">1</td>' in row
    last = re.search(r'class="field-last_generation[^"]*">([^<]*)</td>', row)
    assert last and last.group(1).strip() not in ("", "-")


def test_the_admin_is_branded_and_shows_three_stripe_lists(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "Bambi AI" in html
    for shown in (
        "/admin/djstripe/customer/",
        "/admin/djstripe/subscription/",
        "/admin/djstripe/event/",
    ):
        assert shown in html
    for hidden in (
        "/admin/djstripe/invoice/",
        "/admin/djstripe/paymentintent/",
        "/admin/djstripe/apikey/",
        "/admin/socialaccount/socialapp/",
        "/admin/auth/group/",
    ):
        assert hidden not in html
    assert admin_client.get("/admin/djstripe/invoice/").status_code == 404
