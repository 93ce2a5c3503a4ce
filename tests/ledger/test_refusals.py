"""Refusals are values: every raise in the services names a catalogued code with its parameters.

The scan reads the source of every module of `ledger/` (the command line and the demo aside:
they report refusals, they do not decide them) and resolves each call `X(...)` to what it
names, function-local imports included; for a `LedgerError` made there (raised, or returned to
be raised, as `store.db.storage_error` does) it finds the code (the `code=` keyword, a class's
`codes` table keyed by the first argument, or the class's own code) and checks that the code is
in `ledger.core.refusals.CATALOGUE` and that the keywords are exactly that entry's parameters
(optional ones aside). A refusal passed on from one caught (`code=exc.code, **exc.params`)
keeps its own. Import problems (`Problem(...)`) are held to the same rule.

The behaviour of the main refusals, through the real services, is in test_refusals_services.py.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
from functools import cache
from pathlib import Path

import pytest

from ledger.core import refusals
from ledger.core.errors import LedgerError
from ledger.core.refusals import BY_CODE, CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = ("ledger/cli/", "ledger/demo/")

# Modules other work owns, whose raises do not pass codes yet; each names the codes the
# catalogue already holds for it. An entry must go once its module passes: the test below
# fails while a listed module has nothing left to fix.
PENDING: dict[str, str] = {}
# Catalogued codes no scanned module raises yet (the pending modules' codes, and the
# catch-all a pending module still produces).
AWAITED = {"refused"}


def _modules() -> list[Path]:
    return sorted(p for p in (ROOT / "ledger").rglob("*.py")
                  if not str(p.relative_to(ROOT)).startswith(SKIPPED))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(tree) -> dict[str, tuple[str, str]]:
    """name → (module, attribute) for every `from M import A as name` in the file, at any
    depth (a function-local import names a class the module's namespace does not hold)."""
    return {alias.asname or alias.name: (node.module, alias.name)
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names}


def _resolve(module, imports, node):
    """The object a call's function names, looked up as the module would find it."""
    if isinstance(node, ast.Name):
        found = getattr(module, node.id, None)
        if found is None and node.id in imports:
            source, attr = imports[node.id]
            found = getattr(importlib.import_module(source), attr, None)
        return found
    if isinstance(node, ast.Attribute):
        owner = _resolve(module, imports, node.value)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _passes_through(call: ast.Call, code: ast.expr) -> bool:
    """`code=exc.code, **exc.params`: a caught refusal passed on with its own code."""
    if not (isinstance(code, ast.Attribute) and code.attr == "code"):
        return False
    source = ast.dump(code.value)
    return any(k.arg is None and isinstance(k.value, ast.Attribute) and k.value.attr == "params"
               and ast.dump(k.value.value) == source for k in call.keywords)


def _check_params(code: str, given: set[str], where: str) -> list[str]:
    entry = BY_CODE[code]
    missing = set(entry.params) - given
    unknown = given - set(entry.params) - set(entry.optional)
    out = []
    if missing:
        out.append(f"{where}: {code} lacks {sorted(missing)}")
    if unknown:
        out.append(f"{where}: {code} does not take {sorted(unknown)}")
    return out


@cache
def scan() -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """(problems, files with problems, codes raised)."""
    problems, files, raised = [], set(), set()
    for path in _modules():
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = importlib.import_module(_module_name(path))
        imports = _imports(tree)
        found = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "Problem" \
                    and rel.startswith("ledger/imports/"):
                found += _check_problem(node, f"{rel}:{node.lineno}", raised)
            else:
                found += _check_refusal(module, imports, node, f"{rel}:{node.lineno}", raised)
        if found:
            files.add(rel)
            problems += found
    return tuple(problems), tuple(sorted(files)), frozenset(raised)


def _check_refusal(module, imports, call: ast.Call, where: str, raised: set) -> list[str]:
    cls = _resolve(module, imports, call.func)
    if not (isinstance(cls, type) and issubclass(cls, LedgerError)):
        return []
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    code_node = keywords.pop("code", None)
    if code_node is not None:
        if _passes_through(call, code_node):
            return []
        if not (isinstance(code_node, ast.Constant) and isinstance(code_node.value, str)):
            return [f"{where}: code= is not a literal (or a caught refusal's own)"]
        code = code_node.value
    elif isinstance(getattr(cls, "codes", None), dict):
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and first.value in cls.codes):
            return [f"{where}: {cls.__name__} needs one of {sorted(cls.codes)} first"]
        code = cls.codes[first.value]
    else:
        code = cls.code
        if code == "refused":
            return [f"{where}: {cls.__name__} raised without code="]
    if code not in BY_CODE:
        return [f"{where}: code {code!r} is not in the catalogue"]
    raised.add(code)
    builds_own = not any(p.kind is p.VAR_KEYWORD
                         for p in inspect.signature(cls.__init__).parameters.values())
    if builds_own:   # e.g. ImportProblems: its __init__ makes the parameters from its argument
        return []
    return _check_params(code, set(keywords), where)


