"""One hand-written fixture per rule: a true positive and one case per exclusion, checked on
SQLite and PostgreSQL. (Every rule is also scored on the planted demo in test_eval.py.)"""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.alerts.settings import AlertSettings
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.funds import flows, posting, projects
from ledger.models import HouseholdStatus, PayeeKind, ProjectStatus
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.store.context import LedgerContext
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn
from tests.world import COUNTY

D = dt.date


@pytest.fixture
def town(world):
    return Town(world)


def test_ben01_paid_after_the_heads_death(town):
    town.household("HA", [("张三", "户主", idn(1), D(2024, 3, 1))])
    town.household("HB", [("李四", "户主", idn(2), D(2024, 5, 2))])   # month of death
    town.household("HC", [("王五", "户主", idn(3), None), ("王小", "子", idn(4), D(2024, 1, 1))])
    town.household("HD", [("赵六", "户主", idn(5), None)])             # death list only
    town.household("HE", [("孙七", "户主", idn(6), None)])             # died after payment
    for code in ("HA", "HB", "HC", "HD", "HE"):
        town.pay(code, 1000_00, D(2024, 5, 20))
    town.listing(ListKind.DEATHS, [ListRecord(2, "赵六", idn(5), date_from=D(2024, 4, 1)),
                                   ListRecord(3, "孙七", idn(6), date_from=D(2024, 9, 1))])
    fired = town.fired("BEN-01")
    assert set(fired) == {"household:HA", "household:HD"}
    listed = fired["household:HD"].evidence
    assert listed["list"]["source"] == "测试来源" and listed["list"]["snapshot_date"] == \
        "2024-12-01" and listed["match"]["fields"] == ["id_number"]
    assert fired["household:HA"].amount_at_risk_fen == 1000_00


def test_ben06_not_registered_on_the_payment_date(town):
    town.household("HR", [("钱一", "户主", idn(11), None)], status=HouseholdStatus.REMOVED)
    town.household("HL", [("钱二", "户主", idn(12), None)], registered=D(2024, 9, 1))
    town.household("HX", [("钱三", "户主", idn(13), None)], status=HouseholdStatus.EXITED)
    for code in ("HR", "HL", "HX"):
        town.pay(code, 500_00, D(2024, 6, 3))
    assert set(town.fired("BEN-06")) == {"household:HR", "household:HL"}


def test_ben03_one_card_for_two_households(town):
    town.household("H1", [("周一", "户主", idn(21), None)], card="6222021234560001")
    town.household("H2", [("周二", "户主", idn(22), None)], card="6222021234560001")
    town.household("H3", [("周三", "户主", idn(23), None)], card="6222021234560003")
    for code in ("H1", "H2", "H3"):
        town.pay(code, 500_00, D(2024, 6, 3))
    fired = town.fired("BEN-03")
    assert len(fired) == 1
    (finding,) = fired.values()
    assert [h["code"] for h in finding.evidence["households"]] == ["H1", "H2"]


def test_dup01_same_payment_twice_within_the_window(town):
    town.household("H1", [("吴一", "户主", idn(31), None)])
    town.household("H2", [("吴二", "户主", idn(32), None)])
    town.pay("H1", 800_00, D(2024, 6, 3), memo="补助 A")
    second = town.pay("H1", 800_00, D(2024, 6, 10), memo="补助 A")
    town.pay("H2", 800_00, D(2024, 6, 3), memo="补助 B")
    town.pay("H2", 800_00, D(2024, 7, 15), memo="补助 B")            # a month apart
    town.pay("H1", 800_00, D(2024, 6, 12), memo="补助 C")            # other item
    assert set(town.fired("DUP-01")) == {f"transfer:{second}"}


