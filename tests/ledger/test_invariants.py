"""The ledger invariants of DESIGN.md, each shown from a user's side, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.core.errors import (
    ClosedPeriod,
    IdempotencyConflict,
    InvariantViolation,
    LedgerError,
    MakerChecker,
    NotFound,
    Overdraft,
    PermissionDenied,
    PurposeViolation,
)
from ledger.core.money import MoneyError, parse_yuan
from ledger.funds import balances, flows, lots, periods, posting
from ledger.models import (
    AccountKind,
    Approval,
    AuditEntry,
    Posting,
    SourceLevel,
    Transfer,
    TransferKind,
)
from ledger.store.db import transaction
from tests.world import CITY, COUNTY, COUNTY2, DAY, PROVINCE

pytestmark = pytest.mark.usefixtures("world")


def u(s, name):
    from ledger.org.regions import get_user
    return get_user(s, name)


def down_to_county(world, amount=500_000_00, key="alloc"):
    """Province → city → county, each approved by the level's approver."""
    with transaction(world.factory) as s:
        t1 = flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                            to_region=CITY, amount_fen=amount, effective_date=DAY,
                            key=f"{key}-1")
        posting.approve(s, u(s, "p_approver"), t1.id)
        t2 = flows.allocate(s, u(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                            to_region=COUNTY, amount_fen=amount, effective_date=DAY,
                            key=f"{key}-2")
        posting.approve(s, u(s, "c_approver"), t2.id)


def pay_household(s, world, amount, key, payee="H-001", use="household_subsidy",
                  function_code="2130505"):
    return flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code=payee,
                     amount_fen=amount, function_code=function_code, use_code=use,
                     county_code=COUNTY, effective_date=DAY, key=key)


def unit_balance(s, world, region):
    rows = balances.account_balances(s, lot_id=world.lot_id, kinds=[AccountKind.UNIT])
    return next((r.balance for r in rows if r.holder == region), 0)


# 1. Money is an integer number of fen -------------------------------------------------------

@pytest.mark.parametrize("bad", [12.5, 1.0, "100", True, None])
def test_amounts_must_be_integer_fen(world, bad):
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="whole number of fen"):
            flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=bad, effective_date=DAY, key="k")


@pytest.mark.parametrize("bad", [0, -100])
def test_amounts_must_be_positive(world, bad):
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="positive"):
            flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=bad, effective_date=DAY, key="k")


def test_sub_fen_yuan_text_is_refused_at_the_edge():
    with pytest.raises(MoneyError, match="smaller than one fen"):
        parse_yuan("1,234.567")
    assert parse_yuan("¥1,234.56") == 123456


# 2. Every transfer balances -----------------------------------------------------------------

