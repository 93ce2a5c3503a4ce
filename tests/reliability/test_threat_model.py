"""docs/threat-model.md names a test for every claim; each named test must exist."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _references(text: str) -> list[tuple[str, str]]:
    """(file, test) pairs; `::name` alone means the file named last on that line."""
    found = []
    for line in text.splitlines():
        current = None
        for match in re.finditer(r"(tests/[\w/]+\.py)?::(\w+)", line):
            current = match.group(1) or current
            assert current, f"a test named without its file: {line[:80]}"
            found.append((current, match.group(2)))
    return found


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_the_threat_model_names_exists():
    references = _references((ROOT / "docs/threat-model.md").read_text(encoding="utf-8"))
    assert len(references) >= 50
    missing = [f"{f}::{t}" for f, t in references
               if not (ROOT / f).exists() or t not in _tests_in(ROOT / f)]
    assert not missing, missing