def test_div01_negative_list_words_and_codes(town):
    town.household("H1", [("郑一", "户主", idn(41), None)])
    bad = town.pay("H1", 300_00, D(2024, 6, 3), memo="发放村干部奖金")
    fine = town.pay("H1", 300_00, D(2024, 6, 4), memo="产业奖补")
    econ = town.pay("H1", 300_00, D(2024, 6, 5), memo="经济分类30201 办公费")
    assert set(town.fired("DIV-01")) == {f"transfer:{bad}", f"transfer:{econ}"}
    strict = AlertSettings(prohibited_keywords=("补",), prohibited_economic_codes=())
    assert set(town.fired("DIV-01", strict)) == {f"transfer:{fine}"}  # the list is config


def test_div01_reads_what_vouchers_call_vehicles_and_cadre_allowances_not_allowed_uses(town):
    """The negative list as vouchers word it: a car and a village cadre's allowance fire; an
    interest subsidy of microcredit (还款贴息: 还款 inside an allowed use) and work-relief labour
    pay (以工代赈务工工资) do not."""
    town.household("H1", [("郑二", "户主", idn(42), None)])
    car = town.pay("H1", 300_00, D(2024, 6, 3), memo="购置工作用越野车一辆")
    cadre = town.pay("H1", 300_00, D(2024, 6, 4), memo="村干部误工补贴")
    town.pay("H1", 300_00, D(2024, 6, 5), memo="小额信贷到期还款贴息")
    town.pay("H1", 300_00, D(2024, 6, 6), memo="以工代赈务工工资")
    town.pay("H1", 300_00, D(2024, 6, 8), memo="雨露计划汽车驾驶培训及培训误工补贴")
    both = town.pay("H1", 300_00, D(2024, 6, 7), memo="以工代赈项目管理人员工资")
    assert set(town.fired("DIV-01")) == {f"transfer:{car}", f"transfer:{cadre}",
                                         f"transfer:{both}"}


def _project(town, code, approved_on):
    with transaction(town.world.factory) as s:
        clerk = get_user(s, "k_clerk")
        projects.register_project(s, clerk, code=code, name="道路", county_code=COUNTY,
                                  function_code="2130504")
        projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, approved_on)
        projects.advance_project(s, get_user(s, "k_approver"), code, ProjectStatus.APPROVED,
                                 approved_on)
        t = flows.fund_project(s, clerk, lot_id=town.world.lot_id, project_code=code,
                               amount_fen=100_000_00, effective_date=approved_on,
                               key=f"fund:{code}")
        posting.approve(s, get_user(s, "k_approver"), t.id)


def test_e1_and_e2_project_paid_too_early(town):
    _project(town, "PA", D(2024, 7, 30))
    _project(town, "PB", D(2024, 7, 1))
    _project(town, "PC", D(2024, 7, 1))
    for code, day in (("PA", D(2024, 7, 10)), ("PB", D(2024, 7, 5)), ("PC", D(2024, 7, 15))):
        town.pay("C-001", 10_000_00, day, memo="工程款", project=code, use="infrastructure",
                 fc="2130504")
    assert set(town.fired("E1")) == {"project:PA"}
    assert set(town.fired("E2")) == {"project:PA", "project:PB"}


def test_spl01_split_below_the_threshold(town):
    cfg = AlertSettings(split_threshold_fen=10_000_00)
    for day, amount in ((D(2024, 6, 3), 9_500_00), (D(2024, 6, 10), 9_600_00),
                        (D(2024, 6, 20), 9_100_00)):
        town.pay("C-001", amount, day, memo=f"材料{day.day}")
    town.pay("H-001", 9_500_00, D(2024, 6, 3), memo="a")
    town.pay("H-001", 9_500_00, D(2024, 8, 3), memo="b")
    town.pay("H-001", 9_500_00, D(2024, 10, 3), memo="c")            # spread over months
    assert set(town.fired("SPL-01", cfg)) == {f"payee:{COUNTY}:C-001"}


