"""The per-lot trace accounts for every fen, level by level, reversals and integration included."""
from __future__ import annotations

from ledger.funds import lots, posting
from ledger.funds.trace import trace_lot
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, second_lot, u
from tests.world import COUNTY, DAY


def walk(holder):
    yield holder
    for child in holder.children:
        yield from walk(child)


def test_trace_follows_every_fen_to_the_payees(world):
    other = second_lot(world)
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        kept = pay_household(s, world, 1_000_00, "p1")
        posting.approve(s, u(s, "k_approver"), kept.id)
        wrong = pay_household(s, world, 700_00, "p2", payee="H-002")
        posting.approve(s, u(s, "k_approver"), wrong.id)
        r = posting.reverse(s, u(s, "k_clerk"), wrong.id, reason="错发", effective_date=DAY,
                            key="r")
        posting.approve(s, u(s, "k_approver"), r.id)
        pending = pay_household(s, world, 500_00, "p3", payee="H-002")  # not approved
        assert pending.id
    with transaction(world.factory) as s:
        t = lots.integrate(s, u(s, "k_clerk"), county_code=COUNTY, doc_number="整合1号",
                           year=2024, title="整合", function_codes=["2130505"],
                           allowed_uses=["industry"], sources=[(world.lot_id, 20_000_00)],
                           effective_date=DAY)
        posting.approve(s, u(s, "k_approver"), t.id)
        trace = trace_lot(s, world.lot_id, u(s, "auditor"))
    assert other != world.lot_id
    (root,) = trace.roots
    assert root.kind == "appropriation" and root.passed_on == trace.amount_fen
    holders = {(h.kind, h.holder): h for h in walk(root)}
    held = sum(h.held for h in holders.values() if h.kind != "appropriation")
    assert held == trace.amount_fen  # every fen is somewhere
    county = holders[("unit", COUNTY)]
    assert county.received == 300_000_00
    assert county.held == 300_000_00 - 1_000_00 - 20_000_00  # the reversal came back
    assert holders[("payee", "H-001")].held == 1_000_00
    assert ("payee", "H-002") not in holders  # reversed, and the pending one is not counted
    assert holders[("integration_out", COUNTY)].held == 20_000_00
