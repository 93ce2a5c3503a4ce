"""Rolls as counties keep them (issue 17), from the clerk's side with real files, on SQLite and
PostgreSQL: the standards table imported per county, a roll of two items priced from it, a
per-mu line of 2.5 亩, two members of one household on a per-person item, an amount the county
kept that differs from the standard (recorded, the standard kept beside it), a missing
standard refused, a line withdrawn before sending and never sent."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.core.quantity import QuantityError, amount_fen, format_quantity, parse_quantity
from ledger.models.rolls import PolicyStandard, StandardPer, StandardTier
from ledger.rolls import lifecycle as rolls
from ledger.rolls.lifecycle import LineSpec
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write
from tests.ledger.test_invariants import down_to_county, u
from tests.ledger.test_rolls import EARLIEST, PUBLISHED, unit_and_payees
from tests.world import COUNTY, VILLAGE

STANDARDS = (
    "县级区划代码,补助项目,户类别,年度,补助标准,计量单位,发放对象,功能科目,执行日期,文号\n"
    f"{COUNTY},产业奖补,一般户,2024,300.00,亩,按户,2130505,2024-01-10,县农发〔2024〕3号\n"
    f"{COUNTY},产业奖补,监测户,2024,400,亩,按户,2130505,2024-01-10,县农发〔2024〕3号\n"
    f"{COUNTY},雨露计划,一般户,2024,1500,学期,按人,2130505,,\n"
)
# Two items; a per-mu line of 2.5 亩; two members of H-100 on the per-person item (by ID
# number); H-104 (监测户) with the amount as the county kept it (1.25 亩 × 400 = 500.00, kept
# as 520.00); H-101 at 3 亩, withdrawn before sending.
LINES_HEADER = ["户编码", "补助项目", "户类别", "年度", "数量", "成员身份证号", "金额"]
LINES = [
    ["H-100", "产业奖补", "一般户", "2024", "2.5", "", ""],
    ["H-100", "雨露计划", "一般户", "2024", "1", idn(12, "20050303"), ""],
    ["H-100", "雨露计划", "一般户", "2024", "1.00", idn(11), ""],
    ["H-104", "产业奖补", "监测户", "2024", "1.25", "", "520.00"],
    ["H-101", "产业奖补", "一般户", "2024", "3", "", ""],
]


def lines_file(tmp_path, form: str):
    if form == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(LINES_HEADER)
        for row in LINES:
            sheet.append(row)
        path = tmp_path / "lines.xlsx"
        book.save(path)
        return path
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LINES_HEADER)
    writer.writerows(LINES)
    return write(tmp_path, "lines.csv", out.getvalue(), form)


@pytest.fixture
def county(cli, db_url, world, tmp_path):
    down_to_county(world, 100_000_00)
    run = cli
    run.lot = world.lot_id
    extra = f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n"
    assert run("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS + extra))[0] == 0
    assert run("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", MEMBERS))[0] == 0
    return run


CREATE = ["--as", "k_clerk", "roll", "create", "R-2024-07", "--function-code", "2130505",
          "--use", "household_subsidy", "--county", COUNTY, "--date", "2024-03-15"]


def test_quantities_are_hundredths_and_amounts_round_half_up():
    assert [parse_quantity(t) for t in ("2.5", "2.50", "3", "２.３５", " 0.01 ", ".5")] == \
        [250, 250, 300, 235, 1, 50]
    for bad in ("", "2.345", "-1", "0", "1e2", "1,000", "2.5亩", "nan", "0.00"):
        with pytest.raises(QuantityError):
            parse_quantity(bad)
    assert parse_quantity("2.500") == 250
    assert [format_quantity(n) for n in (250, 300, 235, 1)] == ["2.5", "3", "2.35", "0.01"]
    assert amount_fen(300_00, 250) == 750_00
    assert amount_fen(333, 250) == 833            # 8.325 → 8.33 (half up)
    assert amount_fen(1, 50) == 1 and amount_fen(1, 49) == 0


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_the_standards_table_is_imported_per_county(county, world, tmp_path, encoding):
    path = write(tmp_path, "standards.csv", STANDARDS, encoding)
    code, out, err = county("--as", "k_clerk", "import", "standards", path)
    assert code == 0, err
    assert county("--as", "k_clerk", "import", "standards", path)[0] == 0   # unchanged
    # a correction is a new row; the later one is in force, the first is kept
    fixed = write(tmp_path, "fix.csv", STANDARDS.splitlines()[0] + "\n"
                  f"{COUNTY},产业奖补,一般户,2024,320.00,亩,按户,2130505,2024-02-01,\n", encoding)
    assert county("--as", "k_clerk", "import", "standards", fixed)[0] == 0
    with transaction(world.factory) as s:
        rows = s.execute(select(PolicyStandard).order_by(PolicyStandard.id)).scalars().all()
        assert len(rows) == 4
        assert (rows[0].item, rows[0].tier, rows[0].standard_fen, rows[0].basis, rows[0].per,
                rows[0].doc_number) == ("产业奖补", StandardTier.BASIC, 300_00, "亩",
                                        StandardPer.HOUSEHOLD, "县农发〔2024〕3号")
        assert rows[2].per is StandardPer.PERSON and rows[2].effective_date is None
        from ledger.rolls.standards import standards_in_force
        now = standards_in_force(s, COUNTY)
        assert now[("产业奖补", StandardTier.BASIC, 2024)].standard_fen == 320_00
        assert verify(s).intact
    bad = write(tmp_path, "bad.csv", STANDARDS.splitlines()[0] + "\n"
                f"{VILLAGE},产业奖补,贫困户,2024,0,亩,按月,2130505,,\n", encoding)
    code, _, err = county("--as", "k_clerk", "import", "standards", bad)
    assert code == 2 and "户类别" in err and "补助标准" in err and "发放对象" in err


@pytest.mark.parametrize("form", ["utf-8", "gb18030", "xlsx"])
def test_a_roll_of_two_items_as_the_county_keeps_it(county, world, tmp_path, form):
    assert county("--as", "k_clerk", "import", "standards",
                  write(tmp_path, "s.csv", STANDARDS))[0] == 0
    create = [*CREATE, "--lot", county.lot, "--lines", lines_file(tmp_path, form)]
    code, out, err = county(*create)
    assert code == 0 and "5 lines" in out, err
    assert county(*create)[0] == 0          # the same roll again changes nothing
    with transaction(world.factory) as s:
        roll = rolls.get_roll(s, "R-2024-07")
        assert roll.item == "产业奖补、雨露计划" and roll.standard_fen == 0
        got = [(x.household_code, x.item, x.tier, x.quantity, x.quantity_centi, x.standard_fen,
                x.computed_fen, x.amount_fen, x.member_id is not None)
               for x in rolls.roll_lines(s, roll)]
        assert got == [
            ("H-100", "产业奖补", "basic", None, 250, 300_00, 750_00, 750_00, False),
            ("H-100", "雨露计划", "basic", None, 100, 1500_00, 1500_00, 1500_00, True),
            ("H-100", "雨露计划", "basic", None, 100, 1500_00, 1500_00, 1500_00, True),
            # the county's amount is recorded; the standard and its amount stay beside it
            ("H-104", "产业奖补", "monitored", None, 125, 400_00, 500_00, 520_00, False),
            ("H-101", "产业奖补", "basic", None, 300, 300_00, 900_00, 900_00, False),
        ]
        members = [x.member_id for x in rolls.roll_lines(s, roll)][1:3]
        assert len(set(members)) == 2
        assert all(x.standard_id is not None for x in rolls.roll_lines(s, roll))
        assert verify(s).intact

    roll = ["--as", "k_clerk", "roll"]
    code, _, err = county(*roll, "withdraw", "R-2024-07", "--line", "5", "--reason",
                          "该户已流转土地，重复申报", "--date", "2024-03-16")
    assert code == 0, err
    assert county(*roll, "publish", "R-2024-07", "--date", PUBLISHED)[0] == 0
    assert county("--as", "k_approver", "roll", "approve", "R-2024-07", "--date",
                  EARLIEST)[0] == 0
    code, out, err = county(*roll, "send", "R-2024-07", "-o", "bank.csv", "--date", EARLIEST)
    assert code == 0 and "4 payments" in out, err
    bank = list(csv.reader(io.StringIO((tmp_path / "bank.csv").read_bytes().decode("gb18030"))))
    assert [(r[0], r[1], r[4]) for r in bank[1:]] == [
        ("1", "H-100", "750.00"), ("2", "H-100", "1500.00"), ("3", "H-100", "1500.00"),
        ("4", "H-104", "520.00")]                       # line 5 was withdrawn: never sent
    results = write(tmp_path, "result.csv", "序号,户编码,金额,结果,失败原因,银行流水号\n"
                    "1,H-100,750.00,成功,,B1\n2,H-100,1500.00,成功,,B2\n"
                    "3,H-100,1500.00,成功,,B3\n4,H-104,520.00,成功,,B4\n", "gb18030")
    code, _, err = county("--as", "k_approver", "import-bank-results", results, "--roll",
                          "R-2024-07")
    assert code == 0, err
    units, payees = unit_and_payees(world)
    assert payees == {"H-100": 3750_00, "H-104": 520_00}
    assert units[COUNTY] == 100_000_00 - 4270_00
    # a withdrawn line cannot be withdrawn again, and a sent one not at all
    code, _, err = county(*roll, "withdraw", "R-2024-07", "--line", "1", "--reason", "x")
    assert code == 2 and "already with the bank" in err

    assert county("--as", "k_clerk", "report", "contact", "--region", COUNTY, "--office",
                  "县纪委监委", "--phone", "0731-12345678")[0] == 0
    with transaction(world.factory) as s:
        assert verify(s).intact
        from ledger.disclosure.content import roll_notice
        notice = roll_notice(s, PiiVault.from_env(), "R-2024-07", VILLAGE, PUBLISHED,
                             PUBLISHED + dt.timedelta(days=10), 2**62)
        rows = notice["tables"][0]["rows"]
        assert [(r[4], r[5], r[6], r[7]) for r in rows] == [
            ("产业奖补", "300.00", "2.5 亩", "750.00"), ("雨露计划", "1,500.00", "1 学期",
                                                       "1,500.00"),
            ("雨露计划", "1,500.00", "1 学期", "1,500.00"),
            ("产业奖补", "400.00", "1.25 亩", "520.00"), ("产业奖补", "300.00", "3 亩", "0.00")]
        assert rows[4][8] == "已撤销"
        fields = dict(notice["fields"])
        assert "产业奖补（一般户）300.00 元/亩" in fields["补助标准"]
        assert fields["本村户数"] == "3 户"


def _services_roll(s, lines, code="R-S", **kw):
    args = dict(code=code, lot_id=kw.pop("lot"), county_code=COUNTY, item=None,
                function_code="2130505", use_code="household_subsidy", standard_fen=None,
                lines=lines, as_of=dt.date(2024, 3, 15), vault=PiiVault.from_env())
    args.update(kw)
    return rolls.create_roll(s, u(s, "k_clerk"), **args)


def test_lines_that_cannot_be_priced_are_refused_by_code(county, world, tmp_path):
    assert county("--as", "k_clerk", "import", "standards",
                  write(tmp_path, "s.csv", STANDARDS))[0] == 0
    cases = [
        ([LineSpec("H-100", 100, "教育补助", "basic", 2024)], "roll_line_no_standard",
         {"line": 1, "household": "H-100", "item": "教育补助", "tier": "basic", "year": 2024,
          "county": COUNTY}),
        ([LineSpec("H-100", 100, "产业奖补", year=2023)], "roll_line_no_standard",
         {"line": 1, "household": "H-100", "item": "产业奖补", "tier": "basic", "year": 2023,
          "county": COUNTY}),
        ([LineSpec("H-100", 100, "雨露计划")], "roll_line_member_needed",
         {"line": 1, "household": "H-100", "item": "雨露计划"}),
        ([LineSpec("H-101", 100, "雨露计划", member_id_number=idn(11))],
         "roll_line_member_unknown", {"line": 1, "household": "H-101"}),
        ([LineSpec("H-100", 100, "产业奖补"), LineSpec("H-100", 250, "产业奖补")],
         "roll_line_duplicate", {"line": 2, "household": "H-100"}),
        ([LineSpec("H-100", 100)], "roll_line_no_item", {"line": 1, "household": "H-100"}),
        ([LineSpec("H-100", 0, "产业奖补")], "roll_line_quantity",
         {"line": 1, "household": "H-100", "value": "0"}),
    ]
    for lines, code, params in cases:
        with transaction(world.factory) as s:
            with pytest.raises(LedgerError) as caught:
                _services_roll(s, lines, lot=world.lot_id)
            assert (caught.value.code, caught.value.params) == (code, params), lines
    # a line that gives the amount needs no standard: recorded as the county kept it
    with transaction(world.factory) as s:
        roll = _services_roll(s, [LineSpec("H-100", 100, "教育补助", amount_fen=800_00)],
                              lot=world.lot_id)
        line = rolls.roll_lines(s, roll)[0]
        assert (line.amount_fen, line.standard_id, line.standard_fen, line.computed_fen) == \
            (800_00, None, None, None)


def test_the_old_spelling_and_a_decimal_quantity_at_the_rolls_standard(county, world):
    with transaction(world.factory) as s:
        roll = _services_roll(s, [("H-100", 2), LineSpec("H-101", 250)], code="R-OLD",
                              lot=world.lot_id, item="产业奖补", standard_fen=333)
        lines = rolls.roll_lines(s, roll)
        assert [(x.quantity, x.quantity_centi, x.amount_fen, x.item) for x in lines] == \
            [(2, None, 666, None), (None, 250, 833, "产业奖补")]
        assert verify(s).intact


def test_several_lines_of_a_household_are_named_by_number(county, world, tmp_path):
    assert county("--as", "k_clerk", "import", "standards",
                  write(tmp_path, "s.csv", STANDARDS))[0] == 0
    assert county(*CREATE, "--lot", county.lot, "--lines", lines_file(tmp_path, "utf-8"))[0] == 0
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as caught:
            rolls.object_to(s, u(s, "k_clerk"), "R-2024-07", "H-100", dt.date(2024, 3, 20), "x")
        assert caught.value.code == "roll_household_several_lines"
        assert caught.value.params == {"roll": "R-2024-07", "household": "H-100",
                                       "lines": [1, 2, 3]}
        rolls.object_to(s, u(s, "k_clerk"), "R-2024-07", None, dt.date(2024, 3, 20), "x",
                        line_no=2)
        with pytest.raises(LedgerError) as caught:
            rolls.withdraw_line(s, u(s, "k_clerk"), "R-2024-07", 1, dt.date(2024, 3, 20), " ")
        assert caught.value.code == "roll_withdraw_reason"


def test_a_rolls_own_standard_must_agree_with_the_standards_table(county, world, tmp_path):
    """One roll never pays the same item at two rates: --standard 500 for 产业奖补 while the
    county's table says 300 for 一般户 2024 is refused, naming both."""
    assert county("--as", "k_clerk", "import", "standards",
                  write(tmp_path, "s.csv", STANDARDS))[0] == 0
    lines = write(tmp_path, "l.csv", "户编码,数量\nH-100,3\nH-101,2.5\n")
    code, _, err = county(*CREATE, "--lot", county.lot, "--item", "产业奖补", "--standard",
                          "500", "--lines", lines)
    assert code == 2 and "line 1 (H-100)" in err, err
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as caught:
            rolls.create_roll(s, u(s, "k_clerk"), code="R-X", lot_id=county.lot,
                              county_code=COUNTY, item="产业奖补",
                              function_code="2130505", use_code="household_subsidy",
                              standard_fen=500_00, lines=[("H-100", 3)],
                              as_of=dt.date(2024, 3, 15))
        assert caught.value.code == "roll_standard_differs"
        assert caught.value.params["standard_fen"] == 300_00
        assert caught.value.params["roll_standard_fen"] == 500_00
    # The same --standard as the table is fine, whole and decimal lines alike.
    code, out, err = county(*CREATE, "--lot", county.lot, "--item", "产业奖补", "--standard",
                            "300", "--lines", lines)
    assert code == 0 and "2 lines" in out, err


