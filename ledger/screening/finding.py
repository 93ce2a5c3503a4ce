"""What a check returns: a Finding, the raw material of an alert (ledger.alerts turns findings
into alerts with a lifecycle). Here, below the posting engine, because checks made at the
moment money moves (ledger.screening.at_posting) raise findings too."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


@dataclass
class Finding:
    rule_id: str
    entity_kind: str
    entity_key: str
    region_code: str
    observed: str
    threshold: str
    amount_at_risk_fen: int = 0
    evidence: dict = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's (e.g. FLW-02 critical at 2 years)
    # What people read for `observed` and `threshold`: {"template": Chinese msgid (N_),
    # "params": {...}} (see `shown`), rendered in the reader's language where shown
    # (ledger.alerts.labels.render_shown). Not in as_dict nor the content hash: the English
    # observed and threshold above stay what the hash was computed on (issue 20).
    observed_shown: dict | None = field(default=None, compare=False)
    threshold_shown: dict | None = field(default=None, compare=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.entity_kind, self.entity_key)

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "entity": f"{self.entity_kind}:{self.entity_key}",
                "region_code": self.region_code, "observed": self.observed,
                "threshold": self.threshold, "amount_at_risk_fen": self.amount_at_risk_fen,
                "severity": self.severity, "evidence": self.evidence}

    def content_hash(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def shown(template: str, **params) -> dict:
    """A text to show, as a catalogue template and its parameters. A parameter that is money is
    `money(fen)`, one that is an enum's value `code(kind, value)`: rendered in the reader's
    language (ledger.alerts.labels.render_shown)."""
    return {"template": template, "params": params}


def money(fen: int) -> dict:
    return {"fen": int(fen)}


def code(kind: str, value) -> dict:
    """An enum's value, shown by ledger.i18n.labels.label(value, kind)."""
    return {"label": kind, "value": getattr(value, "value", value)}


def fingerprint(rule_id: str, entity_kind: str, entity_key: str) -> str:
    return hashlib.sha256(f"{rule_id}|{entity_kind}|{entity_key}".encode()).hexdigest()
