"""The client address behind the load balancer, and a spoofed header without one.

One helper (bambi.client_ip) feeds allauth's login lockout, the audit log and Bambi's rate
limits. Behind one trusted proxy (TRUSTED_PROXY_COUNT=1) the client is the last
X-Forwarded-For entry: one client's failed logins do not lock out the others, and the audit log
records the client, not the proxy. Without a proxy (the default, 0) the header changes nothing:
rotating fake addresses does not escape the lockout and never reaches the audit log.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.models import SecurityEvent
from bambi.client_ip import client_ip
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the load balancer, as the app sees it
LOCKOUT = 10  # ACCOUNT_RATE_LIMITS["login_failed"]: 10 a minute per IP


def _fail_login(client, email: str, **headers):
    return client.post("/accounts/login/", {"login": email, "password": "not-it"}, **headers)


def _locked_out(response) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in (
        response.content.decode()
    )


def _log_in(client, email: str, **headers):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD}, **headers)


# --- behind one proxy ---------------------------------------------------------------------------


def test_behind_one_proxy_one_clients_failures_do_not_lock_out_the_others(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("fawn@example.com")
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    honest = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7"}

    # Different accounts each time: only the per-IP limit can stop these.
    for n in range(LOCKOUT):
        assert not _locked_out(_fail_login(client, f"guess{n}@example.com", **attacker))
    assert _locked_out(_fail_login(client, "guess-more@example.com", **attacker))

    response = _log_in(client, "fawn@example.com", **honest)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.session.get("_auth_user_id")


def test_behind_one_proxy_the_audit_log_records_the_client_not_the_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("fawn@example.com")

    # The client also sent its own X-Forwarded-For; the proxy appended the real address.
    _fail_login(
        client,
        "fawn@example.com",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",
    )

    assert SecurityEvent.objects.get(kind="login_failed").ip == "203.0.113.7"


def test_behind_one_proxy_a_request_without_the_header_keeps_its_own_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9")

    assert client_ip(request) == "10.0.0.9"


def test_a_forwarded_entry_that_is_not_an_address_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>, not-an-ip"
    )

    assert client_ip(request) == PROXY


def test_two_proxies_read_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2"
    )

    assert client_ip(request) == "203.0.113.7"


def test_ports_brackets_and_mapped_addresses_are_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()

    assert client_ip(factory.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7:51234")) == "203.0.113.7"
    assert client_ip(factory.get("/", HTTP_X_FORWARDED_FOR="[2001:db8::7]:443")) == "2001:db8::7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(factory.get("/", REMOTE_ADDR="::ffff:203.0.113.7")) == "203.0.113.7"


# --- no proxy: the header is the client's own words ---------------------------------------------


def test_without_a_proxy_a_spoofed_header_does_not_escape_the_lockout(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    make_user("fawn@example.com")

    for n in range(LOCKOUT):
        response = _fail_login(
            client,
            f"guess{n}@example.com",
            REMOTE_ADDR="198.51.100.66",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}",  # a new "address" every time
        )
        assert not _locked_out(response)
    response = _fail_login(
        client,
        "guess-more@example.com",
        REMOTE_ADDR="198.51.100.66",
        HTTP_X_FORWARDED_FOR="1.1.1.1",
    )

    assert _locked_out(response)


def test_without_a_proxy_a_spoofed_header_never_reaches_the_audit_log(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    make_user("fawn@example.com")

    _fail_login(
        client, "fawn@example.com", REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )

    assert SecurityEvent.objects.get(kind="login_failed").ip == "198.51.100.66"
