"""The identity rules on records as other offices type them (issue 18), on SQLite and
PostgreSQL: "FAV-01" and "FAV-02" through a declared ID with one digit wrong or a relative
declared by name and birth date; "BEN-04" and "BEN-02" with the new comparators; "BEN-05" with
vehicle status and the property register; "BEN-08" with the enrolment dated after the split;
"LED-02" impossible ID numbers. Each with the look-alikes that must stay quiet."""
from __future__ import annotations

import datetime as dt

from ledger.core.idcard import check_character
from ledger.households import changes as household_changes
from ledger.households import registry as households
from ledger.models import HouseholdStatus, PayeeKind
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.registers.payees import PayeeAccountLine, RegisterKind, record_register
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn
from tests.world import VILLAGE

D = dt.date
TOWN = VILLAGE[:9]


def _town(world):
    return Town(world)


def one_digit_wrong(number: str) -> str:
    """One sequence digit mistyped, the check character copied (so it no longer fits)."""
    for off in range(1, 10):
        typo = number[:15] + str((int(number[15]) + off) % 10) + number[16:]
        if check_character(typo[:17]) != typo[17]:
            return typo
    raise AssertionError


def test_fav01_typo_in_the_declared_id_and_a_relative_without_id(world):
    town = _town(world)
    born = ["19800303", "19810404", "19820505", "19830606", "19840707"]
    names = ["罗建国", "罗秀英", "李海", "何平", "张华"]
    m = [town.household(f"H{n}", [(names[n], "户主", idn(10 + n, born[n]), None)])[0]
         for n in range(5)]
    for n in range(5):
        town.pay(f"H{n}", 500_00, D(2024, 6, 3))
    official = idn(99, "19700707")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记"),
        # H0: the declared brother's ID has one digit wrong, the name is his
        ListRecord(3, "罗建国", one_digit_wrong(idn(10, born[0])), category="兄弟",
                   related_id_number=official),
        # H1: the sister declared by name and birth date, no ID number
        ListRecord(4, "罗秀英", None, category="姐妹", birth_date=D(1981, 4, 4),
                   related_id_number=official),
        # H2 (look-alike): one digit wrong in the ID, but another name — another person
        ListRecord(5, "王强", one_digit_wrong(idn(12, born[2])), category="兄弟",
                   related_id_number=official),
        # H3 (look-alike): the same name declared with another birth date
        ListRecord(6, "何平", None, category="兄弟", birth_date=D(1983, 6, 7),
                   related_id_number=official),
        # H4 (look-alike): declared by a homophone name and the birth date, but third degree
        ListRecord(7, "章华", None, category="堂兄弟", degree=3, birth_date=D(1984, 7, 7),
                   related_id_number=official)])
    fired = town.fired("FAV-01")
    assert set(fired) == {f"member:{m[0]}", f"member:{m[1]}"}
    typo = fired[f"member:{m[0]}"].evidence["match"]
    assert typo["method"] == "ID with one digit wrong + matching name"
    assert typo["fields"] == ["id_number", "name"]
    declared = fired[f"member:{m[1]}"].evidence["match"]
    assert declared["method"].startswith("declared without an ID number: same birth date")
    assert declared["fields"] == ["birth_date", "name"]
    # without the keys only the exact digests are read: neither is found
    with transaction(world.factory) as s:
        from ledger.alerts.base import ScanContext
        from ledger.alerts.rules import CHECKS
        from ledger.alerts.settings import AlertSettings
        assert CHECKS["FAV-01"](ScanContext(s, AlertSettings(), D(2024, 12, 31), None)) == []


def test_fav01_name_with_a_homophone_matches_a_declared_relative(world):
    town = _town(world)
    m = town.household("H0", [("汪建国", "户主", idn(20, "19760101"), None)])
    town.pay("H0", 500_00, D(2024, 6, 3))
    official = idn(99, "19700707")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记"),
        ListRecord(3, "王建国", None, category="兄弟", birth_date=D(1976, 1, 1),
                   related_id_number=official)])
    fired = town.fired("FAV-01")
    assert set(fired) == {f"member:{m[0]}"}
    assert fired[f"member:{m[0]}"].evidence["match"]["differing_characters"] == [
        "汪/王 (same pinyin)"]


