"""Start-up and deployment checks, each in a fresh Python process with its own environment."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-" + "y" * 20,
    "ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "ALLOWED_HOSTS": "bambi.example.com",
    "APP_URL": "https://bambi.example.com",
}


OWN_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "ALLOWED_HOSTS",
    "BAMBI_TESTING",
    "DATABASE_URL",
    "STATIC_ROOT",
    # Set by the browser tests' fixture while Chromium runs (session scope); never in production.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_django(code: str, env: dict, tmp_path: Path | None = None) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a new process with exactly the environment given
    (the test run's own database and secrets are not inherited)."""
    clean = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    if tmp_path is not None:
        clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "bambi.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEY", "ALLOWED_HOSTS"])
def test_start_up_refuses_a_missing_secret_with_debug_off(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_django("print('started')", env)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert f"The environment variable {missing} is required when DEBUG is off" in result.stderr


def test_start_up_with_debug_on_uses_development_defaults(tmp_path):
    result = run_django("print('started')", {"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = dict(PROD_ENV, STRIPE_SECRET_KEY="sk_test_" + "a" * 24)
    result = run_django(
        "from django.core.management import call_command; "
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_healthz_answers_503_when_the_database_is_down():
    # A real connection attempt to a closed port on loopback.
    code = (
        "from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='localhost'); print('STATUS', r.status_code)"
    )
    result = run_django(code, {"DEBUG": "1", "DATABASE_URL": "postgres://x@127.0.0.1:9/none"})
    assert "STATUS 503" in result.stdout, result.stderr


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_production_static_pipeline_and_404_page_without_traceback(tmp_path):
    # The release step (collectstatic with whitenoise's manifest storage), then a page with
    # DEBUG off: a styled 404 that links the hashed stylesheet, and never a traceback.
    env = dict(PROD_ENV, STATIC_ROOT=str(tmp_path / "static"))
    collected = run_django(
        "from django.core.management import call_command; "
        "call_command('collectstatic', '--noinput', verbosity=0)",
        env,
        tmp_path,
    )
    assert collected.returncode == 0, collected.stderr
    code = (
        "from django.test import Client; "
        "r = Client(raise_request_exception=False).get("
        "'/no-such-page', HTTP_HOST='bambi.example.com', secure=True); "
        "print('STATUS', r.status_code); "
        "print('TRACE' if b'Traceback' in r.content else 'CLEAN'); "
        "print(r.content.decode())"
    )
    result = run_django(code, env, tmp_path)
    assert "STATUS 404" in result.stdout, result.stderr
    assert "CLEAN" in result.stdout
    assert "Page not found" in result.stdout
    assert re.search(r"/static/css/bambi\.[0-9a-f]{12}\.css", result.stdout)


@pytest.mark.parametrize("debug", ["1", "0"])
def test_no_private_host_is_allowed_unless_listed(debug, tmp_path):
    env = {**PROD_ENV, "DEBUG": debug}
    result = run_django(
        "from django.conf import settings; print(repr(settings.PROVIDER_PRIVATE_HOSTS))",
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_malformed_private_host_stops_start_up_with_a_sentence(tmp_path):
    env = {**PROD_ENV, "PROVIDER_PRIVATE_HOSTS": "localhost:8765,standin"}
    result = run_django("print('started')", env, tmp_path)
    assert result.returncode != 0
    assert "PROVIDER_PRIVATE_HOSTS" in result.stderr and "standin" in result.stderr
