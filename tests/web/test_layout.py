"""The web app's layout: one blueprint per area, each under a URL prefix of its own, and views
that share helpers through shared web modules, never through each other.

Regression: the roll pages imported `_held_in_scope` and `_lot_choices` from the staff pages,
and two blueprints (staff, rolls) were both on /staff, so a URL did not say which module
served it.
"""
from __future__ import annotations

import ast
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[2] / "web" / "views"


def test_no_view_imports_another_view():
    offenders = []
    for path in sorted(VIEWS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names] \
                if isinstance(node, ast.ImportFrom) and node.module else []
            offenders += [f"{path.name}:{node.lineno} imports {name}" for name in names
                          if name.startswith("web.views.")]
    assert offenders == []


def test_each_area_has_a_blueprint_with_a_prefix_of_its_own(bare_app):
    app = bare_app
    prefixes = {name: bp.url_prefix for name, bp in app.blueprints.items()}
    taken = [p for p in prefixes.values() if p is not None]
    assert len(taken) == len(set(taken)), prefixes
    misplaced = []
    for rule in app.url_map.iter_rules():
        area = rule.endpoint.partition(".")[0]
        if area not in prefixes:
            continue  # Flask's own static route
        # The longest prefix a URL starts with names the blueprint that serves it.
        longest = max((p for p in taken if rule.rule == p or rule.rule.startswith(p + "/")),
                      key=len, default=None)
        if longest != prefixes[area]:
            misplaced.append(f"{rule.rule} ({rule.endpoint}) lies under {longest}")
    assert misplaced == []