def _check_problem(call: ast.Call, where: str, raised: set) -> list[str]:
    args = list(call.args)
    keywords = {k.arg: k.value for k in call.keywords}
    code_node = args[4] if len(args) > 4 else keywords.get("code")
    params_node = args[5] if len(args) > 5 else keywords.get("params")
    if code_node is None:
        return [f"{where}: a Problem without its code"]
    if isinstance(code_node, ast.Attribute) and code_node.attr == "code" and \
            isinstance(params_node, ast.Attribute) and params_node.attr == "params":
        return []   # a caught refusal's own code and parameters
    if not isinstance(code_node, ast.Constant) or code_node.value not in BY_CODE:
        return [f"{where}: Problem code {ast.unparse(code_node)} is not in the catalogue"]
    raised.add(code_node.value)
    if params_node is None:
        given = set()
    elif isinstance(params_node, ast.Dict) and all(isinstance(k, ast.Constant)
                                                    for k in params_node.keys):
        given = {k.value for k in params_node.keys}
    else:
        return [f"{where}: Problem parameters are not a literal dict"]
    return _check_params(code_node.value, given, where)


def test_every_raise_in_the_services_names_a_catalogued_code_with_its_parameters():
    problems, _, _ = scan()
    outstanding = [p for p in problems if p.split(":")[0] not in PENDING]
    assert outstanding == []


def test_pending_modules_are_still_pending():
    _, files, _ = scan()
    assert sorted(PENDING) == sorted(f for f in files if f in PENDING), \
        "a module in PENDING now passes its codes: take it off the list"


def test_every_catalogued_code_is_raised_somewhere():
    _, _, raised = scan()
    assert sorted(set(BY_CODE) - raised - AWAITED) == []
    assert sorted(AWAITED & raised) == [], "an awaited code is raised now: take it off AWAITED"


def test_the_catalogue_lists_each_code_once_with_templates_naming_only_its_parameters():
    codes = [r.code for r in CATALOGUE]
    assert len(codes) == len(set(codes))
    for r in CATALOGUE:
        assert refusals.template_names(r.template) <= set(r.params) | set(r.optional), r.code
        assert not set(r.params) & set(r.optional), r.code
        assert r.meaning and "|" not in r.meaning and "\n" not in r.meaning, r.code
        assert r.code == r.code.lower() and " " not in r.code


def test_money_in_parameters_is_named_in_fen():
    money = ("amount", "principal", "available", "balance", "owed", "idle", "total", "yuan")
    for r in CATALOGUE:
        for name in r.params + r.optional:
            if name.split("_")[0] in money:
                assert name.endswith("_fen"), f"{r.code}: {name}"


def test_class_defaults_are_catalogued():
    from ledger.core import errors
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, LedgerError) and cls.code != "refused" \
                and cls.code not in ("invariant", "purpose"):
            # invariant and purpose name families: every raise of those classes says which rule
            assert cls.code in BY_CODE, cls.__name__


def test_render_fills_the_template_from_the_parameters():
    text = refusals.render("overdraft", {"account_kind": "unit", "holder": "430121",
                                         "lot": 1, "available_fen": 100, "requested_fen": 250},
                           locale="en")
    assert text == ("the unit account of 430121 in lot 1 has 1.00 yuan available; cannot pay "
                    "out 2.50 yuan")
    assert refusals.render("use_outside_lot", {"lot": 1, "use": "x", "allowed": ["a", "b"]},
                           {"use_outside_lot": "用途 {use} 不在批次 {lot} 的范围（{allowed}）内"}) \
        == "用途 x 不在批次 1 的范围（a, b）内"


def test_params_are_plain_values():
    import datetime as dt

    from ledger.models import Role
    exc = LedgerError("x", code="required", field=Role.CLERK, day=dt.date(2024, 3, 1),
                      lots={3, 1}, pair=(1, 2), nested={"a": [dt.date(2024, 1, 2)]})
    assert exc.params == {"field": "clerk", "day": "2024-03-01", "lots": [1, 3],
                          "pair": [1, 2], "nested": {"a": ["2024-01-02"]}}
    json.dumps(exc.params)


def test_docs_show_the_catalogue_as_generated():
    docs = (ROOT / "docs" / "ledger.md").read_text(encoding="utf-8")
    assert refusals.markdown_table() in docs, \
        "docs/ledger.md, Refusals: paste `python -m ledger.core.refusals`"


@pytest.mark.parametrize("path", ["ledger/core/errors.py", "ledger/core/refusals.py"])
def test_the_catalogue_stays_in_the_core(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
               {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    # the core and the language catalogs only (ledger.i18n ranks below the core)
    assert not {m for m in imported if m and m.startswith("ledger") and
                not m.startswith(("ledger.core", "ledger.i18n"))}