def test_every_transfer_sums_to_zero_and_trial_balance_balances(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        sums = s.execute(select(Posting.transfer_id, func.sum(Posting.amount_fen))
                         .group_by(Posting.transfer_id)).all()
        assert sums and all(total == 0 for _, total in sums)
        tb = balances.trial_balance(s)
        assert tb.balanced and tb.total_debits == tb.total_credits > 0


def test_an_unbalanced_set_of_legs_is_refused(world):
    from ledger.audit.log import record_change
    from ledger.funds.accounts import find_account
    with pytest.raises(InvariantViolation, match="does not balance"):
        with transaction(world.factory) as s:
            acct = find_account(s, world.lot_id, AccountKind.UNIT, PROVINCE)
            with record_change(s, "p_clerk", "transfer.record") as change:
                posting.record(change, u(s, "p_clerk"), kind=TransferKind.ALLOCATE,
                               lot_id=world.lot_id, legs=[posting.Leg(acct, -5)], key="x",
                               request={}, effective_date=DAY, region_code=PROVINCE)


# 3. Fund lots keep their identity -----------------------------------------------------------

def second_lot(world):
    with transaction(world.factory) as s:
        t = lots.appropriate(s, u(s, "p_clerk"), doc_number="湘财农〔2024〕5号",
                             source_level=SourceLevel.PROVINCE, year=2024, title="省级资金",
                             function_codes=["2130505"], allowed_uses=["industry"],
                             amount_fen=200_000_00, region_code=PROVINCE, effective_date=DAY)
        posting.approve(s, u(s, "p_approver"), t.id)
        return t.lot_id


def test_a_transfer_cannot_mix_lots(world):
    other = second_lot(world)
    from ledger.audit.log import record_change
    from ledger.funds.accounts import find_account
    with transaction(world.factory) as s:
        a = find_account(s, world.lot_id, AccountKind.UNIT, PROVINCE)
        b = find_account(s, other, AccountKind.UNIT, PROVINCE)
        with pytest.raises(InvariantViolation):  # unbalanced per lot
            with record_change(s, "p_clerk", "transfer.record") as change:
                posting.record(change, u(s, "p_clerk"), kind=TransferKind.ALLOCATE,
                               lot_id=world.lot_id, legs=[posting.Leg(a, -5), posting.Leg(b, 5)],
                               key="mix", request={}, effective_date=DAY, region_code=PROVINCE)


def test_integration_is_the_only_way_across_lots_and_records_lineage(world):
    other = second_lot(world)
    down_to_county(world, 300_000_00)
    with transaction(world.factory) as s:
        t = flows.allocate(s, u(s, "p_clerk"), lot_id=other, from_region=PROVINCE, to_region=CITY,
                           amount_fen=100_000_00, effective_date=DAY, key="o1")
        posting.approve(s, u(s, "p_approver"), t.id)
        t = flows.allocate(s, u(s, "c_clerk"), lot_id=other, from_region=CITY, to_region=COUNTY,
                           amount_fen=100_000_00, effective_date=DAY, key="o2")
        posting.approve(s, u(s, "c_approver"), t.id)
        t = lots.integrate(s, u(s, "k_clerk"), county_code=COUNTY, doc_number="长县整合〔2024〕1号",
                           year=2024, title="统筹整合方案", function_codes=["2130505"],
                           allowed_uses=["industry"],
                           sources=[(world.lot_id, 50_000_00), (other, 30_000_00)],
                           effective_date=DAY)
        posting.approve(s, u(s, "k_approver"), t.id)
        from ledger.models import IntegrationLineage
        lineage = {(r.from_lot_id, r.amount_fen) for r in
                   s.execute(select(IntegrationLineage)).scalars()}
        assert lineage == {(world.lot_id, 50_000_00), (other, 30_000_00)}
        assert unit_balance(s, world, COUNTY) == 250_000_00
        pooled = balances.account_balances(s, lot_id=t.lot_id, kinds=[AccountKind.UNIT])
        assert [r.balance for r in pooled] == [80_000_00]
        assert balances.trial_balance(s).unbalanced_lots == {}


# 4. Purpose lock ----------------------------------------------------------------------------

def test_spending_outside_the_lots_function_codes_is_refused(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        with pytest.raises(PurposeViolation, match="2130506 is outside lot"):
            pay_household(s, world, 100_00, "p", function_code="2130506")


def test_spending_on_a_use_the_lot_does_not_allow_is_refused(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        with pytest.raises(PurposeViolation, match="'training' is outside lot"):
            pay_household(s, world, 100_00, "p", use="training")


def test_prohibited_uses_and_administrative_codes_are_refused(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        with pytest.raises(PurposeViolation, match="prohibited"):
            pay_household(s, world, 100_00, "p", use="vehicles_telecom")
        with pytest.raises(PurposeViolation, match="administrative"):
            lots.appropriate(s, u(s, "p_clerk"), doc_number="X", source_level=SourceLevel.CENTRAL,
                             year=2024, title="t", function_codes=["2130501"],
                             allowed_uses=["industry"], amount_fen=1, region_code=PROVINCE,
                             effective_date=DAY)


# 5. No overdraft, counting pending ----------------------------------------------------------

def test_cannot_pay_out_more_than_held(world):
    down_to_county(world, 1_000_00)
    with transaction(world.factory) as s:
        with pytest.raises(Overdraft, match="unit:430121.* 100000 fen available.*"
                                             "cannot pay out 100001 fen"):
            pay_household(s, world, 1_000_01, "p")


def test_pending_outflows_count_against_the_balance(world):
    down_to_county(world, 1_000_00)
    with transaction(world.factory) as s:
        pay_household(s, world, 600_00, "p1")  # recorded, not yet approved
    with transaction(world.factory) as s:
        with pytest.raises(Overdraft, match="pending out 60000"):
            pay_household(s, world, 600_00, "p2")


def test_rejecting_releases_the_pending_amount(world):
    down_to_county(world, 1_000_00)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 600_00, "p1")
        posting.reject(s, u(s, "k_approver"), t.id, "wrong household")
        pay_household(s, world, 1_000_00, "p2")


# 6. Nothing is edited or deleted ------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE postings SET amount_fen = amount_fen * 2",
    "DELETE FROM postings",
    "UPDATE transfers SET memo = 'edited'",
    "DELETE FROM approvals",
    "UPDATE fund_lots SET amount_fen = 1",
    "UPDATE audit_entries SET entry = entry",
    "DELETE FROM audit_entries",
    "UPDATE accounts SET lot_id = lot_id + 1",
])
def test_raw_sql_cannot_rewrite_history(world, engine, sql):
    down_to_county(world)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(sql))


