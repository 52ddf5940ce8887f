"""docs/RELIABILITY.md counts a row only if it names a test: every test it names must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_the_fault_matrix_names_exists() -> None:
    doc = (ROOT / "docs" / "RELIABILITY.md").read_text()
    named = re.findall(r"`([a-z0-9_/]+\.py)::([A-Za-z0-9_]+)`", doc)
    assert len(named) > 50
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / "tests" / path).exists()
        or not re.search(rf"def {name}\(", (ROOT / "tests" / path).read_text())
    ]
    assert missing == []
