"""Score a loaded province: what `fundtrail alerts scan --json` found against what the manifest
planted, rule by rule, by the keys a county knows (household code, payee code, voucher,
project code, roll and household, the lot's document number).

An alert matches a planted case when every key of the case appears in the alert's evidence.
Where the evidence names a transfer or a lot only by the ledger's internal id, the scorer looks
the id up in `fundtrail transfer list --json` (a documented command) and adds the voucher or
document it names; the report counts how often it had to (`evidence_by_internal_id`), since a
county reading the alert would have to do the same.
"""

from __future__ import annotations

import json
from pathlib import Path

from scenarios.loader import Fundtrail

NOT_SCORED_METHODS = {"statistical", "recorded"}


def flatten(value, acc: set[str]) -> None:
    if isinstance(value, dict):
        for v in value.values():
            flatten(v, acc)
    elif isinstance(value, list):
        for v in value:
            flatten(v, acc)
    elif value is not None:
        acc.add(str(value))


def internal_ids(value, acc: dict[str, set[int]], key: str = "") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            internal_ids(v, acc, k)
    elif isinstance(value, list):
        for v in value:
            internal_ids(v, acc, key)
    elif isinstance(value, int) and not isinstance(value, bool):
        if "transfer" in key:
            acc.setdefault("transfer", set()).add(value)
        elif key == "lot_id":
            acc.setdefault("lot", set()).add(value)


def key_found(value: str, strings: set[str]) -> bool:
    if value in strings:
        return True
    return len(value) >= 6 and any(value in s for s in strings)


def matches(case: dict, strings: set[str]) -> bool:
    return all(key_found(str(v), strings) for v in case["keys"].values())


