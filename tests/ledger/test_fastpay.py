"""The short path of `flows.pay` (ledger/funds/fastpay.py) writes exactly what the general path
writes — rows, balances and audit entries, apart from the clock — and refuses exactly what it
refuses; where it is not the common case it leaves the payment to the general path. On SQLite
and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from ledger.funds import fastpay, flows, periods, posting
from ledger.models import Account, AuditEntry, PaymentDocument, Posting, Transfer
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger import same_rows
from tests.world import CITY, COUNTY, DAY, PROVINCE

TABLES = (Transfer, Posting, Account)
CLOCK = {"recorded_at"}


def funded(world, amount=500_000_00):
    """The lot's money allocated down to the county, approved."""
    for frm, to, clerk, approver in [(PROVINCE, CITY, "p_clerk", "p_approver"),
                                     (CITY, COUNTY, "c_clerk", "c_approver")]:
        with transaction(world.factory) as s:
            t = flows.allocate(s, get_user(s, clerk), lot_id=world.lot_id, from_region=frm,
                               to_region=to, amount_fen=amount, effective_date=DAY,
                               key=f"alloc:{to}")
            posting.approve(s, get_user(s, approver), t.id)
    return world


def payments(s, world):
    clerk = get_user(s, "k_clerk")
    common = dict(lot_id=world.lot_id, function_code="2130505", use_code="household_subsidy",
                  county_code=COUNTY)
    got = [
        flows.pay(s, clerk, payee_code="H-001", amount_fen=100_00, key="v1",
                  effective_date=DAY, **common),                       # opens H-001's account
        flows.pay(s, clerk, payee_code="H-001", amount_fen=250_00, key="v2",
                  effective_date=DAY, memo="第二次", **common),         # the account exists
        flows.pay(s, clerk, payee_code="C-001", amount_fen=9_000_00, key="v3",
                  voucher_date=DAY, value_date=DAY + dt.timedelta(days=2),
                  invoice_number="ｆｐ 0012", contract_number="HT-9", **common),
        flows.pay(s, clerk, payee_code="H-002", amount_fen=1, key="v4",
                  voucher_date=DAY, **common),
    ]
    # the same request again is the same transfer
    again = flows.pay(s, clerk, payee_code="H-001", amount_fen=100_00, key="v1",
                      effective_date=DAY, **common)
    assert again.id == got[0].id
    return got


@pytest.fixture
def taken(monkeypatch):
    """How many payments the short path recorded."""
    counts = {"short": 0}
    real = fastpay.pay

    def counting(*args, **kwargs):
        result = real(*args, **kwargs)
        counts["short"] += result is not None
        return result
    monkeypatch.setattr(fastpay, "pay", counting)
    return counts


def test_the_short_path_writes_what_the_general_path_writes(world, monkeypatch, taken):
    funded(world)
    s = world.factory()
    since = len(s.execute(select(AuditEntry.idx)).all())
    before = same_rows.marks(s, TABLES)
    with monkeypatch.context() as m:
        m.setattr(fastpay, "_pay", _general_only)
        payments(s, world)
        s.flush()
        expected = same_rows.state(s, since, before, TABLES, CLOCK)
        expected_docs = _documents(s)
    assert taken["short"] == 0
    s.rollback()
    s.close()

    with transaction(world.factory) as s:
        got_transfers = payments(s, world)
        s.flush()
        got = same_rows.state(s, since, before, TABLES, CLOCK)
        assert _documents(s) == expected_docs == [("FP0012", "HT-9")]
        # the returned transfers are the session's rows, as the general path returns them
        assert got_transfers[2].voucher_date == DAY and got_transfers[1].memo == "第二次"
        assert s.get(Transfer, got_transfers[0].id) is got_transfers[0]
    assert taken["short"] == 4
    assert _keyed(got) == _keyed(expected)
    with transaction(world.factory) as s:
        assert verify(s, jobs=1).intact
        source = s.execute(select(Account).where(Account.holder_code == COUNTY,
                                                 Account.kind == "unit")).scalar_one()
        assert source.credits_pending == 100_00 + 250_00 + 9_000_00 + 1


def _keyed(state):
    """A payment's documents row is keyed by its transfer's id, which `same_rows` renumbers in
    the image but not in the key (PostgreSQL: the rolled-back path's ids are not given back)."""
    for body in state["entries"]:
        for row in body[7]:
            if row[0] == "payment_documents":
                row[1] = [row[4]["transfer_id"]]
    return state


def _general_only(*args, **kwargs):
    raise fastpay.Fallback


def _documents(s):
    return [(d.invoice_number, d.contract_number)
            for d in s.execute(select(PaymentDocument)).scalars()]


def refusal(world, monkeypatch, short: bool, **overrides):
    """The refusal of one payment (code and params), with or without the short path."""
    request = dict(lot_id=world.lot_id, payee_code="H-001", amount_fen=100_00,
                   function_code="2130505", use_code="household_subsidy", county_code=COUNTY,
                   effective_date=DAY, key="r1") | overrides
    actor = request.pop("actor", "k_clerk")
    with monkeypatch.context() as m:
        if not short:
            m.setattr(fastpay, "_pay", _general_only)
        with pytest.raises(LedgerError) as caught, transaction(world.factory) as s:
            flows.pay(s, get_user(s, actor), **request)
    return caught.value.code, caught.value.params


