"""schemathesis against a live Bambi, logged in: no server errors, every answer as documented.

The schemathesis CLI runs in a subprocess against pytest-django's live server (a real HTTP
server in this process, on a real PostgreSQL), authenticated the way a browser is (the
session cookie, the CSRF cookie and the X-CSRFToken header) and with a personal API token
(/api/ takes either; /v1/ the token only), as declared in the document's security schemes.
Providers point at the local stand-in, so generating with the user's key really goes out and
back. Examples are bounded so the run takes a minute or two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from byok.models import Provider
from tests.factories import make_configuration, make_token, make_user, run_generation

# schemathesis in a subprocess against a live server: slow.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "test-artifacts" / "schemathesis"
# Checks that prove "0 server errors, every answer matching the document".
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]


def _example(operation: dict, body: dict) -> None:
    operation["requestBody"]["content"]["application/json"]["example"] = body


def _session_for(user) -> str:
    """A real server-side session of `user`, as logging in would make it."""
    engine = import_string(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


@pytest.fixture
def fuzzed(live_server, catalogue, standin, tmp_path) -> dict:
    """A user with a key on the stand-in and one generation, the served document with examples
    naming their real rows, and a schemathesis config logged in as them."""
    Provider.objects.update(api_base_url=standin.url)
    user = make_user()
    config = make_configuration(
        user, catalogue["openai"], name="Fuzzed", key="sk-fuzz-good-key-1234567890"
    )

    generation = run_generation(
        user, config, "a fawn in the snow", model="gpt-image-1-mini", size="1024x1024"
    )

    # The served document, plus examples naming this user's real rows, so that the examples
    # phase reaches past the 404s into the views' real work (a generation through the
    # stand-in, reading and deleting a stored one, checking a stored key).
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()
    paths = document["paths"]
    bodies = {
        ("/api/generations/", "post"): {
            "configId": str(config.pk),
            "prompt": "a fawn in a meadow",
            "parameters": {"modelId": "gpt-image-1-mini", "count": 1, "size": "1024x1024"},
        },
        ("/api/validate-api-key/", "post"): {"configId": str(config.pk)},
        ("/api/api-configurations/{id}/", "patch"): {"name": "Renamed by schemathesis"},
        ("/api/api-configurations/", "post"): {
            "name": "Second",
            "providerId": str(catalogue["openai"].pk),
            "apiKey": "sk-fuzz-other-key-0987654321",
        },
        ("/v1/images/generations", "post"): {
            "model": "gpt-image-1-mini",
            "prompt": "a fawn by a lake",
            "size": "1024x1024",
        },
    }
    for (path, method), body in bodies.items():
        if (path, method) != ("/api/api-configurations/", "post"):
            _example(paths[path][method], body)
    for path, pk in (
        ("/api/generations/{id}/", generation.pk),
        ("/api/api-configurations/{id}/", config.pk),
    ):
        for operation in paths[path].values():
            operation["parameters"][0]["example"] = str(pk)

    csrf = get_random_string(32)
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(
        f"""
[auth.openapi.sessionCookie]
api_key = "{_session_for(user)}"

[auth.openapi.csrfCookie]
api_key = "{csrf}"

[auth.openapi.csrfHeader]
api_key = "{csrf}"

[auth.openapi.bearerToken]
bearer = "{_token_user_with_a_key(catalogue)}"

"""
    )
    return {
        "url": live_server.url,
        "document": document,
        "bodies": bodies,
        "config_file": config_file,
        "tmp_path": tmp_path,
        "user": user,
    }


def _token_user_with_a_key(catalogue) -> str:
    """The secret of a token of another user with a key on the stand-in: the session's user
    can list and revoke its own tokens (and schemathesis, following the links, does), so the
    token the run authenticates with is someone else's, out of its reach."""
    owner = make_user()
    make_configuration(owner, catalogue["openai"], name="Token owner's")
    return make_token(owner, name="schemathesis").secret


def _write(fuzzed: dict, name: str, document: dict) -> Path:
    path = fuzzed["tmp_path"] / name
    path.write_text(json.dumps(document))
    return path


