"""The direction of dependencies is checked, not hoped for (DESIGN.md, layers)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{p.relative_to(ROOT)} imports {sorted(_imports(p) & forbidden)}"
            for p in sorted((ROOT / package).rglob("*.py")) if _imports(p) & forbidden]


def test_ledger_imports_neither_web_nor_reports():
    assert _offenders("ledger", {"web", "reports"}) == []


def test_reports_do_not_import_web():
    assert _offenders("reports", {"web"}) == []


def test_migrations_import_only_ledger():
    assert _offenders("migrations", {"web", "reports"}) == []


def test_the_check_itself_sees_imports(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import web.app\nfrom reports import notices\n", encoding="utf-8")
    assert _imports(sample) == {"web", "reports"}