def test_sta05_backdated_entry(town):
    town.pay("H-001", 100_00, D(2024, 9, 2), memo="a")
    late = town.pay("H-001", 200_00, D(2024, 7, 1), memo="b")
    town.pay("H-001", 300_00, D(2024, 8, 20), memo="c")              # within 30 days
    assert set(town.fired("STA-05")) == {f"transfer:{late}"}


def test_flw01_and_flw02_on_the_county_chain(town):
    # The province passed half of its ¥1,000,000 down on 2024-03-15 and kept the rest; the
    # city passed all it got at once; the county holds its share idle.
    lot = town.world.lot_id
    assert set(town.fired("FLW-01")) == {f"lot_unit:{lot}:430000"}
    assert town.fired("FLW-01", AlertSettings(flw01_min_share_percent=50)) == {}
    assert town.fired("FLW-01", as_of=D(2024, 4, 10)) == {}  # still within 30 days
    idle = town.fired("FLW-02", as_of=D(2025, 3, 20))
    assert set(idle) == {f"account:{lot}:unit:{COUNTY}", f"account:{lot}:unit:430000"}
    assert town.fired("FLW-02", as_of=D(2024, 12, 31)) == {}
    assert idle[f"account:{town.world.lot_id}:unit:{COUNTY}"].severity == "high"
    assert town.fired("FLW-02", as_of=D(2026, 3, 20))[
        f"account:{town.world.lot_id}:unit:{COUNTY}"].severity == "critical"


def test_ben02_same_person_and_clones(town):
    a = town.household("H1", [("王建国", "户主", idn(51, "19800101"), None),
                              ("王建华", "子", idn(53, "20100505"), None),
                              ("王建民", "子", idn(55, "20100505"), None)])   # twins
    b = town.household("H2", [("汪建国", "户主", idn(57, "19800101"), None)])  # clone
    c = town.household("H3", [("李明", "户主", idn(61, "19750303"), None)])
    d = town.household("H4", [("刘强", "户主", idn(63), None), ("李明", "其他", idn(61, "19750303"),
                                                                 None)])
    fired = town.fired("BEN-02")
    assert set(fired) == {f"members:{a[0]}-{b[0]}", f"members:{c[0]}-{d[1]}"}
    assert fired[f"members:{a[0]}-{b[0]}"].evidence["match"]["name_match"].startswith(
        "look-alike") or "pinyin" in fired[f"members:{a[0]}-{b[0]}"].evidence["match"][
        "name_match"]


def test_ben04_payroll_exact_and_transposed(town):
    ids = {n: idn(70 + n) for n in range(4)}
    m = [town.household(f"H{n}", [(name, "户主", ids[n], None)])[0]
         for n, name in enumerate(("陈一", "陈二", "陈三", "陈四"))]
    for n in range(4):
        town.pay(f"H{n}", 500_00, D(2024, 6, 3))
    swapped = ids[1][:14] + ids[1][15] + ids[1][14] + ids[1][16:]
    town.listing(ListKind.PAYROLL, [
        ListRecord(2, "陈一", ids[0], org="县教育局", date_from=D(2019, 1, 1)),
        ListRecord(3, "陈二", swapped, org="县医院", date_from=D(2019, 1, 1)),
        ListRecord(4, "陈三", ids[2], org="村委会", category="公益性岗位", date_from=D(2019, 1, 1)),
        ListRecord(5, "陈四", ids[3], org="林业局", date_from=D(2015, 1, 1),
                   date_to=D(2023, 12, 31))])
    fired = town.fired("BEN-04")
    assert set(fired) == {f"member:{m[0]}", f"member:{m[1]}"}
    assert "swapped" in fired[f"member:{m[1]}"].evidence["match"]["method"]


