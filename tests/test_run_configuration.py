"""The configuration every newcomer starts with, started exactly the way they start it.

`scripts/run` runs in a subprocess from this checkout: its own `.env` (written on first start),
a SQLite file, DEBUG=1, `manage.py runserver`, console mail, and no Stripe, OAuth or other
secret in the environment. Only the locations move into a temporary directory (the env file,
the database, the media files, the port). The journey goes over HTTP like a browser would:
sign up, confirm from the mail printed in the terminal, log in, add a key pointed at the
provider stand-in, generate through the JSON API and through the form, find the image in the
gallery, download it, delete it; the provider's refusals and failures answer what they answer
on PostgreSQL; after a restart the session and the stored key still work; the README's
`manage.py` commands run against that setup and exit 0.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ports import free_port
from tests.standin import StandIn

# A subprocess (`scripts/run`) and a whole journey over HTTP: slow.
pytestmark = [pytest.mark.slow, pytest.mark.standin(image_size=256)]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-newcomer-passphrase-42"
EMAIL = "newcomer@example.com"
GOOD_KEY = "sk-proj-newcomer-good-key-0123456789abcdef"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START_TIMEOUT = 180  # the first start migrates a new SQLite file (~6 s here, more on a busy CI)


class RunScript:
    """`scripts/run` in its own process group, with its terminal output in a file."""

    def __init__(self, workdir: Path, standin: StandIn):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env_file = workdir / ".env"
        self.database = workdir / "db.sqlite3"
        self.media = workdir / "media"
        self.log_path = workdir / "terminal.log"
        # Only what a shell has; nothing of this test run (database, secrets, DEBUG, Stripe).
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # the printed mail reaches the log at once
            "BAMBI_ENV_FILE": str(self.env_file),
            "DATABASE_URL": f"sqlite:///{self.database}",
            "MEDIA_ROOT": str(self.media),
            "BIND": f"127.0.0.1:{self.port}",
            # Outgoing calls may reach the loopback stand-in (the network guard's allow-list).
            "PROVIDER_PRIVATE_HOSTS": f"127.0.0.1:{standin.port}",
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            ["scripts/run"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver's reloader child goes with it
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"scripts/run exited:\n{self.terminal()[-4000:]}")
            try:
                if requests.get(f"{self.url}/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/run did not serve in time:\n{self.terminal()[-4000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        self.log.close()

    def terminal(self) -> str:
        return self.log_path.read_text(errors="replace")

    def manage(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """`.venv/bin/python manage.py ...` as the README writes it, in the same shell."""
        env = {key: value for key, value in self.env.items() if key != "BIND"}
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def run_script(tmp_path, standin) -> Iterator[RunScript]:
    server = RunScript(tmp_path, standin)
    try:
        yield server
    finally:
        server.stop()


class Browser(requests.Session):
    """A requests session that sends Django's CSRF token the way a page's form or script does."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def csrf(self) -> str:
        if "csrftoken" not in self.cookies:
            self.get(f"{self.base}/accounts/login/")
        return self.cookies["csrftoken"]

    def form(self, path: str, data: dict) -> requests.Response:
        return self.post(
            f"{self.base}{path}",
            data={**data, "csrfmiddlewaretoken": self.csrf()},
            allow_redirects=False,
            timeout=60,
        )

    def api(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return self.request(
            method,
            f"{self.base}{path}",
            json=body,
            headers={"X-CSRFToken": self.csrf()},
            timeout=60,
        )

    def page(self, path: str) -> requests.Response:
        return self.get(f"{self.base}{path}", allow_redirects=False, timeout=60)


def _log_in(base: str) -> Browser:
    browser = Browser(base)
    response = browser.form("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.text[-2000:]
    assert response.headers["Location"] == "/dashboard/"
    return browser


def test_scripts_run_serves_the_whole_journey_on_sqlite(run_script, standin):
    run_script.start()
    base = run_script.url

    # First start: the development settings were written, the database is a SQLite file.
    env_values = dict(
        line.split("=", 1)
        for line in run_script.env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env_values["DEBUG"] == "1" and env_values["SECRET_KEY"] and env_values["ENCRYPTION_KEY"]
    assert run_script.database.exists()
    with sqlite3.connect(run_script.database) as db:
        # The operator's way to point the catalogue at another host (the admin edits this row).
        db.execute("UPDATE byok_provider SET api_base_url = ?", (standin.url,))

    # --- sign up, confirm from the mail printed in the terminal ---------------------------------
    visitor = Browser(base)
    assert visitor.page("/").status_code == 200
    signed_up = visitor.form(
        "/accounts/signup/", {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert signed_up.status_code == 302, signed_up.text[-2000:]
    deadline = time.monotonic() + 10
    while not (link := re.search(rf"{base}/accounts/confirm-email/\S+/", run_script.terminal())):
        assert time.monotonic() < deadline, run_script.terminal()[-3000:]
        time.sleep(0.1)
    mail_reader = Browser(base)  # the link opened from the mail client
    assert mail_reader.get(link.group(0), timeout=30).status_code == 200
    confirmed = mail_reader.form(link.group(0).removeprefix(base), {})
    assert confirmed.status_code == 302

    # --- log in, add a key (checked against the stand-in) ---------------------------------------
    user = _log_in(base)
    dashboard = user.page("/dashboard/")
    assert dashboard.status_code == 200 and "0 / 50" in dashboard.text
    providers = {p["slug"]: p for p in user.api("GET", "/api/providers/").json()["data"]}
    added = user.form(
        "/dashboard/keys/",
        {"name": "Personal", "provider": providers["openai"]["id"], "api_key": GOOD_KEY},
    )
    assert added.status_code == 302, added.text[-2000:]
    (key,) = user.api("GET", "/api/api-configurations/").json()["data"]
    assert key["is_valid"] is True and GOOD_KEY not in user.page("/dashboard/keys/").text
    model = next(m for m in providers["openai"]["models"] if m["model_id"] == "gpt-image-1-mini")

    # --- generate through the JSON API and through the form -----------------------------------
    body = {
        "configId": key["id"],
        "prompt": "A watercolour fawn in a snowy forest",
        "parameters": {"modelId": model["id"], "count": 1, "size": "1024x1024"},
    }
    created = user.api("POST", "/api/generations/", body)
    assert created.status_code == 201, created.text
    generation = created.json()["data"]
    assert generation["status"] == "completed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|\+00:00)", generation["created_at"])
    formed = user.form(
        "/dashboard/generate/",
        {"configuration": key["id"], "model": model["id"], "prompt": "A fawn, by the form"},
    )
    assert formed.status_code == 302, formed.text[-2000:]
    assert re.fullmatch(r"/dashboard/generations/[0-9a-f-]+/", formed.headers["Location"])
    assert user.page(formed.headers["Location"]).status_code == 200
    assert standin.count("openai.generate") == 2

    # --- the provider's refusals and failures: the statuses PostgreSQL answers, nothing counted
    for prompt, status in [
        ("REFUSE to draw this", 422),
        ("RATELIMIT please", 429),
        ("NOCREDIT please", 429),
        ("UPSTREAM500 please", 502),
    ]:
        failed = user.api("POST", "/api/generations/", {**body, "prompt": prompt})
        assert failed.status_code == status, (prompt, failed.text)
        assert failed.headers["Content-Type"] == "application/json"
        assert failed.json()["error"]
        assert not failed.json()["error"].startswith("Something went wrong")
    usage = user.api("GET", "/api/usage/").json()["data"]
    assert (usage["plan"], usage["usage_count"], usage["usage_limit"]) == ("free", 2, 50)
    failed_form = user.form(
        "/dashboard/generate/",
        {"configuration": key["id"], "model": model["id"], "prompt": "REFUSE by the form"},
    )
    assert failed_form.status_code == 422
    assert "The provider refused to make this image" in failed_form.text

    # --- the gallery, the thumbnail, the download ---------------------------------------------
    gallery = user.page("/dashboard/gallery/")
    assert gallery.status_code == 200 and "A watercolour fawn in a snowy forest" in gallery.text
    (image,) = generation["images"]
    thumbnail = user.page(image["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/webp"
    download = user.page(image["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.content.startswith(PNG_SIGNATURE) and len(download.content) == image["bytes"]
    assert Browser(base).page(image["url"]).status_code == 302  # not public: to the login page

    # --- delete it ------------------------------------------------------------------------------
    deleted = user.form("/dashboard/gallery/delete/", {"ids": generation["id"]})
    assert deleted.status_code == 302
    assert user.api("GET", f"/api/generations/{generation['id']}/").status_code == 404
    assert user.page(image["url"]).status_code == 404
    assert not list(run_script.media.rglob(f"*{generation['id']}*"))
    assert "A watercolour fawn in a snowy forest" not in user.page("/dashboard/gallery/").text

    # --- billing without Stripe secrets says so ----------------------------------------------
    billing = user.page("/dashboard/billing/")
    assert billing.status_code == 200 and "not configured" in billing.text

    # --- restart: same settings file, the session and the stored key still work -----------------
    written = run_script.env_file.read_text()
    run_script.stop()
    run_script.start()
    assert run_script.env_file.read_text() == written
    again = user.api("POST", "/api/generations/", {**body, "prompt": "After a restart"})
    assert again.status_code == 201, again.text
    assert user.api("GET", "/api/usage/").json()["data"]["usage_count"] == 3

    # --- the README's manage.py commands, with what scripts/run wrote -------------------------
    superuser = run_script.manage(
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_EMAIL="operator@example.com",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    assert superuser.returncode == 0, superuser.stderr
    operator = Browser(base)
    logged = operator.form(
        "/admin/login/?next=/admin/", {"username": "operator@example.com", "password": PASSWORD}
    )
    assert logged.status_code == 302 and logged.headers["Location"] == "/admin/"
    assert operator.page("/admin/").status_code == 200
    for command in (
        ["check"],
        ["reset_usage"],
        ["purge_generations", "--older-than", "30"],
        ["rotate_encryption_key"],
    ):
        result = run_script.manage(*command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert "Traceback" not in run_script.terminal()