def test_fav02_representative_declared_without_id_or_with_a_typo(world):
    town = _town(world)
    official = idn(99, "19700707")
    wife = idn(97, "19720101")
    with transaction(world.factory) as s:
        from ledger.funds import projects
        projects.register_payee(s, get_user(s, "k_clerk"), code="C-002", name="湘江劳务公司",
                                kind=PayeeKind.CONTRACTOR, region_code="430121")
    town.pay("C-001", 20_000_00, D(2024, 6, 3), memo="工程款")
    town.pay("C-002", 10_000_00, D(2024, 6, 3), memo="工程款")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记"),
        ListRecord(3, "罗妻", None, category="配偶", birth_date=D(1972, 1, 1),
                   related_id_number=official)])
    town.listing(ListKind.BUSINESSES, [
        # the spouse, declared without an ID, is the legal representative of C-001
        ListRecord(2, "罗妻", wife, org="星沙建筑公司", category="法定代表人"),
        # the official himself, his ID typed with one digit wrong, owns C-002
        ListRecord(3, "罗书记", one_digit_wrong(official), org="湘江劳务公司", category="股东")])
    fired = town.fired("FAV-02")
    assert set(fired) == {"payee:C-001", "payee:C-002"}
    assert "same birth date" in fired["payee:C-001"].evidence["match"]["method"]
    assert "one digit wrong" in fired["payee:C-002"].evidence["match"]["method"]


def test_fav02_namesake_born_another_day_is_not_the_spouse(world):
    town = _town(world)
    official = idn(99, "19700707")
    town.pay("C-001", 20_000_00, D(2024, 6, 3), memo="工程款")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记"),
        ListRecord(3, "罗妻", None, category="配偶", birth_date=D(1972, 1, 2),
                   related_id_number=official)])
    town.listing(ListKind.BUSINESSES, [
        ListRecord(2, "罗妻", idn(97, "19720101"), org="星沙建筑公司", category="法定代表人")])
    assert town.fired("FAV-02") == {}


def test_ben04_one_digit_wrong_on_the_payroll(world):
    town = _town(world)
    a = town.household("H0", [("陈程", "户主", idn(30, "19850101"), None)])
    b = town.household("H1", [("周丽", "户主", idn(31, "19850202"), None)])
    for code in ("H0", "H1"):
        town.pay(code, 500_00, D(2024, 6, 3))
    town.listing(ListKind.PAYROLL, [
        # 陈程 typed 程程 (chen/cheng, a front/back nasal confusion) and one digit wrong
        ListRecord(2, "程程", one_digit_wrong(idn(30, "19850101")), org="县医院",
                   category="事业编制", date_from=D(2019, 1, 1)),
        # one digit wrong but another person's name
        ListRecord(3, "赵强", one_digit_wrong(idn(31, "19850202")), org="县医院",
                   category="事业编制", date_from=D(2019, 1, 1))])
    fired = town.fired("BEN-04")
    assert set(fired) == {f"member:{a[0]}"}
    assert fired[f"member:{a[0]}"].evidence["match"]["name_match"] == "confusable sound"
    assert b


def test_ben02_look_alike_surname_same_birth_date_and_village(world):
    town = _town(world)
    a = town.household("H0", [("李秀英", "户主", idn(40, "19660606"), None)])
    b = town.household("H1", [("季秀英", "户主", idn(41, "19660606"), None)])
    c = town.household("H2", [("李秀兰", "户主", idn(42, "19660606"), None)])
    fired = town.fired("BEN-02")
    assert f"members:{a[0]}-{b[0]}" in fired and not any(str(c[0]) in k for k in fired)
    ev = fired[f"members:{a[0]}-{b[0]}"].evidence["match"]
    assert ev["name_match"] == "look-alike characters"
    assert ev["differing_characters"] == ["李/季 (look-alike characters)"]


def test_ben05_vehicle_status_properties_and_companies(world):
    town = _town(world)
    born = ["19700201", "19700302", "19700403", "19700504", "19700605", "19700706"]
    m = [town.household(f"H{n}", [(f"吴{'一二三四五六'[n]}", "户主", idn(50 + n, born[n]),
                                   None)])[0] for n in range(6)]
    for n in range(6):
        town.pay(f"H{n}", 500_00, D(2024, 6, 3))
    town.listing(ListKind.VEHICLES, [
        ListRecord(2, "吴一", idn(50, born[0]), category="小型轿车", status="active"),
        ListRecord(3, "吴二", idn(51, born[1]), category="小型轿车", status="scrapped"),
        ListRecord(4, "吴三", idn(52, born[2]), category="小型轿车", status="transferred"),
        ListRecord(5, "吴四", idn(53, born[3]), category="小型轿车")])   # status not given
    town.listing(ListKind.PROPERTIES, [
        ListRecord(2, "吴五", idn(54, born[4]), category="城镇住宅", org="长沙市芙蓉区1号",
                   date_from=D(2021, 6, 1)),
        ListRecord(3, "吴六", idn(55, born[5]), category="宅基地", org="本村"),
        ListRecord(4, "吴二", idn(51, born[1]), category="城镇住宅", org="县城2号",
                   date_from=D(2015, 1, 1), date_to=D(2023, 3, 1))])   # sold
    fired = town.fired("BEN-05")
    assert set(fired) == {f"member:{m[0]}", f"member:{m[3]}", f"member:{m[4]}"}
    what = fired[f"member:{m[4]}"].evidence["assets"][0]
    assert what["what"].startswith("property 城镇住宅") and what["list"]["kind"] == "properties"


