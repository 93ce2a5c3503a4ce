"""The roll rules on the records a county keeps (issue 18), loaded only through the documented
imports and commands (docs/formats.md), on SQLite and PostgreSQL: "D7" (a line above the
standards table's standard × quantity, half a fen of rounding allowed), "BEN-01" for a member's
per-person line after the member's death (member_history, the deaths list), "WHD-01" with what
the bank's result file credited, "WHD-04" from the bank's failure date and only on the line's
own re-payment."""
from __future__ import annotations

import json

import pytest

from ledger.core.quantity import amount_fen
from ledger.rolls.lifecycle import publicity_ends
from tests.ledger.test_bank_results import HEADER, import_results, sent_roll
from tests.ledger.test_import_households import HOUSEHOLDS, idn, write
from tests.ledger.test_invariants import down_to_county
from tests.ledger.test_rolls import EARLIEST, PUBLISHED
from tests.world import COUNTY, VILLAGE

CLERK = ("--as", "k_clerk")
PAYMENTS = "资金批次,项目编码,县代码,收款人编码,金额,功能科目,用途,支付日期,凭证号,摘要\n"


@pytest.fixture
def ft(cli, db_url, world, tmp_path):
    down_to_county(world, 100_000_00)
    cli.lot = world.lot_id
    extra = f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n"
    assert cli(*CLERK, "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS + extra))[0] == 0
    members = ("户编码,姓名,与户主关系,身份证号\n"
               f"H-100,赵大,户主,{idn(11)}\nH-100,赵小,子,{idn(12, '20050303')}\n"
               f"H-100,赵妹,女,{idn(14, '20070707')}\nH-101,钱二,户主,{idn(13)}\n"
               f"H-104,周五,户主,{idn(15)}\nH-104,周小,子,{idn(16, '20080808')}\n"
               f"H-104,周二,女,{idn(17, '20090909')}\n")
    assert cli(*CLERK, "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    assert cli("--as", "admin", "user", "add", "k_approver2", "--name", "复核员", "--role",
               "approver", "--region", COUNTY)[0] == 0
    return cli


def scan(ft, rule_id, as_of) -> dict:
    code, out, err = ft("--as", "auditor", "alerts", "scan", "--as-of", as_of, "--rule",
                        rule_id, "--json")
    assert code in (0, 1), err
    return {a["entity"]: a for a in json.loads(out)["open"] if a["rule_id"] == rule_id}


def pay_directly(ft, tmp_path, name, rows):
    """Direct payments as a county's payments file writes them, approved by a colleague."""
    path = write(tmp_path, name, PAYMENTS + "".join(
        f"{ft.lot},,{COUNTY},{payee},{amount},2130505,到户补助,{day},{voucher},{memo}\n"
        for payee, amount, day, voucher, memo in rows))
    code, _, err = ft(*CLERK, "import", "payments", path)
    assert code == 0, err
    code, _, err = ft("--as", "k_approver", "approve", "--file", path, "--kind", "payments")
    assert code == 0, err


def test_d7_amount_above_the_standard_and_ben01_a_members_line_after_death(ft, tmp_path):
    standards = ("县级区划代码,补助项目,户类别,年度,补助标准,计量单位,发放对象,功能科目\n"
                 f"{COUNTY},产业奖补,一般户,2024,3.33,亩,按户,2130505\n"
                 f"{COUNTY},产业奖补,监测户,2024,400,亩,按户,2130505\n"
                 f"{COUNTY},雨露计划,一般户,2024,1500,学期,按人,2130505\n"
                 f"{COUNTY},雨露计划,监测户,2024,1500,学期,按人,2130505\n")
    assert ft(*CLERK, "import", "standards", write(tmp_path, "s.csv", standards))[0] == 0
    lines = ("户编码,补助项目,户类别,年度,数量,成员身份证号,金额\n"
             # 2.5 亩 × 3.33 = 8.325, rounded half-up to 8.33: the county's 8.33 is no alert
             "H-100,产业奖补,一般户,2024,2.5,,8.33\n"
             # one fen above it is
             "H-101,产业奖补,一般户,2024,2.5,,8.34\n"
             # 1.25 亩 × 400 = 500.00, kept as 520.00
             "H-104,产业奖补,监测户,2024,1.25,,520.00\n"
             # a line with the county's amount and no standard to judge it by
             "H-101,技能培训,一般户,2024,1,,300.00\n"
             f"H-100,雨露计划,一般户,2024,1,{idn(12, '20050303')},\n"     # died in February
             f"H-100,雨露计划,一般户,2024,1,{idn(14, '20070707')},\n"     # alive
             f"H-104,雨露计划,监测户,2024,1,{idn(16, '20080808')},\n"     # on the deaths list
             f"H-104,雨露计划,监测户,2024,1,{idn(17, '20090909')},\n")    # died in March
    code, _, err = ft(*CLERK, "roll", "create", "R-7", "--lot", ft.lot, "--function-code",
                      "2130505", "--use", "household_subsidy", "--county", COUNTY, "--date",
                      "2024-03-15", "--lines", write(tmp_path, "l.csv", lines, "gb18030"))
    assert code == 0, err
    assert ft(*CLERK, "roll", "publish", "R-7", "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-7", "--date", EARLIEST)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-7", "-o", "bank.csv", "--date", EARLIEST)[0] == 0
    results = "序号,金额,结果,入账日期\n" + "".join(
        f"{n},{a},成功,2024-04-02\n" for n, a in enumerate(
            ["8.33", "8.34", "520.00", "300.00"] + ["1500.00"] * 4, start=1))
    import_results(ft, write(tmp_path, "r.csv", results), "R-7")
    history = ("户编码,身份证号,事件,日期,原因\n"
               f"H-100,{idn(12, '20050303')},死亡,2024-02-10,病故\n"
               f"H-104,{idn(17, '20090909')},死亡,2024-03-05,病故\n")
    assert ft(*CLERK, "import", "member_history", write(tmp_path, "mh.csv", history))[0] == 0
    deaths = f"身份证号,姓名,死亡日期\n{idn(16, '20080808')},周小,2024-01-05\n"
    assert ft(*CLERK, "import", "deaths", write(tmp_path, "d.csv", deaths), "--source",
              "县民政局", "--snapshot", "2024-06-01")[0] == 0

    assert amount_fen(333, 250) == 833   # 8.325 rounds half-up: the line of 8.33 is at it
    d7 = scan(ft, "D7", "2024-12-31")
    assert set(d7) == {"roll_line:R-7:2", "roll_line:R-7:3"}
    assert d7["roll_line:R-7:2"]["amount_at_risk_fen"] == 1
    above = d7["roll_line:R-7:3"]
    assert above["amount_at_risk_fen"] == 20_00
    assert above["evidence"]["standard"]["allowed_fen"] == 500_00 and \
        above["evidence"]["standard"]["tier"] == "monitored" and \
        above["evidence"]["standard"]["quantity"] == "1.25"

    ben01 = scan(ft, "BEN-01", "2024-12-31")
    assert {k.split(":")[0] for k in ben01} == {"member"} and len(ben01) == 2
    by_name = {a["evidence"]["member"]: a for a in ben01.values()}
    assert set(by_name) == {"赵小", "周小"}   # 赵妹 alive; 周二 died in the month paid
    died = by_name["赵小"]["evidence"]
    assert died["household"] == "H-100" and died["death_date"] == "2024-02-10"
    assert died["registry"].startswith("member_history")
    assert died["lines"][0]["roll"] == "R-7" and died["lines"][0]["line"] == 5
    assert died["id_number"].startswith("4301") and "20050303" not in died["id_number"]
    assert by_name["赵小"]["amount_at_risk_fen"] == 1500_00
    listed = by_name["周小"]["evidence"]
    assert listed["list"]["source"] == "县民政局" and listed["death_date"] == "2024-01-05"


def test_whd01_counts_what_the_bank_credited(ft, tmp_path):
    sent_roll(ft, tmp_path, "R-S")   # H-100 1000.00, H-101 500.00, H-104 500.00
    import_results(ft, write(tmp_path, "s.csv", HEADER +
                             # credited 9.80 short: above max(¥1, 0.5% = ¥5)
                             "1,H-100,1000.00,990.20,成功,手续费,B1,2024-04-02,,\n"
                             # 2.40 short: within 0.5% of 500.00
                             "2,H-101,500.00,497.60,成功,手续费,B2,2024-04-02,,\n"
                             # 20.00 short, then topped up in full
                             "3,H-104,500.00,480.00,成功,代扣,B3,2024-04-02,,\n",
                             "gb18030"), "R-S")
    for d in json.loads(ft(*CLERK, "roll", "differences", "R-S", "--json")[1]):
        assert ft("--as", "k_approver2", "approve", d["transfer"])[0] == 0
    code, out, err = ft(*CLERK, "roll", "top-up", "R-S", "--line", "3", "--voucher", "BZ3",
                        "--date", "2024-04-12")
    assert code == 0, err
    assert ft("--as", "k_approver", "approve", int(out.split("#")[1].split(":")[0]))[0] == 0

    # within 30 days of sending nothing is judged yet
    assert scan(ft, "WHD-01", "2024-04-20") == {}
    found = scan(ft, "WHD-01", "2024-06-10")
    assert set(found) == {"roll_line:R-S:1"}
    assert found["roll_line:R-S:1"]["amount_at_risk_fen"] == 9_80
    assert found["roll_line:R-S:1"]["evidence"]["received_fen"] == 990_20


def test_whd04_counts_from_the_failure_and_only_the_lines_own_repayment(ft, tmp_path):
    sent_roll(ft, tmp_path, "R-F")   # sent 2024-03-28
    import_results(ft, write(tmp_path, "f1.csv", HEADER +
                             "1,H-100,1000.00,0,失败,卡号已注销,,2024-04-02,,\n"
                             "2,H-101,500.00,0,失败,账户冻结,,2024-04-02,,\n", "gb18030"), "R-F")
    # line 3 failed only on 20 May: 30 days from then, not from sending, are not over by June
    import_results(ft, write(tmp_path, "f2.csv", HEADER +
                             "3,H-104,500.00,0,失败,户名不符,,2024-05-20,,\n", "gb18030"), "R-F")
    # line 1 re-paid on a re-payment roll of its own, in time
    assert ft(*CLERK, "roll", "repay", "R-F", "--new", "R-F-补发", "--line", "1", "--date",
              "2024-04-03")[0] == 0
    assert ft(*CLERK, "roll", "publish", "R-F-补发", "--date", "2024-04-03")[0] == 0
    approve = publicity_ends(__import__("datetime").date(2024, 4, 3), 7)
    assert ft("--as", "k_approver", "roll", "approve", "R-F-补发", "--date", approve)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-F-补发", "-o", "again.bank", "--date", approve)[0] == 0
    # line 2's household is paid the same item on the next ordinary roll: not a re-payment
    sent_roll(ft, tmp_path, "R-N", "户编码,数量\nH-101,1\n")
    import_results(ft, write(tmp_path, "n.csv", HEADER + "1,H-101,500.00,500.00,成功,,N1,"
                             "2024-04-02,,\n"), "R-N")
    # a roll of one line re-paid by a direct payment naming the roll and the line
    sent_roll(ft, tmp_path, "R-G", "户编码,数量\nH-104,1\n")
    import_results(ft, write(tmp_path, "g.csv", HEADER + "1,H-104,500.00,0,失败,卡号错误,,"
                             "2024-04-02,,\n"), "R-G")
    pay_directly(ft, tmp_path, "p.csv", [("H-104", "500.00", "2024-04-20", "P-1",
                                          "产业奖补 R-G 第1行 退票重发")])

    # a return the bank gave no date for is judged from sending (the event holds the import
    # day, which for a county loading its past is long after)
    sent_roll(ft, tmp_path, "R-U", "户编码,数量\nH-100,1\n")
    import_results(ft, write(tmp_path, "u.csv", HEADER + "1,H-100,500.00,0,失败,,,,,\n"), "R-U")

    found = scan(ft, "WHD-04", "2024-06-10")
    assert set(found) == {"roll_line:R-F:2", "roll_line:R-U:1"}
    evidence = found["roll_line:R-F:2"]["evidence"]
    assert evidence["returned_on"] == "2024-04-02" and evidence["deadline"] == "2024-05-02"
    assert found["roll_line:R-F:2"]["amount_at_risk_fen"] == 500_00
    # once 30 days from line 3's failure are over, it is raised too
    assert set(scan(ft, "WHD-04", "2024-06-20")) == {"roll_line:R-F:2", "roll_line:R-F:3",
                                                      "roll_line:R-U:1"}


def test_whd01_leaves_money_paid_to_another_account_to_whd05(ft, tmp_path):
    """One event, one alert: the bank credited line 1 to another account (WHD-05's), so WHD-01
    does not raise the same money as not received; line 2's short credit stays WHD-01's (the
    outsider's evaluation counted a planted other-account line under both)."""
    sent_roll(ft, tmp_path, "R-A")   # H-100 1000.00, H-101 500.00, H-104 500.00
    import_results(ft, write(tmp_path, "a.csv", HEADER +
                             "1,H-100,1000.00,1000.00,成功,,B1,2024-04-02,赵大,"
                             "6222029999999999999\n"
                             "2,H-101,500.00,480.00,成功,代扣,B2,2024-04-02,,\n"
                             "3,H-104,500.00,500.00,成功,,B3,2024-04-02,,\n"), "R-A")
    for d in json.loads(ft(*CLERK, "roll", "differences", "R-A", "--json")[1]):
        assert ft("--as", "k_approver2", "approve", d["transfer"])[0] == 0
    assert set(scan(ft, "WHD-01", "2024-06-10")) == {"roll_line:R-A:2"}
    assert set(scan(ft, "WHD-05", "2024-06-10")) == {"roll_line:R-A:1"}


def test_ben01_the_heads_death_leaves_another_members_own_item(ft, tmp_path):
    """The head died in February: the household's own item paid in April is a payment after
    death; the student's own 雨露计划 line (a per-person item naming a living member) is not —
    its payee is the student (found by the outsider's evaluation)."""
    standards = ("县级区划代码,补助项目,户类别,年度,补助标准,计量单位,发放对象,功能科目\n"
                 f"{COUNTY},产业奖补,一般户,2024,500,亩,按户,2130505\n"
                 f"{COUNTY},雨露计划,一般户,2024,1500,学期,按人,2130505\n")
    assert ft(*CLERK, "import", "standards", write(tmp_path, "s.csv", standards))[0] == 0
    lines = ("户编码,补助项目,户类别,年度,数量,成员身份证号\n"
             "H-100,产业奖补,一般户,2024,2,\n"
             f"H-100,雨露计划,一般户,2024,1,{idn(14, '20070707')}\n")
    code, _, err = ft(*CLERK, "roll", "create", "R-H", "--lot", ft.lot, "--function-code",
                      "2130505", "--use", "household_subsidy", "--county", COUNTY, "--date",
                      "2024-03-15", "--lines", write(tmp_path, "l.csv", lines))
    assert code == 0, err
    assert ft(*CLERK, "roll", "publish", "R-H", "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-H", "--date", EARLIEST)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-H", "-o", "bank.csv", "--date", EARLIEST)[0] == 0
    import_results(ft, write(tmp_path, "r.csv", "序号,金额,结果,入账日期\n"
                             "1,1000.00,成功,2024-04-02\n2,1500.00,成功,2024-04-02\n"), "R-H")
    history = f"户编码,身份证号,事件,日期,原因\nH-100,{idn(11)},死亡,2024-02-10,病故\n"
    assert ft(*CLERK, "import", "member_history", write(tmp_path, "mh.csv", history))[0] == 0
    ben01 = scan(ft, "BEN-01", "2024-12-31")
    assert set(ben01) == {"household:H-100"}
    paid = ben01["household:H-100"]
    assert [t["key"] for t in paid["evidence"]["transfers"]] == ["roll:R-H:1"]
    assert paid["amount_at_risk_fen"] == 1000_00


def test_d7_counts_persons_on_lines_of_the_standards_table(ft, tmp_path):
    """教育补助 for 5 persons on H-101, whose one member is its head, in the form a county keeps
    (standards table, the county's amount): D7 counts the line's persons, whatever form it is
    stored in (found by the review: the check read the first form's quantity only)."""
    standards = ("县级区划代码,补助项目,户类别,年度,补助标准,计量单位,发放对象,功能科目\n"
                 f"{COUNTY},教育补助,一般户,2024,500,人,按户,2130505\n")
    assert ft(*CLERK, "import", "standards", write(tmp_path, "s.csv", standards))[0] == 0
    lines = ("户编码,补助项目,户类别,年度,数量,金额\n"
             "H-101,教育补助,一般户,2024,5,2500.00\n"
             "H-100,教育补助,一般户,2024,3,1500.00\n")      # three living members: no alert
    code, _, err = ft(*CLERK, "roll", "create", "R-9", "--lot", ft.lot, "--function-code",
                      "2130505", "--use", "household_subsidy", "--county", COUNTY, "--date",
                      "2024-03-15", "--lines", write(tmp_path, "l.csv", lines))
    assert code == 0, err
    assert ft(*CLERK, "roll", "publish", "R-9", "--date", PUBLISHED)[0] == 0
    d7 = scan(ft, "D7", "2024-12-31")
    assert set(d7) == {"roll_line:R-9:1"}
    assert d7["roll_line:R-9:1"]["amount_at_risk_fen"] == 2000_00   # 4 persons too many
    assert d7["roll_line:R-9:1"]["evidence"]["living_members"] == 1
