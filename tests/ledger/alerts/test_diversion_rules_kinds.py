"""DIV-04 (a vendor whose industry, GB/T 4754 on the business registry, does not fit the
payment's use) and DIV-02/DIV-03 with the payee kinds of issue 17 (business, person, unit):
true positives and hard negatives on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.alerts.settings import AlertSettings
from ledger.core import creditcode
from ledger.funds import flows, posting, projects
from ledger.models import PayeeKind, ProjectStatus
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.registers.payees import (
    ApprovedPayeeLine,
    PayeeAccountLine,
    RegisterKind,
    record_register,
)
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn
from tests.world import COUNTY

D = dt.date
PAID_ON = D(2024, 7, 1)


def ucc(body17: str) -> str:
    return body17 + creditcode.check_character(body17)


class Payer(Town):
    def payee(self, code, kind, name, credit=None, id_number=None):
        with transaction(self.world.factory) as s:
            projects.register_payee(s, get_user(s, "k_clerk"), code=code, kind=kind, name=name,
                                    region_code=COUNTY, credit_code=credit,
                                    id_number=id_number, vault=self.vault)
        return code

    def project(self, code, unit=None):
        with transaction(self.world.factory) as s:
            clerk = get_user(s, "k_clerk")
            projects.register_project(s, clerk, code=code, name="道路硬化", county_code=COUNTY,
                                      function_code="2130504", implementing_unit=unit,
                                      proposed_on=D(2024, 5, 1))
            projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, D(2024, 6, 1))
            projects.advance_project(s, get_user(s, "k_approver"), code,
                                     ProjectStatus.APPROVED, D(2024, 6, 1))
            t = flows.fund_project(s, clerk, lot_id=self.world.lot_id, project_code=code,
                                   amount_fen=100_000_00, effective_date=D(2024, 6, 1),
                                   key=f"fund:{code}")
            posting.approve(s, get_user(s, "k_approver"), t.id)

    def pay_for(self, payee, use, project=None, amount=3_000_00, day=PAID_ON):
        self.keys += 1
        fc = "2130504" if project or use == "infrastructure" else "2130505"
        with transaction(self.world.factory) as s:
            t = flows.pay(s, get_user(s, "k_clerk"), lot_id=self.world.lot_id,
                          payee_code=payee, amount_fen=amount, function_code=fc, use_code=use,
                          project_code=project, county_code=None if project else COUNTY,
                          effective_date=day, key=f"v{self.keys}", memo="工程款")
            posting.approve(s, get_user(s, "k_approver"), t.id)
            return t.id

    def register(self, kind, lines):
        with transaction(self.world.factory) as s:
            record_register(s, get_user(s, "k_clerk"), self.vault, kind=kind,
                            source="县财政局", snapshot_date=D(2024, 12, 1), lines=lines)


@pytest.fixture
def payer(world):
    return Payer(world)


def test_div04_vendor_industry_does_not_fit_the_use(payer):
    diner = payer.payee("B-1", PayeeKind.BUSINESS, "福满楼餐饮有限公司",
                        ucc("91430121MA4L00001"))
    builder = payer.payee("B-2", PayeeKind.BUSINESS, "星城建筑有限公司", ucc("91430121MA4L00002"))
    cement = payer.payee("B-3", PayeeKind.BUSINESS, "湘江水泥有限公司", ucc("91430121MA4L00003"))
    farm = payer.payee("B-4", PayeeKind.BUSINESS, "绿野种植合作社", ucc("93430121MA4L00004"))
    unknown = payer.payee("B-5", PayeeKind.BUSINESS, "未登记贸易公司", ucc("91430121MA4L00005"))
    old = payer.payee("C-9", PayeeKind.CONTRACTOR, "老字号酒家")  # registered before kinds
    market = payer.payee("B-6", PayeeKind.BUSINESS, "好又多超市", ucc("91430121MA4L00006"))
    tiles = payer.payee("B-7", PayeeKind.BUSINESS, "华美陶瓷建材店", ucc("91430121MA4L00007"))
    payer.listing(ListKind.BUSINESSES, [
        ListRecord(2, "周一", idn(301), org="福满楼餐饮有限公司",
                   org_code=ucc("91430121MA4L00001"), category="法定代表人",
                   industry_code="H6210"),
        ListRecord(3, "周二", idn(302), org="星城建筑有限公司", category="法定代表人",
                   industry_code="E4812"),                 # matched by name: no code given
        ListRecord(4, "周三", idn(303), org="湘江水泥有限公司",
                   org_code=ucc("91430121MA4L00003"), category="法定代表人",
                   industry_code="C3011"),
        ListRecord(5, "周四", idn(304), org="绿野种植合作社",
                   org_code=ucc("93430121MA4L00004"), category="法定代表人",
                   industry_code="A0141"),
        ListRecord(6, "周五", idn(305), org="老字号酒家", category="法定代表人",
                   industry_code="H6110"),
        # retail: a supermarket (F5212) is no builder's supplier; a ceramics and stone
        # decoration-materials shop (F5287) is
        ListRecord(7, "周六", idn(306), org="好又多超市", org_code=ucc("91430121MA4L00006"),
                   category="法定代表人", industry_code="F5212"),
        ListRecord(8, "周七", idn(307), org="华美陶瓷建材店", org_code=ucc("91430121MA4L00007"),
                   category="法定代表人", industry_code="F5287")])
    payer.project("XM-R")
    road = payer.pay_for(diner, "infrastructure", project="XM-R")     # a road paid to a diner
    payer.pay_for(builder, "infrastructure", project="XM-R")          # builder: fits
    payer.pay_for(cement, "infrastructure", project="XM-R")           # cement: fits
    payer.pay_for(farm, "industry")                                  # farming for industry
    payer.pay_for(unknown, "infrastructure", project="XM-R")          # no registry code
    lodging = payer.pay_for(old, "infrastructure", project="XM-R")
    payer.pay_for(diner, "household_subsidy")                        # a use the table leaves out
    payer.pay_for("H-001", "infrastructure", project="XM-R")          # a household
    payer.pay_for(market, "infrastructure", project="XM-R")
    payer.pay_for(tiles, "infrastructure", project="XM-R")
    fired = payer.fired("DIV-04")
    assert set(fired) == {f"payee_use:XM-R:{diner}:infrastructure",
                          f"payee_use:XM-R:{old}:infrastructure",
                          f"payee_use:XM-R:{market}:infrastructure"}
    evidence = fired[f"payee_use:XM-R:{diner}:infrastructure"].evidence
    assert evidence["industry_code"] == "H6210" and evidence["use"] == "infrastructure"
    assert evidence["function_code"] == "2130504"
    assert evidence["match"]["fields"] == ["credit_code"]
    assert [t["transfer_id"] for t in evidence["transfers"]] == [road]
    assert fired[f"payee_use:XM-R:{old}:infrastructure"].amount_at_risk_fen == 3_000_00
    assert lodging
    # The fit table is a setting: a county that lets roads buy meals for work crews says so.
    lenient = AlertSettings(div04_industry_fit=("infrastructure=E C F H",))
    assert payer.fired("DIV-04", lenient) == {}


def test_div02_judges_businesses_persons_and_units(payer):
    firm = payer.payee("B-1", PayeeKind.BUSINESS, "甲建筑有限公司", ucc("91430121MA4L00001"))
    person = payer.payee("P-1", PayeeKind.PERSON, "钱包工", id_number=idn(311))
    labourer = payer.payee("P-2", PayeeKind.PERSON, "孙务工", id_number=idn(312))
    payer.household("HL", [("孙务工", "户主", idn(312), None)])   # a poor household's member
    township = payer.payee("U-1", PayeeKind.UNIT, "星沙镇人民政府", ucc("11430121006000123"))
    village = payer.payee("U-2", PayeeKind.UNIT, "松雅村股份经济合作社", ucc("N2430121MA4L00009"))
    awarded = payer.payee("B-2", PayeeKind.BUSINESS, "乙建筑有限公司", ucc("91430121MA4L00002"))
    payer.project("XM-A", unit="星沙镇人民政府")
    payer.register(RegisterKind.APPROVED_PAYEES, [
        ApprovedPayeeLine(2, "XM-A", "乙建筑有限公司", D(2024, 6, 5))])
    for payee, use in ((firm, "infrastructure"), (person, "infrastructure"),
                       (labourer, "infrastructure"), (township, "infrastructure"),
                       (village, "infrastructure"), (awarded, "infrastructure")):
        payer.pay_for(payee, use, project="XM-A", amount=1_000_00)
    fired = payer.fired("DIV-02")
    # The business and the person as contract parties fire; a poor household's member paid
    # for their labour (以工代赈) and the township the library names as implementing unit do
    # not; the village collective is named nowhere.
    assert set(fired) == {f"project_payee:XM-A:{firm}", f"project_payee:XM-A:{person}",
                          f"project_payee:XM-A:{village}"}


def test_div03_by_payee_kind(payer):
    own = payer.payee("P-1", PayeeKind.PERSON, "钱一", id_number=idn(321))
    other = payer.payee("P-2", PayeeKind.PERSON, "钱二", id_number=idn(322))
    shop = payer.payee("B-1", PayeeKind.BUSINESS, "钱记五金店", ucc("92430121MA4L00001"))
    company = payer.payee("B-2", PayeeKind.BUSINESS, "钱氏工程有限公司",
                          ucc("91430121MA4L00002"))
    unit = payer.payee("U-1", PayeeKind.UNIT, "松雅村村民委员会", ucc("N2430121MA4L00003"))
    payer.listing(ListKind.BUSINESSES, [
        ListRecord(2, "钱三", idn(323), org="钱记五金店", org_code=ucc("92430121MA4L00001"),
                   category="经营者"),
        ListRecord(3, "钱四", idn(324), org="钱氏工程有限公司",
                   org_code=ucc("91430121MA4L00002"), category="法定代表人")])
    payer.register(RegisterKind.PAYEE_ACCOUNTS, [
        PayeeAccountLine(2, "钱一", True, "1111", "钱一", idn(321)),          # their own
        PayeeAccountLine(3, "钱二", True, "2222", "钱老板", idn(329)),        # someone else's
        PayeeAccountLine(4, "钱记五金店", True, "3333", "钱三", idn(323)),    # the operator
        PayeeAccountLine(5, "钱氏工程有限公司", True, "4444", "钱四", idn(324)),  # a company
        PayeeAccountLine(6, "松雅村村民委员会", True, "5555", "村会计", idn(325))])
    for payee in (own, other, shop, company, unit):
        payer.pay_for(payee, "infrastructure", amount=1_000_00)
    fired = payer.fired("DIV-03")
    assert set(fired) == {f"payee:{other}", f"payee:{company}", f"payee:{unit}"}
    assert fired[f"payee:{unit}"].evidence["payee_kind"] == "unit"
