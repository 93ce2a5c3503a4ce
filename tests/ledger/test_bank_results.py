"""Bank result files as banks send them, from the county's side (issue 17): value dates, amounts
sent and credited, the payee's name and account as the bank received them. What the bank did is
recorded line by line and never refused: a short credit, another account, a line never posted, a
line returned after it was reported paid — each is kept with the line, its money moved to where
it is (a receivable of the lot, or back to the county) by a `bank_difference` transfer that a
colleague approves, and listed by `roll differences`. Real CSV (GB18030) and XLSX files, on
SQLite and PostgreSQL; every balance and the audit log checked."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.funds import balances
from ledger.models import RollEvent, RollEventKind, Transfer, TransferKind
from ledger.models.rolls import BankResult
from ledger.store.db import transaction
from tests.ledger.test_import_households import write
from tests.ledger.test_rolls import EARLIEST, PUBLISHED, county_with_households
from tests.world import COUNTY

CLERK = ("--as", "k_clerk")


@pytest.fixture
def ft(cli, db_url, world, tmp_path):
    return county_with_households(cli, world, tmp_path)
HEADER = "序号,户编码,发送金额,入账金额,结果,失败原因,银行流水号,入账日期,收款人户名,收款账号\n"


def by_kind(world) -> dict:
    with transaction(world.factory) as s:
        rows = balances.account_balances(s, lot_id=world.lot_id)
    found: dict = {}
    for r in rows:
        if r.balance:   # accounts left empty are not shown
            found.setdefault(r.kind, {})[r.holder] = r.balance
    return found


def sent_roll(ft, tmp_path, code, lines="户编码,数量\nH-100,2\nH-101,1\nH-104,1\n"):
    path = write(tmp_path, f"{code}.csv", lines, "gb18030")
    assert ft(*CLERK, "roll", "create", code, "--lot", ft.lot, "--county", COUNTY, "--item",
              "产业奖补", "--function-code", "2130505", "--use", "household_subsidy",
              "--standard", "500.00", "--lines", path, "--date", "2024-03-15")[0] == 0
    assert ft(*CLERK, "roll", "publish", code, "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", code, "--date", EARLIEST)[0] == 0
    code_, out, err = ft(*CLERK, "roll", "send", code, "-o", str(tmp_path / f"{code}.bank"),
                         "--date", EARLIEST)
    assert code_ == 0, err


@pytest.fixture
def colleague(ft):
    """A second approver in the county: differences are approved by someone else than the
    approver who imported the bank's file."""
    assert ft("--as", "admin", "user", "add", "k_approver2", "--name", "复核员", "--role",
              "approver", "--region", COUNTY)[0] == 0
    return ("--as", "k_approver2")


def import_results(ft, path, roll):
    code, out, err = ft("--as", "k_approver", "import-bank-results", path, "--roll", roll,
                        "--json")
    assert code == 0, err
    return json.loads(out)


