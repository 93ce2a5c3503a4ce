"""The staff home's services (ledger/reading/progress.py) and the flow chart's
(ledger.funds.trace.trace_from, flow_graph): scoped, and in agreement with the balances."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.core.errors import NotFound, PermissionDenied
from ledger.funds import balances, posting
from ledger.funds.trace import flow_graph, trace_from
from ledger.reading import progress
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, u
from tests.world import CITY, COUNTY, COUNTY2, PROVINCE

TODAY = dt.date(2024, 10, 1)


@pytest.fixture
def paid(world):
    """300,000 元 down to the county; 1,000 and 700 元 paid to two households, approved."""
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        for key, amount, payee in (("p1", 1_000_00, "H-001"), ("p2", 700_00, "H-002")):
            posting.approve(s, u(s, "k_approver"),
                            pay_household(s, world, amount, key, payee=payee).id)
    return world


def test_progress_is_the_balances_per_county_and_lot(paid):
    with paid.factory() as s:
        view = progress.spending_progress(s, u(s, "p_clerk"), TODAY)
        rows = balances.account_balances(s, u(s, "p_clerk"))
    assert view.year == 2024 and view.deadline == dt.date(2024, 12, 31)
    assert view.days_left == 91 and view.time_percent == round(100 * 275 / 366, 1)
    county = {r.key: r for r in view.counties}[COUNTY]
    assert county.spent_fen == 1_700_00 == sum(r.balance for r in rows if r.kind == "payee")
    assert county.allocated_fen == 300_000_00 and county.percent == 0.6
    assert {r.key for r in view.counties} == {PROVINCE, CITY, COUNTY}
    assert {r.key: r.own_level for r in view.counties}[PROVINCE] is True
    (lot,) = view.lots
    assert lot.allocated_fen == view.total.allocated_fen == sum(
        r.balance for r in rows if r.kind in ("unit", "project", "payee"))
    # a county reads its own county only
    with paid.factory() as s:
        mine = progress.spending_progress(s, u(s, "k2_clerk"), TODAY)
    assert mine.counties == [] and mine.total.allocated_fen == 0


def test_only_an_approver_has_anything_waiting(paid):
    with transaction(paid.factory) as s:
        pending = pay_household(s, paid, 100_00, "p3")
    with paid.factory() as s:
        assert progress.waiting_for(s, u(s, "k_clerk"), 7, TODAY) is None
        assert progress.waiting_for(s, u(s, "auditor"), 7, TODAY) is None
        waiting = progress.waiting_for(s, u(s, "k_approver"), 7, TODAY)
        assert [t.id for t in waiting.transfers] == [pending.id]
        assert progress.waiting_for(s, u(s, "k2_approver"), 7, TODAY).transfers == []


def test_trace_from_a_county_and_its_scope(paid):
    with paid.factory() as s:
        trace = trace_from(s, u(s, "k_clerk"), paid.lot_id)
        (root,) = trace.roots
        assert (root.kind, root.holder, root.received) == ("unit", COUNTY, 300_000_00)
        accounts = {root.account_id} | {c.account_id for c in root.children}
        assert trace.flows and all(a in accounts and b in accounts for a, b in trace.flows)
        for refused in (f"unit:{PROVINCE}", f"unit:{COUNTY2}", f"unit:{CITY}"):
            with pytest.raises(PermissionDenied):
                trace_from(s, u(s, "k_clerk"), paid.lot_id, refused)
        with pytest.raises(NotFound):
            trace_from(s, u(s, "k_clerk"), paid.lot_id, "payee:H-001")
        # the province drills down to the county: the same subtree
        again = trace_from(s, u(s, "p_clerk"), paid.lot_id, f"unit:{COUNTY}")
        assert again.roots[0].account_id == root.account_id
        # a county the lot never reached: nothing to draw
        assert trace_from(s, u(s, "k2_clerk"), paid.lot_id).roots == []


def test_flow_graph_keeps_the_top_and_sums_the_rest(paid):
    with paid.factory() as s:
        trace = trace_from(s, u(s, "p_clerk"), paid.lot_id)
    nodes, links = flow_graph(trace, depth=3, top=1)
    keys = [n.key for n in nodes]
    assert keys[:3] == [f"unit:{PROVINCE}", f"unit:{CITY}", f"unit:{COUNTY}"]
    # the county's larger payee by itself, the other as "others"
    assert "payee:H-001" in keys and "payee:H-002" not in keys
    others = next(n for n in nodes if n.kind == "others")
    assert (others.count, others.received, others.payees_only) == (1, 700_00, True)
    assert (f"unit:{COUNTY}", others.key, 700_00) in links
    assert {n.key: n.drill for n in nodes}[f"unit:{COUNTY}"] == f"unit:{COUNTY}"
    assert {n.key: n.drill for n in nodes}[f"unit:{PROVINCE}"] is None   # the root itself
    # two levels: the county is drillable, its payees not shown
    nodes, _ = flow_graph(trace, depth=2, top=8)
    assert [n.key for n in nodes] == [f"unit:{PROVINCE}", f"unit:{CITY}", f"unit:{COUNTY}"]
