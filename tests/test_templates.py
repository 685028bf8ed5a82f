"""Templates link with {% url %}: no hard-coded path of Bambi's own in href, action or src
(a moved page must not leave a dead link behind)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARD_CODED = re.compile(r"""\b(?:href|action|src)=["']/(?!/)""")


def test_no_template_hard_codes_a_url_of_ours():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for match in HARD_CODED.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert found == []
