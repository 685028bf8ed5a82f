"""Recorded provider bodies (tests/fixtures/providers) shared by the adapter tests."""

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "providers"


def fixture(name: str, **values: str) -> dict:
    """A recorded body; `__NAME__` placeholders take real values (image base64, URLs)."""
    text = (FIXTURES / name).read_text()
    for placeholder, value in values.items():
        text = text.replace(f"__{placeholder.upper()}__", value)
    return json.loads(text)