def test_ben08_split_enrolled_later_and_long_before(world):
    town = _town(world)
    heads = [town.household(f"S{n}", [(f"罗{n}", "户主", idn(80 + n, f"1960010{n + 1}"), None),
                                       (f"罗{n}子", "子", idn(70 + n, f"1995010{n + 1}"), None)])
             for n in range(3)]
    plans = {0: (D(2024, 1, 10), D(2024, 6, 1)),      # enrolled 143 days after the split
             1: (D(2022, 3, 1), D(2024, 6, 1)),       # split two years before enrolment
             2: (D(2024, 5, 1), None)}                # split, not enrolled
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for n, (split_on, enrolled_on) in plans.items():
            household_changes.split_household(
                s, clerk, town.vault, from_code=f"S{n}", new_code=f"S{n}-1",
                member_ids=[heads[n][1]], head_member_id=heads[n][1],
                effective_date=split_on, enrolled_on=enrolled_on, reason="成婚分户",
                bank_card=f"62220288{n}0001234", status=HouseholdStatus.REGISTERED
                if enrolled_on else None)
    for code in ("S0-1", "S1-1"):
        town.pay(code, 500_00, D(2024, 6, 3))
    official = idn(99, "19700707")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记")]
        + [ListRecord(3 + n, f"罗{n}子", idn(70 + n, f"1995010{n + 1}"), category="子女",
                      related_id_number=official) for n in range(3)])
    fired = town.fired("BEN-08")
    assert set(fired) == {"household:S0-1"}
    ev = fired["household:S0-1"].evidence
    assert ev["split_on"] == "2024-01-10" and ev["enrolled_on"] == "2024-06-01"


def test_led02_impossible_numbers_of_members_lists_and_accounts(world):
    town = _town(world)
    good = idn(60, "19750505")
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        # a historical registry record let in with its wrong check character
        (ids,) = households.register_households(s, clerk, town.vault, [households.NewHousehold(
            "HL", VILLAGE, "孔一", HouseholdStatus.REGISTERED, D(2019, 1, 1), "6222021111222233",
            members=(households.NewMember("孔一", "户主", bad,
                                          accept_wrong_check_character=True),
                     households.NewMember("孔二", "配偶", idn(61, "19760606"))))])
        record_register(s, get_user(s, "p_clerk"), town.vault, kind=RegisterKind.PAYEE_ACCOUNTS,
                        source="国库", snapshot_date=D(2024, 12, 1), lines=[
                            PayeeAccountLine(2, "星沙建筑公司", True, "1234", "李工",
                                             holder_id_number=bad),
                            PayeeAccountLine(3, "星沙建筑公司", True, "5678", "李工",
                                             holder_id_number=good)])
    town.pay("HL", 500_00, D(2024, 6, 3))
    month13 = "430121" + "19751305" + "062"
    official = idn(99, "19700707")
    town.listing(ListKind.OFFICIALS, [
        ListRecord(2, "罗书记", official, category="本人", region_code=TOWN, org="镇党委书记"),
        ListRecord(3, "罗妻", month13 + check_character(month13), category="配偶",
                   related_id_number=official),
        ListRecord(4, "罗子", idn(62, "20000101"), category="子女", related_id_number=official)])
    fired = town.fired("LED-02")
    keys = {k for k in fired}
    assert f"member:{ids[0]}" in keys and f"member:{ids[1]}" not in keys
    member = fired[f"member:{ids[0]}"]
    assert set(member.evidence["problems"]) == {"check_character"}
    assert member.evidence["id_number"] == bad[:4] + "*" * 10 + bad[-4:]   # masked
    assert bad not in str(member.evidence) and bad not in member.observed
    assert member.amount_at_risk_fen == 500_00
    accounts = [f for k, f in fired.items() if k.startswith("payee_account:")]
    assert len(accounts) == 1 and accounts[0].evidence["record"]["line"] == 2
    lists = [f for k, f in fired.items() if k.startswith("list_record:")]
    assert len(lists) == 1 and set(lists[0].evidence["problems"]) >= {"birth_date"}
    assert lists[0].region_code == TOWN
    assert len(fired) == 3
