"""The dates of issue 17, from the clerk's side: a voucher's date, the bank's value date and the
day it was keyed in kept apart; a late voucher posted in the open month with its own date kept;
months closed per county; the receiving level's receipt of an allocation. SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ledger.core.errors import ClosedPeriod, LedgerError, PermissionDenied
from ledger.funds import flows, periods, posting, receipts
from ledger.models import Role
from ledger.org import regions
from ledger.store.db import transaction
from tests.ledger.test_invariants import down_to_county, pay_household, u
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE

TODAY = dt.date.today()
PAY = ["pay", "--payee", "H-001", "--amount", "100.00", "--function-code", "2130505",
       "--use", "household_subsidy", "--county", COUNTY]


@pytest.fixture
def county_admins(world):
    """An administrator of each county: a county finance bureau closes its own books."""
    with transaction(world.factory) as s:
        for name, county in (("k_admin", COUNTY), ("k2_admin", COUNTY2)):
            regions.add_user(s, u(s, "admin"), username=name, display_name=name,
                             role=Role.ADMIN, region_code=county)


def both_counties(world, amount=100_000_00):
    """Each county holds `amount` of the lot, passed down and approved at every level."""
    down_to_county(world, amount)
    with transaction(world.factory) as s:
        t1 = flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                            to_region=CITY, amount_fen=amount, effective_date=DAY, key="p-c-2")
        posting.approve(s, u(s, "p_approver"), t1.id)
        t2 = flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                            to_region=COUNTY2, amount_fen=amount, effective_date=DAY,
                            key="c-k2")
        posting.approve(s, u(s, "c_approver"), t2.id)


def refusal(fn):
    try:
        fn()
    except LedgerError as exc:
        return exc
    raise AssertionError("not refused")


# A late voucher -------------------------------------------------------------------------------

def test_a_late_voucher_is_posted_in_the_open_month_with_its_date_kept(world, cli,
                                                                       county_admins):
    down_to_county(world)
    lot = ["--lot", world.lot_id]
    code, _, err = cli("--as", "k_admin", "period", "close", "2024-03", "--county", COUNTY)
    assert code == 0, err

    # Keyed after March was closed: posted today, its voucher's date and the bank's kept.
    code, out, err = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0328",
                         "--voucher-date", "2024-03-28", "--value-date", "2024-03-29",
                         "--json")
    assert code == 0, err
    late = json.loads(out)
    assert (late["effective_date"], late["voucher_date"], late["value_date"]) == \
        (TODAY.isoformat(), "2024-03-28", "2024-03-29")
    # The same voucher keyed again (another day, even) is the same transfer.
    code, out, _ = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0328", "--voucher-date",
                       "2024-03-28", "--value-date", "2024-03-29", "--json")
    assert code == 0 and json.loads(out)["id"] == late["id"]

    # The clerk may name the first open day instead of today.
    code, out, err = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0329",
                         "--voucher-date", "2024-03-29", "--date", "2024-04-01")
    assert code == 0, err
    assert "posted 2024-04-01, voucher dated 2024-03-29 (3 days late)" in out
    # … but not a day of the closed month, nor a day before the voucher.
    code, _, err = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0330",
                       "--voucher-date", "2024-03-20", "--date", "2024-03-30")
    assert code == 2 and "closed for county 430121" in err
    code, _, err = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0405",
                       "--voucher-date", "2024-04-05", "--date", "2024-04-02")
    assert code == 2 and "not posted before its voucher" in err
    # A voucher of an open month is posted on its own date.
    code, out, _ = cli("--as", "k_clerk", *PAY, *lot, "--key", "V-0402",
                       "--voucher-date", "2024-04-02", "--json")
    assert code == 0 and json.loads(out)["effective_date"] == "2024-04-02"

    assert cli("--as", "k_approver", "approve", late["id"])[0] == 0
    code, out, err = cli("--as", "k_clerk", "transfer", "show", late["id"], "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["voucher_date"] == "2024-03-28" and shown["entry_date"] == TODAY.isoformat()
    assert shown["posting_delay_days"] == (TODAY - dt.date(2024, 3, 28)).days
    assert shown["decision"] == "approved"
    code, out, _ = cli("--as", "k_clerk", "transfer", "show", late["id"])
    assert "voucher     2024-03-28  (posted" in out and "value date  2024-03-29" in out

    code, out, err = cli("verify")
    assert code == 0 and "intact" in out, out


def test_a_payment_without_a_voucher_date_reads_as_before(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 100, "plain")
        assert (t.effective_date, t.voucher_date, t.value_date) == (DAY, None, None)
        assert "voucher_date" not in json.loads(t.request)


# Periods closed per county --------------------------------------------------------------------

def test_a_county_closes_its_own_month_while_another_keeps_posting(world, county_admins):
    both_counties(world)
    with transaction(world.factory) as s:
        pending = pay_household(s, world, 100, "before-close")
    with transaction(world.factory) as s:
        closure = periods.close_period(s, u(s, "k_admin"), "2024-03", COUNTY)
        assert (closure.period, closure.county_code) == ("2024-03", COUNTY)

    with transaction(world.factory) as s:
        exc = refusal(lambda: pay_household(s, world, 100, "k-march"))
        assert isinstance(exc, ClosedPeriod)
        assert (exc.code, exc.params["county"], exc.params["period"]) == \
            ("closed_period", COUNTY, "2024-03")
        # Recorded before the close, approved after it: refused too (the month is done).
        exc = refusal(lambda: posting.approve(s, u(s, "k_approver"), pending.id))
        assert exc.code == "closed_period" and exc.params["county"] == COUNTY
    with transaction(world.factory) as s:
        # The other county keeps its March open, and the city its own books.
        other = flows.pay(s, u(s, "k2_clerk"), lot_id=world.lot_id, payee_code="H-201",
                          amount_fen=100, function_code="2130505", use_code="household_subsidy",
                          county_code=COUNTY2, effective_date=DAY, key="k2-march")
        posting.approve(s, u(s, "k2_approver"), other.id)
        flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                       to_region=CITY, amount_fen=100, effective_date=DAY, key="p-march")

    with transaction(world.factory) as s:
        # A county's administrator closes that county only; a month is closed once.
        assert isinstance(refusal(lambda: periods.close_period(
            s, u(s, "k_admin"), "2024-03", COUNTY2)), PermissionDenied)
        assert refusal(lambda: periods.close_period(
            s, u(s, "k_admin"), "2024-03", COUNTY)).params == \
            {"period": "2024-03", "county": COUNTY}
        assert refusal(lambda: periods.close_period(
            s, u(s, "admin"), "2024-03", CITY)).code == "not_a_county"
        assert isinstance(refusal(lambda: periods.close_period(
            s, u(s, "k_clerk"), "2024-04", COUNTY)), PermissionDenied)
    with transaction(world.factory) as s:
        # The province's administrator may close a county's month for it.
        periods.close_period(s, u(s, "admin"), "2024-04", COUNTY2)


def test_a_ledger_wide_close_still_refuses_everything(world, cli, county_admins):
    both_counties(world)
    code, out, err = cli("--as", "admin", "period", "close", "2024-03")
    assert code == 0 and "period 2024-03 closed" in out, err
    with transaction(world.factory) as s:
        for key, county, payee, clerk in (("a", COUNTY, "H-001", "k_clerk"),
                                          ("b", COUNTY2, "H-201", "k2_clerk")):
            exc = refusal(lambda: flows.pay(
                s, u(s, clerk), lot_id=world.lot_id, payee_code=payee, amount_fen=100,
                function_code="2130505", use_code="household_subsidy", county_code=county,
                effective_date=DAY, key=key))
            assert exc.code == "closed_period" and "county" not in exc.params
        # A late voucher is posted today whoever closed its month.
        t = flows.pay(s, u(s, "k2_clerk"), lot_id=world.lot_id, payee_code="H-201",
                      amount_fen=100, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY2, voucher_date=DAY, key="late")
        assert (t.effective_date, t.voucher_date) == (TODAY, DAY)
    # Already closed for everyone: a county does not close it again; the old spelling works.
    code, _, err = cli("--as", "k_admin", "period", "close", "2024-03", "--county", COUNTY)
    assert code == 2 and "already closed" in err
    assert cli("--as", "admin", "close-period", "2024-04")[0] == 0


# The receipt of an allocation by the level below ----------------------------------------------

def test_the_receiving_level_records_when_an_allocation_arrived(world, cli):
    code, out, err = cli("--as", "p_clerk", "allocate", "--lot", world.lot_id, "--from",
                         PROVINCE, "--to", CITY, "--amount", "5000.00", "--key", "财农下达-1",
                         "--voucher-date", "2024-03-10", "--date", "2024-03-15", "--json")
    assert code == 0, err
    issued = json.loads(out)
    assert (issued["voucher_date"], issued["effective_date"]) == ("2024-03-10", "2024-03-15")
    assert cli("--as", "p_approver", "approve", issued["id"])[0] == 0

    # The province sent it; only the city, which received it, says when it came.
    code, _, err = cli("--as", "p_clerk", "transfer", "receive", issued["id"],
                       "--date", "2024-03-18")
    assert code == 2 and "which received it" in err
    code, _, err = cli("--as", "c_clerk", "transfer", "receive", issued["id"],
                       "--date", "2024-03-09")
    assert code == 2 and "issued on 2024-03-10" in err
    code, out, err = cli("--as", "c_clerk", "transfer", "receive", issued["id"],
                         "--date", "2024-03-18", "--memo", "市财政局收文")
    assert code == 0 and "received by 430100 on 2024-03-18" in out, err
    code, _, err = cli("--as", "c_clerk", "transfer", "receive", issued["id"],
                       "--date", "2024-03-19")
    assert code == 2 and "already recorded as received" in err

    code, out, _ = cli("--as", "c_clerk", "transfer", "show", issued["id"], "--json")
    shown = json.loads(out)
    assert (shown["received_date"], shown["receipt_days"]) == ("2024-03-18", 8)
    code, out, _ = cli("transfer", "show", issued["id"])
    assert "received    2024-03-18  (8 days after issue)" in out

    with transaction(world.factory) as s:
        down_to_county(world, 100_00, key="more")
        paid = pay_household(s, world, 100, "p-1")
        exc = refusal(lambda: receipts.record_receipt(s, u(s, "k_clerk"), paid.id,
                                                      received_date=DAY))
        assert exc.code == "not_between_levels"
        rejected = flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                                  to_region=COUNTY2, amount_fen=100, effective_date=DAY,
                                  key="to-reject")
        posting.reject(s, u(s, "c_approver"), rejected.id, "wrong county")
        exc = refusal(lambda: receipts.record_receipt(s, u(s, "k2_clerk"), rejected.id,
                                                      received_date=DAY))
        assert exc.code == "receipt_of_rejected"
        exc = refusal(lambda: receipts.record_receipt(s, u(s, "k2_clerk"), rejected.id,
                                                      received_date=TODAY
                                                      + dt.timedelta(days=2)))
        assert exc.code == "date_in_future"

    code, out, err = cli("verify")
    assert code == 0 and "intact" in out, err


def test_money_taken_back_up_keeps_its_document_date_and_receipt(world, cli):
    """收回统筹 is a transfer between levels too: the 收回 document's date, the posting in the
    open month, and the day the province's account was credited."""
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        periods.close_period(s, u(s, "admin"), "2026-03")
    code, out, err = cli("--as", "p_clerk", "reclaim", "--lot", world.lot_id, "--from", COUNTY,
                         "--to", PROVINCE, "--amount", "1000.00", "--key", "收回-2026-1",
                         "--reason", "结转两年以上收回统筹", "--voucher-date", "2026-03-20",
                         "--date", "2026-04-01", "--json")
    assert code == 0, err
    back = json.loads(out)
    assert (back["voucher_date"], back["effective_date"]) == ("2026-03-20", "2026-04-01")
    with transaction(world.factory) as s:
        receipt = receipts.record_receipt(s, u(s, "p_clerk"), back["id"],
                                          received_date=dt.date(2026, 3, 25))
        assert receipt.region_code == PROVINCE
        assert receipts.dates_of(s, posting.get_transfer(s, back["id"])).receipt_days == 5