def test_correction_is_by_reversal_referencing_the_original(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        t = pay_household(s, world, 500_00, "pay-1")
        posting.approve(s, u(s, "k_approver"), t.id)
        r = posting.reverse(s, u(s, "k_clerk"), t.id, reason="paid the wrong household",
                            effective_date=DAY, key="rev-1")
        posting.approve(s, u(s, "k_approver"), r.id)
        assert r.reverses_id == t.id and r.kind is TransferKind.REVERSE
        assert unit_balance(s, world, COUNTY) == 500_000_00
        with pytest.raises(LedgerError, match="already has reversal"):
            posting.reverse(s, u(s, "k_clerk"), t.id, reason="again", effective_date=DAY,
                            key="rev-2")
        # both the payment and its reversal stay on the books
        assert s.execute(select(func.count()).select_from(Transfer)
                         .where(Transfer.kind == TransferKind.PAY)).scalar_one() == 1


def test_reversal_cannot_take_back_money_the_payee_no_longer_holds(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        t = flows.fund_project(s, u(s, "k_clerk"), lot_id=world.lot_id, project_code="P-001",
                               amount_fen=1_000_00, effective_date=DAY, key="fp")
        posting.approve(s, u(s, "k_approver"), t.id)
        p = flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="C-001",
                      amount_fen=1_000_00, function_code="2130505", use_code="industry",
                      project_code="P-001", effective_date=DAY, key="pc")
        posting.approve(s, u(s, "k_approver"), p.id)
        with pytest.raises(Overdraft, match="project:P-001"):
            posting.reverse(s, u(s, "k_clerk"), t.id, reason="undo funding",
                            effective_date=DAY, key="rev")


# 7. Maker–checker ---------------------------------------------------------------------------

def test_recorder_cannot_approve_and_every_approval_is_logged(world):
    with transaction(world.factory) as s:
        t = flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=100, effective_date=DAY, key="mc")
        with pytest.raises(PermissionDenied, match="may not approve"):
            posting.approve(s, u(s, "p_clerk"), t.id)
        size_before = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        a = posting.approve(s, u(s, "p_approver"), t.id, "checked against 湘财预〔2024〕3号")
        assert a.log_index == size_before
        with pytest.raises(LedgerError, match="already approved"):
            posting.approve(s, u(s, "p_approver"), t.id)


def test_an_approver_who_recorded_cannot_approve_their_own(world):
    # an administrator could give one person both hats; the rule is about the person
    from ledger.audit.log import record_change
    from ledger.funds.accounts import find_account
    from ledger.models import Role
    from ledger.org import regions
    down_to_county(world)
    with transaction(world.factory) as s:
        regions.add_user(s, u(s, "admin"), username="both", display_name="both",
                         role=Role.APPROVER, region_code=PROVINCE)
    with transaction(world.factory) as s:
        # recorded through the engine directly, as an import job acting for "both" would
        a = find_account(s, world.lot_id, AccountKind.UNIT, PROVINCE)
        c = find_account(s, world.lot_id, AccountKind.UNIT, CITY)
        with record_change(s, "both", "transfer.record") as change:
            t2 = posting.record(change, u(s, "both"), kind=TransferKind.ALLOCATE,
                                lot_id=world.lot_id, legs=[posting.Leg(a, -1), posting.Leg(c, 1)],
                                key="self", request={}, effective_date=DAY, region_code=PROVINCE)
        with pytest.raises(MakerChecker):
            posting.approve(s, u(s, "both"), t2.id)


# 8. Idempotency keys ------------------------------------------------------------------------

def test_same_key_same_content_is_a_no_op(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        first = pay_household(s, world, 100_00, "voucher-001")
    with transaction(world.factory) as s:
        again = pay_household(s, world, 100_00, "voucher-001")
        assert again.id == first.id
        assert s.execute(select(func.count()).select_from(Transfer)
                         .where(Transfer.idempotency_key == "voucher-001")).scalar_one() == 1


def test_same_key_different_content_names_both(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        first = pay_household(s, world, 100_00, "voucher-001")
    with transaction(world.factory) as s:
        with pytest.raises(IdempotencyConflict) as err:
            pay_household(s, world, 200_00, "voucher-001", payee="H-002")
    message = str(err.value)
    assert f"transfer #{first.id}" in message
    assert "amount_fen: recorded 10000, now 20000" in message
    assert "payee: recorded 'H-001', now 'H-002'" in message


def test_appropriating_the_same_document_twice_changes_nothing(world):
    with transaction(world.factory) as s:
        again = lots.appropriate(
            s, u(s, "p_clerk"), doc_number="财农〔2024〕12号", source_level=SourceLevel.CENTRAL,
            year=2024, title="中央衔接推进乡村振兴补助资金",
            function_codes=["2130505", "2130504"],
            allowed_uses=["infrastructure", "household_subsidy", "industry"],
            amount_fen=1_000_000_00, region_code=PROVINCE, effective_date=DAY)
        assert again.lot_id == world.lot_id


# 9. Closed periods (bad input) --------------------------------------------------------------

def test_entries_into_a_closed_period_are_refused(world):
    with transaction(world.factory) as s:
        periods.close_period(s, u(s, "admin"), "2024-03")
    with transaction(world.factory) as s:
        with pytest.raises(ClosedPeriod, match="2024-03 is closed"):
            flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=100, effective_date=DAY, key="late")
        t = flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region=CITY, amount_fen=100, effective_date=dt.date(2024, 4, 1),
                           key="april")
        assert t.id


