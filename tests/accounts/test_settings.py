"""Start-up and deployment checks, each in a fresh Python process with its own environment."""

import base64
import os
import re
import socket
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


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}


def manage(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a new process with exactly the environment given."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**_clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_django(code: str, env: dict, tmp_path: Path | None = None) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a new process with exactly the environment given
    (the test run's own database and secrets are not inherited)."""
    clean = _clean_environment()
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


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEY", "ALLOWED_HOSTS"])
def test_start_up_refuses_a_missing_secret_with_debug_off(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_django("print('started')", env)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert f"The environment variable {missing} is required when DEBUG is off" in result.stderr


@pytest.mark.slow
def test_start_up_with_debug_on_uses_development_defaults(tmp_path):
    result = run_django("print('started')", {"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = dict(
        PROD_ENV, STRIPE_SECRET_KEY="sk_test_" + "a" * 24, STRIPE_PREMIUM_PRICE_ID="price_1abc"
    )
    result = run_django(
        "from django.core.management import call_command; "
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


HEALTHZ = (
    "import time; from django.test import Client; from django.db import connection; "
    "start = time.monotonic(); r = Client().get('/healthz', HTTP_HOST='localhost'); "
    "print('STATUS', r.status_code, 'SECONDS', round(time.monotonic() - start, 2), "
    "'POOL', bool(connection.settings_dict['OPTIONS'].get('pool')))"
)


def _healthz_in_a_new_process(database_url: str) -> tuple[int, float]:
    result = run_django(HEALTHZ, {"DEBUG": "1", "DATABASE_URL": database_url})
    match = re.search(r"STATUS (\d+) SECONDS ([\d.]+) POOL True", result.stdout)
    assert match, result.stdout + result.stderr  # the pool is on, as in production
    return int(match.group(1)), float(match.group(2))


@pytest.mark.slow
def test_healthz_answers_503_at_once_when_the_database_port_is_closed():
    # A real connection attempt to a closed port on loopback, through the pooled settings.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    status, seconds = _healthz_in_a_new_process(f"postgres://x@127.0.0.1:{port}/none")
    assert status == 503
    assert seconds < 3  # a load balancer's patience, not the pool's 30 s


@pytest.mark.slow
def test_healthz_answers_503_within_3_seconds_when_the_database_hangs():
    # A server that accepts the TCP connection and then never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        status, seconds = _healthz_in_a_new_process(f"postgres://x@127.0.0.1:{port}/none")
    assert status == 503
    assert seconds < 3


@pytest.mark.django_db
def test_healthz_answers_a_plain_http_probe_where_pages_redirect_to_https(client, settings):
    # Production's default (the tests turn it off); SECURE_REDIRECT_EXEMPT is bambi/settings.py's.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    page = client.get("/")
    assert page.status_code == 301 and page["Location"].startswith("https://")


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_malformed_private_host_stops_start_up_with_a_sentence(tmp_path):
    env = {**PROD_ENV, "PROVIDER_PRIVATE_HOSTS": "localhost:8765,standin"}
    result = run_django("print('started')", env, tmp_path)
    assert result.returncode != 0
    assert "PROVIDER_PRIVATE_HOSTS" in result.stderr and "standin" in result.stderr


# --- the development .env that scripts/run writes -------------------------------------------------

DEV_ENV = ROOT / "scripts" / "_dev_env.py"


def _dev_env(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEV_ENV), str(path)], capture_output=True, text=True, check=True
    )


def _values(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and line[0] != "#"
    )


@pytest.mark.slow
def test_first_start_writes_debug_and_fresh_secrets_and_later_starts_keep_them(tmp_path):
    env_file = tmp_path / ".env"
    assert "Wrote DEBUG, SECRET_KEY, ENCRYPTION_KEY" in _dev_env(env_file).stdout
    first = _values(env_file)
    assert first["DEBUG"] == "1"
    assert len(first["SECRET_KEY"]) >= 50
    assert len(base64.urlsafe_b64decode(first["ENCRYPTION_KEY"])) == 32
    assert env_file.stat().st_mode & 0o777 == 0o600

    assert _dev_env(env_file).stdout == ""
    assert _values(env_file) == first
    other = tmp_path / "other.env"
    _dev_env(other)
    assert _values(other)["SECRET_KEY"] != first["SECRET_KEY"]  # generated, not a constant


@pytest.mark.slow
def test_an_existing_env_file_gets_only_what_it_lacks(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=mine\nexport STRIPE_SECRET_KEY=sk_test_x")
    _dev_env(env_file)
    values = _values(env_file)
    assert values["SECRET_KEY"] == "mine"
    assert values["export STRIPE_SECRET_KEY"] == "sk_test_x"
    assert values["DEBUG"] == "1" and values["ENCRYPTION_KEY"]


@pytest.mark.slow
def test_manage_py_commands_read_the_development_env_file(tmp_path):
    env_file = tmp_path / ".env"
    _dev_env(env_file)
    command = [sys.executable, "manage.py", "check"]
    clean = _clean_environment()
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    without = subprocess.run(
        command, cwd=ROOT, env={**clean, "BAMBI_ENV_FILE": ""}, capture_output=True, text=True
    )
    assert without.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in without.stderr

    found = subprocess.run(
        command,
        cwd=ROOT,
        env={**clean, "BAMBI_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    assert "no issues" in found.stdout


@pytest.mark.slow
def test_the_test_suite_ignores_a_developers_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=1\nSECRET_KEY=from-the-env-file\n")
    show = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    plain = run_django(show, {"BAMBI_ENV_FILE": str(env_file)}, tmp_path)
    assert plain.stdout.split() == ["True", "from-the-env-file"], plain.stderr
    # The same file seen by the suite's own process (scripts/test sets BAMBI_TESTING; a plain
    # `pytest` counts too) and, through BAMBI_ENV_FILE="" (tests/conftest.py), by its children.
    under_pytest = run_django(
        show, {"BAMBI_ENV_FILE": str(env_file), "BAMBI_TESTING": "1"}, tmp_path
    )
    assert under_pytest.returncode == 0, under_pytest.stderr
    assert under_pytest.stdout.split()[0] == "False"
    assert "from-the-env-file" not in under_pytest.stdout


# --- configuration errors stop start-up, with a sentence, before any user meets them -----------

SECRET_LOOKING = "SeCrEtVaLuE0123456789"
BAD_SETTINGS = [
    # (environment, words the refusal must say)
    ({"ENCRYPTION_KEY": f"not-a-key-{SECRET_LOOKING}"}, ["ENCRYPTION_KEY", "32 random bytes"]),
    (
        {"ENCRYPTION_KEY": f"{PROD_ENV['ENCRYPTION_KEY']},{SECRET_LOOKING}"},
        ["2nd key of ENCRYPTION_KEY", "url-safe base64"],
    ),
    ({"APP_URL": "bambi.example.com"}, ["APP_URL", "https://"]),
    ({"STRIPE_SECRET_KEY": f"pk_test_{SECRET_LOOKING}"}, ["STRIPE_SECRET_KEY", "sk_test_"]),
    (
        {"STRIPE_SECRET_KEY": f"sk_live_{SECRET_LOOKING}", "STRIPE_PREMIUM_PRICE_ID": "price_1"},
        ["live key", "STRIPE_LIVE_MODE"],
    ),
    ({"STRIPE_WEBHOOK_SECRET": SECRET_LOOKING}, ["STRIPE_WEBHOOK_SECRET", "whsec_"]),
    ({"MEDIA_ROOT": "{a_file}/media"}, ["MEDIA_ROOT", "could not be stored"]),
    ({"PROVIDER_READ_TIMEOUT": "two minutes"}, ["PROVIDER_READ_TIMEOUT must be a number"]),
    ({"PROVIDER_CONNECT_TIMEOUT": "0"}, ["PROVIDER_CONNECT_TIMEOUT must be a number above 0"]),
    (
        {"DATABASE_URL": f"postgress://bambi:{SECRET_LOOKING}@db/bambi"},
        ["DATABASE_URL must point at PostgreSQL or SQLite"],
    ),
    ({"DATABASE_URL": SECRET_LOOKING}, ["DATABASE_URL"]),
    ({"EMAIL_URL": f"smtpx://me:{SECRET_LOOKING}@mail"}, ["EMAIL_URL", "smtp+tls://"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("bad", "words"), BAD_SETTINGS)
def test_check_refuses_a_bad_setting_naming_it_without_printing_it(tmp_path, bad, words):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    bad = {name: value.replace("{a_file}", str(a_file)) for name, value in bad.items()}
    env = {**PROD_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **bad}
    result = manage(["check"], env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for word in words:
        assert word in output, output
    assert SECRET_LOOKING not in output  # secrets are named, never printed


@pytest.mark.slow
def test_migrate_refuses_an_invalid_encryption_key_before_touching_the_database(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {"DEBUG": "1", "ENCRYPTION_KEY": "short", "DATABASE_URL": f"sqlite:///{database}"}
    result = manage(["migrate", "--noinput"], env)
    assert result.returncode != 0
    assert "ENCRYPTION_KEY is not a valid key" in result.stderr
    assert "Applying" not in result.stdout


@pytest.mark.slow
def test_development_settings_pass_the_checks(tmp_path):
    result = manage(["check"], {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_runserver_refuses_an_invalid_encryption_key(tmp_path):
    env = {"DEBUG": "1", "ENCRYPTION_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}
    result = manage(["runserver", "--noreload", "127.0.0.1:0"], env)
    assert result.returncode != 0
    assert "ENCRYPTION_KEY is not a valid key" in result.stderr


@pytest.mark.slow
def test_gunicorn_refuses_an_invalid_encryption_key(tmp_path):
    env = {
        **PROD_ENV,
        "ENCRYPTION_KEY": "short",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
        "GUNICORN_BIND": "127.0.0.1:0",
        "GUNICORN_WORKERS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "bambi.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**_clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ENCRYPTION_KEY is not a valid key" in result.stderr