def test_what_the_bank_did_is_recorded_and_its_money_accounted_for(ft, world, tmp_path,
                                                                   colleague):
    sent_roll(ft, tmp_path, "R-B")
    before = by_kind(world)["unit"][COUNTY]
    results = write(tmp_path, "回单.csv", HEADER +
                    # credited 9.80 short: the bank's fee (手续费)
                    "1,H-100,1000.00,990.20,成功,手续费,B001,2024-04-02,赵大,6222021234567890123\n"
                    # paid into another account than the household's card
                    "2,H-101,500.00,500.00,成功,,B002,2024-04-02,钱二,6222 0000 0000 0000 001\n"
                    # returned (退票), on the bank's own date
                    "3,H-104,500.00,0,失败,卡号已注销,,2024-04-03,周五,6222021234567890777\n"
                    # a line the roll never had: the bank paid it anyway
                    "9,H-103,300.00,300.00,成功,,B009,2024-04-02,李四,6222021234567890999\n",
                    "gb18030")
    counts = import_results(ft, results, "R-B")
    assert counts == {"posted": 2, "returned": 1, "recorded": 1, "unchanged": 0,
                      "differences": 3}
    assert import_results(ft, results, "R-B")["unchanged"] == 4   # the same file again

    with transaction(world.factory) as s:
        lines = {b.line_no: b for b in s.execute(select(BankResult)).scalars()}
        assert {n: b.differences for n, b in lines.items()} == {
            1: "short_credit", 2: "other_account", 3: "", 9: "not_posted"}
        assert lines[1].credited_fen == 990_20 and lines[1].difference_fen == 9_80
        assert lines[2].account_last4 == "0001" and lines[2].account != "6222000000000000001"
        assert lines[1].file_name == "回单.csv" and lines[9].file_line == 5
        assert str(lines[3].value_date) == "2024-04-03"
        returned = s.execute(select(RollEvent).where(
            RollEvent.kind == RollEventKind.RETURNED)).scalar_one()
        assert str(returned.effective_date) == "2024-04-03"   # the bank's date, not today
        differences = s.execute(select(Transfer).where(
            Transfer.kind == TransferKind.BANK_DIFFERENCE).order_by(Transfer.id)).scalars().all()
        assert [t.amount_fen for t in differences] == [9_80, 500_00, 300_00]
        assert {str(t.effective_date) for t in differences} == {"2024-04-02"}
        assert verify(s).intact

    code, out, _ = ft("--as", "k_clerk", "roll", "differences", "R-B")
    assert code == 0
    assert "少入账" in out and "入其他账户" in out and "名册外支付" in out and "待审核" in out

    # The importer cannot approve the transfers it recorded; a colleague does.
    listed = json.loads(ft("--as", "k_clerk", "roll", "differences", "R-B", "--json")[1])
    ids = [d["transfer"] for d in listed]
    code, _, err = ft("--as", "k_approver", "approve", ids[0])
    assert code == 2 and "cannot also approve" in err
    for transfer_id in ids:
        assert ft(*colleague, "approve", transfer_id)[0] == 0

    after = by_kind(world)
    # The household keeps what reached its card; the rest is owed back to the lot.
    assert after["payee"] == {"H-100": 990_20}
    assert after["receivable"] == {"H-100": 9_80, "H-101": 500_00, "H-103": 300_00}
    # The county paid 1,000 + 500 for lines 1 and 2 and 300 for line 9; line 3 came back.
    assert after["unit"][COUNTY] == before - 1_800_00
    listed = json.loads(ft("--as", "k_clerk", "roll", "differences", "R-B", "--json")[1])
    assert {d["transfer_state"] for d in listed} == {"approved"}

    # The household is paid what the bank kept (补足); it cannot be paid more than that.
    code, _, err = ft(*CLERK, "roll", "top-up", "R-B", "--line", "1", "--voucher", "记-0412",
                      "--amount", "20.00", "--date", "2024-04-12")
    assert code == 2 and "980 fen credited short" in err
    code, out, err = ft(*CLERK, "roll", "top-up", "R-B", "--line", "1", "--voucher", "记-0412",
                        "--date", "2024-04-12")
    assert code == 0 and "9.80 yuan" in out, err
    transfer_id = int(out.split("#")[1].split(":")[0])
    assert ft("--as", "k_approver", "approve", transfer_id)[0] == 0
    assert by_kind(world)["payee"]["H-100"] == 1_000_00
    code, _, err = ft(*CLERK, "roll", "top-up", "R-B", "--line", "1", "--voucher", "记-0413",
                      "--date", "2024-04-13")
    assert code == 2 and "topped" not in err and "0 fen credited short" in err

    # The returned line is re-paid on a roll of its own date.
    code, out, err = ft(*CLERK, "roll", "repay", "R-B", "--new", "R-B-补", "--line", "3",
                        "--date", "2024-04-10")
    assert code == 0 and "1 returned lines" in out, err
    code, _, err = ft(*CLERK, "roll", "repay", "R-B", "--new", "R-B-补2", "--line", "1",
                      "--date", "2024-04-10")
    assert code == 2 and "line 1 is not a line the bank returned" in err
    with transaction(world.factory) as s:
        assert verify(s).intact