def test_unknown_things_are_named(world):
    with transaction(world.factory) as s:
        with pytest.raises(NotFound, match="fund lot #999"):
            flows.allocate(s, u(s, "p_clerk"), lot_id=999, from_region=PROVINCE, to_region=CITY,
                           amount_fen=1, effective_date=DAY, key="k")
        with pytest.raises(NotFound, match="payee 'H-999'"):
            pay_household(s, world, 1, "k", payee="H-999")
        with pytest.raises(NotFound, match="region '999999'"):
            flows.allocate(s, u(s, "p_clerk"), lot_id=world.lot_id, from_region=PROVINCE,
                           to_region="999999", amount_fen=1, effective_date=DAY, key="k")


def test_a_refused_request_writes_nothing(world):
    down_to_county(world, 1_000_00)
    with transaction(world.factory) as s:
        counts = [s.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (Transfer, Posting, AuditEntry)]
    with pytest.raises(Overdraft):
        with transaction(world.factory) as s:
            pay_household(s, world, 999_00, "ok")      # fits
            pay_household(s, world, 999_00, "toomuch")  # does not: whole unit of work rolls back
    with transaction(world.factory) as s:
        assert counts == [s.execute(select(func.count()).select_from(m)).scalar_one()
                          for m in (Transfer, Posting, AuditEntry)]


# Scope: a county clerk works only in their county -------------------------------------------

def test_a_county_clerk_cannot_pay_from_another_county(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        with pytest.raises(PermissionDenied, match="may not record in region 430121"):
            flows.pay(s, u(s, "k2_clerk"), lot_id=world.lot_id, payee_code="H-001",
                      amount_fen=1, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY, effective_date=DAY, key="x")
        with pytest.raises(LedgerError, match="outside county"):
            pay_household(s, world, 1, "y", payee="H-201")
    with transaction(world.factory) as s:
        visible = {r.region for r in balances.account_balances(s, u(s, "k2_clerk"))}
        assert COUNTY not in visible and PROVINCE not in visible


# 10. Every state change is in the audit log, same transaction -------------------------------

def test_every_row_carries_the_log_index_of_the_entry_that_wrote_it(world):
    down_to_county(world)
    from ledger.audit.entries import decode_entry
    with transaction(world.factory) as s:
        entries = {e.idx: decode_entry(e.entry) for e in s.execute(select(AuditEntry)).scalars()}
        for model in (Transfer, Posting, Approval):
            for row in s.execute(select(model)).scalars():
                logged = entries[row.log_index]["rows"]
                assert any(r[0] == model.__tablename__ and r[1] == [row.id] for r in logged)
        assert sorted(entries) == list(range(len(entries)))


def test_another_county_learns_nothing_from_a_used_key(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        pay_household(s, world, 1_234_56, "voucher-secret")
    with transaction(world.factory) as s:
        with pytest.raises(IdempotencyConflict) as err:
            flows.pay(s, u(s, "k2_clerk"), lot_id=world.lot_id, payee_code="H-201",
                      amount_fen=1, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY2, effective_date=DAY, key="voucher-secret")
    assert "already used" in str(err.value) and "123456" not in str(err.value)


def test_a_project_pays_only_under_its_own_function_code(world):
    down_to_county(world)
    with transaction(world.factory) as s:
        t = flows.fund_project(s, u(s, "k_clerk"), lot_id=world.lot_id, project_code="P-001",
                               amount_fen=1_000_00, effective_date=DAY, key="fp")
        posting.approve(s, u(s, "k_approver"), t.id)
        with pytest.raises(LedgerError, match="P-001 is for function code 2130505"):
            flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="C-001",
                      amount_fen=100, function_code="2130504", use_code="infrastructure",
                      project_code="P-001", effective_date=DAY, key="pp")