@pytest.mark.parametrize("overrides", [
    {"amount_fen": 10**14},                          # overdraft
    {"amount_fen": 0},
    {"lot_id": 999},
    {"payee_code": "NOBODY"},
    {"payee_code": 12},
    {"payee_code": "H-201"},                         # lives in the other county
    {"county_code": CITY},                           # not a county
    {"function_code": "2130599"},
    {"use_code": "banquet"},
    {"actor": "k2_clerk"},                           # another county's clerk
    {"actor": "k_approver"},                         # may not record
    {"effective_date": DAY, "voucher_date": DAY + dt.timedelta(days=1)},
    {"effective_date": "2024-03-15"},
    {"memo": "bad\x00memo"},
    {"key": "k" * 201},
    {"key": ""},
], ids=repr)
def test_refusals_are_those_of_the_general_path(world, monkeypatch, overrides, taken):
    funded(world)
    assert refusal(world, monkeypatch, True, **overrides) == \
        refusal(world, monkeypatch, False, **overrides)
    assert taken["short"] == 0


def test_a_closed_month_and_a_key_used_twice_go_the_general_way(world, monkeypatch, taken):
    funded(world)
    with transaction(world.factory) as s:
        flows.pay(s, get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code="H-001",
                  amount_fen=100_00, function_code="2130505", use_code="household_subsidy",
                  county_code=COUNTY, effective_date=DAY, key="r1")
    assert taken["short"] == 1
    same_key = {"amount_fen": 200_00}
    assert refusal(world, monkeypatch, True, **same_key) == \
        refusal(world, monkeypatch, False, **same_key)
    with transaction(world.factory) as s:
        periods.close_period(s, get_user(s, "admin"), "2024-03")
    closed = {"key": "r2"}
    assert refusal(world, monkeypatch, True, **closed) == \
        refusal(world, monkeypatch, False, **closed)
    # a voucher of the closed month with no posting date is posted today, the general way
    with transaction(world.factory) as s:
        t = flows.pay(s, get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code="H-001",
                      amount_fen=100_00, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY, voucher_date=DAY, key="r3")
        assert t.effective_date == dt.date.today()
    assert taken["short"] == 1


def test_a_savepoint_rolled_back_leaves_nothing_behind(world, taken):
    """The movements import pays each line in a savepoint: one rolled back must not leave the
    log's head, the balances or the session's objects ahead of the database."""
    funded(world)
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        common = dict(lot_id=world.lot_id, function_code="2130505",
                      use_code="household_subsidy", county_code=COUNTY, effective_date=DAY)
        flows.pay(s, clerk, payee_code="H-001", amount_fen=100_00, key="s1", **common)
        with pytest.raises(RuntimeError):
            with s.begin_nested():
                flows.pay(s, clerk, payee_code="H-002", amount_fen=200_00, key="s2", **common)
                raise RuntimeError("the line after it failed")
        t = flows.pay(s, clerk, payee_code="H-002", amount_fen=300_00, key="s3", **common)
        assert t.amount_fen == 300_00
    assert taken["short"] == 3
    with transaction(world.factory) as s:
        assert verify(s, jobs=1).intact
        keys = s.execute(select(Transfer.idempotency_key).where(
            Transfer.idempotency_key.like("s%"))).scalars().all()
        assert sorted(keys) == ["s1", "s3"]


def test_a_payment_is_a_handful_of_statements(world, engine, taken):
    funded(world)
    seen = []

    def statement(conn, cursor, sql, *rest):
        seen.append(sql)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        with transaction(world.factory) as s:
            flows.pay(s, get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code="H-001",
                      amount_fen=100_00, function_code="2130505",
                      use_code="household_subsidy", county_code=COUNTY, effective_date=DAY,
                      key="n1")
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert taken["short"] == 1
    # begin, the actor, the head, the read, hold, account, transfer, postings, entry, (nodes),
    # head; against 23 on the general path
    assert len(seen) <= 12, seen


def test_payments_that_arrive_together_are_recorded_all_or_none(world):
    """`flows.pay_many`: one transaction for several payments, each its own transfer and
    entry; a refusal of any one leaves none of them."""
    funded(world, amount=1_000_00)
    common = dict(lot_id=world.lot_id, function_code="2130505", use_code="household_subsidy",
                  county_code=COUNTY, effective_date=DAY)
    with pytest.raises(LedgerError) as refused, transaction(world.factory) as s:
        flows.pay_many(s, get_user(s, "k_clerk"), [
            dict(payee_code="H-001", amount_fen=400_00, key="b1", **common),
            dict(payee_code="H-002", amount_fen=400_00, key="b2", **common),
            dict(payee_code="H-001", amount_fen=400_00, key="b3", **common)])   # overdraft
    assert refused.value.code == "overdraft"
    with transaction(world.factory) as s:
        size = len(s.execute(select(AuditEntry.idx)).all())
        assert not s.execute(select(Transfer).where(Transfer.idempotency_key.like("b%"))).all()
        done = flows.pay_many(s, get_user(s, "k_clerk"), [
            dict(payee_code="H-001", amount_fen=400_00, key="b1", **common),
            dict(payee_code="H-002", amount_fen=400_00, key="b2", **common)])
    with transaction(world.factory) as s:
        assert [t.idempotency_key for t in done] == ["b1", "b2"]
        assert len(s.execute(select(AuditEntry.idx)).all()) == size + 2
        assert verify(s, jobs=1).intact