def test_ben05_car_or_company(town):
    m = [town.household(f"H{n}", [(f"林{n}", "户主", idn(80 + n), None)])[0] for n in range(4)]
    for n in range(4):
        town.pay(f"H{n}", 500_00, D(2024, 6, 3))
    town.listing(ListKind.VEHICLES, [ListRecord(2, "林0", idn(80), category="小型轿车"),
                                     ListRecord(3, "林1", idn(81), category="拖拉机")])
    town.listing(ListKind.BUSINESSES, [
        ListRecord(2, "林2", idn(82), org="林氏商贸有限公司", category="法定代表人"),
        ListRecord(3, "林3", idn(83), org="已注销公司", category="法定代表人",
                   date_to=D(2022, 1, 1))])
    assert set(town.fired("BEN-05")) == {f"member:{m[0]}", f"member:{m[2]}"}


def test_fav01_and_fav02_officials_and_relatives(town):
    m = [town.household(f"H{n}", [(f"罗{n}", "户主", idn(90 + n), None)])[0] for n in range(3)]
    for n in range(3):
        town.pay(f"H{n}", 500_00, D(2024, 6, 3))
    official, far = idn(99, "19700707"), idn(98, "19700708")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code="430121001",
                   org="镇党委书记"),
        ListRecord(3, "罗县长", far, category="本人", region_code="430122", org="县长"),
        ListRecord(4, "罗0", idn(90), category="兄弟", related_id_number=official),
        ListRecord(5, "罗1", idn(91), category="兄弟", related_id_number=far),
        ListRecord(6, "罗2", idn(92), category="堂兄弟", degree=3, related_id_number=official),
        ListRecord(7, "罗妻", idn(97, "19720101"), category="配偶", related_id_number=official)])
    assert set(town.fired("FAV-01")) == {f"member:{m[0]}"}
    town.pay("C-001", 20_000_00, D(2024, 6, 3), memo="工程款")
    town.listing(ListKind.BUSINESSES, [
        ListRecord(2, "罗妻", idn(97, "19720101"), org="星沙建筑公司", category="法定代表人")])
    assert set(town.fired("FAV-02")) == {"payee:C-001"}


def test_ben08_a_split_just_before_enrolment_linked_to_an_official(town):
    from ledger.households import changes as household_changes
    heads = [town.household(f"S{n}", [(f"罗{n}", "户主", idn(80 + n), None),
                                       (f"罗{n}子", "子", idn(70 + n, "19950101"), None)])
             for n in range(3)]
    with transaction(town.world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for n in (0, 1):  # S0 and S1 split off a son's household; S2 does not
            household_changes.split_household(
                s, clerk, town.vault, from_code=f"S{n}", new_code=f"S{n}-1",
                member_ids=[heads[n][1]], head_member_id=heads[n][1],
                effective_date=D(2024, 5, 1), enrolled_on=D(2024, 5, 1), reason="成婚分户",
                bank_card=f"62220288{n}0001234")
    for code in ("S0-1", "S1-1", "S2"):
        town.pay(code, 500_00, D(2024, 6, 3))
    official = idn(99, "19700707")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code="430121001",
                   org="镇党委书记"),
        ListRecord(3, "罗0子", idn(70, "19950101"), category="子女", related_id_number=official),
        ListRecord(4, "罗2子", idn(72, "19950101"), category="子女",
                   related_id_number=official)])
    # S0-1: split, then enrolled at once, the official's son → BEN-08. S1-1: split, no link.
    # S2: the official's son, but no split.
    assert set(town.fired("BEN-08")) == {"household:S0-1"}


def test_blk01_blacklisted_during_its_period(town):
    town.pay("C-001", 20_000_00, D(2024, 6, 3), memo="工程款")
    town.listing(ListKind.BLACKLIST, [ListRecord(2, "星沙建筑公司", org="围标",
                                                 date_from=D(2021, 1, 1),
                                                 date_to=D(2022, 12, 31))])
    assert town.fired("BLK-01") == {}
    town.listing(ListKind.BLACKLIST, [ListRecord(2, "星沙建筑公司", org="围标",
                                                 date_from=D(2024, 1, 1))],
                 snapshot=D(2024, 12, 2))
    assert set(town.fired("BLK-01")) == {"payee:C-001"}


