"""The rule catalogue: what each alert means to a finance officer (DOMAIN.md §4; research:
china-fund-rules.md §(a), misuse-detection-anchors.md §7 and §9).

Collected, not typed: every rule's entry is attached to its check in a rule module
(`@rule`, ledger.alerts.entry), and this module reads them off the modules below in order —
the catalogue's order is the order of `fundtrail alerts rules`, of `alerts eval` and of a scan.
tests/ledger/alerts/test_catalogue.py holds the registries to each other, the demo's plants
and docs/alerts.md.
"""
from __future__ import annotations

from types import ModuleType

from ledger.alerts import (
    rules_diversion,
    rules_flow,
    rules_household,
    rules_identity,
    rules_oversight,
    rules_stats,
)
from ledger.alerts.entry import Rule, RuleEntry, Setting
from ledger.i18n import N_

# Translated where shown (ledger.alerts.service.show_alert).
DISCLAIMER = N_("这是需要核实的风险提示，不是结论。")

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
METHODS = ("deterministic", "fuzzy", "statistical", "recorded")

# A new family of rules is a new module here; a new rule in a family needs nothing here.
RULE_MODULES: tuple[ModuleType, ...] = (
    rules_flow, rules_diversion, rules_household, rules_identity, rules_oversight, rules_stats)


def entries_of(module: ModuleType) -> list[RuleEntry]:
    """The entries a module declares, in the order it defines them: its checks carrying an
    entry (`@rule`) and its entries of rules checked only at posting (`posting_rule`). A check
    imported from another module belongs to that module."""
    found = []
    for value in vars(module).values():
        if isinstance(value, RuleEntry):
            found.append(value)
        elif callable(value) and isinstance(getattr(value, "entry", None), RuleEntry) \
                and value.__module__ == module.__name__:
            found.append(value.entry)
    return found


def collect(modules) -> tuple[dict[str, RuleEntry], dict[str, Setting]]:
    """Entries by rule id and settings by name, refusing what would make the registries
    disagree: an id used twice, a setting's name declared twice (declare it once and give it
    to every rule that reads it), a rule checked nowhere, an unknown severity or method."""
    entries: dict[str, RuleEntry] = {}
    settings: dict[str, Setting] = {}
    for module in modules:
        for entry in entries_of(module):
            where = f"{module.__name__}: {entry.id}"
            if entry.id in entries:
                raise ValueError(f"{where}: the rule id is used twice")
            if entry.check is None and not entry.at_posting:
                raise ValueError(f"{where}: checked nowhere (no check, no at_posting)")
            if entry.rule.severity not in SEVERITY_ORDER or entry.rule.method not in METHODS:
                raise ValueError(f"{where}: severity {entry.rule.severity!r} or method "
                                 f"{entry.rule.method!r} is not one of the catalogue's")
            for setting in entry.settings:
                known = settings.setdefault(setting.name, setting)
                if known is not setting:
                    raise ValueError(f"{where}: setting {setting.name} is declared twice")
            entries[entry.id] = entry
    return entries, settings


ENTRIES, SETTINGS = collect(RULE_MODULES)
RULES: dict[str, Rule] = {rule_id: entry.rule for rule_id, entry in ENTRIES.items()}