def test_a_return_after_payment_and_a_payment_after_return_from_xlsx(ft, world, tmp_path,
                                                                     colleague):
    sent_roll(ft, tmp_path, "R-X", "户编码,数量\nH-100,1\nH-101,1\n")
    first = write(tmp_path, "first.csv", HEADER +
                  "1,H-100,500.00,,成功,,B1,2024-04-02,,\n"
                  "2,H-101,500.00,,失败,账户冻结,,2024-04-02,,\n")
    assert import_results(ft, first, "R-X") == {
        "posted": 1, "returned": 1, "recorded": 0, "unchanged": 0, "differences": 0}
    county = by_kind(world)["unit"][COUNTY]
    # A week later the bank's second file: line 1 came back (退汇), line 2 went through after
    # all. Offices keep these as Excel workbooks.
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([1, "H-100", "500.00", "0", "失败", "退汇: 账户已销户", "", "2024-04-09", "", ""])
    sheet.append([2, "H-101", "500.00", "500.00", "成功", "", "B2", "2024-04-09", "钱二", ""])
    book.save(tmp_path / "second.xlsx")
    counts = import_results(ft, tmp_path / "second.xlsx", "R-X")
    assert counts == {"posted": 1, "returned": 1, "recorded": 0, "unchanged": 0,
                      "differences": 2}
    listed = json.loads(ft(*CLERK, "roll", "differences", "R-X", "--json")[1])
    assert [(d["line"], d["differences"], d["difference_fen"]) for d in listed] == [
        (1, ["returned_after_paid"], 500_00), (2, ["paid_after_return"], 500_00)]
    for d in listed:
        assert ft(*colleague, "approve", d["transfer"])[0] == 0
    after = by_kind(world)
    assert after["payee"] == {"H-101": 500_00}
    assert after["unit"][COUNTY] == county   # 500 came back, 500 went out
    with transaction(world.factory) as s:
        assert verify(s).intact


def test_money_the_county_does_not_have_is_recorded_as_unfunded(ft, world, tmp_path):
    sent_roll(ft, tmp_path, "R-U", "户编码,数量\nH-100,1\n")
    county = by_kind(world)["unit"][COUNTY]
    too_much = f"{(county + 1) // 100 + 1}.00"
    results = write(tmp_path, "r.csv", HEADER +
                    "1,H-100,500.00,500.00,成功,,B1,2024-04-02,赵大,\n"
                    f"7,H-101,{too_much},{too_much},成功,,B7,2024-04-02,钱二,\n")
    assert import_results(ft, results, "R-U")["differences"] == 1
    listed = json.loads(ft(*CLERK, "roll", "differences", "R-U", "--json")[1])
    assert listed[0]["differences"] == ["not_posted", "unfunded"]
    assert listed[0]["transfer"] is None
    with transaction(world.factory) as s:
        assert verify(s).intact


def test_a_file_that_contradicts_itself_is_refused_whole(ft, world, tmp_path):
    sent_roll(ft, tmp_path, "R-C", "户编码,数量\nH-100,1\nH-101,1\n")
    results = write(tmp_path, "r.csv", HEADER +
                    "1,H-100,500.00,500.00,成功,,B1,2024-04-02,,\n"
                    "2,H-101,500.00,500.00,成功,,B2,2024-04-02,,\n"
                    "1,H-100,500.00,0,失败,,,2024-04-02,,\n")
    code, _, err = ft("--as", "k_approver", "import-bank-results", results, "--roll", "R-C")
    assert code == 2 and "r.csv, line 4" in err and "in the bank file twice" in err
    with transaction(world.factory) as s:
        assert s.execute(select(BankResult)).first() is None
    assert "payee" not in by_kind(world)


