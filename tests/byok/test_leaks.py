"""Leak tests: after keys are added, replaced, refused and re-validated through the API, the
dashboard and the admin, no clear key is found in the database (every table, raw SQL), any
rendered page, any API answer, any cookie, or the captured logs."""

import json
import logging

import pytest
from django.db import connection
from django.test import Client

from byok.models import ApiConfiguration
from tests.factories import new_key

pytestmark = pytest.mark.django_db


class Recorder:
    """Keeps every text the user or operator could see."""

    def __init__(self):
        self.texts: list[tuple[str, str]] = []

    def keep(self, label: str, response) -> None:
        body = response.content.decode(errors="replace")
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        self.texts.append((label, headers + "\n" + body))

    def get(self, client: Client, url: str, **kwargs):
        response = client.get(url, **kwargs)
        self.keep(f"GET {url}", response)
        return response

    def send(self, client: Client, method: str, url: str, body=None, form=None):
        if form is not None:
            response = client.post(url, form)
        else:
            response = getattr(client, method)(
                url, data=json.dumps(body or {}), content_type="application/json"
            )
        self.keep(f"{method.upper()} {url}", response)
        return response


def database_dump() -> list[tuple[str, str]]:
    """Every row of every table as PostgreSQL prints it."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')  # noqa: S608 (names from the DB)
            rows.extend((table, text) for (text,) in cursor.fetchall())
    return rows


def fragments(key: str) -> list[str]:
    # The whole key, and its middle: the hint shows 3 first and 4 last characters, never more.
    return [key, key[6:-6]]


def assert_nowhere(keys: list[str], places: list[tuple[str, str]]) -> None:
    for key in keys:
        for fragment in fragments(key):
            for label, text in places:
                assert fragment not in text, f"a clear key was found in {label}"


@pytest.mark.parametrize("slug", ["openai", "google", "xai"])
def test_no_clear_key_anywhere_after_using_the_api_dashboard_and_admin(
    client, user, other_user, operator, providers, provider_http, caplog, slug
):
    caplog.set_level(logging.DEBUG)
    provider = providers[slug]
    pid = str(provider.pk)
    seen = Recorder()
    keys = {
        name: new_key(slug) for name in ("api", "api_new", "rejected", "probe", "dash", "dash_new")
    }

    # --- through the JSON API ---------------------------------------------------------------
    api = Client()
    api.force_login(user)
    provider_http.valid(provider, keys["api"])
    created = seen.send(
        api,
        "post",
        "/api/api-configurations/",
        {"name": "API key", "providerId": pid, "apiKey": keys["api"]},
    )
    assert created.status_code == 201
    config_id = created.json()["data"]["id"]
    detail = f"/api/api-configurations/{config_id}/"

    provider_http.invalid(provider, keys["rejected"])
    assert (
        seen.send(
            api, "post", "/api/validate-api-key/", {"providerId": pid, "apiKey": keys["rejected"]}
        ).json()["data"]["isValid"]
        is False
    )
    assert seen.send(api, "patch", detail, {"apiKey": keys["rejected"]}).status_code == 400

    provider_http.valid(provider, keys["probe"])
    seen.send(api, "post", "/api/validate-api-key/", {"providerId": pid, "apiKey": keys["probe"]})
    provider_http.valid(provider, keys["api_new"])
    assert seen.send(api, "patch", detail, {"apiKey": keys["api_new"]}).status_code == 200
    seen.send(api, "post", "/api/validate-api-key/", {"configId": config_id})
    provider_http.down(provider)
    seen.send(api, "post", "/api/validate-api-key/", {"configId": config_id})
    seen.send(
        api,
        "post",
        "/api/api-configurations/",
        {"name": "x", "providerId": pid, "apiKey": keys["rejected"]},
    )
    seen.get(api, "/api/api-configurations/")
    seen.get(api, detail)
    seen.get(api, "/api/providers/")

    # --- through the dashboard ----------------------------------------------------------------
    dash = Client()
    dash.force_login(other_user)
    provider_http.invalid(provider, keys["rejected"])
    refused = seen.send(
        dash,
        "post",
        "/dashboard/keys/",
        form={"name": "Dash", "provider": pid, "api_key": keys["rejected"]},
    )
    assert refused.status_code == 400
    provider_http.valid(provider, keys["dash"])
    seen.send(
        dash,
        "post",
        "/dashboard/keys/",
        form={"name": "Dash", "provider": pid, "api_key": keys["dash"]},
    )
    dash_config = ApiConfiguration.objects.get(user=other_user)
    base = f"/dashboard/keys/{dash_config.pk}/"
    provider_http.invalid(provider, keys["rejected"])
    seen.send(dash, "post", f"{base}replace/", form={"api_key": keys["rejected"]})
    provider_http.valid(provider, keys["dash_new"])
    seen.send(dash, "post", f"{base}replace/", form={"api_key": keys["dash_new"]})
    seen.send(dash, "post", f"{base}validate/", form={})
    provider_http.invalid(provider, keys["dash_new"])
    seen.send(dash, "post", f"{base}validate/", form={})
    for url in ("/dashboard/keys/", base, f"{base}delete/", "/dashboard/"):
        seen.get(dash, url)
    seen.get(dash, "/dashboard/keys/")  # shows the flash messages of the last steps

    # --- through the admin --------------------------------------------------------------------
    admin = Client()
    admin.force_login(operator)
    for url in (
        "/admin/byok/apiconfiguration/",
        f"/admin/byok/apiconfiguration/{config_id}/change/",
        f"/admin/byok/apiconfiguration/{dash_config.pk}/change/",
        f"/admin/byok/apiconfiguration/{dash_config.pk}/delete/",
        "/admin/accounts/securityevent/",
        "/admin/",
    ):
        assert seen.get(admin, url).status_code == 200, url

    cookies = [(f"cookie of {name}", str(c.cookies)) for name, c in (("api", api), ("dash", dash))]
    logs = [(f"log {r.name}", r.getMessage()) for r in caplog.records]
    logs += [("log text", caplog.text)]

    all_keys = list(keys.values())
    assert_nowhere(all_keys, seen.texts)
    assert_nowhere(all_keys, cookies)
    assert_nowhere(all_keys, logs)
    assert_nowhere(all_keys, database_dump())
    # The stored keys are still there, encrypted, and read back in memory.
    assert ApiConfiguration.objects.get(pk=config_id).api_key == keys["api_new"]
    assert ApiConfiguration.objects.get(pk=dash_config.pk).api_key == keys["dash_new"]


# --- with DEBUG=1, Django's technical 500 page shows every frame's local variables and the POST
# data: on every path that holds a key in clear, a crash must not put the key on that page -----

FORCED = "forced failure for the leak test"


def _crash(*args, **kwargs):
    raise RuntimeError(FORCED)


@pytest.fixture
def debug_client(settings, user):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _technical_page(response) -> str:
    page = response.content.decode(errors="replace")
    assert response.status_code == 500
    assert FORCED in page and "Local vars" in page, page[:2000]  # the frames are on the page
    return page


def _json(client, method, url, body):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


# Each path: (how the request is sent, what it needs). `crash_in` says where the failure is
# forced: "http" is the deepest point (the provider call is being sent: every frame from the view
# down to requests is on the page), "after" is once the provider has answered.
KEY_PATHS = [
    ("dashboard add", "http"),
    ("dashboard add", "after"),
    ("dashboard replace", "http"),
    ("dashboard replace", "after"),
    ("dashboard re-validate", "http"),
    ("api create", "http"),
    ("api create", "after"),
    ("api patch", "http"),
    ("api patch", "after"),
    ("api validate", "http"),
    ("api validate", "after"),
    ("api re-validate", "http"),
    ("api generate", "http"),
    ("dashboard generate", "http"),
]


@pytest.mark.parametrize(("path", "crash_in"), KEY_PATHS)
def test_the_debug_error_page_never_shows_a_key(
    debug_client, user, providers, monkeypatch, path, crash_in
):
    import requests

    from byok.services import KeyCheckResult
    from tests.factories import image_model, make_configuration

    provider = providers["openai"]
    stored = make_configuration(user, provider)
    new = new_key("openai")
    stored.is_valid = True
    stored.save()
    if crash_in == "http":
        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", _crash)
    else:  # the provider accepted the key; the crash comes after
        monkeypatch.setattr("byok.services.key_check", lambda **kw: KeyCheckResult("valid", None))
        monkeypatch.setattr("byok.services.security_event_record", _crash)
    if path.endswith("generate"):
        # generation_run turns provider failures into a failed generation; a database failure
        # while recording it is what escapes, with the provider call's frames as its context.
        monkeypatch.setattr("generations.services._fail", _crash)

    pid = str(provider.pk)
    dash = f"/dashboard/keys/{stored.pk}/"
    model = image_model("openai", "gpt-image-1.5")
    send = {
        "dashboard add": lambda: debug_client.post(
            "/dashboard/keys/", {"name": "Second", "provider": pid, "api_key": new}
        ),
        "dashboard replace": lambda: debug_client.post(f"{dash}replace/", {"api_key": new}),
        "dashboard re-validate": lambda: debug_client.post(f"{dash}validate/"),
        "api create": lambda: _json(
            debug_client,
            "post",
            "/api/api-configurations/",
            {"name": "Second", "providerId": pid, "apiKey": new},
        ),
        "api patch": lambda: _json(
            debug_client, "patch", f"/api/api-configurations/{stored.pk}/", {"apiKey": new}
        ),
        "api validate": lambda: _json(
            debug_client, "post", "/api/validate-api-key/", {"providerId": pid, "apiKey": new}
        ),
        "api re-validate": lambda: _json(
            debug_client, "post", "/api/validate-api-key/", {"configId": str(stored.pk)}
        ),
        "api generate": lambda: _json(
            debug_client,
            "post",
            "/api/generations/",
            {
                "configId": str(stored.pk),
                "prompt": "A fox",
                "parameters": {"modelId": str(model.pk)},
            },
        ),
        "dashboard generate": lambda: debug_client.post(
            "/dashboard/generate/",
            {"configuration": str(stored.pk), "model": str(model.pk), "prompt": "A fox"},
        ),
    }[path]
    if path.startswith("api create") or path == "dashboard add":
        ApiConfiguration.objects.filter(pk=stored.pk).delete()  # room on the Free plan

    page = _technical_page(send())

    for key in (new, stored.clear_key):
        for fragment in fragments(key):
            assert fragment not in page, f"{path}: a key is on the debug page"
