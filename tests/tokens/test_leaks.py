"""A token's secret is shown once, in the answer that makes it, and nowhere else: not in the
database (every table, raw SQL), any later answer or page, the admin, the captured logs, nor
Django's debug page when something crashes while the secret is in memory."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bambi.redaction import REDACTED, redact
from tests.byok.test_leaks import Recorder, database_dump
from tests.factories import make_token, make_user
from tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def fragments(secret: str) -> list[str]:
    # The whole secret, and what follows the prefix that pages show.
    return [secret, secret[12:]]


def assert_nowhere(secrets_: list[str], places: list[tuple[str, str]]) -> None:
    for secret in secrets_:
        for fragment in fragments(secret):
            for label, text in places:
                assert fragment not in text, f"a token's secret was found in {label}"


def test_no_secret_anywhere_after_making_using_refusing_and_revoking_tokens(
    user, catalogue, caplog
):
    caplog.set_level(logging.DEBUG)
    seen = Recorder()
    session = Client()
    session.force_login(user)

    made = session.post(
        "/api/tokens/",
        data=json.dumps({"name": "leak test", "allowedModels": ["gpt-image-1.5"]}),
        content_type="application/json",
    )
    assert made.status_code == 201
    secret = made.json()["data"]["token"]
    token_id = made.json()["data"]["id"]

    good = Client(headers={"Authorization": f"Bearer {secret}"})
    for url in ("/api/usage/", "/api/api-configurations/", "/api/generations/", "/api/tokens/"):
        seen.get(good, url)
    seen.send(good, "post", "/api/generations/", {"prompt": "a fox"})
    seen.get(Client(headers={"Authorization": f"Bearer {secret[:-2]}"}), "/api/usage/")
    seen.get(Client(headers={"Authorization": f"Token {secret}"}), "/api/usage/")
    seen.get(session, "/api/tokens/")

    expiring = make_token(make_user(), name="expiring")
    ApiToken.objects.filter(pk=expiring.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    seen.get(Client(headers={"Authorization": f"Bearer {expiring.secret}"}), "/api/usage/")

    seen.send(session, "delete", f"/api/tokens/{token_id}/")
    seen.get(good, "/api/usage/")  # revoked: 401

    operator = Client()
    operator.force_login(make_user(is_staff=True, is_superuser=True))
    for url in (
        "/admin/tokens/apitoken/",
        f"/admin/tokens/apitoken/{token_id}/change/",
        "/admin/accounts/securityevent/",
        "/admin/generations/imagegeneration/",
    ):
        assert seen.get(operator, url).status_code == 200, url

    logs = [(f"log {r.name}", r.getMessage()) for r in caplog.records]
    logs += [("log text", caplog.text)]
    cookies = [("session cookies", str(session.cookies))]
    assert_nowhere([secret, expiring.secret], seen.texts + logs + cookies + database_dump())


def test_log_lines_lose_token_secrets_but_keep_the_prefix_pages_show():
    secret = "bmb_" + "Ab3-_x" * 7 + "Q"
    assert redact(f"Authorization: Bearer {secret}") == f"Authorization: Bearer {REDACTED}"
    assert redact(f"token={secret}&x=1") == f"token={REDACTED}&x=1"
    assert redact(f"called with {secret}.") == f"called with {REDACTED}."
    assert redact("token bmb_Ab3x9QaB (CI)") == "token bmb_Ab3x9QaB (CI)"


FORCED = "forced failure for the token leak test"


def _crash(*args, **kwargs):
    raise RuntimeError(FORCED)


@pytest.mark.parametrize("where", ["using", "making"])
def test_the_debug_error_page_never_shows_a_secret(settings, user, monkeypatch, where):
    settings.DEBUG = True
    if where == "using":
        created = make_token(user)
        secret = created.secret
        # The deepest point with the secret in the frames above it: recording the first use.
        monkeypatch.setattr("tokens.services.security_event_record", _crash)
        client = Client(
            raise_request_exception=False, headers={"Authorization": f"Bearer {secret}"}
        )
        response = client.get("/api/usage/")
        found = [secret]
    else:
        monkeypatch.setattr("tokens.services.security_event_record", _crash)
        client = Client(raise_request_exception=False)
        client.force_login(user)
        response = client.post(
            "/api/tokens/", data=json.dumps({"name": "x"}), content_type="application/json"
        )
        found = []  # the secret was made inside the crashed call; it must not be on the page
        assert not ApiToken.objects.exists()

    page = response.content.decode(errors="replace")
    assert response.status_code == 500
    assert FORCED in page and "Local vars" in page, page[:2000]
    # Only prefixes (bmb_ + 8 characters, what pages show) may be on it, never a whole secret.
    assert all(len(m) <= 12 for m in re.findall(r"bmb_[A-Za-z0-9_\-]*", page))
    assert_nowhere(found, [("debug page", page)])
