"""A roll paid all at once (ledger.rolls.payments) writes exactly what paying it line by line
through flows.pay and posting.approve writes: the same rows, balances and audit entries, entry
for entry, apart from the clock. Both paths run from the same state (the one-line path in a
transaction that is rolled back), on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core import clock
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.errors import Overdraft, PermissionDenied
from ledger.funds import flows, posting
from ledger.imports.bank import import_bank_results
from ledger.imports.csvfile import ImportProblems
from ledger.models import (
    Account,
    Approval,
    AuditEntry,
    PaymentRoll,
    Posting,
    RollEvent,
    RollEventKind,
    RollLine,
    Transfer,
)
from ledger.models.alerts import Alert, AlertEvent
from ledger.org.regions import get_user
from ledger.rolls import lifecycle as rolls
from ledger.rolls import payments as roll_payments
from ledger.rolls import settlement
from ledger.rolls.settlement import BankLine
from ledger.store.context import LedgerContext
from ledger.store.db import transaction
from tests.ledger import same_rows
from tests.ledger.alerts.helpers import Town, idn
from tests.world import COUNTY

PUBLISHED, APPROVED = dt.date(2024, 3, 18), dt.date(2024, 3, 28)
# What the two paths may differ in: the clock, and an alert's finding, which names the
# transfer by its raw id (different on PostgreSQL, see `state`).
CLOCK = {"recorded_at", "decided_at", "first_seen", "at", "finding", "finding_hash"}


def people(town, count):
    codes = []
    for n in range(count):
        code = f"HH-{n:03d}"
        # One head died in 2023: that line raises BEN-01 as it is paid (the one-line path).
        died = dt.date(2023, 5, 1) if n == 3 else None
        town.household(code, [(f"户主{n}", "户主", idn(100 + n), died)])
        codes.append(code)
    return codes


def approved_roll(world, codes, code="R-1"):
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        rolls.create_roll(s, clerk, code=code, lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=300_00, lines=[(c, 1 + n % 3) for n, c in enumerate(codes)],
                          as_of=PUBLISHED)
        with clock.at(PUBLISHED):   # each step recorded on its day (ledger.core.clock)
            rolls.publish(s, clerk, code, PUBLISHED)
        with clock.at(APPROVED):
            rolls.approve_roll(s, get_user(s, "k_approver"), code, APPROVED, 7)


def one_line_send(s, clerk, code):
    """How rolls.send paid a roll before the batch path: flows.pay for each line."""
    roll = rolls.get_roll(s, code)
    for line in rolls.roll_lines(s, roll):
        flows.pay(s, clerk, lot_id=roll.lot_id, payee_code=line.household_code,
                  amount_fen=line.amount_fen, function_code=roll.function_code,
                  use_code=roll.use_code, county_code=roll.county_code, effective_date=APPROVED,
                  key=f"roll:{code}:{line.line_no}", memo=f"{roll.item} {code}", _roll_line=True)
    roll_payments.add_event(s, clerk, roll, RollEventKind.SENT, APPROVED,
                            f"{len(roll_lines(s))} 行送银行")


def roll_lines(s):
    return s.execute(select(RollLine)).scalars().all()


TABLES = (Transfer, Posting, Account, Approval, RollEvent, Alert, AlertEvent)


def marks(s) -> dict:
    return same_rows.marks(s, TABLES)


def state(s, since: int, before: dict) -> dict:
    return same_rows.state(s, since, before, TABLES, CLOCK)


def size(s) -> int:
    return len(s.execute(select(AuditEntry.idx)).all())


def test_a_roll_sent_and_settled_at_once_writes_what_line_by_line_writes(world):
    town = Town(world)
    codes = people(town, 12)
    approved_roll(world, codes)
    results = [BankLine(n + 1, 300_00 * (1 + n % 3), n != 5, "户名不符" if n == 5 else "",
                        f"YH{n:04d}", code) for n, code in enumerate(codes)]
    # Line by line, then rolled back …
    s = world.factory()
    since, before = size(s), marks(s)
    one_line_send(s, get_user(s, "k_clerk"), "R-1")
    approver = get_user(s, "k_approver")
    roll = rolls.get_roll(s, "R-1")
    for r, line in zip(results, rolls.roll_lines(s, roll)):
        transfer = rolls.transfer_of(s, roll, line)
        if r.paid:
            posting.approve(s, approver, transfer.id, f"银行已支付 {r.voucher}")
        else:
            posting.reject(s, approver, transfer.id, f"退票: {r.reason}")
            rolls.add_event(s, approver, roll, RollEventKind.RETURNED, dt.date.today(),
                            f"退票: {r.reason}", line)
    s.flush()
    expected = state(s, since, before)
    s.rollback()
    s.close()
    # … then the same roll at once, from the same state.
    with transaction(world.factory) as s:
        sent = rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
        assert [line.line_no for line, _ in sent] == list(range(1, 13))
    with transaction(world.factory) as s:
        outcomes, problems = settlement.settle(
            s, get_user(s, "k_approver"), rolls.get_roll(s, "R-1"), results)
        assert problems == [] and outcomes.count("posted") == 11 and "returned" in outcomes
    with transaction(world.factory) as s:
        got = state(s, since, before)
        assert verify(s).intact
        # … and the bank's lines themselves, recorded after the payments, in entries of their
        # own (ledger.rolls.settlement), agreeing with the roll.
        recorded = settlement.bank_lines(s, rolls.get_roll(s, "R-1"))
        assert [(b.line_no, b.paid, b.differences) for b in recorded] == [
            (n + 1, n != 5, "") for n in range(12)]
    kinds = [body[6] for body in got["entries"]]
    assert kinds[-1] == "roll.bank_results" and "roll.bank_results" not in expected
    got["entries"] = [body for body in got["entries"] if body[6] != "roll.bank_results"]
    for part in expected:
        assert got[part] == expected[part], part
    assert len(got["alerts"]) == 1   # BEN-01 for H-003, raised in its payment's own entry


def test_a_malformed_bank_file_settles_nothing_and_names_the_line(world, tmp_path):
    """What the bank did is recorded whatever it was (tests/ledger/test_bank_results.py); a
    file that contradicts itself is refused whole, naming the line."""
    town = Town(world)
    codes = people(town, 5)
    approved_roll(world, codes)
    with transaction(world.factory) as s:
        rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
    path = tmp_path / "bank.csv"
    path.write_text("序号,户编码,金额,结果,失败原因,银行流水号\n"
                    "1,HH-000,300.00,成功,,YH1\n"
                    "2,HH-001,600.00,成功,,YH2\n"
                    "3,HH-002,900.01,成功,,YH3\n"        # not what the roll approved
                    "2,HH-001,600.00,失败,卡号错误,\n"   # contradicts line 3 of the file
                    "9,HH-009,300.00,成功,,YH9\n", encoding="utf-8")
    with transaction(world.factory) as s:
        before, approvals = size(s), len(s.execute(select(Approval)).all())
        with pytest.raises(ImportProblems) as caught:
            import_bank_results(s, get_user(s, "k_approver"), "R-1", path)
    text = str(caught.value)
    assert "bank.csv, line 5: line 2 is in the bank file twice (also at file line 3)" in text
    assert len(caught.value.problems) == 1
    with transaction(world.factory) as s:
        assert size(s) == before and len(s.execute(select(Approval)).all()) == approvals


def test_the_sender_cannot_settle_and_an_overdraft_sends_nothing(world):
    town = Town(world)
    codes = people(town, 4)
    approved_roll(world, codes)
    with transaction(world.factory) as s:
        rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
    with pytest.raises(PermissionDenied, match="may not approve"):
        with transaction(world.factory) as s:
            settlement.settle(s, get_user(s, "k_clerk"), rolls.get_roll(s, "R-1"),
                              [BankLine(1, 300_00, True)])
    # A second roll asking for more than the county has left: nothing of it is recorded.
    with transaction(world.factory) as s:
        available = s.execute(select(Account).where(Account.holder_code == COUNTY)) \
            .scalar_one().available
    big = [f"HH-{n:03d}" for n in range(3)]   # HH-003 (dead head) is paid one by one
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        rolls.create_roll(s, clerk, code="R-BIG", lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=available // 2, lines=[(c, 1) for c in big],
                          as_of=PUBLISHED)
        with clock.at(PUBLISHED):
            rolls.publish(s, clerk, "R-BIG", PUBLISHED)
        with clock.at(APPROVED):
            rolls.approve_roll(s, get_user(s, "k_approver"), "R-BIG", APPROVED, 7)
    with transaction(world.factory) as s:
        before = size(s)
    with pytest.raises(Overdraft, match="roll R-BIG needs"):
        with transaction(world.factory) as s:
            rolls.send(s, get_user(s, "k_clerk"), "R-BIG", APPROVED)
    with transaction(world.factory) as s:
        assert size(s) == before
        roll = s.execute(select(PaymentRoll).where(PaymentRoll.code == "R-BIG")).scalar_one()
        assert not any(e.kind is RollEventKind.SENT for e in rolls._events(s, roll))
        assert verify(s).intact


def test_sending_again_sends_only_what_is_new(world):
    town = Town(world)
    codes = people(town, 4)
    approved_roll(world, codes)
    with transaction(world.factory) as s:
        first = rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
    with transaction(world.factory) as s:
        again = rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
        count = len(s.execute(select(Transfer)).all())
    assert len(first) == 4 and again == []
    # flows.pay under a line's key returns the recorded payment: the request is the same.
    with transaction(world.factory) as s:
        roll = rolls.get_roll(s, "R-1")
        line = rolls.roll_lines(s, roll)[0]
        t = flows.pay(s, get_user(s, "k_clerk"), lot_id=roll.lot_id,
                      payee_code=line.household_code, amount_fen=line.amount_fen,
                      function_code=roll.function_code, use_code=roll.use_code,
                      county_code=COUNTY, effective_date=APPROVED, key="roll:R-1:1",
                      memo=f"{roll.item} R-1", _roll_line=True)
        assert t.id == first[0][1].id and len(s.execute(select(Transfer)).all()) == count
        assert posting.decision_of(s, t.id) is None


def test_a_roll_with_a_blacklisted_household_is_refused_whole_where_configured(world):
    from ledger.core.errors import PaymentRefused
    from ledger.registers.external import ListKind, ListRecord
    town = Town(world)
    codes = people(town, 4)
    approved_roll(world, codes)
    town.listing(ListKind.BLACKLIST, [ListRecord(2, "户主2", org="冒领",
                                                 date_from=dt.date(2024, 1, 1))])
    world.factory.configure(
        info=LedgerContext(DEMO_LOG_ORIGIN, refuse_blacklisted_payees=True).as_info())
    try:
        with pytest.raises(PaymentRefused, match="HH-002"):
            with transaction(world.factory) as s:
                rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)
    finally:
        world.factory.configure(info=LedgerContext(DEMO_LOG_ORIGIN).as_info())
    with transaction(world.factory) as s:
        assert s.execute(select(Transfer).where(
            Transfer.idempotency_key.like("roll:%"))).all() == []
        assert len(rolls.send(s, get_user(s, "k_clerk"), "R-1", APPROVED)) == 4
