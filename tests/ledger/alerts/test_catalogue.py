"""The alert registries cannot drift. A rule is one check with its catalogue entry attached
(`@rule`, ledger.alerts.entry); the catalogue, the scan's CHECKS and the settings are collected
from those entries. What collecting cannot guarantee, this file checks: every rule is checked
by the scan or at posting, reads exactly the settings it declares, emits findings of its own
id only, is planted in the demo or says why not, has its line in docs/alerts.md and a test;
no two rules share an id; and nothing outside the catalogue raises findings of its own."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import shutil
import textwrap
import tomllib
import types
from dataclasses import fields
from functools import cache
from pathlib import Path

import pytest

import ledger.alerts
from ledger.alerts.catalogue import ENTRIES, RULE_MODULES, SETTINGS, collect, entries_of
from ledger.alerts.entry import Setting, posting_rule, rule
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings, from_mapping
from ledger.screening import at_posting

ROOT = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent
# Test files that name every rule without testing one.
NOT_SCENARIOS = {"test_catalogue.py", "test_eval.py"}


# ----------------------------------------------------------------------------- reading code

@cache
def _tree(fn) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _callees(fn):
    """First-party functions of ledger.alerts and ledger.screening that `fn` calls by name."""
    for node in ast.walk(_tree(fn)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = fn.__globals__.get(node.func.id)
            if inspect.isfunction(target) and target.__module__.startswith(
                    ("ledger.alerts.", "ledger.screening.")):
                yield target


def _reached(fn, *, into_checks: bool) -> set:
    """`fn` and the helpers it calls, transitively; into other rules' checks or not (a rule may
    reuse another's findings: BEN-08 FAV-01's)."""
    seen, todo = set(), [fn]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo += [g for g in _callees(f) if into_checks or getattr(g, "entry", None) is None]
    return seen


def _findings_made(fn) -> set[str]:
    """Rule ids of the Finding(...) calls written in `fn` itself."""
    return {node.args[0].value for node in ast.walk(_tree(fn))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "Finding" and node.args
            and isinstance(node.args[0], ast.Constant)}


def _settings_read(fn) -> set[str]:
    """Attributes read from the settings in `fn`: `ctx.settings.x`, or `cfg.x` where `cfg` is
    bound to `ctx.settings` (or a parameter named cfg, as helpers receive it)."""
    tree = _tree(fn)
    aliases = {"cfg"}

    def is_settings(node):
        return isinstance(node, ast.Attribute) and node.attr == "settings"
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = zip(target.elts, node.value.elts) \
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) \
                    else [(target, node.value)]
                aliases |= {t.id for t, v in pairs if isinstance(t, ast.Name) and is_settings(v)}
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and (is_settings(node.value)
                 or isinstance(node.value, ast.Name) and node.value.id in aliases)}


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory, sqlite_template):
    """The ground-truth manifest of a small demo province: which rules it plants."""
    from ledger.core.config import DEMO_LOG_ORIGIN
    from ledger.core.pii import PiiVault, new_key
    from ledger.demo.province import build_demo
    from ledger.store.context import LedgerContext
    from ledger.store.db import make_engine, make_sessionmaker
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        summary = build_demo(make_sessionmaker(engine, LedgerContext(DEMO_LOG_ORIGIN)), seed=5,
                             households=30, vault=PiiVault([new_key()], "k" * 32))
    finally:
        engine.dispose()
    return summary.manifest["cases"]


def _planted(cases) -> set[str]:
    return {r for c in cases if c["expect"] == "alert" for r in c["rules"]}


# ----------------------------------------------------------------------------- the registries

def _declare(rule_id, settings=()):
    """A check with its entry, as if written in a module named `fake`."""
    @rule(rule_id, "甲", "A", severity="low", method="statistical", why="w", basis="b",
          next_action="n", settings=settings)
    def check(ctx):
        return []
    check.__module__ = "fake"
    return check


def test_no_two_rules_share_an_id():
    ids = [e.id for module in RULE_MODULES for e in entries_of(module)]
    assert len(ids) == len(set(ids)) == len(ENTRIES)
    fake = types.ModuleType("fake")
    fake.first, fake.second = _declare("XXX-01"), _declare("XXX-01")
    with pytest.raises(ValueError, match="XXX-01: the rule id is used twice"):
        collect([fake])


def test_every_rule_is_checked_by_the_scan_or_at_posting():
    for rule_id, entry in ENTRIES.items():
        assert entry.check is not None or entry.at_posting, rule_id
        if entry.check is not None:
            assert CHECKS[rule_id] is entry.check and entry.check.entry is entry
        for place in entry.at_posting:  # the posting path's check names the rule it checks
            assert place.__module__.startswith("ledger.screening."), (rule_id, place)
            assert re.search(rf"\b{rule_id}\b", inspect.getsource(place)), \
                (rule_id, place.__name__)
    assert set(CHECKS) == {i for i, e in ENTRIES.items() if e.check is not None}
    assert {i for i, e in ENTRIES.items() if e.at_posting} >= {"BEN-01", "BLK-01"}

    # A rule checked only at posting is an entry of its own, collected like a check.
    fake = types.ModuleType("fake")
    fake.XXX_02 = posting_rule("XXX-02", "甲", "A", severity="low", method="recorded",
                               why="w", basis="b", next_action="n",
                               at_posting=(at_posting.check_transfer,))
    entries, _ = collect([fake])
    assert entries["XXX-02"].check is None and entries["XXX-02"].settings == ()
    with pytest.raises(ValueError, match="names where"):
        posting_rule("XXX-02", "甲", "A", severity="low", method="recorded", why="w",
                     basis="b", next_action="n", at_posting=())


def test_every_rule_module_is_collected():
    """A module holding checks that the catalogue does not read would be a rule that never
    runs: every module of ledger.alerts with entries is in RULE_MODULES."""
    for info in pkgutil.iter_modules(ledger.alerts.__path__, "ledger.alerts."):
        module = importlib.import_module(info.name)
        if entries_of(module):
            assert module in RULE_MODULES, info.name


def test_every_check_raises_findings_of_its_own_rule_only():
    for rule_id, entry in ENTRIES.items():
        if entry.check is not None:
            made = set().union(*map(_findings_made, _reached(entry.check, into_checks=False)))
            assert made == {rule_id}, (rule_id, made)


def test_nothing_else_raises_findings():
    """Every Finding(...) written in ledger/ is raised by a rule's check (or a helper of it) or
    by a check at posting its entry names: no finding of a rule the catalogue does not know."""
    owners: dict = {}
    for rule_id, entry in ENTRIES.items():
        for start in ([entry.check] if entry.check else []) + list(entry.at_posting):
            for fn in _reached(start, into_checks=False):
                owners.setdefault(fn, set()).add(rule_id)
    sites = 0
    for path in sorted((ROOT / "ledger").rglob("*.py")):
        if "Finding(" not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(ROOT).with_suffix("").parts))
        for fn in vars(module).values():
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            for rule_id in _findings_made(fn):
                sites += 1
                assert rule_id in owners.get(fn, set()), f"{module.__name__}.{fn.__name__} " \
                    f"raises {rule_id} but no catalogue entry checks there"
    assert sites >= len(CHECKS)


def test_every_check_reads_exactly_the_settings_it_declares():
    for rule_id, entry in ENTRIES.items():
        if entry.check is None:
            continue
        read = set().union(*map(_settings_read, _reached(entry.check, into_checks=True)))
        declared = {s.name for s in entry.settings}
        assert read <= set(SETTINGS), f"{rule_id} reads undeclared {read - set(SETTINGS)}"
        assert read == declared, f"{rule_id}: reads {sorted(read)}, declares {sorted(declared)}"


def test_alert_settings_are_made_of_the_declared_settings():
    assert [f.name for f in fields(AlertSettings)] == list(SETTINGS)
    defaults = AlertSettings()
    for name, setting in SETTINGS.items():
        assert isinstance(setting, Setting) and setting.basis.strip(), name
        assert getattr(defaults, name) == setting.default
    assert from_mapping({}) == defaults
    # the example settings file offers only settings that exist
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert from_mapping(example.get("alerts", {}), "config.example.toml")


def test_a_setting_is_declared_once_however_many_rules_read_it():
    one, other = (Setting("xxx_days", 3, "b") for _ in range(2))
    fake = types.ModuleType("fake")
    fake.first, fake.second = _declare("XXX-03", (one,)), _declare("XXX-04", (one,))
    entries, settings = collect([fake])
    assert list(entries) == ["XXX-03", "XXX-04"] and list(settings) == ["xxx_days"]
    fake.second = _declare("XXX-04", (other,))
    with pytest.raises(ValueError, match="setting xxx_days is declared twice"):
        collect([fake])


# ----------------------------------------------------------------------------- outside the code

def test_every_rule_is_planted_in_the_demo_or_says_why_not(demo_cases):
    planted, named = _planted(demo_cases), {r for c in demo_cases for r in c["rules"]}
    assert named <= set(ENTRIES), f"the manifest names unknown rules {named - set(ENTRIES)}"
    for rule_id, entry in ENTRIES.items():
        if entry.not_planted:
            assert rule_id not in planted, f"{rule_id} is planted now: drop its not_planted"
        else:
            assert rule_id in planted, f"{rule_id}: plant it (ledger/demo) or say not_planted"


def test_every_rule_has_its_line_in_the_docs():
    text = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    table = text.split("\n## Rules\n", 1)[1].split("\n#", 1)[0]
    listed = [m.group(1) for m in re.finditer(r"^\| ([A-Z]+(?:-\d+|\d+))\b", table, re.M)]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(ENTRIES)


def test_every_rule_has_a_scenario_test_or_is_scored_on_the_demo(demo_cases):
    """A rule is tested by a fixture of its own (a test file here naming it) or, planted in the
    demo, by test_eval.py's precision and recall on its planted cases and look-alikes."""
    planted = _planted(demo_cases)
    named = "\n".join(p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("test_*.py"))
                      if p.name not in NOT_SCENARIOS)
    untested = [r for r in ENTRIES if f'"{r}"' not in named and r not in planted]
    assert untested == []