def test_a_roll_pays_from_the_household_programme_project(ft, world, tmp_path, colleague):
    """The county pays its households from its household-programme project in the project
    library (P-001, approved in tests/world.py): the project's share of the lot goes down, the
    county's own share does not; the bank's differences come back to the project."""
    code, out, err = ft(*CLERK, "fund-project", "--lot", ft.lot, "--project", "P-001",
                        "--amount", "3000.00", "--key", "记-P001", "--date", "2024-03-15",
                        "--json")
    assert code == 0, err
    assert ft("--as", "k_approver", "approve", json.loads(out)["id"])[0] == 0
    county = by_kind(world)["unit"][COUNTY]
    lines = write(tmp_path, "p.csv", "户编码,数量\nH-100,2\nH-101,1\n", "gb18030")
    base = [*CLERK, "roll", "create", "R-P", "--lot", ft.lot, "--county", COUNTY, "--item",
            "产业奖补", "--use", "household_subsidy", "--standard", "500.00", "--lines", lines,
            "--project", "P-001", "--date", "2024-03-15"]
    code, _, err = ft(*base[:-6], "--function-code", "2130504", *base[-6:])
    assert code == 2 and "project P-001 is for function code 2130505" in err
    assert ft(*base, "--function-code", "2130505")[0] == 0
    assert ft(*base, "--function-code", "2130505")[0] == 0   # the same roll again
    assert ft(*CLERK, "roll", "publish", "R-P", "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-P", "--date", EARLIEST)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-P", "-o", str(tmp_path / "p.bank"), "--date",
              EARLIEST)[0] == 0
    results = write(tmp_path, "r.csv", HEADER +
                    "1,H-100,1000.00,1000.00,成功,,B1,2024-04-02,赵大,\n"
                    "2,H-101,500.00,480.00,成功,代扣,B2,2024-04-02,钱二,\n", "gb18030")
    assert import_results(ft, results, "R-P")["differences"] == 1
    [difference] = json.loads(ft(*CLERK, "roll", "differences", "R-P", "--json")[1])
    assert ft(*colleague, "approve", difference["transfer"])[0] == 0
    after = by_kind(world)
    assert after["project"] == {"P-001": 3000_00 - 1500_00}
    assert after["unit"][COUNTY] == county          # the county's own share is untouched
    assert after["payee"] == {"H-100": 1000_00, "H-101": 480_00}
    assert after["receivable"] == {"H-101": 20_00}
    # The top-up comes from the project too.
    code, out, err = ft(*CLERK, "roll", "top-up", "R-P", "--line", "2", "--voucher", "记-9",
                        "--date", "2024-04-09")
    assert code == 0, err
    assert ft("--as", "k_approver", "approve", int(out.split("#")[1].split(":")[0]))[0] == 0
    assert by_kind(world)["project"] == {"P-001": 3000_00 - 1520_00}
    with transaction(world.factory) as s:
        assert verify(s).intact


