"""Two app processes, one truth: the monthly limit holds across processes under a burst.

Two gunicorn processes (the repo's gunicorn.conf.py, DEBUG off, psycopg pool on) run against
the test PostgreSQL database and one shared MEDIA_ROOT; the provider is the loopback stand-in.
A Free user at 49/50 fires 100 generations at once, split across both processes: exactly one
succeeds, the others are told the plan's limit is reached, and nothing is lost or orphaned.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.test import Client

from accounts.models import User
from byok.models import ImageModel, Provider
from generations.models import Image, ImageGeneration
from tests.factories import make_configuration, make_user
from tests.ports import free_port
from tests.standin import StandIn

# Two gunicorn processes and a redis-server; the stand-in answers after 0.3 s so that the
# burst overlaps.
pytestmark = [pytest.mark.slow, pytest.mark.standin(latency=0.3, image_size=256)]

ROOT = Path(__file__).resolve().parent.parent
BURST = 100


def _database_url() -> str:
    db = settings.DATABASES["default"]  # inside the test: the test database's name
    auth = quote(db.get("USER") or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return (
        f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def _app_env(port: int, standin: StandIn | None, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BAMBI_TESTING", "DATABASE_URL")}
    env.update(
        {
            "DEBUG": "0",
            # The same secrets as this process: sessions and stored keys must read the same.
            "SECRET_KEY": settings.SECRET_KEY,
            "ENCRYPTION_KEY": ",".join(settings.ENCRYPTION_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1",
            "APP_URL": f"http://127.0.0.1:{port}",
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL": "1",
            "DATABASE_POOL_MAX": "4",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "32",
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "WARNING",
            # A burst of 100 from one user is this test's point: the per-minute limit on
            # generations (429) would answer most of it before the monthly limit is reached.
            "RATE_LIMIT_GENERATIONS_PER_MINUTE": "0",
        }
    )
    if standin is not None:
        # The stand-in listens on loopback: allowed through the network guard by name.
        env["PROVIDER_PRIVATE_HOSTS"] = standin.host_port
    env.update(extra)
    return env


@pytest.fixture
def two_apps(tmp_path, standin):
    """Two gunicorn processes on two loopback ports; yields their base URLs."""
    with two_app_processes(tmp_path, standin, {}) as urls:
        yield urls


@contextlib.contextmanager
def two_app_processes(tmp_path, standin: StandIn, extra: dict[str, str]):
    """Start two gunicorn processes with `extra` in their environment; their base URLs."""
    procs, urls, logs = [], [], []
    for n in range(2):
        port = free_port()
        log = open(tmp_path / f"gunicorn-{n}.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "bambi.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env=_app_env(port, standin, extra),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc, url, log in zip(procs, urls, logs, strict=True):
            deadline = time.monotonic() + 45
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"gunicorn exited early: {Path(log.name).read_text()[-3000:]}")
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {Path(log.name).read_text()[-3000:]}")
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


@pytest.mark.django_db(transaction=True)
def test_a_burst_across_two_processes_never_passes_the_monthly_limit(catalogue, two_apps, standin):
    Provider.objects.update(api_base_url=standin.url)
    user = make_user(usage_count=49)
    config = make_configuration(user, catalogue["openai"], name="burst", key="sk-burst-good-key")
    model = ImageModel.objects.get(provider=catalogue["openai"], model_id="gpt-image-1.5")

    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)  # Django accepts the unmasked secret as the header token
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: csrf,
    }
    body = {
        "configId": str(config.pk),
        "prompt": "a fawn in the snow",
        "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
    }
    start = threading.Barrier(BURST)

    def fire(i: int) -> int:
        base = two_apps[i % 2]
        start.wait(timeout=30)  # all at once, half on each process
        return requests.post(
            f"{base}/api/generations/",
            json=body,
            cookies=cookies,
            headers={"X-CSRFToken": csrf},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(BURST) as pool:
        statuses = list(pool.map(fire, range(BURST)))

    provider_calls = standin.count("openai.generate")

    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(201) == 1
    assert statuses.count(403) == BURST - 1
    assert User.objects.get(pk=user.pk).usage_count == 50
    # The user's key was used for exactly one paid call.
    assert provider_calls == 1

    generations = list(ImageGeneration.objects.filter(user=user))
    assert [g.status for g in generations] == [ImageGeneration.Status.COMPLETED]
    images = list(Image.objects.filter(generation=generations[0]))
    assert len(images) == 1
    media = Path(settings.MEDIA_ROOT)
    on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
    # The WebP thumbnail is made on its first request (generations.storage.thumbnail_ensure).
    assert images[0].thumbnail_path
    assert on_disk == {images[0].storage_path}  # the file is there, and nothing else: no orphan
    assert (media / images[0].storage_path).stat().st_size == images[0].bytes


# --- the shared cache: Redis ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A private redis-server on a loopback port for this test session (Debian's package,
    installed by scripts/test), with nothing persisted to disk."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed; scripts/test installs Debian's redis-server")
    import redis

    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    log = open(workdir / "redis.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.RedisError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"redis-server did not start: {(workdir / 'redis.log').read_text()}"
                    )
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _session_cookies(user) -> tuple[dict, dict]:
    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: csrf,
    }
    return cookies, {"X-CSRFToken": csrf}


def _redis_keys(url: str) -> list[bytes]:
    import redis

    return redis.Redis.from_url(url).keys("*")


@pytest.mark.django_db(transaction=True)
def test_key_check_limits_are_shared_by_two_processes_through_redis(
    catalogue, standin, redis_url, tmp_path
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    Provider.objects.update(api_base_url=standin.url)
    openai = Provider.objects.get(slug="openai")
    cookies, headers = _session_cookies(make_user())

    with two_app_processes(tmp_path, standin, {"CACHE_URL": redis_url}) as apps:
        statuses = [
            requests.post(
                f"{apps[n % 2]}/api/validate-api-key/",  # alternating between the processes
                json={"providerId": str(openai.pk), "apiKey": f"sk-stolen-{n:03d}-abcdefgh"},
                cookies=cookies,
                headers=headers,
                timeout=30,
            )
            for n in range(12)
        ]

    assert [r.status_code for r in statuses] == [200] * 10 + [429, 429]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in statuses[10:])
    assert standin.count("openai.models") == 10  # 10 a minute per user, for both processes
    assert any(b"bambi:rl:key-check-user" in key for key in _redis_keys(redis_url))


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> str:
    """STATIC_ROOT after `collectstatic` with DEBUG off: pages (not the API) need whitenoise's
    manifest, as in production's release step."""
    root = tmp_path_factory.mktemp("static")
    env = _app_env(0, None, {"STATIC_ROOT": str(root)})
    env["DATABASE_URL"] = "sqlite:///unused.sqlite3"  # collectstatic reads no database
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return str(root)


@pytest.mark.django_db(transaction=True)
def test_login_lockouts_are_shared_by_two_processes_through_redis(
    catalogue, standin, redis_url, collected_static, tmp_path
):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    browser = requests.Session()
    extra = {"CACHE_URL": redis_url, "STATIC_ROOT": collected_static}

    with two_app_processes(tmp_path, standin, extra) as apps:
        page = browser.get(f"{apps[0]}/accounts/login/", timeout=30)
        assert page.status_code == 200, page.text[:500]
        token = browser.cookies[settings.CSRF_COOKIE_NAME]
        pages = [
            browser.post(
                f"{apps[n % 2]}/accounts/login/",
                data={
                    "login": f"guess{n}@example.com",  # a new account each time: per-address limit
                    "password": "not-the-password",
                    "csrfmiddlewaretoken": token,
                },
                timeout=30,
            )
            for n in range(11)
        ]

    locked = ["Too many failed login attempts" in page.text for page in pages]
    # 10 failed logins a minute per address (ACCOUNT_RATE_LIMITS), counted once for both.
    assert locked == [False] * 10 + [True]
    assert _redis_keys(redis_url)
