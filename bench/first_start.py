"""How long a person who just cloned the repo waits for `scripts/run` to serve the first page.

    .venv/bin/python bench/first_start.py

Clones this checkout's HEAD into a temporary directory and runs `scripts/run` there exactly as
the README says (SQLite file, DEBUG=1, `.env` written on first start), on a free port. Reported,
for a first start (no `.venv`: packages installed from pip's cache, which a fresh machine
fills from the registry first) and a second start (everything in place): the time to each of
the script's milestones and until the login page answers 200. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import ROOT, machine  # noqa: E402
from bench._pg import free_port  # noqa: E402

MILESTONES = {  # a line scripts/run prints -> what has happened when it appears
    "Installing Python packages": "venv made",
    "Operations to perform": "packages installed",
    "Bambi is starting": "database migrated",
}


def start(checkout: Path, timeout: float = 900) -> dict[str, float]:
    """Run scripts/run in `checkout` until the login page answers; seconds to each milestone."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BAMBI_", "DJANGO_", "DATABASE"))
    }
    env.update(BIND=f"127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", "scripts/run"],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: dict[str, float] = {}
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            for needle, name in MILESTONES.items():
                if needle in line and name not in seen:
                    seen[name] = time.monotonic() - started

    threading.Thread(target=read, daemon=True).start()
    try:
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise SystemExit("scripts/run exited:\n" + "".join(lines[-30:]))
            try:
                r = requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
                if r.status_code == 200:
                    seen["login page answers 200"] = time.monotonic() - started
                    return seen
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SystemExit("scripts/run did not serve the login page in time")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bambi-first-start."))
    checkout = workdir / "bambi"
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True)
        # The README's set-up reads ../shared only for tests; scripts/run needs nothing else.
        print(f"Machine: {machine()}")
        for label in ("first start (fresh clone, no .venv)", "second start"):
            figures = start(checkout)
            shown = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in figures.items())
            print(f"{label:38} {shown}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
