"""Operators see users' API tokens in the admin (never a secret) and revoke them."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SecurityEvent
from tests.factories import make_token, make_user
from tokens.models import ApiToken

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tokens/apitoken/"


@pytest.fixture
def operator_client() -> Client:
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_the_token_list_shows_prefixes_and_never_a_secret_or_hash(operator_client, user):
    created = make_token(user, name="Nightly render")

    listing = operator_client.get(CHANGELIST)
    detail = operator_client.get(f"{CHANGELIST}{created.token.pk}/change/")

    for page in (listing, detail):
        assert page.status_code == 200
        html = page.content.decode()
        assert created.token.prefix in html
        assert created.secret not in html
        assert created.secret[12:] not in html
        assert created.token.secret_hash not in html
    assert "Nightly render" in listing.content.decode()
    assert user.email in listing.content.decode()
    # Nobody adds a token here, and tokens are revoked, not deleted.
    assert operator_client.get(f"{CHANGELIST}add/").status_code == 403
    assert operator_client.get(f"{CHANGELIST}{created.token.pk}/delete/").status_code == 403


def test_an_operator_revokes_tokens_at_once_and_the_log_says_who(operator_client, user):
    created = make_token(user)
    client = Client(headers={"Authorization": f"Bearer {created.secret}"})
    assert client.get("/api/usage/").status_code == 200

    response = operator_client.post(
        CHANGELIST,
        {"action": "revoke", "_selected_action": [str(created.token.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 API token revoked." in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None
    assert client.get("/api/usage/").status_code == 401
    event = SecurityEvent.objects.get(kind="token_revoked")
    assert event.user == user
    assert event.detail["revoked_by"] == str(response.wsgi_request.user)
