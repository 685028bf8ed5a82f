"""What every benchmark needs: PostgreSQL, a migrated database, Django in-process (for rows and
query counts), gunicorn on loopback with production settings, a logged-in session, a key.

All traffic stays on 127.0.0.1. Nothing here is a test double of Bambi: gunicorn runs the real
app with DEBUG=0, and the provider is the stand-in from tests/standin.py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._pg import Postgres, free_port  # noqa: E402

VENV_BIN = Path(sys.executable).parent
# A valid Fernet key for the benchmark only (never a production value).
BENCH_ENCRYPTION_KEY = "YmVuY2gtb25seS1rZXktMzItYnl0ZXMtbG9uZy14eHg="
TEMPLATE_DB = "bambi_bench_template"


def production_env(database_url: str, media_root: str, **extra: str) -> dict[str, str]:
    """Environment of a production-like app process (DEBUG off, real secrets, loopback only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAMBI_", "DJANGO_"))}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ENCRYPTION_KEY": BENCH_ENCRYPTION_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": media_root,
            # Plain HTTP on loopback: no TLS redirect, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Stack:
    """PostgreSQL + migrated database + Django set up in this process."""

    def __init__(self, pool: bool = False) -> None:
        """`pool`: Django in this process uses the psycopg pool, as gunicorn's workers do
        (for in-process profiles of a request; one connection is enough otherwise)."""
        self.pool = pool
        self.pg = Postgres()
        self.media_root = tempfile.mkdtemp(prefix="bambi-bench-media.")
        self.env: dict[str, str] = {}

    def __enter__(self) -> Stack:
        self.pg.start()
        try:
            self._database()
            self.env = production_env(self.pg.url, self.media_root)
            print("collectstatic (whitenoise manifest, DEBUG off) ...", flush=True)
            _manage(self.env, "collectstatic", "--noinput")
            # Django in this process: same settings, but no pool (one connection is enough).
            os.environ.update(self.env)
            os.environ["DATABASE_POOL"] = "1" if self.pool else "0"
            os.environ["DJANGO_SETTINGS_MODULE"] = "bambi.settings"
            import django

            django.setup()
        except BaseException:
            self.pg.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        from django.db import connections

        connections.close_all()
        self.pg.stop()
        shutil.rmtree(self.media_root, ignore_errors=True)

    def _database(self) -> None:
        env = production_env(self.pg.url, self.media_root)
        if self.pg.keep and self.pg.database_exists(TEMPLATE_DB):
            self.pg.execute("DROP DATABASE IF EXISTS bambi WITH (FORCE)")
            self.pg.execute(f"CREATE DATABASE bambi TEMPLATE {TEMPLATE_DB}")
            print("database: copied from the kept template; migrate ...", flush=True)
            _manage(env, "migrate", "--noinput")  # fast when nothing changed
            return
        self.pg.execute("DROP DATABASE IF EXISTS bambi WITH (FORCE)")
        self.pg.execute("CREATE DATABASE bambi")
        print("database: migrate (dj-stripe's migrations take a minute) ...", flush=True)
        _manage(env, "migrate", "--noinput")
        if self.pg.keep:
            self.pg.execute(f"CREATE DATABASE {TEMPLATE_DB} TEMPLATE bambi")


class Gunicorn:
    """`gunicorn bambi.wsgi -c gunicorn.conf.py` on a loopback port, with production settings."""

    def __init__(
        self, env: dict[str, str], workers: int | None = None, threads: int | None = None, **extra
    ):
        """`workers` / `threads` None: gunicorn.conf.py's defaults, as shipped."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "",
            "APP_URL": self.url,
            **extra,
        }
        for name, value in (("GUNICORN_WORKERS", workers), ("GUNICORN_THREADS", threads)):
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = str(value)
        self.workers, self.threads = self._configured()
        self.proc: subprocess.Popen | None = None

    def _configured(self) -> tuple[int, int]:
        """(workers, threads) gunicorn.conf.py gives in this environment."""
        out = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-c",
                "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
                "print(c['workers'], c['threads'])",
            ],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        return int(out[0]), int(out[1])

    def __enter__(self) -> Gunicorn:
        self.log = tempfile.NamedTemporaryFile(
            prefix="bambi-bench-gunicorn.", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "bambi.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()  # never leave a gunicorn behind when start-up fails
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log.name}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz in 30 s; see {self.log.name}")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def pids(self) -> list[int]:
        """The master and its workers."""
        assert self.proc is not None
        pids = [self.proc.pid]
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(c) for c in children)
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its workers."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total / 1024


class StandInProcess:
    """tests/standin.py in a process of its own (`python -m tests.standin`), so that its work
    (json-encoding megabytes of base64 per answer) does not compete for this process's GIL
    with the benchmark's clients, nor shows in a profile of Bambi. Same `url`, `host_port`,
    `latency`, `max_in_flight`, `connections` and `reset()` as the in-process StandIn."""

    def __init__(self, latency: float = 0.0, image_size: int = 1024) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.host_port = f"127.0.0.1:{self.port}"
        self._latency = latency
        self.image_size = image_size

    def __enter__(self) -> StandInProcess:
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "python"),
                "-m",
                "tests.standin",
                "--port",
                str(self.port),
                "--latency",
                str(self._latency),
                "--image-size",
                str(self.image_size),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self._stats()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            self.__exit__()
            raise SystemExit("the provider stand-in did not start")
        # Make the 1024² picture (and its base64) before any clock starts.
        requests.post(
            f"{self.url}/v1/images/generations",
            json={"model": "gpt-image-1.5", "prompt": "warm-up", "n": 1, "size": "1024x1024"},
            headers={"Authorization": "Bearer sk-bench-warm-up"},
            timeout=60,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()

    def _stats(self) -> dict:
        return requests.get(f"{self.url}/_standin/stats", timeout=5).json()

    def _control(self, **values) -> None:
        requests.post(f"{self.url}/_standin/control", json=values, timeout=5).raise_for_status()

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._control(latency=seconds)
        self._latency = seconds

    @property
    def max_in_flight(self) -> int:
        return self._stats()["max_in_flight"]

    @property
    def connections(self) -> int:
        return self._stats()["connections"]

    def reset(self) -> None:
        self._control(reset=True)


# --- rows through the ORM ------------------------------------------------------------------------
def point_providers_at(url: str) -> None:
    from byok.models import Provider

    Provider.objects.update(api_base_url=url)


def make_user(email: str | None = None, **extra):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    email = email or f"bench-{secrets.token_hex(4)}@example.com"
    # No password: sessions are made with force_login, and hashing one (PBKDF2) would take
    # a few minutes for the hundreds of users the concurrency burst needs.
    user = User.objects.create_user(email=email, password=None, **extra)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def make_configuration(user, provider_slug: str = "openai", key: str = "sk-bench-good-key"):
    from django.utils import timezone

    from byok.models import ApiConfiguration, Provider
    from byok.services import key_hint

    config = ApiConfiguration(
        user=user,
        provider=Provider.objects.get(slug=provider_slug),
        name=f"{provider_slug} bench key",
        key_hint=key_hint(key),
        is_valid=True,
        last_validated_at=timezone.now(),
    )
    config.api_key = key
    config.save()
    return config


def session_for(user) -> requests.Session:
    """A requests session logged in as `user` (session row + CSRF cookie and header)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    # Django accepts the unmasked 32-character secret as the header token.
    csrf = secrets.token_hex(16)
    session.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
    session.headers["X-CSRFToken"] = csrf
    return session


def cookies_for(user) -> tuple[dict[str, str], dict[str, str]]:
    """(cookies, headers) of a logged-in session, for clients other than requests.Session."""
    s = session_for(user)
    return dict(s.cookies), dict(s.headers)


# --- figures -------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def server_timing(header: str) -> dict[str, float]:
    """`a;dur=1.5, b;dur=2` -> {"a": 1.5, "b": 2.0} (ms)."""
    out: dict[str, float] = {}
    for entry in header.split(","):
        name, _, rest = entry.strip().partition(";dur=")
        if name and rest:
            out[name] = out.get(name, 0.0) + float(rest)
    return out


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    mean = statistics.mean(ms)
    return f"p50 {pct(ms, 50):8.1f} ms   p95 {pct(ms, 95):8.1f} ms   mean {mean:8.1f} ms"


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
        f"load average before the run {load}"
    )
