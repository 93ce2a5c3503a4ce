"""A scan shares what several rules read (`ScanContext.cache`: the roll lines with their
payments and decisions, the returns and re-payments, the payments by household, the members by
birth date): every rule must find exactly what it finds run alone, with nothing shared, and the
roll lines filtered in Python must be the rows the database's filter gave (issue 21)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import literal, select
from sqlalchemy.orm import aliased

from ledger.alerts import base
from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.rules_household import _roll_lines_with_transfer, _roll_transfer_join
from ledger.alerts.settings import AlertSettings
from ledger.core.pii import PiiVault
from ledger.demo.province import build_demo
from ledger.models import Approval, Decision, PaymentRoll, RollLine, Transfer
from ledger.store.db import transaction

AS_OF = dt.date(2024, 12, 31)


def _found(check, ctx) -> list:
    return sorted((f.fingerprint, f.content_hash()) for f in check(ctx))


def _in_sql(session, where) -> Counter:
    """The roll lines as WHD-01/02/04 read them before issue 21: the decision filtered in SQL."""
    approval = aliased(Approval)
    return Counter(tuple(r) for r in session.execute(
        select(PaymentRoll.code, PaymentRoll.lot_id, PaymentRoll.county_code, PaymentRoll.item,
               RollLine.id, RollLine.line_no, RollLine.household_code, RollLine.member_id,
               RollLine.amount_fen, Transfer.id, Transfer.effective_date, approval.decision)
        .join(RollLine, RollLine.roll_id == PaymentRoll.id)
        .join(Transfer, _roll_transfer_join())
        .outerjoin(approval, approval.transfer_id == Transfer.id)
        .where(where(approval))).all())


def test_rules_find_the_same_alone_as_in_one_scan(factory):
    vault = PiiVault.from_env()
    build_demo(factory, seed=3, households=60, vault=vault)
    with transaction(factory) as s:
        with base.shared_payments(s):
            scan = ScanContext(s, AlertSettings(), AS_OF, vault)
            shared = {rule_id: _found(check, scan) for rule_id, check in CHECKS.items()}
            alone = {rule_id: _found(check, ScanContext(s, AlertSettings(), AS_OF, vault))
                     for rule_id, check in CHECKS.items()}
            ctx = ScanContext(s, AlertSettings(), AS_OF, vault)
            for keep, where in (
                    (lambda d: d == Decision.APPROVED, lambda a: a.decision == Decision.APPROVED),
                    (lambda d: d is None, lambda a: a.decision.is_(None)),
                    (lambda d: d is not None, lambda a: a.decision.is_not(None)),
                    (lambda d: True, lambda a: literal(True))):
                rows = _roll_lines_with_transfer(ctx, keep)
                assert Counter(tuple(r) for r in rows) == _in_sql(s, where)
    assert shared == alone
    assert "roll_lines_with_transfer" in scan.cache and "returns_and_repayments" in scan.cache
    # the demo's planted cases make the roll rules fire: the comparison is not of empty lists
    assert shared["WHD-01"] and shared["WHD-02"] and shared["WHD-04"]
    assert sum(1 for rule in shared.values() if rule) >= 20
