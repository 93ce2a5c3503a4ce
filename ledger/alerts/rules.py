"""Which function checks which rule, and running them: CHECKS is read off the catalogue (each
check carries its entry, ledger.alerts.catalogue), in the catalogue's order. Rules checked
only at posting have no check here."""
from __future__ import annotations

from ledger.alerts.base import shared_payments
from ledger.alerts.catalogue import ENTRIES

# A plain dict: `python -m bench --only alerts` wraps each check in a timer for one scan.
CHECKS = {rule_id: entry.check for rule_id, entry in ENTRIES.items()
          if entry.check is not None}


def run_rules(ctx, only=None) -> list:
    findings = []
    with shared_payments(ctx.session):
        for rule_id, check in CHECKS.items():
            if only and rule_id not in only:
                continue
            findings.extend(check(ctx))
    return findings
