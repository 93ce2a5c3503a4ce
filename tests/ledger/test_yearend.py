"""Year end: carried-over money is judged by how long it sat idle; two years idle is taken back."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ledger.core.errors import LedgerError, PermissionDenied
from ledger.funds import flows, posting, yearend
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, u, unit_balance
from tests.world import CITY, COUNTY, PROVINCE


def _status(rows, holder):
    return next((r.status, r.idle_2y_fen, r.balance_fen) for r in rows if r.holder == holder)


def test_idle_money_is_flagged_after_a_year_and_taken_back_after_two(world):
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 1_000_00, "v1")
        posting.approve(s, u(s, "k_approver"), t.id)
        assert _status(yearend.statement(s, None, 2024), COUNTY) == \
            ("carry_over", 0, 299_000_00)
        assert _status(yearend.statement(s, None, 2025), COUNTY)[:2] == ("idle_flag", 0)
        assert _status(yearend.statement(s, None, 2026), COUNTY)[:2] == ("reclaim", 299_000_00)
        # a county clerk sees their own county only
        assert {r.holder for r in yearend.statement(s, u(s, "k_clerk"), 2026)} == {COUNTY}
        with pytest.raises(LedgerError, match="holds 0 fen that arrived more than 730 days"):
            yearend.reclaim(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=COUNTY,
                            to_region=PROVINCE, amount_fen=100, key="收回-0",
                            effective_date=dt.date(2025, 6, 1), reason="x")
        with pytest.raises(PermissionDenied):  # the county cannot take from itself upwards
            yearend.reclaim(s, u(s, "k_clerk"), lot_id=world.lot_id, from_region=COUNTY,
                            to_region=PROVINCE, amount_fen=100, key="收回-1",
                            effective_date=dt.date(2026, 4, 1), reason="x")
        with pytest.raises(LedgerError, match="not above"):
            yearend.reclaim(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=CITY,
                            to_region=COUNTY, amount_fen=100, key="收回-2",
                            effective_date=dt.date(2026, 4, 1), reason="x")
        back = yearend.reclaim(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=COUNTY,
                               to_region=PROVINCE, amount_fen=299_000_00, key="黔财收〔2026〕1号",
                               effective_date=dt.date(2026, 4, 1), reason="结转两年以上收回统筹")
        posting.approve(s, u(s, "p_approver"), back.id)
        assert unit_balance(s, world, COUNTY) == 0
        assert unit_balance(s, world, PROVINCE) == 1_000_000_00 - 300_000_00 + 299_000_00
        # the province itself has passed nothing on since 2024: its share is flagged too
        assert _status(yearend.statement(s, None, 2026), PROVINCE)[0] == "reclaim"


def test_the_statement_is_fixed_in_the_audit_log(world, db_url, monkeypatch, capsys):
    from sqlalchemy import select

    from ledger.audit.entries import decode_entry
    from ledger.cli.root import main
    from ledger.models import AuditEntry
    down_to_county(world, 300_000_00)
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    assert main(["--as", "p_clerk", "year-end", "--year", "2024", "--record", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["holder"] for r in data["accounts"]} == {PROVINCE, COUNTY}
    with transaction(world.factory) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).scalar_one()
        entry = decode_entry(last.entry)
    assert entry["kind"] == "year_end.statement"
    assert entry["details"]["digest"] == data["digest"]
    assert entry["details"]["carry_over_fen"] == 1_000_000_00
    assert main(["year-end", "--year", "2026"]) == 1  # money idle two years: exit 1


def test_money_that_just_arrived_is_not_idle_however_long_the_unit_sat_still(world):
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 300_000_00, "all")  # the county spends everything
        posting.approve(s, u(s, "k_approver"), t.id)
    down_to_county(world, 100_000_00, key="fresh")  # allocated on DAY as well
    with transaction(world.factory) as s:
        fresh = flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                               to_region=CITY, amount_fen=50_000_00,
                               effective_date=dt.date(2026, 11, 20), key="late-1")
        posting.approve(s, u(s, "p_approver"), fresh.id)
        fresh = flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                               to_region=COUNTY, amount_fen=50_000_00,
                               effective_date=dt.date(2026, 11, 20), key="late-2")
        posting.approve(s, u(s, "c_approver"), fresh.id)
        row = next(r for r in yearend.statement(s, None, 2026) if r.holder == COUNTY)
        # 100,000 from 2024 is two years old; the 50,000 of November 2026 is fresh
        assert (row.balance_fen, row.idle_1y_fen, row.idle_2y_fen) == \
            (150_000_00, 100_000_00, 100_000_00)
        with pytest.raises(LedgerError, match="holds 10000000 fen"):
            yearend.reclaim(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=COUNTY,
                            to_region=PROVINCE, amount_fen=150_000_00, key="收回-9",
                            effective_date=dt.date(2026, 12, 1), reason="x")


def test_a_year_out_of_range_is_a_clear_error(world, db_url, monkeypatch, capsys):
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    assert main(["year-end", "--year", "10000"]) == 2
    assert "10000 is not in the range 2000<=x<=2100" in capsys.readouterr().err