def test_deaths_and_moves_recorded_after_registration(town):
    """ledger.households.changes records deaths and moves as member events: BEN-01 reads the
    death, BEN-02 does not count a person who moved to another household twice."""
    from ledger.households import changes
    head = town.household("HA", [("马一", "户主", idn(101), None)])[0]
    mover = town.household("HB", [("马二", "户主", idn(102), None),
                                  ("马三", "女", idn(103, "20000202"), None)])[1]
    town.household("HC", [("牛四", "户主", idn(104), None)])
    with transaction(town.world.factory) as s:
        clerk = get_user(s, "k_clerk")
        changes.record_death(s, clerk, head, D(2024, 3, 1))
        changes.move_member(s, clerk, town.vault, mover, to_household="HC",
                            effective_date=D(2024, 4, 1), reason="出嫁")
    town.pay("HA", 1000_00, D(2024, 5, 20))
    assert set(town.fired("BEN-01")) == {"household:HA"}
    assert town.fired("BEN-02") == {}


def test_dup02_same_payment_under_another_voucher(town):
    town.household("H1", [("吴一", "户主", idn(31), None)])
    town.household("H2", [("吴二", "户主", idn(32), None)])
    town.household("H3", [("吴三", "户主", idn(33), None)])
    town.pay("H1", 800_00, D(2024, 6, 3), memo="补助 A")
    other = town.pay("H1", 800_00, D(2024, 6, 10), memo="补助 B")      # another item text
    town.pay("H2", 800_00, D(2024, 6, 3), memo="补助 A")
    exact = town.pay("H2", 800_00, D(2024, 6, 10), memo="补助 A")      # DUP-01's, not again
    town.pay("H2", 800_00, D(2024, 7, 30), memo="补助 C")              # weeks later
    town.pay("H3", 800_00, D(2024, 6, 3), memo="补助 A")
    town.pay("H3", 900_00, D(2024, 6, 5), memo="补助 B")               # another amount
    fired = town.fired("DUP-02")
    assert set(fired) == {f"transfer:{other}"}
    assert set(town.fired("DUP-01")) == {f"transfer:{exact}"}
    assert fired[f"transfer:{other}"].evidence["items"] == ["补助 A", "补助 B"]
    assert town.fired("DUP-02", AlertSettings(duplicate_window_days=5)) == {}