def test_money_paid_into_another_account_and_sent_back_returns_to_the_county(ft, world, tmp_path,
                                                                             colleague):
    sent_roll(ft, tmp_path, "R-O", "户编码,数量\nH-100,1\n")
    county = by_kind(world)["unit"][COUNTY]
    first = write(tmp_path, "o1.csv", HEADER +
                  "1,H-100,500.00,500.00,成功,,B1,2024-04-02,赵大,6222000000000000999\n")
    assert import_results(ft, first, "R-O")["differences"] == 1
    second = write(tmp_path, "o2.csv", HEADER + "1,H-100,500.00,0,失败,退汇: 户名账号不符,,"
                   "2024-04-08,赵大,6222000000000000999\n")
    # The money comes back from the receivable the first difference put it in: that is
    # reviewed first, and the file waits (refused whole, nothing lost).
    code, _, err = ft("--as", "k_approver", "import-bank-results", second, "--roll", "R-O")
    assert code == 2 and "o2.csv, line 2" in err and "waiting for review" in err
    [first_difference] = json.loads(ft(*CLERK, "roll", "differences", "R-O", "--json")[1])
    assert ft(*colleague, "approve", first_difference["transfer"])[0] == 0
    assert import_results(ft, second, "R-O")["returned"] == 1
    listed = json.loads(ft(*CLERK, "roll", "differences", "R-O", "--json")[1])
    assert [(d["differences"], d["difference_fen"]) for d in listed] == [
        (["other_account"], 500_00), (["other_account", "returned_after_paid"], 500_00)]
    assert ft(*colleague, "approve", listed[1]["transfer"])[0] == 0
    after = by_kind(world)
    assert "receivable" not in after and "payee" not in after   # nothing left anywhere
    assert after["unit"][COUNTY] == county
    with transaction(world.factory) as s:
        assert verify(s).intact


# Found by a red-team review: a later file repeating what the bank said before moved the money
# again; a top-up counted repeated short credits; a re-payment of a project roll paid from the
# county; a line returned after payment could not be re-paid; the bank's reason text carried a
# full account number into the log; a huge line number crashed the import.

def _review_all(ft, colleague, code):
    for d in json.loads(ft(*CLERK, "roll", "differences", code, "--json")[1]):
        if d["transfer"] and d["transfer_state"] == "pending":
            assert ft(*colleague, "approve", d["transfer"])[0] == 0


def _line(n, paid=True, credited="500.00", date="2024-04-02", name="", account=""):
    return (f"{n},H-100,500.00,{credited if paid else '0'},{'成功' if paid else '失败'},"
            f"{'' if paid else '退汇'},B{n},{date},{name},{account}\n")


@pytest.mark.parametrize("answers", [
    # failed, then paid, then paid again in the bank's next cumulative file
    [_line(1, paid=False), _line(1), _line(1, name="赵大")],
    # paid, returned (退汇), paid again, and that repeated
    [_line(1), _line(1, paid=False, date="2024-04-05"), _line(1, date="2024-04-09"),
     _line(1, date="2024-04-09", name="赵大")],
])
def test_the_bank_repeating_itself_moves_no_money_twice(ft, world, tmp_path, colleague,
                                                        answers):
    sent_roll(ft, tmp_path, "R-R", "户编码,数量\nH-100,1\n")
    county = by_kind(world)["unit"][COUNTY]
    for n, answer in enumerate(answers):
        import_results(ft, write(tmp_path, f"r{n}.csv", HEADER + answer), "R-R")
        _review_all(ft, colleague, "R-R")
    after = by_kind(world)
    assert after["payee"] == {"H-100": 500_00} and "receivable" not in after
    assert after["unit"][COUNTY] == county - 500_00
    with transaction(world.factory) as s:
        assert verify(s).intact


def test_a_line_the_roll_never_had_is_charged_once_in_a_reordered_file(ft, world, tmp_path,
                                                                        colleague):
    sent_roll(ft, tmp_path, "R-D", "户编码,数量\nH-100,1\nH-101,1\n")
    l1 = "1,H-100,500.00,500.00,成功,,B1,2024-04-02,,\n"
    l9 = "9,H-103,300.00,300.00,成功,,B9,2024-04-02,,\n"
    import_results(ft, write(tmp_path, "d1.csv", HEADER + l1 + l9), "R-D")
    assert import_results(ft, write(tmp_path, "d2.csv", HEADER + l9 + l1), "R-D")[
        "unchanged"] == 2
    _review_all(ft, colleague, "R-D")
    assert by_kind(world)["receivable"] == {"H-103": 300_00}


