"""Measured detection quality (`fundtrail alerts eval`): build a fresh demo province with
planted misuse and its ground-truth manifest, scan it, and score every rule.

Per rule: planted cases, true positives (a planted case whose rule fired on its entity), false
positives (alerts on anything not planted, hard negatives included), precision, recall,
amount-weighted recall and alerts per 1,000 postings. Expected-dismissal cases (an eligible
relative of an official) are scored apart: they should fire, and do not count either way.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from ledger.alerts.base import ScanContext
from ledger.alerts.catalogue import RULES
from ledger.alerts.rules import run_rules
from ledger.alerts.settings import AlertSettings

TARGETS = {"deterministic": (1.0, 1.0), "fuzzy": (0.9, 0.95)}  # (precision, recall)


def evaluate(*, seed: int, households: int, factory=None, settings=None) -> dict:
    """Build the demo into `factory` (default: a temporary SQLite file) and score it."""
    from ledger.demo.province import build_demo
    from ledger.core.pii import PiiVault, new_key
    vault = PiiVault([new_key()], "eval-index-key-" + "k" * 32)
    with tempfile.TemporaryDirectory() as tmp:
        if factory is None:
            from ledger.store import migrate
            from ledger.store.db import make_engine, make_sessionmaker
            from ledger.core.config import DEMO_LOG_ORIGIN
            from ledger.store.context import LedgerContext
            engine = make_engine(f"sqlite:///{Path(tmp) / 'eval.db'}")
            migrate.upgrade(engine)
            factory = make_sessionmaker(engine, LedgerContext(DEMO_LOG_ORIGIN))
        summary = build_demo(factory, seed=seed, households=households, vault=vault)
        manifest = summary.manifest
        as_of = dt.date.fromisoformat(manifest["as_of"])
        with factory() as s:
            findings = run_rules(ScanContext(s, settings or AlertSettings(), as_of, vault))
            postings = _postings(s)
    return score(manifest, findings, postings) | {"seed": seed, "households": households}


def _postings(s) -> int:
    from ledger.models import Posting
    return s.execute(select(func.count()).select_from(Posting)).scalar_one()


def score(manifest: dict, findings, postings: int) -> dict:
    fired = defaultdict(set)
    for f in findings:
        fired[f.rule_id].add(f"{f.entity_kind}:{f.entity_key}")
    planted, negatives, dismiss = defaultdict(list), defaultdict(set), defaultdict(set)
    for case in manifest["cases"]:
        for rule in case["rules"]:
            if case["expect"] == "alert":
                planted[rule].append(case)
            elif case["expect"] == "no_alert":
                negatives[rule].add(case["entity"])
            else:
                dismiss[rule].add(case["entity"])
    rows = {}
    for rule_id, rule in RULES.items():
        cases = planted[rule_id]
        wanted = {c["entity"] for c in cases}
        got = fired[rule_id]
        tp = len(wanted & got)
        fp_entities = got - wanted - dismiss[rule_id]
        amount = sum(c["amount_fen"] for c in cases)
        found = sum(c["amount_fen"] for c in cases if c["entity"] in got)
        rows[rule_id] = {
            "method": rule.method, "planted": len(cases), "true_positives": tp,
            "false_positives": len(fp_entities),
            "hard_negatives": len(negatives[rule_id]),
            "hard_negatives_fired": len(negatives[rule_id] & got),
            "expected_dismissals": len(dismiss[rule_id]),
            "expected_dismissals_fired": len(dismiss[rule_id] & got),
            "precision": _ratio(tp, tp + len(fp_entities)),
            "recall": _ratio(tp, len(cases)),
            "amount_recall": _ratio(found, amount),
            "alerts_per_1000_postings": _ratio(len(got) * 1000, postings),
            "missed": sorted(wanted - got)[:5], "unexpected": sorted(fp_entities)[:5],
            "by_difficulty": _by_difficulty(cases, got)}
        rows[rule_id]["meets_target"] = _meets(rows[rule_id])
    return {"postings": postings, "rules": rows}


def _ratio(a, b):
    return None if not b else round(a / b, 4)


def _by_difficulty(cases, got) -> dict:
    out = defaultdict(lambda: [0, 0])
    for c in cases:
        out[c["difficulty"]][1] += 1
        out[c["difficulty"]][0] += c["entity"] in got
    return {k: f"{a}/{b}" for k, (a, b) in out.items()}


def _meets(row) -> bool | None:
    target = TARGETS.get(row["method"])
    if target is None or not row["planted"]:
        return None
    return (row["precision"] or 0) >= target[0] and (row["recall"] or 0) >= target[1]


def render(report: dict) -> str:
    head = (f"seed {report['seed']}, {report['households']} households, {report['postings']} "
            "postings\nrule    method         planted  TP  FP  precision recall amount-recall "
            "per-1000  hard-neg(fired)  dismiss(fired)  target")
    lines = [head]
    for rid, r in report["rules"].items():
        target = "" if r["meets_target"] is None else ("ok" if r["meets_target"] else "MISS")
        lines.append(
            f"{rid:<7} {r['method']:<14} {r['planted']:>6} {r['true_positives']:>3} "
            f"{r['false_positives']:>3}  {_num(r['precision'])}   {_num(r['recall'])} "
            f"{_num(r['amount_recall'])}      {_num(r['alerts_per_1000_postings'])}  "
            f"{r['hard_negatives']:>4}({r['hard_negatives_fired']})          "
            f"{r['expected_dismissals']:>3}({r['expected_dismissals_fired']})       {target}")
    return "\n".join(lines)


def _num(x) -> str:
    return "   -  " if x is None else f"{x:6.3f}"