def _contractors(town, *names):
    codes = []
    with transaction(town.world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for n, name in enumerate(names, start=2):
            projects.register_payee(s, clerk, code=f"C-{n:03d}", kind=PayeeKind.CONTRACTOR,
                                    name=name, region_code=COUNTY)
            codes.append(f"C-{n:03d}")
    return codes


REGISTER_SNAPSHOT = D(2024, 12, 1)


def _register(town, kind, lines, snapshot=REGISTER_SNAPSHOT, source="县公共资源交易中心"):
    from ledger.registers.payees import record_register
    with transaction(town.world.factory) as s:
        return record_register(s, get_user(s, "k_clerk"), town.vault, kind=kind,
                               source=source, snapshot_date=snapshot, lines=lines)


def test_div02_payee_not_among_the_projects_approved_payees(town):
    from ledger.registers.payees import ApprovedPayeeLine as A
    from ledger.registers.payees import RegisterKind
    _project(town, "PA", D(2024, 7, 1))
    _project(town, "PB", D(2024, 7, 1))
    late, stranger, ended = _contractors(town, "乙公司", "丙公司", "丁公司")
    _register(town, RegisterKind.APPROVED_PAYEES, [
        A(2, "PA", "星沙建筑公司", D(2024, 7, 1), basis="中标通知书 2024-07"),
        A(3, "PA", "乙公司", D(2024, 8, 1)),
        A(4, "PA", "丁公司", D(2024, 6, 1), until=D(2024, 7, 5))])
    kw = dict(project="PA", use="infrastructure", fc="2130504")
    town.pay("C-001", 10_000_00, D(2024, 7, 10), memo="工程款", **kw)     # approved
    town.pay(stranger, 8_000_00, D(2024, 7, 10), memo="工程款", **kw)     # not listed
    town.pay(late, 7_000_00, D(2024, 7, 15), memo="工程款", **kw)         # before the award
    town.pay(late, 6_000_00, D(2024, 8, 5), memo="工程款", **kw)          # after: fine
    town.pay(ended, 5_000_00, D(2024, 7, 10), memo="工程款", **kw)        # contract ended
    town.pay("H-001", 1_000_00, D(2024, 7, 10), memo="务工补助", **kw)    # a household
    town.pay(stranger, 9_000_00, D(2024, 7, 10), memo="工程款", project="PB",
             use="infrastructure", fc="2130504")                        # PB has no register
    fired = town.fired("DIV-02")
    assert set(fired) == {f"project_payee:PA:{stranger}", f"project_payee:PA:{late}",
                          f"project_payee:PA:{ended}"}
    assert fired[f"project_payee:PA:{late}"].amount_at_risk_fen == 7_000_00
    evidence = fired[f"project_payee:PA:{stranger}"].evidence
    assert evidence["approved_payees"][0]["register"]["source"] == "县公共资源交易中心"
    strict = town.fired("DIV-02", AlertSettings(div02_require_register=True))
    assert f"project_payee:PB:{stranger}" in strict and len(strict) == 4


def test_div03_personal_account_not_a_beneficiarys(town):
    from ledger.registers.payees import PayeeAccountLine as A
    from ledger.registers.payees import RegisterKind
    town.household("HA", [("何一", "户主", idn(201), None)])
    town.household("HR", [("何二", "户主", idn(202), None)], status=HouseholdStatus.REMOVED)
    private, labourer, removed, moved, unpaid = _contractors(
        town, "何记工程队", "何一", "何二", "某劳务公司", "未付款工程队")
    _register(town, RegisterKind.PAYEE_ACCOUNTS, [
        A(2, "星沙建筑公司", False, "1234", "星沙建筑公司"),              # corporate
        A(3, "何记工程队", True, "5678", "何老板", idn(203)),            # not a beneficiary
        A(4, "何一", True, "1111", "何一", idn(201)),                    # poor household member
        A(5, "何二", True, "2222", "何二", idn(202)),                    # household removed
        A(6, "某劳务公司", True, "3333", "某人", idn(204)),              # later corporate
        A(7, "未付款工程队", True, "4444", "某人", idn(205))],            # never paid
        snapshot=D(2024, 6, 1))
    _register(town, RegisterKind.PAYEE_ACCOUNTS,
              [A(2, "某劳务公司", False, "9999", "某劳务公司")], snapshot=D(2024, 9, 1))
    for code in ("C-001", private, labourer, removed, moved):
        town.pay(code, 3_000_00, D(2024, 7, 1), memo="劳务费")
    fired = town.fired("DIV-03")
    assert set(fired) == {f"payee:{private}", f"payee:{removed}"}
    finding = fired[f"payee:{private}"]
    assert finding.amount_at_risk_fen == 3_000_00 and finding.severity is None
    assert finding.evidence["account"]["last4"] == "5678"


def test_div05_money_back_to_the_payer_within_30_days(town):
    from ledger.funds import posting, recoveries
    from ledger.registers.payees import ReceiptLine as R
    from ledger.registers.payees import RegisterKind
    names = ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司", "己公司", "庚公司"]
    codes = _contractors(town, *names)
    paid = {c: town.pay(c, 50_000_00, D(2024, 6, 3), memo="工程款") for c in codes}
    back, late, recovered, elsewhere, relative, collected, before = codes
    official, kin = idn(99, "19700707"), idn(97, "19720101")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code="430121001",
                   org="镇党委书记"),
        ListRecord(3, "罗妻", kin, category="配偶", related_id_number=official)])
    with transaction(town.world.factory) as s:
        clerk, approver = get_user(s, "k_clerk"), get_user(s, "k_approver")
        case = recoveries.open_recovery(
            s, clerk, code="SJ-1", lot_id=town.world.lot_id, payee_code=collected,
            amount_fen=5_000_00, due_date=D(2024, 9, 1), reason="多付",
            effective_date=D(2024, 6, 10))
        posting.approve(s, approver, case.claim_transfer_id)
        t = recoveries.collect(s, clerk, code="SJ-1", amount_fen=5_000_00,
                               effective_date=D(2024, 6, 20), key="YH-1")
        posting.approve(s, approver, t.id)
    _register(town, RegisterKind.UNIT_RECEIPTS, [
        R(2, D(2024, 6, 20), 5_000_00, "甲公司", "长沙县财政局", receiver_region=COUNTY),
        R(3, D(2024, 7, 20), 5_000_00, "乙公司", "长沙县财政局", receiver_region=COUNTY),
        R(4, D(2024, 6, 20), 5_000_00, "丙公司", "长沙县财政局", receiver_region=COUNTY,
          memo="追回多付工程款"),
        R(5, D(2024, 6, 20), 5_000_00, "丁公司", "望城县财政局", receiver_region="430122"),
        R(6, D(2024, 6, 25), 8_000_00, "戊公司", "罗妻", receiver_id_number=kin),
        R(7, D(2024, 6, 20), 5_000_00, "己公司", "长沙县财政局", receiver_region=COUNTY,
          memo="退款"),
        R(8, D(2024, 5, 20), 5_000_00, "庚公司", "长沙县财政局", receiver_region=COUNTY)],
        source="县农商行对账单")
    fired = town.fired("DIV-05")
    assert set(fired) == {f"transfer:{paid[back]}", f"transfer:{paid[relative]}"}
    assert fired[f"transfer:{paid[relative]}"].amount_at_risk_fen == 8_000_00
    assert "配偶 of 罗书记" in fired[f"transfer:{paid[relative]}"].observed
    assert set(town.fired("DIV-05", AlertSettings(div05_window_days=60))) == {
        f"transfer:{paid[back]}", f"transfer:{paid[relative]}", f"transfer:{paid[late]}"}


