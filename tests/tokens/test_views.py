"""The API tokens page: make a token (its secret shown once, on that answer only), see them
listed without secrets, revoke one after confirming."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import SecurityEvent
from tests.factories import make_token
from tokens.models import ApiToken

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

PAGE = "/dashboard/tokens/"


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/tokens/")


def test_making_a_token_shows_its_secret_once_and_never_again(logged_in, user, catalogue):
    response = logged_in.post(
        PAGE,
        {
            "name": "Render farm",
            "expires_at": "2099-12-31",
            "allowed_models": ["openai/gpt-image-1.5"],
        },
    )

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.name == "Render farm"
    assert token.allowed_models == ["openai/gpt-image-1.5"]
    assert token.expires_at.date().isoformat() == "2099-12-31"
    html = response.content.decode()
    secret = response.context["created"].secret
    assert f'value="{secret}"' in html
    assert "Copy it now" in html
    assert "http://testserver/v1/" in html

    again = logged_in.get(PAGE)
    page = again.content.decode()
    assert secret not in page and secret[12:] not in page
    assert token.secret_hash not in page
    assert f"{token.prefix}…" in page
    assert "openai/gpt-image-1.5" in page
    assert SecurityEvent.objects.filter(kind="token_created", user=user).count() == 1


def test_a_bad_form_is_a_400_that_says_why_and_makes_nothing(logged_in, catalogue):
    response = logged_in.post(PAGE, {"name": "", "expires_at": "2001-01-01"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the token a name" in html
    assert "The expiry must be in the future." in html
    assert not ApiToken.objects.exists()


def test_the_free_plans_one_token_is_said_and_a_second_refused(logged_in, user, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_" + "b" * 24  # billing configured: Premium on sale
    settings.STRIPE_PREMIUM_PRICE_ID = "price_bambi"
    make_token(user)

    page = logged_in.get(PAGE).content.decode()
    assert "Your Free plan allows 1 working API token" in page
    assert "Upgrade to Premium" in page
    assert "Make the token" not in page

    refused = logged_in.post(PAGE, {"name": "second"})
    assert refused.status_code == 403
    assert "Your Free plan allows 1 working API token" in refused.content.decode()
    assert ApiToken.objects.count() == 1


def test_without_billing_the_token_limit_offers_no_upgrade(logged_in, user):
    make_token(user)

    page = logged_in.get(PAGE).content.decode()
    assert "You have 1 working API token, the most your plan allows." in page
    assert "Premium" not in page

    refused = logged_in.post(PAGE, {"name": "second"})
    assert refused.status_code == 403
    assert "the most your plan allows" in refused.content.decode()
    assert "Premium" not in refused.content.decode()
    assert ApiToken.objects.count() == 1


def test_revoking_asks_first_then_refuses_the_token_at_once(logged_in, user, client):
    created = make_token(user, name="Old laptop")
    url = f"/dashboard/tokens/{created.token.pk}/revoke/"

    confirm = logged_in.get(url)
    assert confirm.status_code == 200
    assert "Old laptop" in confirm.content.decode()
    assert ApiToken.objects.get().revoked_at is None

    done = logged_in.post(url, follow=True)
    assert done.redirect_chain[-1][0] == PAGE
    assert "Token “Old laptop” revoked" in done.content.decode()
    token = ApiToken.objects.get()
    assert token.revoked_at is not None and token.revoked_at <= timezone.now()
    assert "Old laptop" not in logged_in.get(PAGE).content.decode()
    answer = client.get("/api/usage/", headers={"Authorization": f"Bearer {created.secret}"})
    assert answer.status_code == 401


def test_someone_elses_token_cannot_be_revoked_here(logged_in, other_user):
    theirs = make_token(other_user)
    url = f"/dashboard/tokens/{theirs.token.pk}/revoke/"
    assert logged_in.get(url).status_code == 404
    assert logged_in.post(url).status_code == 404
    assert ApiToken.objects.get().revoked_at is None
