"""A scan reads the payments once (`base.shared_payments`): every rule must find exactly what it
finds reading the payments subquery itself, evidence included, on both databases."""
from __future__ import annotations

import datetime as dt

from ledger.alerts import base
from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.core.pii import PiiVault
from ledger.demo.province import build_demo
from ledger.store.db import transaction

AS_OF = dt.date(2024, 12, 31)


def _findings(session, vault, shared: bool) -> dict:
    ctx = ScanContext(session, AlertSettings(), AS_OF, vault)
    found = {}
    if shared:
        with base.shared_payments(session):
            for rule_id, check in CHECKS.items():
                found[rule_id] = sorted((f.fingerprint, f.content_hash()) for f in check(ctx))
    else:
        for rule_id, check in CHECKS.items():
            found[rule_id] = sorted((f.fingerprint, f.content_hash()) for f in check(ctx))
    return found


def test_every_rule_finds_the_same_with_the_shared_copy(factory):
    vault = PiiVault.from_env()
    build_demo(factory, seed=3, households=60, vault=vault)
    with transaction(factory) as s:
        alone = _findings(s, vault, shared=False)
        shared = _findings(s, vault, shared=True)
        assert base._SHARED.get() is None
        # the copy was dropped with the scan: a second scan in the same transaction (and
        # connection) makes its own, as the first did
        again = _findings(s, vault, shared=True)
    assert shared == alone == again
    # the demo's planted cases make most rules fire: the comparison is not of empty lists
    assert sum(1 for rule in alone.values() if rule) >= 20