def score(folder: Path, db_url: str | None = None) -> dict:
    work = folder / "work"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scan = json.loads((work / "scan.json").read_text(encoding="utf-8"))
    refused = json.loads((work / "refused.json").read_text(encoding="utf-8"))
    failed = json.loads((work / "failed.json").read_text(encoding="utf-8"))
    plan = json.loads((folder / "steps.json").read_text(encoding="utf-8"))
    ft = Fundtrail(work, db_url or f"sqlite:///{work / 'fundtrail.db'}")
    auditor = f"{plan['province']['code']}_auditor"
    _, out, _ = ft.run("transfer", "list", "--json", who=auditor)
    transfers = {t["id"]: t for t in json.loads(out)}
    lot_doc = {
        t["lot_id"]: t["key"].split(":")[1]
        for t in transfers.values()
        if t["kind"] == "appropriate" and str(t.get("key", "")).startswith("appropriation:")
    }
    _, out, _ = ft.run("alerts", "rules", "--json")
    catalogue = {r["id"]: r for r in json.loads(out)}

    alerts = []
    by_internal = 0
    for a in scan["open"]:
        strings: set[str] = set()
        flatten(a.get("evidence"), strings)
        flatten(a.get("entity"), strings)
        ids: dict[str, set[int]] = {}
        internal_ids(a.get("evidence"), ids)
        added = False
        for tid in ids.get("transfer", ()):
            t = transfers.get(tid)
            if t and t.get("key") and t["key"] not in strings:
                strings.add(t["key"])
                added = True
                if t.get("memo"):
                    strings.add(t["memo"])
        for lid in ids.get("lot", ()):
            if lid in lot_doc and lot_doc[lid] not in strings:
                strings.add(lot_doc[lid])
                added = True
        by_internal += added
        alerts.append(
            {
                "id": a["id"],
                "rule": a["rule_id"],
                "entity": a.get("entity"),
                "strings": strings,
                "observed": a.get("observed"),
                "evidence": a.get("evidence"),
                "internal": added,
            }
        )

    refused_strings = []
    for r in refused:
        s: set[str] = set()
        flatten(r["row"], s)
        refused_strings.append((r, s))

    rules = sorted({c["rule"] for c in manifest["cases"]} | {a["rule"] for a in alerts})
    table = {}
    for rule in rules:
        cases = [c for c in manifest["cases"] if c["rule"] == rule]
        planted = [c for c in cases if c["expect"] == "alert"]
        negatives = [c for c in cases if c["expect"] == "no_alert"]
        rule_alerts = [a for a in alerts if a["rule"] == rule]
        tp_cases, prevented, missed = [], [], []
        for c in planted:
            if any(matches(c, a["strings"]) for a in rule_alerts):
                tp_cases.append(c)
            elif any(
                _refused_applies(c, r)
                and all(key_found(str(v), s) for k, v in c["keys"].items() if k != "roll")
                for r, s in refused_strings
            ):
                prevented.append(c)
            else:
                missed.append(c)
        fp_negative, unplanted = [], []
        for a in rule_alerts:
            if any(matches(c, a["strings"]) for c in planted):
                continue
            neg = [c for c in negatives if matches(c, a["strings"])]
            item = {
                "alert": a["id"],
                "entity": a["entity"],
                "observed": a["observed"],
                "evidence": _short(a["evidence"]),
            }
            if neg:
                item["negative"] = neg[0]["note"]
                fp_negative.append(item)
            else:
                unplanted.append(item)
        entry = catalogue.get(rule)
        method = entry["method"] if entry else None
        tp = len(tp_cases)
        fp = len(fp_negative) + len(unplanted)
        table[rule] = {
            "in_catalogue": entry is not None,
            "method": method,
            "scored": entry is not None and method not in NOT_SCORED_METHODS and bool(planted),
            "planted": len(planted),
            "negatives": len(negatives),
            "alerts": len(rule_alerts),
            "tp": tp,
            "prevented": len(prevented),
            "missed": len(missed),
            "fp_negative": len(fp_negative),
            "fp_unplanted": len(unplanted),
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round((tp + len(prevented)) / len(planted), 3) if planted else None,
            "missed_cases": missed,
            "prevented_cases": prevented,
            "fp_negative_alerts": fp_negative,
            "fp_unplanted_alerts": unplanted[:25],
            "fp_unplanted_total": len(unplanted),
        }
    result = {
        "seed": manifest["seed"],
        "households": manifest["households"],
        "rules": table,
        "alerts": len(alerts),
        "evidence_by_internal_id": by_internal,
        "refused_lines": len(refused),
        "failed_steps": failed,
    }
    (work / "score.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    return result


def _refused_applies(case: dict, refused: dict) -> bool:
    """A refused line prevents a planted case when it is the line that carried it: a roll line
    for roll rules and household rules, a payment line for payment rules."""
    step = refused["step"]
    if "available" in refused["reason"] or "overdraft" in refused["reason"]:
        return False  # money missing is the file's error, not a misuse refused
    if "roll" in case["keys"]:
        return step.startswith(f"roll create {case['keys']['roll']}")
    return step.startswith(("roll create", "import payments", "import project_funding"))


def _short(evidence) -> str:
    text = json.dumps(evidence, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def table_text(results: list[dict]) -> str:
    """Per rule over the seeds: planted, found, prevented, FP, precision, recall."""
    rules: dict[str, dict] = {}
    for res in results:
        for rule, r in res["rules"].items():
            acc = rules.setdefault(
                rule,
                {
                    "planted": 0,
                    "tp": 0,
                    "prevented": 0,
                    "missed": 0,
                    "fp_negative": 0,
                    "fp_unplanted": 0,
                    "alerts": 0,
                    "negatives": 0,
                    "in_catalogue": r["in_catalogue"],
                    "method": r["method"],
                    "scored": r["scored"],
                },
            )
            for k in (
                "planted",
                "tp",
                "prevented",
                "missed",
                "fp_negative",
                "fp_unplanted",
                "alerts",
                "negatives",
            ):
                acc[k] += r[k]
            acc["scored"] = acc["scored"] or r["scored"]
    lines = [
        "| rule | method | planted | found (TP) | prevented | missed | hard neg. | FP on neg. | "
        "FP unplanted | precision | recall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in sorted(rules):
        r = rules[rule]
        fp = r["fp_negative"] + r["fp_unplanted"]
        prec = f"{r['tp'] / (r['tp'] + fp):.3f}" if r["tp"] + fp else "–"
        rec = f"{(r['tp'] + r['prevented']) / r['planted']:.3f}" if r["planted"] else "–"
        method = r["method"] or "not in catalogue"
        lines.append(
            f"| {rule} | {method} | {r['planted']} | {r['tp']} | {r['prevented']} | "
            f"{r['missed']} | "
            f"{r['negatives']} | {r['fp_negative']} | {r['fp_unplanted']} | {prec} | {rec} |"
        )
    return "\n".join(lines)