def test_a_top_up_pays_what_is_short_once_and_waits_for_the_review(ft, world, tmp_path,
                                                                   colleague):
    sent_roll(ft, tmp_path, "R-E", "户编码,数量\nH-100,1\n")
    for n in (1, 2):   # the same short credit in two files
        import_results(ft, write(tmp_path, f"e{n}.csv", HEADER + _line(
            1, credited="490.00", name="赵大" * (n - 1))), "R-E")
    code, _, err = ft(*CLERK, "roll", "top-up", "R-E", "--line", "1", "--voucher", "V1",
                      "--date", "2024-04-12")
    assert code == 2 and "waiting for review" in err
    _review_all(ft, colleague, "R-E")
    code, out, err = ft(*CLERK, "roll", "top-up", "R-E", "--line", "1", "--voucher", "V1",
                        "--date", "2024-04-12")
    assert code == 0 and "10.00 yuan" in out, err
    assert ft("--as", "k_approver", "approve", int(out.split("#")[1].split(":")[0]))[0] == 0
    assert by_kind(world)["payee"]["H-100"] == 500_00


def test_a_line_returned_after_payment_is_repaid_and_a_project_roll_from_its_project(
        ft, world, tmp_path, colleague):
    code, out, err = ft(*CLERK, "fund-project", "--lot", ft.lot, "--project", "P-001",
                        "--amount", "3000.00", "--key", "记-P2", "--date", "2024-03-15",
                        "--json")
    assert code == 0 and ft("--as", "k_approver", "approve", json.loads(out)["id"])[0] == 0
    lines = write(tmp_path, "p.csv", "户编码,数量\nH-100,1\n")
    assert ft(*CLERK, "roll", "create", "R-H", "--lot", ft.lot, "--county", COUNTY, "--item",
              "产业奖补", "--use", "household_subsidy", "--standard", "500.00", "--lines",
              lines, "--function-code", "2130505", "--project", "P-001", "--date",
              "2024-03-15")[0] == 0
    assert ft(*CLERK, "roll", "publish", "R-H", "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-H", "--date", EARLIEST)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-H", "-o", str(tmp_path / "h.bank"), "--date",
              EARLIEST)[0] == 0
    import_results(ft, write(tmp_path, "h1.csv", HEADER + _line(1)), "R-H")
    import_results(ft, write(tmp_path, "h2.csv", HEADER + _line(1, paid=False,
                                                                date="2024-04-05")), "R-H")
    _review_all(ft, colleague, "R-H")
    assert by_kind(world)["project"] == {"P-001": 3000_00}   # 500 back in the project
    code, out, err = ft(*CLERK, "roll", "repay", "R-H", "--new", "R-H-2", "--line", "1",
                        "--date", "2024-04-10")
    assert code == 0, err
    from ledger.models import PaymentRoll
    with transaction(world.factory) as s:
        again = s.execute(select(PaymentRoll).where(PaymentRoll.code == "R-H-2")).scalar_one()
        assert again.project_code == "P-001"


def test_the_banks_reason_text_keeps_no_account_number_and_odd_line_numbers_are_refused(
        ft, world, tmp_path):
    sent_roll(ft, tmp_path, "R-K", "户编码,数量\nH-100,1\n")
    huge = write(tmp_path, "big.csv", HEADER + "99999999999,H-100,5.00,5.00,成功,,B1,,,\n")
    code, _, err = ft("--as", "k_approver", "import-bank-results", huge, "--roll", "R-K")
    assert code == 2 and "big.csv, line 2" in err and "not a whole number" in err
    reason = write(tmp_path, "k.csv", HEADER +
                   "1,H-100,500.00,0,失败,账号6222021234567890123户名不符,,2024-04-02,,\n")
    import_results(ft, reason, "R-K")
    from sqlalchemy import inspect, text
    with transaction(world.factory) as s:
        [kept] = s.execute(select(BankResult.reason)).scalars()
        assert kept == "账号***************0123户名不符"
        for table in inspect(s.connection()).get_table_names():
            for row in s.execute(text(f'select * from "{table}"')):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    assert not (isinstance(value, str) and "6222021234567890123" in value), \
                        table
