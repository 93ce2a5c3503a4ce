"""Recoveries (追回归位): misused money is claimed back and returns to the lot it came from."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, Overdraft, PermissionDenied
from ledger.funds import balances, posting, recoveries
from ledger.funds.trace import trace_lot
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, u, unit_balance
from tests.ledger.test_trace import walk
from tests.world import COUNTY, DAY

DUE = DAY + dt.timedelta(days=30)


def _paid(world, amount=2_000_00):
    down_to_county(world, 100_000_00)
    with transaction(world.factory) as s:
        t = pay_household(s, world, amount, "v-1")
        posting.approve(s, u(s, "k_approver"), t.id)
        return t.id


def _open(s, world, code="审计-2024-01", amount=1_500_00, source=None):
    case = recoveries.open_recovery(
        s, u(s, "k_clerk"), code=code, lot_id=world.lot_id, payee_code="H-001",
        amount_fen=amount, due_date=DUE, reason="虚报冒领：户主已外出务工", effective_date=DAY,
        source_transfer_id=source)
    return case


def test_money_comes_back_to_the_county_share_of_the_same_lot(world):
    paid_id = _paid(world)
    with transaction(world.factory) as s:
        case = _open(s, world, source=paid_id)
        assert case.county_code == COUNTY
        posting.approve(s, u(s, "k_approver"), case.claim_transfer_id)
    with transaction(world.factory) as s:
        before = unit_balance(s, world, COUNTY)
        first = recoveries.collect(s, u(s, "k_clerk"), code="审计-2024-01", amount_fen=1_000_00,
                                   effective_date=DAY, key="缴款书-001")
        posting.approve(s, u(s, "k_approver"), first.id)
        assert unit_balance(s, world, COUNTY) == before + 1_000_00
        (state,) = recoveries.recovery_states(s, u(s, "auditor"))
        assert (state.claimed_fen, state.collected_fen, state.outstanding_fen) == \
            (1_500_00, 1_000_00, 500_00)
        assert not state.overdue(DUE) and state.overdue(DUE + dt.timedelta(days=1))
        assert recoveries.outstanding_total(s, world.lot_id) == 500_00
        payee = [r for r in balances.account_balances(s, lot_id=world.lot_id)
                 if r.kind == "payee" and r.holder == "H-001"]
        assert payee[0].balance == 500_00  # what the household legitimately kept
        tb = balances.trial_balance(s)
        assert tb.balanced
        trace = trace_lot(s, world.lot_id)
        held = {(h.kind, h.holder): h.held for h in walk(trace.roots[0])}
        assert held[("receivable", "H-001")] == 500_00
        assert sum(v for (k, _), v in held.items() if k != "appropriation") == trace.amount_fen
        report = verify(s)
        assert report.intact, report.findings


def test_a_claim_cannot_exceed_what_the_payee_received(world):
    _paid(world, 1_000_00)
    with transaction(world.factory) as s:
        with pytest.raises(Overdraft):
            _open(s, world, amount=1_000_01)


def test_collection_waits_for_the_approved_claim_and_never_exceeds_what_is_owed(world):
    _paid(world)
    with transaction(world.factory) as s:
        case = _open(s, world)
        with pytest.raises(LedgerError, match="approve the claim"):
            recoveries.collect(s, u(s, "k_clerk"), code=case.code, amount_fen=100,
                               effective_date=DAY, key="k1")
        with pytest.raises(PermissionDenied):  # a clerk records; only an approver approves
            posting.approve(s, u(s, "k_clerk"), case.claim_transfer_id)
        posting.approve(s, u(s, "k_approver"), case.claim_transfer_id)
        recoveries.collect(s, u(s, "k_clerk"), code=case.code, amount_fen=1_000_00,
                           effective_date=DAY, key="k2")  # pending counts against what is owed
        with pytest.raises(Overdraft):
            recoveries.collect(s, u(s, "k_clerk"), code=case.code, amount_fen=500_01,
                               effective_date=DAY, key="k3")


def test_opening_the_same_case_twice_is_idempotent_and_other_figures_are_refused(world):
    _paid(world)
    with transaction(world.factory) as s:
        first = _open(s, world)
        assert _open(s, world).id == first.id
        with pytest.raises(LedgerError, match="amount_fen: recorded 150000, now 150001"):
            _open(s, world, amount=1_500_01)


def test_another_county_cannot_open_or_collect_a_case(world):
    _paid(world)
    with transaction(world.factory) as s:
        with pytest.raises(PermissionDenied):
            recoveries.open_recovery(
                s, u(s, "k2_clerk"), code="X", lot_id=world.lot_id, payee_code="H-001",
                amount_fen=100, due_date=DUE, reason="r", effective_date=DAY)
        case = _open(s, world)
        posting.approve(s, u(s, "k_approver"), case.claim_transfer_id)
        with pytest.raises(PermissionDenied):
            recoveries.collect(s, u(s, "k2_clerk"), code=case.code, amount_fen=100,
                               effective_date=DAY, key="x")
        assert recoveries.recovery_states(s, u(s, "k2_clerk")) == []


def test_bad_requests_say_what_is_wrong(world):
    paid_id = _paid(world)
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="reason"):
            recoveries.open_recovery(s, u(s, "k_clerk"), code="A", lot_id=world.lot_id,
                                     payee_code="H-001", amount_fen=100, due_date=DUE,
                                     reason=" ", effective_date=DAY)
        with pytest.raises(LedgerError, match="due date"):
            recoveries.open_recovery(s, u(s, "k_clerk"), code="B", lot_id=world.lot_id,
                                     payee_code="H-001", amount_fen=100,
                                     due_date=DAY - dt.timedelta(days=1), reason="r",
                                     effective_date=DAY)
        with pytest.raises(LedgerError, match="did not pay H-002"):
            recoveries.open_recovery(s, u(s, "k_clerk"), code="C", lot_id=world.lot_id,
                                     payee_code="H-002", amount_fen=100, due_date=DUE,
                                     reason="r", effective_date=DAY,
                                     source_transfer_id=paid_id)
        with pytest.raises(LedgerError, match="does not exist"):
            recoveries.collect(s, u(s, "k_clerk"), code="nope", amount_fen=1,
                               effective_date=DAY, key="z")


def test_a_reversed_claim_leaves_nothing_owed(world):
    _paid(world)
    with transaction(world.factory) as s:
        case = _open(s, world)
        posting.approve(s, u(s, "k_approver"), case.claim_transfer_id)
        r = posting.reverse(s, u(s, "k_clerk"), case.claim_transfer_id, reason="核实无误",
                            effective_date=DAY, key="rev-claim")
        posting.approve(s, u(s, "k_approver"), r.id)
        (state,) = recoveries.recovery_states(s)
        assert state.outstanding_fen == 0
        assert recoveries.outstanding_total(s, world.lot_id) == 0


def test_two_cases_against_one_payee_keep_their_own_limits(world):
    _paid(world)
    with transaction(world.factory) as s:
        a = _open(s, world, code="A", amount=500_00)
        b = _open(s, world, code="B", amount=500_00)
        for case in (a, b):
            posting.approve(s, u(s, "k_approver"), case.claim_transfer_id)
        with pytest.raises(Overdraft, match="recovery A: 50000 fen is still owed"):
            recoveries.collect(s, u(s, "k_clerk"), code="A", amount_fen=1_000_00,
                               effective_date=DAY, key="k-a")
        t = recoveries.collect(s, u(s, "k_clerk"), code="A", amount_fen=500_00,
                               effective_date=DAY, key="k-a2")
        posting.approve(s, u(s, "k_approver"), t.id)
        states = {st.code: st.outstanding_fen for st in recoveries.recovery_states(s)}
        assert states == {"A": 0, "B": 500_00}
