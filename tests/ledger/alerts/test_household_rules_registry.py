"""The household rules on the registry a county keeps (issue 18), loaded only through the
documented imports and commands (docs/formats.md), on SQLite and PostgreSQL: "BEN-03" from the
card register (a number two households hold at once; a registered guardian's card for a ward,
disclosed; a number the bank gave again after the first household replaced it), "BEN-06" from
the imported status history on the payment date, "BEN-07" from members' ages and member_history
(over 100, a minor alone, a household that doubled in a year)."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.core.pii import PiiVault
from ledger.store.db import transaction
from tests.ledger.alerts.test_household_rules_rolls import CLERK, pay_directly, scan
from tests.ledger.test_bank_results import import_results
from tests.ledger.test_import_households import HOUSEHOLDS, idn, write
from tests.ledger.test_invariants import down_to_county
from tests.ledger.test_rolls import EARLIEST, PUBLISHED
from tests.world import COUNTY, VILLAGE


@pytest.fixture
def ft(cli, db_url, world, tmp_path):
    down_to_county(world, 100_000_00)
    cli.lot = world.lot_id
    cli.world = world
    return cli


def households(ft, tmp_path, text):
    code, _, err = ft(*CLERK, "import", "households", write(tmp_path, "h.csv", text, "gb18030"))
    assert code == 0, err


def members(ft, tmp_path, rows):
    text = "户编码,姓名,与户主关系,身份证号\n" + "".join(",".join(r) + "\n" for r in rows)
    code, _, err = ft(*CLERK, "import", "members", write(tmp_path, "m.csv", text))
    assert code == 0, err


def test_ben03_reads_the_card_register_over_time(ft, tmp_path):
    households(ft, tmp_path, HOUSEHOLDS +
               f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n"
               f"H-105,{VILLAGE},吴六,建档立卡,2019-05-01,6222000000000005551,\n"
               f"H-106,{VILLAGE},郑七,建档立卡,2019-05-01,,\n")
    members(ft, tmp_path, [("H-100", "赵大", "户主", idn(11)), ("H-104", "周五", "户主", idn(15)),
                           ("H-104", "周小", "子", idn(16, "20080808"))])
    cards = ("户编码,卡类别,成员身份证号,持卡人姓名,监护人身份证号,开户银行,银行卡号,开卡日期,"
             "销户日期,原卡号,原因\n"
             # H-102's household card is H-101's number: two households on one card
             "H-102,户卡,,孙三,,农商银行,6222021234567890456,2023-01-01,,,\n"
             # the ward of H-104 paid to the card of his registered guardian 赵大 (H-100)
             f"H-104,监护人卡,{idn(16, '20080808')},赵大,{idn(11)},农业银行,"
             "6222021234567890123,2023-09-01,,,\n"
             # H-105 changed cards in 2022; the bank gave its old number to H-106 in 2023
             "H-105,户卡,,吴六,,邮储银行,6221000000000202,2022-01-01,,6222000000000005551,换卡\n"
             "H-106,户卡,,郑七,,邮储银行,6222000000000005551,2023-06-01,,,\n")
    code, _, err = ft(*CLERK, "import", "cards", write(tmp_path, "c.csv", cards, "gb18030"))
    assert code == 0, err
    pay_directly(ft, tmp_path, "p.csv", [(h, "800.00", "2024-05-06", f"P-{h}", "产业奖补")
                                         for h in ("H-100", "H-101", "H-102", "H-105", "H-106")])
    standards = ("县级区划代码,补助项目,户类别,年度,补助标准,计量单位,发放对象,功能科目\n"
                 f"{COUNTY},雨露计划,监测户,2024,1500,学期,按人,2130505\n")
    assert ft(*CLERK, "import", "standards", write(tmp_path, "s.csv", standards))[0] == 0
    lines = ("户编码,补助项目,户类别,数量,成员身份证号\n"
             f"H-104,雨露计划,监测户,1,{idn(16, '20080808')}\n")
    code, _, err = ft(*CLERK, "roll", "create", "R-Y", "--lot", ft.lot, "--function-code",
                      "2130505", "--use", "household_subsidy", "--county", COUNTY, "--date",
                      "2024-03-15", "--lines", write(tmp_path, "l.csv", lines))
    assert code == 0, err
    assert ft(*CLERK, "roll", "publish", "R-Y", "--date", PUBLISHED)[0] == 0
    assert ft("--as", "k_approver", "roll", "approve", "R-Y", "--date", EARLIEST)[0] == 0
    assert ft(*CLERK, "roll", "send", "R-Y", "-o", "y.bank", "--date", EARLIEST)[0] == 0
    import_results(ft, write(tmp_path, "r.csv", "序号,金额,结果,入账日期\n1,1500.00,成功,"
                             "2024-04-02\n"), "R-Y")

    found = scan(ft, "BEN-03", "2024-12-31")
    assert len(found) == 1
    (shared,) = found.values()
    assert [h["code"] for h in shared["evidence"]["households"]] == ["H-101", "H-102"]
    assert shared["evidence"]["card_last4"] == "0456"
    assert shared["amount_at_risk_fen"] == 800_00
    # counted as a household of its own, the guardian's card for the ward is shared too
    with transaction(ft.world.factory) as s:
        counted = CHECKS["BEN-03"](ScanContext(
            s, AlertSettings(ben03_count_guardian_cards=True), dt.date(2024, 12, 31),
            PiiVault.from_env()))
    assert sorted([h["code"] for h in f.evidence["households"]] for f in counted) == [
        ["H-100", "H-104"], ["H-101", "H-102"]]


def test_ben06_reads_the_status_history_on_the_payment_date(ft, tmp_path):
    households(ft, tmp_path, HOUSEHOLDS +
               f"H-104,{VILLAGE},周五,监测对象,2021-06-01,6222021234567890777,\n")
    rows = [(h, "600.00", day, f"P-{h}-{day}", "产业奖补") for day in ("2024-03-01", "2024-06-03")
            for h in ("H-100", "H-101", "H-104")]
    pay_directly(ft, tmp_path, "p.csv", rows)
    history = ("户编码,户状态,变更日期,原因,文号\n"
               "H-100,清退,2024-02-01,识别不精准,县扶〔2024〕2号\n"
               "H-101,已脱贫,2020-12-20,2020年脱贫验收,县扶〔2020〕9号\n"
               "H-104,注销,2024-05-01,全家迁出,\n")
    code, _, err = ft(*CLERK, "import", "household_status",
                      write(tmp_path, "st.csv", history, "gb18030"))
    assert code == 0, err
    found = scan(ft, "BEN-06", "2024-12-31")
    assert set(found) == {"household:H-100", "household:H-104"}
    removed = found["household:H-100"]
    assert removed["amount_at_risk_fen"] == 1200_00
    assert {t["status"] for t in removed["evidence"]["transfers"]} == {"removed"}
    assert removed["evidence"]["transfers"][0]["status_doc_number"] == "县扶〔2024〕2号"
    cancelled = found["household:H-104"]   # paid in March while monitored: only June counts
    assert [t["date"] for t in cancelled["evidence"]["transfers"]] == ["2024-06-03"]


def test_ben07_ages_a_minor_alone_and_a_household_that_doubled(ft, tmp_path):
    cards = {code: f"62220000000000{n:05d}" for n, code in enumerate(
        ("H-301", "H-302", "H-303", "H-304", "H-305", "H-306", "H-307"))}
    households(ft, tmp_path, "户编码,村代码,户主姓名,户状态,识别日期,银行卡号\n" + "".join(
        f"{code},{VILLAGE},户主{code[-1]},建档立卡,2019-05-01,{card}\n"
        for code, card in cards.items()))
    people = [("H-301", "吴一", "户主", "19200301"), ("H-301", "吴二", "配偶", "19500101"),
              ("H-302", "郑一", "户主", "19260101"),        # 98: no alert
              ("H-303", "冯小", "户主", "20100505"),        # a minor alone
              ("H-304", "陈一", "户主", "19800101"), ("H-304", "陈小", "子", "20100606"),
              ("H-305", "褚一", "户主", "19800101"), ("H-305", "褚二", "配偶", "19820101"),
              ("H-305", "褚三", "子", "20150101"), ("H-305", "褚四", "女", "20160101"),
              ("H-306", "卫一", "户主", "19800101"), ("H-306", "卫二", "配偶", "19820101"),
              ("H-306", "卫三", "子", "20120101"), ("H-306", "卫四", "女", "20240210"),
              ("H-307", "蒋一", "户主", "19800101"), ("H-307", "蒋二", "配偶", "19820101")]
    members(ft, tmp_path, [(h, name, relation, idn(31 + n, born))
                           for n, (h, name, relation, born) in enumerate(people)])
    history = ("户编码,身份证号,事件,日期,原因\n"
               # the parent died after the household was paid: the child was not alone then
               f"H-304,{idn(35, '19800101')},死亡,2024-11-20,病故\n"
               # two children joined in April: 2 members became 4
               f"H-305,{idn(39, '20150101')},加入,2024-04-01,收养\n"
               f"H-305,{idn(40, '20160101')},加入,2024-04-01,收养\n"
               # a birth in a household of three: 3 became 4
               f"H-306,{idn(44, '20240210')},加入,2024-02-10,出生\n"
               # everyone left in August: dissolved, excepted
               f"H-307,{idn(45, '19800101')},迁出,2024-08-05,\n"
               f"H-307,{idn(46, '19820101')},迁出,2024-08-05,\n")
    code, _, err = ft(*CLERK, "import", "member_history",
                      write(tmp_path, "mh.csv", history, "gb18030"))
    assert code == 0, err
    pay_directly(ft, tmp_path, "p.csv", [(h, "700.00", "2024-05-06", f"P-{h}", "产业奖补")
                                         for h in cards])
    found = scan(ft, "BEN-07", "2024-12-31")
    kinds = {k.split(":")[0]: k for k in found}
    assert set(found) == {kinds["member"], "household:H-303", "household_year:H-305:2024"}
    old = found[kinds["member"]]
    assert old["evidence"]["member"] == "吴一" and old["evidence"]["household"] == "H-301"
    assert "19200301" not in old["evidence"]["id_number"]
    assert found["household:H-303"]["amount_at_risk_fen"] == 700_00
    doubled = found["household_year:H-305:2024"]["evidence"]
    assert (doubled["size_on_1_january"], doubled["size"], doubled["on"]) == (2, 4, "2024-04-01")
