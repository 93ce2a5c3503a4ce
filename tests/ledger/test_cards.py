"""Cards over time (issue 17), from the clerk's side with real files, on SQLite and PostgreSQL:
the card register imported (household, personal and guardian cards, a replacement 换卡, a
closing), a roll whose per-person lines pay a student's own card and a ward's guardian card, a
replaced card paid after the replacement date (the old one before it), a closed card refused,
and the bank file writing each line's card and holder."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households.cards import card_for_line
from ledger.models import AuditEntry, Card, CardClosing, CardKind, Member, RollLine
from ledger.rolls import lifecycle as rolls
from ledger.rolls.lifecycle import LineSpec
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write
from tests.ledger.test_invariants import down_to_county, u
from tests.ledger.test_roll_items import STANDARDS
from tests.ledger.test_rolls import EARLIEST, PUBLISHED
from tests.world import COUNTY, VILLAGE

STUDENT = idn(12, "20050303")     # 赵小 of H-100: 雨露计划 paid to his own card
WARD = idn(22, "20100505")        # 周小 of H-104: paid to the card of his guardian 周五
GUARDIAN = idn(21)

CARDS_HEADER = ["户编码", "卡类别", "成员身份证号", "持卡人姓名", "监护人身份证号", "开户银行",
                "银行卡号", "开卡日期", "销户日期", "原卡号", "原因"]
CARDS = [
    ["H-100", "个人卡", STUDENT, "", "", "农村信用社", "6230 0000 0000 0012", "2023-09-01", "",
     "", ""],
    ["H-104", "监护人卡", WARD, "周五", GUARDIAN, "农业银行", "6228000000000022", "2022/1/1", "",
     "", ""],
    # H-101: a household card of the register, replaced on 2024-03-01 (换卡); full-width digits
    ["H-101", "户卡", "", "", "", "邮储银行", "６２２１０００００００００１０１", "2020-01-01",
     "", "", ""],
    ["H-101", "household", "", "", "", "邮储银行", "6221000000000202", "2024-03-01", "",
     "6221000000000101", "换卡"],
    # H-102 had no card at registration; its household card closed on 2024-01-31
    ["H-102", "户卡", "", "孙三", "", "农商银行", "6210000000000102", "2021-06-01", "2024-01-31",
     "", "销户"],
]


def cards_file(tmp_path, form: str, rows=CARDS, name="cards"):
    if form == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(CARDS_HEADER)
        for row in rows:
            sheet.append(row)
        path = tmp_path / f"{name}.xlsx"
        book.save(path)
        return path
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([CARDS_HEADER, *rows])
    return write(tmp_path, f"{name}.csv", out.getvalue(), form)


@pytest.fixture
def county(cli, db_url, world, tmp_path):
    down_to_county(world, 100_000_00)
    run = cli
    run.lot = world.lot_id
    extra = f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n"
    members = MEMBERS + f"H-104,周五,户主,{GUARDIAN},\nH-104,周小,子,{WARD},\n"
    assert run("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS + extra))[0] == 0
    assert run("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    assert run("--as", "k_clerk", "import", "standards",
               write(tmp_path, "s.csv", STANDARDS))[0] == 0
    return run


def _member(s, number):
    return s.execute(select(Member.id).where(
        Member.id_digest == PiiVault.from_env().digest(number))).scalar_one()


def _cards(world):
    with transaction(world.factory) as s:
        return {(c.household_code, c.account_last4): c for c in s.execute(
            select(Card)).scalars()}


@pytest.mark.parametrize("form", ["utf-8", "gb18030", "xlsx"])
def test_the_card_register_is_imported_as_the_county_keeps_it(county, world, tmp_path, form):
    path = cards_file(tmp_path, form)
    code, out, err = county("--as", "k_clerk", "import", "cards", path)
    assert code == 0, err
    with transaction(world.factory) as s:
        cards = {c.account_last4: c for c in s.execute(select(Card)).scalars()}
        closings = {k.card_id: k for k in s.execute(select(CardClosing)).scalars()}
        assert set(cards) == {"0012", "0022", "0101", "0202", "0102"}
        student = cards["0012"]
        assert (student.kind, student.member_id, student.holder_name, student.bank) == \
            (CardKind.PERSONAL, _member(s, STUDENT), "赵小", "农村信用社")
        guardian = cards["0022"]
        assert (guardian.kind, guardian.member_id, guardian.holder_member_id,
                guardian.holder_name, guardian.opened_on) == \
            (CardKind.GUARDIAN, _member(s, WARD), _member(s, GUARDIAN), "周五",
             dt.date(2022, 1, 1))
        # the replacement names the old card, and closed it on its own opening date
        assert cards["0202"].replaces_card_id == cards["0101"].id
        assert (closings[cards["0101"].id].closed_on, closings[cards["0101"].id].reason) == \
            (dt.date(2024, 3, 1), "换卡")
        assert closings[cards["0102"].id].closed_on == dt.date(2024, 1, 31)
        assert cards["0101"].household_code == "H-101" and cards["0101"].holder_name == "钱二"
        vault = PiiVault.from_env()
        assert vault.decrypt(cards["0101"].account) == "6221000000000101"   # NFKC: ASCII digits
        assert "6230000000000012" not in student.account                  # encrypted at rest
        for entry in s.execute(select(AuditEntry.entry)).scalars():
            assert b"6230000000000012" not in bytes(entry)
        assert verify(s).intact
        before = (s.execute(select(func.count()).select_from(Card)).scalar_one(),
                  s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
    # the same file again changes nothing
    code, out, err = county("--as", "k_clerk", "import", "cards", path, "--json")
    assert code == 0, err
    assert '"added": 0' in out and '"unchanged": 5' in out
    with transaction(world.factory) as s:
        assert (s.execute(select(func.count()).select_from(Card)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()) == before


def test_a_card_file_with_bad_lines_imports_nothing(county, world, tmp_path):
    unreadable = [
        ["H-100", "存折", "", "", "", "农村信用社", "6230000000000099", "2023-09-01", "", "", ""],
        ["H-100", "户卡", "", "", "", "农村信用社", "6230-abc", "2023-09-01", "", "", ""],
    ]
    code, _, err = county("--as", "k_clerk", "import", "cards",
                          cards_file(tmp_path, "gb18030", unreadable, "unreadable"))
    assert code == 2
    assert "line 2, column 卡类别" in err and "line 3, column 银行卡号" in err
    refused = [
        ["H-100", "个人卡", "", "", "", "农村信用社", "6230000000000099", "2023-09-01", "", "",
         ""],
        ["H-101", "个人卡", STUDENT, "", "", "农村信用社", "6230000000000098", "2023-09-01", "",
         "", ""],
        ["H-100", "户卡", "", "", "", "农村信用社", "6230000000000097", "2023-09-01",
         "2023-08-01", "", ""],
        ["H-100", "户卡", "", "", "", "农村信用社", "6230000000000096", "2023-09-01", "",
         "6230000000000095", ""],
        ["H-104", "监护人卡", WARD, "", "", "农业银行", "6228000000000094", "2022-01-01", "",
         "", ""],
        ["H-999", "户卡", "", "", "", "农业银行", "6228000000000093", "2022-01-01", "", "", ""],
        ["H-104", "监护人卡", WARD, "", idn(31), "农业银行", "6228000000000092", "2022-01-01",
         "", "", ""],
    ]
    code, _, err = county("--as", "k_clerk", "import", "cards",
                          cards_file(tmp_path, "utf-8", refused, "refused"))
    assert code == 2
    for where in ("line 2, column 成员身份证号", "line 3, column 成员身份证号",
                  "line 4, column 销户日期", "line 5, column 原卡号", "line 6, column 持卡人姓名",
                  "line 7, column 户编码", "line 8, column 监护人身份证号"):
        assert where in err, (where, err)
    assert "6230000000000099" not in err
    assert _cards(world) == {}


def _roll(s, lines, code, day, **kw):
    return rolls.create_roll(s, u(s, "k_clerk"), code=code, lot_id=kw.get("lot"),
                             county_code=COUNTY, item=kw.get("item"), function_code="2130505",
                             use_code="household_subsidy", standard_fen=kw.get("standard"),
                             lines=lines, as_of=day, vault=PiiVault.from_env())


def test_each_line_names_the_card_it_pays_and_the_bank_file_writes_it(county, world,
                                                                         tmp_path):
    assert county("--as", "k_clerk", "import", "cards", cards_file(tmp_path, "utf-8"))[0] == 0
    cards = _cards(world)
    lines = write(tmp_path, "lines.csv", "户编码,补助项目,数量,成员身份证号\n"
                  "H-100,产业奖补,2.5,\n"
                  f"H-100,雨露计划,1,{STUDENT}\n"     # the student's own card
                  f"H-100,雨露计划,1,{idn(11)}\n"     # no card of his own: the household card
                  f"H-104,雨露计划,1,{WARD}\n"        # the guardian's card
                  "H-101,产业奖补,3,\n", "gb18030")   # the card replacing the old on 03-01
    code, out, err = county("--as", "k_clerk", "roll", "create", "R-CARDS", "--lot",
                            county.lot, "--function-code", "2130505", "--use",
                            "household_subsidy", "--county", COUNTY, "--date", "2024-03-15",
                            "--lines", lines)
    assert code == 0, err
    with transaction(world.factory) as s:
        got = [x.card_id for x in rolls.roll_lines(s, rolls.get_roll(s, "R-CARDS"))]
        assert got == [None, cards["H-100", "0012"].id, None, cards["H-104", "0022"].id,
                       cards["H-101", "0202"].id]
        assert verify(s).intact    # the images hold card_id where a line has one
    roll = ["--as", "k_clerk", "roll"]
    assert county(*roll, "publish", "R-CARDS", "--date", PUBLISHED)[0] == 0
    assert county("--as", "k_approver", "roll", "approve", "R-CARDS", "--date",
                  EARLIEST)[0] == 0
    code, out, err = county(*roll, "send", "R-CARDS", "-o", "bank.csv", "--date", EARLIEST)
    assert code == 0 and "5 payments" in out, err
    bank = list(csv.reader(io.StringIO((tmp_path / "bank.csv").read_bytes().decode("gb18030"))))
    assert bank == [
        ["序号", "户编码", "户主姓名", "银行卡号", "金额", "持卡人"],
        ["1", "H-100", "赵大", "6222021234567890123", "750.00", "赵大"],
        ["2", "H-100", "赵大", "6230000000000012", "1500.00", "赵小"],
        ["3", "H-100", "赵大", "6222021234567890123", "1500.00", "赵大"],
        ["4", "H-104", "周五", "6228000000000022", "1500.00", "周五"],
        ["5", "H-101", "钱二", "6221000000000202", "900.00", "钱二"],
    ]
    # The bank's result names the account and holder it paid: each is compared with the card
    # the line pays (ledger.rolls.settlement); line 5 went to the card replaced on 03-01.
    results = write(tmp_path, "result.csv", "序号,金额,结果,收款人户名,收款账号\n"
                    "1,750.00,成功,赵大,6222021234567890123\n"
                    "2,1500.00,成功,赵 小,6230 0000 0000 0012\n"
                    "3,1500.00,成功,赵大,6222021234567890123\n"
                    "4,1500.00,成功,周五,6228000000000022\n"
                    "5,900.00,成功,钱二,6221000000000101\n", "gb18030")
    code, out, err = county("--as", "k_approver", "import-bank-results", results, "--roll",
                            "R-CARDS", "--json")
    assert code == 0 and json.loads(out)["differences"] == 1, err
    listed = json.loads(county("--as", "k_clerk", "roll", "differences", "R-CARDS",
                               "--json")[1])
    assert [(d["line"], d["differences"], d["difference_fen"]) for d in listed] == [
        (5, ["other_account"], 900_00)]


def test_a_replaced_card_is_paid_before_the_replacement_and_the_new_one_after(county, world,
                                                                               tmp_path):
    assert county("--as", "k_clerk", "import", "cards", cards_file(tmp_path, "utf-8"))[0] == 0
    cards = _cards(world)
    with transaction(world.factory) as s:
        before = _roll(s, [("H-101", 1)], "R-FEB", dt.date(2024, 2, 29), lot=world.lot_id,
                       item="产业奖补", standard=300_00)
        after = _roll(s, [("H-101", 1)], "R-MAR", dt.date(2024, 3, 1), lot=world.lot_id,
                      item="产业奖补", standard=300_00)
        assert [x.card_id for x in rolls.roll_lines(s, before)] == [cards["H-101", "0101"].id]
        assert [x.card_id for x in rolls.roll_lines(s, after)] == [cards["H-101", "0202"].id]
        # the student's card from its opening; the household card before it
        student = _member(s, STUDENT)
        assert card_for_line(s, "H-100", student, "person", dt.date(2023, 9, 1)).card_id == \
            cards["H-100", "0012"].id
        earlier = card_for_line(s, "H-100", student, "person", dt.date(2023, 8, 31))
        assert (earlier.card_id, earlier.kind) == (None, CardKind.HOUSEHOLD)
        # a per-household item never pays a personal card
        assert card_for_line(s, "H-100", student, "household", dt.date(2024, 1, 1)).card_id \
            is None
        assert verify(s).intact


def test_a_closed_card_is_refused_and_an_open_one_paid(county, world, tmp_path):
    assert county("--as", "k_clerk", "import", "cards", cards_file(tmp_path, "utf-8"))[0] == 0
    cards = _cards(world)
    with transaction(world.factory) as s:
        # H-102 has no card of registration: its register card pays while it is open
        roll = _roll(s, [LineSpec("H-102", 100, "产业奖补")], "R-OPEN", dt.date(2024, 1, 30),
                     lot=world.lot_id)
        assert rolls.roll_lines(s, roll)[0].card_id == cards["H-102", "0102"].id
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as caught:
            _roll(s, [("H-100", 1), ("H-102", 1)], "R-CLOSED", dt.date(2024, 1, 31),
                  lot=world.lot_id, item="产业奖补", standard=300_00)
        assert (caught.value.code, caught.value.params) == (
            "card_none_open", {"household": "H-102", "member": None,
                               "date": "2024-01-31", "line": 2})
        with pytest.raises(LedgerError) as caught:
            card_for_line(s, "H-102", None, "household", dt.date(2024, 3, 1))
        assert caught.value.code == "card_none_open"
    # closed through the command line: the guardian card; the ward's item then goes to the
    # household card
    guardian = cards["H-104", "0022"].id
    code, out, err = county("--as", "k_clerk", "card", "close", guardian, "--date",
                            "2024-02-01", "--reason", "监护关系变更")
    assert code == 0, err
    code, _, err = county("--as", "k_clerk", "card", "close", guardian, "--date", "2024-02-02")
    assert code == 2 and "was closed on 2024-02-01" in err
    with transaction(world.factory) as s:
        ward = _member(s, WARD)
        assert card_for_line(s, "H-104", ward, "person", dt.date(2024, 1, 31)).card_id == \
            guardian
        assert card_for_line(s, "H-104", ward, "person", dt.date(2024, 2, 1)).card_id is None
        assert verify(s).intact


def test_cards_by_the_command_line(county, world):
    with transaction(world.factory) as s:
        student = _member(s, STUDENT)
    add = ["--as", "k_clerk", "card", "add", "H-100", "--kind", "个人卡", "--member", student,
           "--bank", "农村信用社", "--account", "6230000000000012", "--opened", "2023-09-01",
           "--json"]
    code, out, err = county(*add)
    assert code == 0, err
    code, _, err = county(*add)
    assert code == 2 and "open, for the same holder" in err
    card = _cards(world)["H-100", "0012"].id
    code, out, err = county("--as", "k_clerk", "card", "replace", card, "--bank", "农村信用社",
                            "--account", "6230000000000034", "--date", "2024-02-01")
    assert code == 0, err
    code, out, err = county("--as", "k_clerk", "card", "list", "H-100", "--json")
    assert code == 0, err
    assert '"closed": "2024-02-01"' in out and '"last4": "0034"' in out
    assert "6230000000000034" not in out
    code, _, err = county("--as", "k_clerk", "card", "add", "H-100", "--kind", "个人卡",
                          "--bank", "x", "--account", "6230000000000056", "--opened",
                          "2023-09-01")
    assert code == 2 and "names the member" in err
    with transaction(world.factory) as s:
        assert card_for_line(s, "H-100", student, "person", dt.date(2024, 2, 1)).last4 == "0034"
        assert s.execute(select(func.count()).select_from(RollLine)).scalar_one() == 0
        assert verify(s).intact


def test_a_returned_line_is_repaid_to_the_card_that_replaced_it(county, world, tmp_path):
    """The bank returns a line paid to a card closed at the bank (卡号已注销); the county records
    the new card (换卡), and the repayment roll pays it. The notice shows each line's card."""
    assert county("--as", "k_clerk", "import", "cards",
                  cards_file(tmp_path, "utf-8", CARDS[:3]))[0] == 0
    old = _cards(world)["H-101", "0101"].id
    lines = write(tmp_path, "lines.csv", f"户编码,补助项目,数量,成员身份证号\nH-101,产业奖补,1,\n"
                  f"H-100,雨露计划,1,{STUDENT}\n")
    roll = ["--as", "k_clerk", "roll"]
    assert county(*roll, "create", "R-1", "--lot", county.lot, "--function-code", "2130505",
                  "--use", "household_subsidy", "--county", COUNTY, "--date", "2024-03-15",
                  "--lines", lines)[0] == 0
    assert county(*roll, "publish", "R-1", "--date", PUBLISHED)[0] == 0
    assert county("--as", "k_clerk", "report", "contact", "--region", COUNTY, "--office",
                  "县纪委监委", "--phone", "0731-12345678")[0] == 0
    with transaction(world.factory) as s:
        from ledger.disclosure.content import roll_notice
        notice = roll_notice(s, PiiVault.from_env(), "R-1", VILLAGE, PUBLISHED,
                             PUBLISHED + dt.timedelta(days=10), 2**62)
        cards = [row[3] for row in notice["tables"][0]["rows"]]
        assert cards[0].startswith("622100") and cards[0].endswith("0101")
        assert cards[1].startswith("623000") and cards[1].endswith("0012")
    assert county("--as", "k_approver", "roll", "approve", "R-1", "--date", EARLIEST)[0] == 0
    assert county(*roll, "send", "R-1", "-o", "bank.csv", "--date", EARLIEST)[0] == 0
    results = write(tmp_path, "result.csv", "序号,户编码,金额,结果,失败原因,银行流水号\n"
                    "1,H-101,300.00,失败,卡号已注销,\n2,H-100,1500.00,成功,,B2\n", "gb18030")
    code, _, err = county("--as", "k_approver", "import-bank-results", results, "--roll", "R-1")
    assert code == 0, err
    code, _, err = county("--as", "k_clerk", "card", "replace", old, "--bank", "邮储银行",
                          "--account", "6221000000000303", "--date", "2024-03-29",
                          "--reason", "原卡注销")
    assert code == 0, err
    code, _, err = county(*roll, "repay", "R-1", "--new", "R-1-2", "--date", "2024-03-30")
    assert code == 0, err
    new = _cards(world)["H-101", "0303"].id
    with transaction(world.factory) as s:
        repaid = rolls.roll_lines(s, rolls.get_roll(s, "R-1-2"))
        assert [x.card_id for x in repaid] == [new]
        assert verify(s).intact