def test_schemathesis_finds_no_server_error_and_every_answer_matches_the_document(fuzzed):
    schema_file = _write(fuzzed, "openapi.json", fuzzed["document"])
    config_file = fuzzed["config_file"]

    everything_but_billing = _schemathesis(
        config_file, schema_file, fuzzed["url"], CHECKS, "--exclude-path-regex", "^/api/stripe/"
    )
    assert everything_but_billing.returncode == 0, _tail(everything_but_billing)

    # Billing is not configured in tests (no Stripe here): its two operations answer the
    # documented 503 "Billing is not configured", a deliberate state rather than a crash.
    # Their status codes and bodies are still held to the document.
    billing = _schemathesis(
        config_file,
        schema_file,
        fuzzed["url"],
        [c for c in CHECKS if c != "not_a_server_error"],
        "--include-path-regex",
        "^/api/stripe/",
    )
    assert billing.returncode == 0, _tail(billing)


# The free-text field of each JSON body (ids have formats: a hostile id is just a 404).
FREE_TEXT = {
    ("/api/generations/", "post"): "prompt",
    ("/api/api-configurations/", "post"): "name",
    ("/api/api-configurations/{id}/", "patch"): "name",
    ("/api/validate-api-key/", "post"): "apiKey",
    ("/v1/images/generations", "post"): "prompt",
}


@pytest.mark.parametrize(
    ("variant", "status"),
    [("unpaired-surrogate", 400), ("too-large", 413)],
)
def test_schemathesis_sends_hostile_bodies_and_gets_documented_4xx_answers(fuzzed, variant, status):
    # Every JSON body with an unpaired surrogate in its text, or past
    # DATA_UPLOAD_MAX_MEMORY_SIZE: the documented 400 or 413, never a server error. (JSON
    # nested past the recursion limit cannot be serialised by schemathesis itself: the unit
    # tests in tests/generations/test_bad_input.py send it raw.)
    document = fuzzed["document"]
    provider_id = fuzzed["bodies"][("/api/api-configurations/", "post")]["providerId"]
    for (path, method), body in fuzzed["bodies"].items():
        field = FREE_TEXT[(path, method)]
        if (path, method) == ("/api/validate-api-key/", "post"):
            body = {"providerId": provider_id, "apiKey": "sk-fuzz-checked-key-123"}
        text = body[field]
        hostile = (
            text[:2] + "\ud800" + text[2:]
            if variant == "unpaired-surrogate"
            else "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        )
        _example(document["paths"][path][method], {**body, field: hostile})
    schema_file = _write(fuzzed, f"openapi-{variant}.json", document)
    run = _schemathesis(
        fuzzed["config_file"],
        schema_file,
        fuzzed["url"],
        CHECKS,
        "--phases",
        "examples",
        "--include-method",
        "POST",
        "--include-method",
        "PATCH",
        "--exclude-path-regex",
        "^/api/stripe/",
    )
    assert run.returncode == 0, _tail(run)
    # schemathesis adds cases of its own to the examples; the hostile ones got their answer.
    assert status in _har_statuses(schema_file), _tail(run)


def _reports(schema_file: Path) -> Path:
    """Where the runs against `schema_file` write their reports: a folder of their own, so
    that tests running at the same time (pytest-xdist) never read each other's."""
    folder = REPORTS / schema_file.stem
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _har_statuses(schema_file: Path) -> list[int]:
    """The answers to the POST/PATCH requests of the last run (its HAR report)."""
    latest = max(_reports(schema_file).glob("har-*.json"), key=lambda p: p.stat().st_mtime)
    entries = json.loads(latest.read_text())["log"]["entries"]
    return [e["response"]["status"] for e in entries if e["request"]["method"] in ("POST", "PATCH")]


def _tail(run: subprocess.CompletedProcess) -> str:
    return run.stdout[-12000:] + run.stderr[-4000:]


def _schemathesis(
    config_file: Path, schema_file: Path, base_url: str, checks: list[str], *selection: str
) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config_file),
        "run",
        str(schema_file),
        "--url",
        base_url,
        "--checks",
        ",".join(checks),
        *selection,
        "--max-examples",
        "25",
        "--seed",
        "7",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "junit,har",
        "--report-dir",
        str(_reports(schema_file)),
    ]
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "HOME": str(config_file.parent)}
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=env, cwd=config_file.parent
    )
    with open(_reports(schema_file) / "output.txt", "a") as log:
        log.write(" ".join(command[4:]) + "\n" + run.stdout + run.stderr)
    return run
