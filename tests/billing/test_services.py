"""Billing services that no page shows directly: the account-deletion hook and the plan
change recorder."""

from __future__ import annotations

import logging

import pytest
from djstripe.models import Customer

from accounts.models import SecurityEvent, User
from accounts.services import account_delete
from billing.services import plan_change_record

pytestmark = pytest.mark.django_db


def subscribe(user, status="active"):
    customer = Customer.objects.create(id="cus_TbAmBiCuStOmEr1", subscriber=user, livemode=False)
    return customer.subscriptions.create(
        id="sub_1SbAmBiSuBsCrIpT1", livemode=False, stripe_data={"status": status}
    )


def test_deleting_an_account_cancels_its_subscription_in_stripe(user, stripe_api):
    subscribe(user)

    account_delete(user=user)

    assert stripe_api.canceled == ["sub_1SbAmBiSuBsCrIpT1"]
    assert not User.objects.filter(pk=user.pk).exists()
    # The customer stays for the accounting records, no longer linked to anyone.
    assert Customer.objects.get(id="cus_TbAmBiCuStOmEr1").subscriber is None


def test_account_is_deleted_even_if_stripe_is_down_and_the_operator_is_told(
    user, stripe_api, caplog
):
    subscribe(user)
    stripe_api.down = True

    with caplog.at_level(logging.ERROR, logger="billing.services"):
        account_delete(user=user)

    assert not User.objects.filter(pk=user.pk).exists()
    assert "sub_1SbAmBiSuBsCrIpT1" in caplog.text
    assert "Cancel it in the Stripe dashboard" in caplog.text


def test_a_canceled_subscription_is_not_cancelled_again(user, stripe_api):
    subscribe(user, status="canceled")
    account_delete(user=user)
    assert stripe_api.canceled == []


def test_plan_change_record_writes_only_real_changes(user):
    assert plan_change_record(user=user) is None  # Free, and never recorded: no change

    subscribe(user)
    first = plan_change_record(user=user, stripe_event="evt_1")
    again = plan_change_record(user=user, stripe_event="evt_2")

    assert first.detail == {
        "from": "free",
        "to": "premium",
        "subscription": "sub_1SbAmBiSuBsCrIpT1",
        "status": "active",
        "stripe_event": "evt_1",
    }
    assert again is None
    assert SecurityEvent.objects.filter(kind="plan_changed").count() == 1