def test_after_approval_only_an_approver_withdraws_and_never_a_held_line(county, world,
                                                                         tmp_path):
    assert county("--as", "k_clerk", "import", "standards",
                  write(tmp_path, "s.csv", STANDARDS))[0] == 0
    assert county(*CREATE, "--lot", county.lot, "--lines", lines_file(tmp_path, "utf-8"))[0] == 0
    with transaction(world.factory) as s:
        rolls.object_to(s, u(s, "k_clerk"), "R-2024-07", None, dt.date(2024, 3, 16), "不是本户",
                        line_no=4)
        with pytest.raises(LedgerError) as caught:   # held: resolve the objection instead
            rolls.withdraw_line(s, u(s, "k_clerk"), "R-2024-07", 4, dt.date(2024, 3, 16), "x")
        assert caught.value.code == "roll_line_not_open"
        rolls.resolve(s, u(s, "k_approver"), "R-2024-07", None, False, dt.date(2024, 3, 16),
                      "核实",
                      line_no=4)
    assert county("--as", "k_clerk", "roll", "publish", "R-2024-07", "--date", PUBLISHED)[0] == 0
    assert county("--as", "k_approver", "roll", "approve", "R-2024-07", "--date",
                  EARLIEST)[0] == 0
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as caught:
            rolls.withdraw_line(s, u(s, "k_clerk"), "R-2024-07", 5, EARLIEST, "重复申报")
        assert (caught.value.code, caught.value.params) == \
            ("roll_line_withdraw_after_approval", {"roll": "R-2024-07", "line": 5})
        rolls.withdraw_line(s, u(s, "k_approver"), "R-2024-07", 5, EARLIEST, "重复申报")
        assert rolls.line_states(s, rolls.get_roll(s, "R-2024-07"))[
            rolls.roll_lines(s, rolls.get_roll(s, "R-2024-07"))[4].id] == "withdrawn"
        assert verify(s).intact