def test_blk01_refused_at_posting_where_configured(town):
    """[ledger] refuse_blacklisted_payees: the payment is refused as it is recorded and
    nothing is written; off (the default), it is recorded and the scan raises BLK-01."""
    from sqlalchemy import func, select

    from ledger.core.errors import PaymentRefused
    from ledger.models import Transfer
    town.listing(ListKind.BLACKLIST, [ListRecord(2, "星沙建筑公司", org="围标",
                                                 date_from=D(2024, 1, 1))])
    factory = town.world.factory

    def transfers():
        with factory() as s:
            return s.execute(select(func.count()).select_from(Transfer)).scalar_one()
    before = transfers()
    original = factory.kw.get("info")
    factory.configure(info=LedgerContext(DEMO_LOG_ORIGIN, refuse_blacklisted_payees=True).as_info())
    try:
        with pytest.raises(PaymentRefused, match="C-001 .*blacklist.*围标"):
            town.pay("C-001", 20_000_00, D(2024, 6, 3), memo="工程款")
        assert transfers() == before
        town.pay("H-001", 100_00, D(2024, 6, 3))          # not listed: paid
    finally:
        factory.configure(info=original)
    town.pay("C-001", 20_000_00, D(2024, 6, 4), memo="工程款")   # not configured: recorded
    assert set(town.fired("BLK-01")) == {"payee:C-001"}
