"""Issue 20: an alert's 发现 (observed) and 阈值 (threshold) read in the reader's language.

The rules keep computing their English observed and threshold — the finding's content hash
covers them, and changing them would reopen dismissed alerts — and add a Chinese template with
its parameters (`observed_shown`, `threshold_shown`), which each scan stores apart
(alert_observed_shown) without an event."""
from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from ledger.alerts.labels import render_shown
from ledger.i18n import placeholders, use
from ledger.models import HouseholdStatus
from ledger.models.alerts import AlertEvent, AlertObservedShown
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn

RULES_DIR = Path(__file__).resolve().parents[3] / "ledger" / "alerts"


def test_every_finding_a_rule_builds_carries_its_chinese_observed_and_threshold():
    """Every `Finding(...)` of every rule module names its shown observed and threshold."""
    missing, calls = [], 0
    for path in sorted(RULES_DIR.glob("rules_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                calls += 1
                given = {k.arg for k in node.keywords}
                if not {"observed_shown", "threshold_shown"} <= given:
                    missing.append(f"{path.name}:{node.lineno} {node.args[0].value}")
    assert calls >= 40 and missing == []


def _check(shown: dict, where: str) -> None:
    assert shown and shown["template"], where
    assert placeholders(shown["template"]) == set(shown["params"]), where
    for value in shown["params"].values():
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, dict) and "template" in part:
                _check(part, where)


@pytest.mark.slow
def test_the_demo_findings_templates_are_filled_by_their_params(factory):
    """On the demo province with its planted misuse (ledger.demo), every finding's templates
    are filled exactly by their parameters and read in both languages."""
    from ledger.alerts.base import ScanContext
    from ledger.alerts.rules import run_rules
    from ledger.alerts.settings import AlertSettings
    from ledger.core.pii import PiiVault, new_key
    from ledger.demo.province import build_demo
    vault = PiiVault([new_key()], "eval-index-key-" + "k" * 32)
    summary = build_demo(factory, seed=5, households=30, vault=vault)
    as_of = dt.date.fromisoformat(summary.manifest["as_of"])
    with factory() as s:
        findings = run_rules(ScanContext(s, AlertSettings(), as_of, vault))
    rules = {f.rule_id for f in findings}
    assert len(rules) >= 20, sorted(rules)
    for f in findings:
        where = f"{f.rule_id} {f.entity_key}"
        _check(f.observed_shown, where)
        _check(f.threshold_shown, where)
        with use("zh"):
            zh = render_shown(f.observed_shown, "")
        with use("en"):
            en = render_shown(f.observed_shown, "")
        assert zh and en and zh != f.observed, where


@pytest.fixture
def town(world):
    town = Town(world)
    town.household("HR", [("钱一", "户主", idn(11), None)], status=HouseholdStatus.REMOVED)
    town.pay("HR", 500_00, dt.date(2024, 6, 3))
    return town


def test_a_rescan_fills_the_shown_observed_without_an_event_or_a_reopening(cli, town):
    auditor = ["--as", "auditor", "alerts"]
    out = json.loads(cli(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06",
                         "--json")[1])
    (alert,) = out["open"]
    aid = alert["id"]
    assert alert["observed"] == "paid 1 time(s) while removed"   # the hashed English, as before
    with transaction(town.world.factory) as s:
        row = s.get(AlertObservedShown, aid)
        assert row.observed_shown["template"] == "该户状态为{status}时收款 {n} 次"
        # an alert scanned before issue 20: no shown observed
        s.execute(delete(AlertObservedShown))
    assert cli(*auditor, "transition", aid, "--to", "dismissed", "--reason",
               "data_error")[0] == 0
    code, out, _ = cli(*auditor, "show", aid)
    assert "paid 1 time(s) while removed" in out   # no template yet: the English
    code, out, _ = cli(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06")
    assert "1 suppressed" in out and "reopened" not in out.replace("0 reopened", "")
    with transaction(town.world.factory) as s:
        kinds = [e.kind.value for e in s.execute(select(AlertEvent).order_by(AlertEvent.id))
                 .scalars()]
        assert s.get(AlertObservedShown, aid).observed_shown["params"]["n"] == 1
    assert kinds == ["raised", "transition"]
    code, out, _ = cli(*auditor, "show", aid)   # now from the template, in the CLI's English
    assert code == 0 and "paid 1 time(s) while removed" in out
    assert "registered, exited, returned or monitored on the payment date" in out
    # a rescan of the open alert: unchanged, and still no event
    assert cli(*auditor, "transition", aid, "--to", "open")[0] == 0
    code, out, _ = cli(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06")
    assert "1 unchanged" in out
    with transaction(town.world.factory) as s:
        assert len(s.execute(select(AlertEvent)).all()) == 3   # raised, dismissed, reopened


@pytest.mark.chinese
def test_alerts_show_reads_chinese(cli, town):
    auditor = ["--as", "auditor", "alerts"]
    aid = json.loads(cli(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06",
                         "--json")[1])["open"][0]["id"]
    code, out, _ = cli(*auditor, "show", aid)
    assert "发现：该户状态为清退时收款 1 次" in out
    assert "阈值：付款日该户为建档立卡、已脱贫、返贫或监测户" in out
    assert "while removed" not in out and "registered, exited" not in out
