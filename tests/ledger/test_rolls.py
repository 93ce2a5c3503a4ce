"""A household payment roll from the clerk's side: create, publish, object, approve, send to the
bank, read the bank's results — with every balance checked, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from ledger.funds import balances
from ledger.models import AccountKind, PaymentRoll
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, write
from tests.ledger.test_invariants import down_to_county
from tests.world import COUNTY, VILLAGE

PUBLISHED = dt.date(2024, 3, 18)          # a Monday
EARLIEST = dt.date(2024, 3, 28)           # after 7 working days on the board


def county_with_households(cli, world, tmp_path):
    """The command line on a world whose county holds 1,000,000 yuan of the lot, with the
    households of tests/ledger/test_import_households.py and two more imported."""
    down_to_county(world, 100_000_00)
    run = cli
    run.lot = world.lot_id
    extra = (f"H-103,{VILLAGE},李四,清退,2019-05-01,6222021234567890999,\n"
             f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n")
    assert run("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS + extra))[0] == 0
    return run


@pytest.fixture
def ft(cli, db_url, world, tmp_path):
    return county_with_households(cli, world, tmp_path)


def unit_and_payees(world):
    with transaction(world.factory) as s:
        rows = balances.account_balances(s, lot_id=world.lot_id)
    return ({r.holder: r.balance for r in rows if r.kind == AccountKind.UNIT.value},
            {r.holder: r.balance for r in rows if r.kind == AccountKind.PAYEE.value})


def test_a_roll_from_board_to_bank(ft, world, tmp_path):
    lines = write(tmp_path, "lines.csv", "户编码,数量\nH-100,2\nH-101,1\nH-104,3\n", "gb18030")
    roll = ["--as", "k_clerk", "roll"]
    create = [*roll, "create", "R-2024-01", "--lot", ft.lot, "--county", COUNTY, "--item",
              "产业奖补", "--function-code", "2130505", "--use", "household_subsidy",
              "--standard", "500.00", "--lines", lines, "--date", "2024-03-15"]
    assert ft(*create)[0] == 0
    assert ft(*create)[0] == 0  # the same roll again changes nothing

    code, _, err = ft("--as", "k_approver", "roll", "approve", "R-2024-01", "--date",
                      "2024-03-20")
    assert code == 2 and "has not been published" in err
    assert ft(*roll, "publish", "R-2024-01", "--date", PUBLISHED)[0] == 0
    code, _, err = ft("--as", "k_approver", "roll", "approve", "R-2024-01", "--date",
                      "2024-03-27")
    assert code == 2 and f"can be approved from {EARLIEST}" in err
    code, _, err = ft(*roll, "approve", "R-2024-01", "--date", EARLIEST)
    assert code == 2 and "may not approve" in err
    assert ft(*roll, "object", "R-2024-01", "--household", "H-104", "--comment",
              "村民反映该户已外出务工多年", "--date", "2024-03-20")[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-2024-01", "--date", EARLIEST)[0] == 0

    code, out, err = ft(*roll, "send", "R-2024-01", "-o", "bank.csv", "--date", "2024-03-29")
    assert code == 0 and "2 payments" in out, err     # the held line is not sent
    bank = list(csv.reader(io.StringIO((tmp_path / "bank.csv").read_bytes().decode("gb18030"))))
    assert bank[0] == ["序号", "户编码", "户主姓名", "银行卡号", "金额"]
    assert bank[1] == ["1", "H-100", "赵大", "6222021234567890123", "1000.00"]
    assert oct((tmp_path / "bank.csv").stat().st_mode)[-3:] == "600"
    units, payees = unit_and_payees(world)
    assert units[COUNTY] == 100_000_00  # pending: nothing posted until the bank answers

    results = write(tmp_path, "result.csv", "序号,户编码,金额,结果,失败原因,银行流水号\n"
                    "1,H-100,1000.00,成功,,B20240329001\n2,H-101,500.00,失败,卡号已注销,\n",
                    "gb18030")
    code, out, err = ft("--as", "k_approver", "import-bank-results", results, "--roll",
                        "R-2024-01", "--json")
    assert code == 0, err
    assert json.loads(out) == {"posted": 1, "returned": 1, "recorded": 0, "unchanged": 0,
                               "differences": 0}
    units, payees = unit_and_payees(world)
    assert units[COUNTY] == 100_000_00 - 1_000_00 and payees == {"H-100": 1_000_00}
    assert ft("--as", "k_approver", "import-bank-results", results, "--roll",
              "R-2024-01")[0] == 0  # the same file again: unchanged

    # the objection is dismissed: the held line can now be sent
    assert ft("--as", "k_approver", "roll", "resolve", "R-2024-01", "--household", "H-104",
              "--dismissed", "--comment", "核实仍在村居住")[0] == 0
    code, out, _ = ft(*roll, "send", "R-2024-01", "-o", "bank2.csv", "--date", "2024-04-01")
    assert code == 0 and "1 payments" in out  # only the released line; the others went before
    bank2 = (tmp_path / "bank2.csv").read_bytes().decode("gb18030").splitlines()
    assert len(bank2) == 2 and bank2[1].startswith("3,H-104,")

    # the returned line (退票) is paid again through a new roll with the same item and standard
    code, out, err = ft(*roll, "repay", "R-2024-01", "--new", "R-2024-01-补发", "--date",
                        "2024-04-01")
    assert code == 0 and "1 returned lines" in out, err
    with transaction(world.factory) as s:
        from ledger.rolls import lifecycle as rolls
        again = rolls.get_roll(s, "R-2024-01-补发")
        assert [(line.household_code, line.amount_fen)
                for line in rolls.roll_lines(s, again)] == [("H-101", 500_00)]
    code, _, err = ft(*roll, "repay", "R-2024-01-补发", "--new", "R-x", "--date", "2024-04-01")
    assert code == 2 and "no lines returned by the bank" in err
    # a returned line is repaid once: the same repayment again is the same roll, another is refused
    assert ft(*roll, "repay", "R-2024-01", "--new", "R-2024-01-补发", "--date",
              "2024-04-01")[0] == 0
    code, _, err = ft(*roll, "repay", "R-2024-01", "--new", "R-2024-01-再补", "--date",
                      "2024-04-02")
    assert code == 2 and "not already repaid" in err
    # an approver's rejection of a sent line (not a bank return) is not offered for repayment
    with transaction(world.factory) as s:
        from ledger.rolls import lifecycle as rolls
        from ledger.rolls.lifecycle import transfer_of
        again = rolls.get_roll(s, "R-2024-01-补发")
        assert rolls.failed_lines(s, again) == []
        h104 = next(line for line in rolls.roll_lines(s, rolls.get_roll(s, "R-2024-01"))
                    if line.household_code == "H-104")
        pending = transfer_of(s, rolls.get_roll(s, "R-2024-01"), h104)
    assert ft("--as", "k_approver", "reject", pending.id, "--comment", "查实虚报冒领，拒付")[0] == 0
    code, _, err = ft(*roll, "repay", "R-2024-01", "--new", "R-2024-01-x", "--date", "2024-04-02")
    assert code == 2 and "no lines returned by the bank" in err


def test_a_household_without_a_bank_card_cannot_be_on_a_roll(ft, tmp_path):
    lines = write(tmp_path, "lines.csv", "户编码\nH-102\n")
    code, _, err = ft("--as", "k_clerk", "roll", "create", "R-4", "--lot", ft.lot, "--county",
                      COUNTY, "--item", "x", "--function-code", "2130505", "--use",
                      "household_subsidy", "--standard", "1", "--lines", lines)
    assert code == 2 and "no bank card" in err


def test_bank_results_that_disagree_with_the_roll_are_recorded_not_refused(ft, world,
                                                                          tmp_path):
    lines = write(tmp_path, "lines.csv", "household_code\nH-100\nH-101\n")
    roll = ["--as", "k_clerk", "roll"]
    ft(*roll, "create", "R-2", "--lot", ft.lot, "--county", COUNTY, "--item", "教育补助",
       "--function-code", "2130505", "--use", "household_subsidy", "--standard", "300",
       "--lines", lines, "--date", "2024-03-15")
    ft(*roll, "publish", "R-2", "--date", PUBLISHED)
    ft("--as", "k_approver", "roll", "approve", "R-2", "--date", EARLIEST)
    ft(*roll, "send", "R-2", "-o", "bank.csv", "--date", EARLIEST)
    results = write(tmp_path, "r.csv", "line_no,household_code,amount,result\n"
                    "1,H-100,300.00,paid\n2,H-101,3000.00,paid\n")
    code, out, err = ft("--as", "k_approver", "import-bank-results", results, "--roll", "R-2",
                        "--json")
    assert code == 0, err
    assert json.loads(out)["differences"] == 1
    units, payees = unit_and_payees(world)
    # The bank sent 3,000 for a 300 line: the line is paid, the 2,700 beyond it is a
    # receivable of the lot (pending a colleague's approval), nothing is refused.
    assert payees == {"H-100": 300_00, "H-101": 300_00}


def test_ineligible_households_cannot_be_put_on_a_roll(ft, tmp_path):
    lines = write(tmp_path, "lines.csv", "户编码\nH-100\nH-103\n")
    code, _, err = ft("--as", "k_clerk", "roll", "create", "R-3", "--lot", ft.lot, "--county",
                      COUNTY, "--item", "x", "--function-code", "2130505", "--use",
                      "household_subsidy", "--standard", "1", "--lines", lines)
    assert code == 2 and "line 2 (H-103): the household is removed" in err


def test_every_refused_line_is_named_at_once_and_the_lot_by_its_document(ft, world, tmp_path):
    """A clerk fixes the file once: a roll with three bad lines names all three, creates
    nothing, and the lot may be named by the document that opened it (as the money files
    name it)."""
    lines = write(tmp_path, "lines.csv", "户编码\nH-100\nH-102\nH-103\nH-999\n")
    create = ["--as", "k_clerk", "roll", "create", "R-6", "--lot", "财农〔2024〕12号",
              "--county", COUNTY, "--item", "x", "--function-code", "2130505", "--use",
              "household_subsidy", "--standard", "1", "--lines", lines, "--date", "2024-03-15"]
    code, _, err = ft(*create)
    assert code == 2
    for named in ("line 2 (H-102)", "line 3 (H-103)", "line 4 (H-999)"):
        assert named in err
    assert "line 1 (H-100)" not in err
    with transaction(world.factory) as s:   # nothing was created
        assert s.execute(select(PaymentRoll).where(PaymentRoll.code == "R-6")).first() is None
    ok = write(tmp_path, "ok.csv", "户编码\nH-100\n")
    create[create.index(lines)] = ok
    assert ft(*create)[0] == 0
    with transaction(world.factory) as s:
        assert s.execute(select(PaymentRoll.lot_id).where(PaymentRoll.code == "R-6")
                         ).scalar_one() == world.lot_id


def test_another_county_cannot_send_or_reconcile_a_roll(ft, tmp_path):
    lines = write(tmp_path, "lines.csv", "户编码\nH-100\n")
    roll = ["--as", "k_clerk", "roll"]
    ft(*roll, "create", "R-5", "--lot", ft.lot, "--county", COUNTY, "--item", "x",
       "--function-code", "2130505", "--use", "household_subsidy", "--standard", "1",
       "--lines", lines, "--date", "2024-03-15")
    ft(*roll, "publish", "R-5", "--date", PUBLISHED)
    ft("--as", "k_approver", "roll", "approve", "R-5", "--date", EARLIEST)
    for user, command in (("k2_clerk", ["roll", "send", "R-5", "-o", "b.csv"]),
                          ("k2_clerk", ["roll", "publish", "R-5"]),
                          ("k2_approver", ["roll", "approve", "R-5"])):
        code, _, err = ft("--as", user, *command)
        assert code == 2 and "may not" in err, (user, command, err)
    results = write(tmp_path, "r.csv", "line_no,household_code,amount,result\n1,H-100,1,paid\n")
    code, _, err = ft("--as", "k2_approver", "import-bank-results", results, "--roll", "R-5")
    assert code == 2 and "may not approve in region 430121" in err


def test_review_findings_on_rolls_stay_fixed(ft, world, tmp_path):
    """Roll keys are reserved; no objection once sent; no future dates; bank rows must match."""
    from ledger.core.errors import LedgerError
    from ledger.funds import flows
    from tests.ledger.test_invariants import u
    lines = write(tmp_path, "lines.csv", "户编码\nH-100\nH-101\n")
    roll = ["--as", "k_clerk", "roll"]
    ft(*roll, "create", "R-6", "--lot", ft.lot, "--county", COUNTY, "--item", "x",
       "--function-code", "2130505", "--use", "household_subsidy", "--standard", "500",
       "--lines", lines, "--date", "2024-03-15")
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="belong to payment rolls"):
            flows.pay(s, u(s, "k_clerk"), lot_id=world.lot_id, payee_code="C-001",
                      amount_fen=900_00, function_code="2130505", use_code="industry",
                      county_code=COUNTY, effective_date=dt.date(2024, 3, 15), key="roll:R-6:1")
    ft(*roll, "publish", "R-6", "--date", PUBLISHED)
    code, _, err = ft("--as", "k_approver", "roll", "approve", "R-6", "--date", "2099-01-01")
    assert code == 2 and "in the future" in err
    ft("--as", "k_approver", "roll", "approve", "R-6", "--date", EARLIEST)
    code, _, err = ft(*roll, "send", "R-6", "-o", "b.csv", "--date", "2024-03-18")
    assert code == 2 and "before that" in err
    assert ft(*roll, "send", "R-6", "-o", "b.csv", "--date", EARLIEST)[0] == 0
    code, _, err = ft(*roll, "object", "R-6", "--household", "H-101", "--comment", "x")
    assert code == 2 and "already with the bank" in err
    wrong = write(tmp_path, "r.csv", "line_no,household_code,amount,result\n1,H-101,500,paid\n")
    code, out, err = ft("--as", "k_approver", "import-bank-results", wrong, "--roll", "R-6",
                        "--json")
    assert code == 0 and json.loads(out)["differences"] == 1, err   # recorded, flagged
