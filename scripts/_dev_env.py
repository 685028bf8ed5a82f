"""Write the development settings scripts/run needs into an env file (default `.env`).

Adds DEBUG=1 and freshly generated SECRET_KEY and ENCRYPTION_KEY when the file lacks them, and
never changes a value that is there (yours, or one a former start wrote): restarting keeps
sessions valid and stored keys readable. bambi/settings.py reads the file, so every
`manage.py` command gets the same values. Development only: production sets its environment.

    python scripts/_dev_env.py [PATH]
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

HEADER = "# Development settings written by scripts/run (never used in production; see README)."


def wanted() -> dict[str, str]:
    return {
        "DEBUG": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


def ensure(path: Path) -> list[str]:
    """Append the missing settings to `path`; returns the names written."""
    text = path.read_text() if path.exists() else ""
    present = set(re.findall(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=", text, re.MULTILINE))
    missing = {name: value for name, value in wanted().items() if name not in present}
    if not missing:
        return []
    lines = [] if text.strip() else [HEADER]
    lines += [f"{name}={value}" for name, value in missing.items()]
    with path.open("a") as handle:
        if text and not text.endswith("\n"):
            handle.write("\n")
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)  # it holds secrets
    return list(missing)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    written = ensure(target)
    if written:
        print(f"Wrote {', '.join(written)} to {target} (development values, kept for next time).")
