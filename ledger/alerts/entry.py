"""What a rule is: its catalogue entry (what the alert means to a finance officer), the settings
it reads, and where it is checked — attached to the check itself with `@rule`, so that the
catalogue, the table of checks and the settings' defaults are read off the rule modules
(ledger.alerts.catalogue collects them) instead of being typed again in three places.

    @rule("DUP-01", "重复支付", "Same payment twice", severity="high", method="deterministic",
          why=..., basis=..., next_action=..., settings=(DUPLICATE_WINDOW_DAYS,))
    def dup01_duplicate_payment(ctx: ScanContext) -> list[Finding]: ...

Nothing here imports a rule module: the rule modules import this one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Rule:
    """The catalogue's text of a rule, as `fundtrail alerts rules` and `alerts show` print it."""
    id: str
    title_zh: str
    title_en: str
    severity: str          # critical | high | medium | low
    method: str            # deterministic | fuzzy | statistical | recorded (a fact people
                           # recorded — a deadline passed, a finding — not a detection to score)
    why: str
    basis: str
    next_action: str


@dataclass(frozen=True)
class Setting:
    """One `[alerts]` setting of the settings file: its name there, its default and the basis of
    the default (a starting point to recalibrate on the confirmed and dismissed counts)."""
    name: str
    default: int | bool | tuple
    basis: str


@dataclass(frozen=True)
class RuleEntry:
    """A rule with everything the registries need: its text, the scan's check (None for a rule
    checked only as money moves), the settings the check reads, the checks made at posting
    (functions of ledger.screening.at_posting), and why the demo does not plant it, if so."""
    rule: Rule
    check: Callable | None
    settings: tuple[Setting, ...]
    at_posting: tuple[Callable, ...] = ()
    not_planted: str | None = None

    @property
    def id(self) -> str:
        return self.rule.id


def rule(rule_id: str, title_zh: str, title_en: str, *, severity: str, method: str, why: str,
         basis: str, next_action: str, settings: tuple[Setting, ...],
         at_posting: tuple[Callable, ...] = (), not_planted: str | None = None):
    """Attach a catalogue entry to a scan check (`check.entry`); the check is returned as it
    is. `settings` is required — `()` for a rule that reads none — so that leaving them out
    is a decision, not an oversight; tests/ledger/alerts/test_catalogue.py checks it against
    what the check reads."""
    def attach(check: Callable) -> Callable:
        check.entry = _entry(rule_id, title_zh, title_en, severity, method, why, basis,
                             next_action, check, settings, at_posting, not_planted)
        return check
    return attach


def posting_rule(rule_id: str, title_zh: str, title_en: str, *, severity: str, method: str,
                 why: str, basis: str, next_action: str, at_posting: tuple[Callable, ...],
                 not_planted: str | None = None) -> RuleEntry:
    """The entry of a rule that no scan checks, only the posting path: assign it to a name in a
    rule module (`BLK_02 = posting_rule(...)`) and the catalogue collects it like a check. It
    declares no settings: checks at posting sit below the alerts and read the ledger's
    (`[ledger]`, through the session's LedgerContext), not `[alerts]`."""
    if not at_posting:
        raise ValueError(f"{rule_id}: a rule checked only at posting names where (at_posting)")
    return _entry(rule_id, title_zh, title_en, severity, method, why, basis, next_action,
                  None, (), at_posting, not_planted)


def _entry(rule_id, title_zh, title_en, severity, method, why, basis, next_action, check,
           settings, at_posting, not_planted) -> RuleEntry:
    return RuleEntry(Rule(rule_id, title_zh, title_en, severity, method, why, basis,
                          next_action), check, tuple(settings), tuple(at_posting), not_planted)
