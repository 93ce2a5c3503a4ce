"""The plant phase of the demo: misuse in the ledger itself (payments, projects, transfers)
and the external lists. Actions are scheduled by date and run in date order, so that only the
planted backdated entry looks backdated (rule STA-05)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ledger.core import creditcode
from ledger.funds import flows, projects, receipts
from ledger.store.db import transaction
from ledger.demo.world import SURNAMES, open_lot, workday
from ledger.registers.external import ListKind, ListRecord, record_list
from ledger.models import HouseholdStatus, PayeeKind, SourceLevel
from ledger.registers.payees import (
    ApprovedPayeeLine, PayeeAccountLine, ReceiptLine, RegisterKind, record_register,
)

SOURCES = {ListKind.DEATHS: "省民政厅殡葬信息系统", ListKind.PAYROLL: "省财政厅财政供养人员信息库",
           ListKind.VEHICLES: "省公安厅交通管理局", ListKind.BUSINESSES: "省市场监督管理局",
           ListKind.OFFICIALS: "省纪委监委干部及亲属信息库", ListKind.BLACKLIST: "省财政厅违规失信名单",
           ListKind.PROPERTIES: "省自然资源厅不动产登记信息平台"}
REGISTER_SOURCES = {RegisterKind.APPROVED_PAYEES: "省公共资源交易中心中标结果及项目合同",
                    RegisterKind.PAYEE_ACCOUNTS: "省财政厅国库集中支付收款人信息",
                    RegisterKind.UNIT_RECEIPTS: "县农村商业银行单位账户对账单"}


class Planter:
    def __init__(self, m):
        self.m, self.p = m, m.p
        self.schedule: list = []
        self.ids: dict = {}
        self.n = 0
        self.registers: dict = defaultdict(list)  # RegisterKind → lines (DIV-02/03/05)
        self.noticed: set = set()    # counties that keep project notices (E2)
        self.notices: dict = {}      # project → planted (from, to) window, None: never noticed

    def at(self, when, action):
        self.schedule.append((when, len(self.schedule), action))

    def run(self):
        for _, _, action in sorted(self.schedule, key=lambda x: (x[0], x[1])):
            with transaction(self.p.factory) as s:
                action(s)

    def day(self, month, dom):
        return workday(dt.date(self.p.year, month, dom))

    def contractor(self, s, county, name) -> str:
        self.n += 1
        code = f"QYP{county}{self.n:03d}"
        projects.register_payee(s, self.p.user(s, f"{county}_clerk"), code=code,
                                kind=PayeeKind.CONTRACTOR, name=name, region_code=county)
        return code

    def project(self, s, county, code, approved_on, amount, fund_on=None, unit=None):
        p = self.p
        self.m._project(s, code, county, "村级基础设施", approved_on, unit=unit)
        t = flows.fund_project(s, p.user(s, f"{county}_clerk"), lot_id=p.central,
                               project_code=code, amount_fen=amount,
                               effective_date=fund_on or approved_on, key=f"fund:{code}")
        p.approve(s, t, f"{county}_approver")

    def business(self, s, county, name, kind=PayeeKind.BUSINESS, department="91") -> str:
        """A payee of issue 17's kinds with its unified social credit code (a business, or a
        unit: department "11" government, "N2" a village collective)."""
        self.n += 1
        code = f"QYP{county}{self.n:03d}"
        body = f"{department}{county}MA{self.n:07d}"[:17]
        projects.register_payee(s, self.p.user(s, f"{county}_clerk"), code=code, kind=kind,
                                name=name, region_code=county,
                                credit_code=body + creditcode.check_character(body))
        return code

    def pay(self, s, county, project, payee, amount, day, memo, key, invoice=None,
            contract=None, voucher_date=None) -> int:
        p = self.p
        t = flows.pay(s, p.user(s, f"{county}_clerk"), lot_id=p.central, payee_code=payee,
                      amount_fen=amount, function_code="2130504", use_code="infrastructure",
                      project_code=project, effective_date=day, key=key, memo=memo,
                      invoice_number=invoice, contract_number=contract,
                      voucher_date=voucher_date)
        p.approve(s, t, f"{county}_approver")
        return t.id


def plant_ledger(m, people) -> None:
    pl = Planter(m)
    pl.people = people
    p = m.p
    _flw01_lower(pl)
    _direct_household_payments(pl)
    budget = 6_000_000_00 * (m.k // len(p.counties) + 1)  # each round of plants needs ~¥5M
    for county in p.counties:
        pl.at(pl.day(6, 28), lambda s, c=county: pl.project(
            s, c, f"XMP{c}", pl.day(6, 28), budget, fund_on=pl.day(7, 1)))
    for i in range(m.k):
        for j, plant in enumerate(PLANTS):
            plant(pl, p.counties[(i + j) % len(p.counties)], i)
    _split_households(pl)
    _member_changes(pl)
    pl.run()
    _external_lists(pl)
    _payee_registers(pl)
    _project_notices(pl)


def _flw01_lower(pl):
    p, m = pl.p, pl.m
    county = m.late_county
    city = p.city_of[county]

    def late(s):
        t = flows.allocate(s, p.user(s, f"{city}_clerk"), lot_id=p.provincial, from_region=city,
                           to_region=county, amount_fen=p.late_share,
                           effective_date=pl.day(5, 27), key=f"alloc:{p.provincial}:{county}",
                           memo="切块到县（延迟）")
        p.approve(s, t, f"{city}_approver")
    pl.at(pl.day(5, 27), late)
    m.case(["FLW-01"], f"lot_unit:{p.provincial}:{city}", amount=p.late_share,
           note="city passed the provincial lot down after 77 days")
    # Look-alike: a second provincial batch the other city recorded as received (到账) 40 days
    # after the province posted it, and passed down 51 days after that receipt (91 after the
    # posting): in time by the receipt, which is when the city's clock starts.
    other = next(c for c in p.counties if p.city_of[c] != city)
    other_city = p.city_of[other]

    def issue(s):
        lot = open_lot(s, p, f"黔财农〔{p.year}〕31号", SourceLevel.PROVINCE, 300_000_00,
                       "省级财政衔接推进乡村振兴补助资金（第二批）", day=pl.day(3, 11))
        t = flows.allocate(s, p.user(s, "p_clerk"), lot_id=lot, from_region="520000",
                           to_region=other_city, amount_fen=300_000_00,
                           effective_date=pl.day(3, 11), key=f"alloc:{lot}:{other_city}",
                           memo="下达（第二批）")
        p.approve(s, t, "p_approver")
        pl.ids["FLW01:lot"], pl.ids["FLW01:issue"] = lot, t.id

    def receive(s):
        receipts.record_receipt(s, p.user(s, f"{other_city}_clerk"), pl.ids["FLW01:issue"],
                                received_date=pl.day(4, 20))

    def pass_down(s):
        lot = pl.ids["FLW01:lot"]
        t = flows.allocate(s, p.user(s, f"{other_city}_clerk"), lot_id=lot,
                           from_region=other_city, to_region=other, amount_fen=300_000_00,
                           effective_date=pl.day(6, 10), key=f"alloc:{lot}:{other}",
                           memo="切块到县（第二批）")
        p.approve(s, t, f"{other_city}_approver")
    pl.at(pl.day(3, 11), issue)
    pl.at(pl.day(4, 20), receive)
    pl.at(pl.day(6, 10), pass_down)
    m.case(["FLW-01"], lambda: f"lot_unit:{pl.ids['FLW01:lot']}:{other_city}",
           expect="no_alert", note="passed down 51 days after the recorded receipt")


def _direct_household_payments(pl):
    m = pl.m
    for kind, h, amount in m.direct:
        def pay(s, h=h, amount=amount):
            m._repay(s, h.county, h.code, amount, f"产业奖补 补录 {h.code}", pl.day(7, 8),
                     f"direct:{h.code}")
        pl.at(pl.day(7, 8), pay)
        if kind == "BEN-06":
            m.case(["BEN-06"], f"household:{h.code}", amount=amount,
                   difficulty="removed" if h.status.value == "removed" else "not yet registered")
        else:
            m.case(["BEN-06"], f"household:{h.code}", expect="no_alert",
                   note="exited household stays eligible (脱贫不脱政策)")


def _firm(pl, kind="建设有限公司"):
    return pl.p.rng.choice(SURNAMES) + pl.p.rng.choice("鑫盛恒兴隆达宏泰丰安") + \
        pl.p.rng.choice("源昌通博华瑞福祥和成") + kind


def _payment_case(pl, county, i, rule, memo, amount, when, expect="alert", note=""):
    """One contractor paid once from the county's plant project."""
    key = f"{rule}:{county}:{i}:{expect}"

    def act(s):
        payee = pl.contractor(s, county, _firm(pl))
        pl.ids[key] = pl.pay(s, county, f"XMP{county}", payee, amount, when, memo,
                             f"plant:{key}")
    pl.at(when, act)
    pl.m.case([rule], lambda: f"transfer:{pl.ids[key]}",
              amount=amount if expect == "alert" else 0, expect=expect, note=note)


def plant_div01(pl, county, i):
    _payment_case(pl, county, i, "DIV-01", "村委会办公楼装修工程款", 60_000_00, pl.day(7, 9))
    if i == 0:
        _payment_case(pl, county, i, "DIV-01", "农机具购置补贴发放", 40_000_00, pl.day(7, 9),
                      "no_alert", "allowed purchase")


def plant_e1_e2(pl, county, i):
    code, ok = f"XME{county}{i}", f"XMN{county}{i}"
    early = f"XMQ{county}{i}"

    def act(s):
        pl.project(s, county, code, pl.day(7, 30), 200_000_00, fund_on=pl.day(7, 10))
        pl.pay(s, county, code, pl.contractor(s, county, _firm(pl)), 90_000_00, pl.day(7, 12),
               "工程预付款", f"plant:E1:{code}")
        pl.project(s, county, early, pl.day(7, 10), 200_000_00)
        pl.pay(s, county, early, pl.contractor(s, county, _firm(pl)), 70_000_00, pl.day(7, 15),
               "工程预付款", f"plant:E2:{early}")
        pl.project(s, county, ok, pl.day(7, 10), 200_000_00)
        pl.pay(s, county, ok, pl.contractor(s, county, _firm(pl)), 70_000_00, pl.day(7, 24),
               "工程预付款", f"plant:E2ok:{ok}")
    pl.at(pl.day(7, 12), act)
    pl.m.case(["E1", "E2"], f"project:{code}", amount=90_000_00,
              note="paid 18 days before approval")
    pl.m.case(["E2"], f"project:{early}", amount=70_000_00, note="paid 5 days into the notice")
    pl.m.case(["E2"], f"project:{ok}", expect="no_alert", note="paid after the notice period")
    pl.m.case(["E1"], f"project:{ok}", expect="no_alert", note="approved before payment")


def plant_dup01(pl, county, i):
    key = f"DUP:{county}:{i}"

    def first(s):
        payee = pl.contractor(s, county, _firm(pl, "建材有限公司"))
        pl.ids[key + ":payee"] = payee
        pl.pay(s, county, f"XMP{county}", payee, 120_000_00, pl.day(7, 16), "水泥材料款",
               f"plant:{key}:1")
        neg = pl.contractor(s, county, _firm(pl, "机械租赁有限公司"))
        pl.ids[key + ":neg"] = neg
        pl.pay(s, county, f"XMP{county}", neg, 88_000_00, pl.day(7, 16), "设备租赁费",
               f"plant:{key}:n1")

    def second(s):
        pl.ids[key] = pl.pay(s, county, f"XMP{county}", pl.ids[key + ":payee"], 120_000_00,
                             pl.day(7, 19), "水泥材料款", f"plant:{key}:2")

    def monthly(s):
        pl.ids[key + ":n2"] = pl.pay(s, county, f"XMP{county}", pl.ids[key + ":neg"],
                                     88_000_00, pl.day(8, 20), "设备租赁费", f"plant:{key}:n2")
    pl.at(pl.day(7, 16), first)
    pl.at(pl.day(7, 19), second)
    pl.at(pl.day(8, 20), monthly)
    pl.m.case(["DUP-01"], lambda: f"transfer:{pl.ids[key]}", amount=120_000_00)
    pl.m.case(["DUP-01"], lambda: f"transfer:{pl.ids[key + ':n2']}", expect="no_alert",
              note="monthly fee, 35 days apart")
    pl.m.case(["DUP-02"], lambda: f"transfer:{pl.ids[key]}", expect="no_alert",
              note="an exact duplicate is DUP-01's, not counted twice")


def plant_dup02(pl, county, i):
    """The same payment again under another voucher and item text; look-alikes: the same
    amount under another item 26 days later, another amount a week later."""
    key = f"DUP2:{county}:{i}"
    firms = {}

    def payee(s, tag):
        if tag not in firms:
            firms[tag] = pl.contractor(s, county, _firm(pl, "建材有限公司") + f"D{i}{tag}")
        return firms[tag]

    plan = [("a", pl.day(7, 17), 66_000_00, "钢材款", "1"),
            ("a", pl.day(7, 24), 66_000_00, "钢筋材料款", "2"),
            ("b", pl.day(7, 17), 54_000_00, "运输费", "n1"),
            ("b", pl.day(8, 12), 54_000_00, "装卸费", "n2"),
            ("c", pl.day(7, 17), 43_000_00, "砂石款", "m1"),
            ("c", pl.day(7, 24), 43_500_00, "砂石运费", "m2")]
    for tag, day, amount, memo, n in plan:
        def act(s, tag=tag, day=day, amount=amount, memo=memo, n=n):
            pl.ids[f"{key}:{n}"] = pl.pay(s, county, f"XMP{county}", payee(s, tag), amount,
                                          day, memo, f"plant:{key}:{n}")
        pl.at(day, act)
    pl.m.case(["DUP-02"], lambda: f"transfer:{pl.ids[key + ':2']}", amount=66_000_00)
    pl.m.case(["DUP-02"], lambda: f"transfer:{pl.ids[key + ':n2']}", expect="no_alert",
              note="same amount, another item, 26 days apart")
    pl.m.case(["DUP-02"], lambda: f"transfer:{pl.ids[key + ':m2']}", expect="no_alert",
              note="another amount a week later")


def plant_spl01(pl, county, i):
    key = f"SPL:{county}:{i}"
    parts = [(pl.day(8, 1), 470_000_00), (pl.day(8, 9), 465_500_00), (pl.day(8, 19), 480_000_00)]
    spread = [(pl.day(8, 1), 470_100_00), (pl.day(9, 16), 475_000_00),
              (pl.day(10, 31), 460_000_00)]
    for n, ((d1, a1), (d2, a2)) in enumerate(zip(parts, spread)):
        def act(s, n=n, a1=a1, d1=d1):
            if n == 0:
                pl.ids[key] = pl.contractor(s, county, _firm(pl))
            pl.pay(s, county, f"XMP{county}", pl.ids[key], a1, d1, f"道路工程第{n + 1}期",
                   f"plant:{key}:{n}")

        def neg(s, n=n, a2=a2, d2=d2):
            if n == 0:
                pl.ids[key + ":neg"] = pl.contractor(s, county, _firm(pl))
            pl.pay(s, county, f"XMP{county}", pl.ids[key + ":neg"], a2, d2,
                   f"水渠工程第{n + 1}期", f"plant:{key}:neg{n}")
        pl.at(d1, act)
        pl.at(d2, neg)
    pl.m.case(["SPL-01"], lambda: f"payee:{county}:{pl.ids[key]}",
              amount=sum(a for _, a in parts))
    pl.m.case(["SPL-01"], lambda: f"payee:{county}:{pl.ids[key + ':neg']}",
              expect="no_alert", note="three instalments months apart")


def plant_blk01(pl, county, i):
    for expect, period, reason in (("alert", (dt.date(pl.p.year, 1, 1),
                                              dt.date(pl.p.year + 1, 12, 31)), "围标串标"),
                                   ("no_alert", (dt.date(2021, 1, 1), dt.date(2022, 12, 31)),
                                    "拖欠农民工工资")):
        key = f"BLK:{county}:{i}:{expect}"
        name = _firm(pl, "工程有限公司") + f"{i}{expect[0]}"

        def act(s, key=key, name=name):
            pl.ids[key] = pl.contractor(s, county, name)
            pl.pay(s, county, f"XMP{county}", pl.ids[key], 75_000_00, pl.day(7, 23),
                   "工程款", f"plant:{key}")
        pl.at(pl.day(7, 23), act)
        pl.m.lists[ListKind.BLACKLIST].append(ListRecord(0, name, org=reason,
                                                         date_from=period[0],
                                                         date_to=period[1]))
        pl.m.case(["BLK-01"], lambda key=key: f"payee:{pl.ids[key]}",
                  amount=75_000_00 if expect == "alert" else 0, expect=expect)


def plant_fav02(pl, county, i):
    p, m = pl.p, pl.m
    official = m.fav02_officials[p.counties.index(county)]
    for expect in ("alert", "no_alert"):
        key = f"FAV02:{county}:{i}:{expect}"
        name = _firm(pl, "劳务有限公司") + f"{i}{expect[0]}"
        rep = p.person(county, "配偶", born=p.birth(1965, 1985), male=False)
        if expect == "alert":
            m.lists[ListKind.OFFICIALS].append(ListRecord(
                0, rep.name, rep.id_number, category="配偶",
                related_id_number=official.id_number))
        m.lists[ListKind.BUSINESSES].append(ListRecord(0, rep.name, rep.id_number, org=name,
                                                       category="法定代表人",
                                                       date_from=dt.date(2019, 3, 1)))

        def act(s, key=key, name=name):
            pl.ids[key] = pl.contractor(s, county, name)
            pl.pay(s, county, f"XMP{county}", pl.ids[key], 95_000_00, pl.day(7, 25),
                   "劳务费", f"plant:{key}")
        pl.at(pl.day(7, 25), act)
        m.case(["FAV-02"], lambda key=key: f"payee:{pl.ids[key]}",
               amount=95_000_00 if expect == "alert" else 0, expect=expect)


def plant_statistical(pl, county, i):
    p = pl.p
    holiday = dt.date(p.year, 10, 2)
    # One payment on a holiday is no lead (STA-03 tests a unit-year's share of such entries,
    # rules_stats.py): a look-alike the screen must leave quiet.
    _payment_case(pl, county, i, "STA-03", "国庆期间工程款", 33_000_00, holiday, "no_alert",
                  "one holiday entry in an honest year")
    pl.m.cases[-1]["entity"] = f"unit:{county}:{p.year}"
    other = p.counties[(p.counties.index(county) + 1) % len(p.counties)]
    key = f"STA05:{other}:{i}"

    def late(s):
        payee = pl.contractor(s, other, _firm(pl))
        pl.pay(s, other, f"XMP{other}", payee, 51_000_00, pl.day(10, 15), "工程尾款",
               f"plant:{key}:a")
        pl.ids[key] = pl.pay(s, other, f"XMP{other}", payee, 52_000_00, pl.day(7, 25),
                             "工程款（补录）", f"plant:{key}:b")
    pl.at(pl.day(10, 16), late)
    pl.m.case(["STA-05"], lambda: f"transfer:{pl.ids[key]}", amount=52_000_00,
              note="entered in October, dated July")

    def vouchers(s):  # posted in October, each keeping its voucher's own date
        payee = pl.contractor(s, other, _firm(pl))
        pl.ids[key + ":v"] = pl.pay(s, other, f"XMP{other}", payee, 53_000_00,
                                    pl.day(10, 20), "工程款（7月凭证）", f"plant:{key}:v",
                                    voucher_date=pl.day(7, 20))
        pl.ids[key + ":w"] = pl.pay(s, other, f"XMP{other}", payee, 54_000_00,
                                    pl.day(10, 20), "工程款（10月凭证）", f"plant:{key}:w",
                                    voucher_date=pl.day(10, 12))
    pl.at(pl.day(10, 20), vouchers)
    pl.m.case(["STA-05"], lambda: f"transfer:{pl.ids[key + ':v']}", amount=53_000_00,
              note="a July voucher entered in October")
    pl.m.case(["STA-05"], lambda: f"transfer:{pl.ids[key + ':w']}", expect="no_alert",
              note="an October voucher entered a week later")


def plant_div02(pl, county, i):
    """A project pays a contractor it never awarded, and one before its award; look-alikes:
    the awarded contractor, and one approved later but before it is paid."""
    m = pl.m
    code = f"XMD{county}{i}"
    names = {t: _firm(pl) + f"A{i}{t}" for t in ("won", "stranger", "late", "new")}
    awards = {"won": pl.day(7, 1), "late": pl.day(8, 20), "new": pl.day(7, 20)}
    for tag, day in awards.items():
        pl.registers[RegisterKind.APPROVED_PAYEES].append(ApprovedPayeeLine(
            0, code, names[tag], day, basis=f"中标通知书 {code}-{tag}"))
    paid = [("won", pl.day(7, 26), 80_000_00), ("stranger", pl.day(7, 26), 60_000_00),
            ("late", pl.day(7, 29), 50_000_00), ("new", pl.day(7, 29), 45_000_00)]

    def act(s):
        pl.project(s, county, code, pl.day(7, 1), 300_000_00)
        for tag, day, amount in paid:
            pl.ids[f"DIV02:{code}:{tag}"] = pl.contractor(s, county, names[tag])

    def pay(s, tag, day, amount):
        pl.pay(s, county, code, pl.ids[f"DIV02:{code}:{tag}"], amount, day, "工程进度款",
               f"plant:DIV02:{code}:{tag}")
    pl.at(pl.day(7, 1), act)
    for tag, day, amount in paid:
        pl.at(day, lambda s, t=tag, d=day, a=amount: pay(s, t, d, a))

    def entity(tag):
        return lambda: f"project_payee:{code}:{pl.ids[f'DIV02:{code}:{tag}']}"
    m.case(["DIV-02"], entity("stranger"), amount=60_000_00, note="not an approved payee")
    m.case(["DIV-02"], entity("late"), amount=50_000_00, note="paid before its award")
    m.case(["DIV-02"], entity("won"), expect="no_alert", note="the awarded contractor")
    m.case(["DIV-02"], entity("new"), expect="no_alert",
           note="a newly approved payee, approved before it was paid")


def plant_div03(pl, county, i):
    """A contractor paid into a private person's account; look-alikes: a personal account of
    a registered household's member (以工代赈), a corporate account."""
    p, m = pl.p, pl.m
    member = next(h for h in pl.people if h.county == county
                  and (h.regular or h.code in m.on_rolls)
                  and h.status is HouseholdStatus.REGISTERED and h.people[0].death_date is None)
    holder = p.person(county, "本人")
    lines = {"private": (True, holder.name, holder.id_number),
             "member": (True, member.people[0].name, member.people[0].id_number),
             "corporate": (False, None, None)}
    for n, (tag, (personal, who, id_number)) in enumerate(lines.items()):
        key = f"DIV03:{county}:{i}:{tag}"
        name = _firm(pl, "劳务队") + f"P{i}{tag[0]}"
        pl.registers[RegisterKind.PAYEE_ACCOUNTS].append(PayeeAccountLine(
            0, name, personal, f"{p.rng.randrange(10000):04d}", who or name,
            id_number, bank="县农村商业银行"))

        def act(s, key=key, name=name, amount=40_000_00 - n * 2_000_00):
            pl.ids[key] = pl.contractor(s, county, name)
            pl.pay(s, county, f"XMP{county}", pl.ids[key], amount, pl.day(7, 30), "劳务费",
                   f"plant:{key}")
        pl.at(pl.day(7, 30), act)
        m.case(["DIV-03"], lambda key=key: f"payee:{pl.ids[key]}",
               amount=40_000_00 if tag == "private" else 0,
               expect="alert" if tag == "private" else "no_alert",
               note={"private": "a private person's account",
                     "member": "a registered household member's own account",
                     "corporate": "a corporate account"}[tag])


def plant_div05(pl, county, i):
    """Money paid to a contractor comes back to the county, or to an official's wife, within
    weeks; look-alikes: a recovery (追回), a return after 46 days, money to another county."""
    p, m = pl.p, pl.m
    official = m.fav02_officials[p.counties.index(county)]
    wife = p.person(county, "配偶", born=p.birth(1965, 1985), male=False)
    m.lists[ListKind.OFFICIALS].append(ListRecord(0, wife.name, wife.id_number, category="配偶",
                                                  related_id_number=official.id_number))
    other = p.counties[(p.counties.index(county) + 1) % len(p.counties)]
    paid_on = pl.day(8, 5)
    cases = [  # tag, payment, returned, when (days), receiver, memo, expect
        ("unit", 90_000_00, 9_000_00, 15, dict(receiver_region=county), "往来款", "alert"),
        ("wife", 85_000_00, 8_000_00, 21, dict(receiver_id_number=wife.id_number), "转账",
         "alert"),
        ("recovery", 80_000_00, 8_000_00, 15, dict(receiver_region=county), "追回多付工程款",
         "no_alert"),
        ("late", 75_000_00, 7_500_00, 46, dict(receiver_region=county), "往来款", "no_alert"),
        ("elsewhere", 70_000_00, 7_000_00, 15, dict(receiver_region=other), "往来款",
         "no_alert")]
    for tag, amount, back, days, receiver, memo, expect in cases:
        key = f"DIV05:{county}:{i}:{tag}"
        name = _firm(pl, "工程有限公司") + f"R{i}{tag[0]}"
        who = wife.name if tag == "wife" else f"{receiver.get('receiver_region')}财政局"
        pl.registers[RegisterKind.UNIT_RECEIPTS].append(ReceiptLine(
            0, paid_on + dt.timedelta(days=days), back, name, who, memo=memo,
            voucher=f"LS{county}{i}{tag}", **receiver))

        def act(s, key=key, name=name, amount=amount):
            pl.ids[key] = pl.pay(s, county, f"XMP{county}", pl.contractor(s, county, name),
                                 amount, paid_on, "工程款", f"plant:{key}")
        pl.at(paid_on, act)
        m.case(["DIV-05"], lambda key=key: f"transfer:{pl.ids[key]}",
               amount=back if expect == "alert" else 0, expect=expect,
               note=f"{tag}: {memo}, {days} days")


def plant_dup_documents(pl, county, i):
    """Issue 18's duplicates by document: one invoice paid twice 6 weeks apart (DUP-01, no
    window catches it); the contract paid beyond its amount (DUP-02). Look-alikes: a monthly
    fee on its own invoices, one payment late (4 days before the next, another item text);
    three equal instalments of a registered contract within its amount, ten days apart."""
    m = pl.m
    key = f"DUPD:{county}:{i}"
    code = f"XMK{county}{i}"
    names = {t: _firm(pl, "建材有限公司") + f"K{i}{t}" for t in ("inv", "fee", "sched", "over")}
    pl.registers[RegisterKind.APPROVED_PAYEES] += [
        ApprovedPayeeLine(0, code, names["sched"], pl.day(7, 1), basis=f"合同 HT-{code}-1",
                          contract_number=f"HT-{code}-1", contract_amount_fen=150_000_00,
                          instalments=3),
        ApprovedPayeeLine(0, code, names["over"], pl.day(7, 1), basis=f"合同 HT-{code}-2",
                          contract_number=f"HT-{code}-2", contract_amount_fen=100_000_00)]

    def setup(s):
        pl.project(s, county, code, pl.day(7, 1), 500_000_00)
        for tag, name in names.items():
            pl.ids[f"{key}:{tag}"] = pl.contractor(s, county, name)
    pl.at(pl.day(7, 1), setup)
    plan = [  # tag, project, day, amount, memo, invoice, contract, n
        ("inv", f"XMP{county}", pl.day(7, 14), 37_000_00, "水泥材料款", f"0441{i}0001", None, "1"),
        ("inv", f"XMP{county}", pl.day(8, 26), 37_000_00, "材料款（补付）", f"0441{i}0001",
         None, "2"),
        ("fee", f"XMP{county}", pl.day(7, 15), 9_600_00, "7月设备租金", f"0552{i}07", None, "f7"),
        ("fee", f"XMP{county}", pl.day(9, 10), 9_600_00, "8月设备租金", f"0552{i}08", None, "f8"),
        ("fee", f"XMP{county}", pl.day(9, 14), 9_600_00, "9月设备租金", f"0552{i}09", None, "f9"),
        ("fee", f"XMP{county}", pl.day(10, 15), 9_600_00, "10月设备租金", f"0552{i}10", None,
         "f10"),
        ("sched", code, pl.day(8, 5), 50_000_00, "第1期进度款", None, f"HT-{code}-1", "s1"),
        ("sched", code, pl.day(8, 15), 50_000_00, "第2期进度款", None, f"HT-{code}-1", "s2"),
        ("sched", code, pl.day(8, 26), 50_000_00, "第3期进度款", None, f"HT-{code}-1", "s3"),
        ("over", code, pl.day(8, 5), 60_000_00, "第1期进度款", None, f"HT-{code}-2", "o1"),
        ("over", code, pl.day(8, 15), 60_000_00, "第2期进度款", None, f"HT-{code}-2", "o2")]
    for tag, project, day, amount, memo, invoice, contract, n in plan:
        def act(s, tag=tag, project=project, day=day, amount=amount, memo=memo,
                invoice=invoice, contract=contract, n=n):
            pl.ids[f"{key}:{n}"] = pl.pay(s, county, project, pl.ids[f"{key}:{tag}"], amount,
                                          day, memo, f"plant:{key}:{n}", invoice=invoice,
                                          contract=contract)
        pl.at(day, act)

    def transfer(n):
        return lambda: f"transfer:{pl.ids[f'{key}:{n}']}"
    m.case(["DUP-01"], transfer("2"), amount=37_000_00, note="one invoice paid twice, 43 days "
           "apart")
    m.case(["DUP-02"], transfer("o2"), amount=60_000_00,
           note="instalments beyond the contract's amount")
    m.case(["DUP-01", "DUP-02"], transfer("f9"), expect="no_alert",
           note="a monthly fee, August's paid late, 4 days before September's")
    for n in ("s2", "s3"):
        m.case(["DUP-01", "DUP-02"], transfer(n), expect="no_alert",
               note="an instalment of a registered contract within its amount")


def plant_blk01_awards(pl, county, i):
    """A contract awarded, and a project approved with its implementing unit (实施单位), while
    the contractor was blacklisted; look-alikes: the same for a name whose listing expired."""
    m = pl.m
    for expect, period in (("alert", (dt.date(pl.p.year, 1, 1), dt.date(pl.p.year + 1, 12, 31))),
                           ("no_alert", (dt.date(2020, 1, 1), dt.date(2021, 12, 31)))):
        name = _firm(pl, "路桥工程有限公司") + f"{i}{expect[0]}"
        award, approval = f"XMA{county}{i}{expect[0]}", f"XMI{county}{i}{expect[0]}"
        m.lists[ListKind.BLACKLIST].append(ListRecord(0, name, org="串通投标",
                                                      date_from=period[0], date_to=period[1]))
        pl.registers[RegisterKind.APPROVED_PAYEES].append(ApprovedPayeeLine(
            0, award, name, pl.day(7, 8), basis=f"中标通知书 {award}",
            contract_number=f"HT-{award}", contract_amount_fen=260_000_00))

        def act(s, award=award, approval=approval, name=name):
            pl.project(s, county, award, pl.day(7, 2), 100_000_00)
            pl.project(s, county, approval, pl.day(7, 9), 100_000_00, unit=name)
        pl.at(pl.day(7, 9), act)
        amount = 260_000_00 if expect == "alert" else 0
        m.case(["BLK-01"], f"award:{award}:{name}", amount=amount, expect=expect,
               note="awarded while blacklisted" if expect == "alert" else "listing expired")
        m.case(["BLK-01"], f"project:{approval}", expect=expect,
               note="approved with a blacklisted implementing unit" if expect == "alert"
               else "implementing unit's listing expired")


def plant_e2_notices(pl, county, i):
    """E2 on recorded notices, in a county that keeps them (every other project of the county
    gets an honest notice from its approval day: `_project_notices`): a notice displayed 5
    days, a notice posted a week after approval and paid into it, a project never noticed;
    look-alike: a notice displayed before approval, paid 3 days after approval."""
    if i:
        return  # one county keeps notices
    m = pl.m
    pl.noticed.add(county)
    short, late, never, early = (f"XM{t}{county}{i}" for t in ("S", "L", "V", "W"))
    pl.notices[short] = (pl.day(7, 1), pl.day(7, 5))
    pl.notices[late] = (pl.day(7, 8), pl.day(7, 17))
    pl.notices[never] = None
    pl.notices[early] = (dt.date(pl.p.year, 6, 17), dt.date(pl.p.year, 6, 26))
    plan = [(short, pl.day(7, 1), pl.day(7, 22), 41_000_00),
            (late, pl.day(7, 1), pl.day(7, 15), 42_000_00),
            (never, pl.day(7, 1), pl.day(7, 22), 43_000_00),
            (early, pl.day(7, 10), pl.day(7, 15), 44_000_00)]
    for code, approved, paid, amount in plan:
        def act(s, code=code, approved=approved, paid=paid, amount=amount):
            pl.project(s, county, code, approved, 100_000_00)
            pl.pay(s, county, code, pl.contractor(s, county, _firm(pl)), amount, paid,
                   "工程预付款", f"plant:E2N:{code}")
        pl.at(paid, act)
    m.case(["E2"], f"project:{short}", amount=41_000_00, note="notice displayed 5 days")
    m.case(["E2"], f"project:{late}", amount=42_000_00,
           note="notice posted a week after approval, paid 7 days into it")
    m.case(["E2"], f"project:{never}", amount=43_000_00, note="never noticed")
    m.case(["E2"], f"project:{early}", expect="no_alert",
           note="noticed before approval, paid 3 days after approval")


def _project_notices(pl):
    """The notices of the counties that keep them: the planted ones, and for every other
    project of the county an honest window from its approval day."""
    if not pl.noticed:
        return
    from sqlalchemy import func, select

    from ledger.disclosure.notices import ProjectNoticeLine, record_project_notices
    from ledger.models import Project, ProjectEvent, ProjectStatus
    from ledger.models.disclosure import ProjectNoticeKind
    p = pl.p
    for county in sorted(pl.noticed):
        with transaction(p.factory) as s:
            approved = s.execute(
                select(Project.code, func.min(ProjectEvent.effective_date))
                .join(ProjectEvent, ProjectEvent.project_code == Project.code)
                .where(Project.county_code == county,
                       ProjectEvent.status == ProjectStatus.APPROVED)
                .group_by(Project.code).order_by(Project.code)).all()
            lines = []
            for code, day in approved:
                window = pl.notices.get(code, (day, day + dt.timedelta(days=9)))
                if window is None:
                    continue  # never noticed
                lines.append(ProjectNoticeLine(code, county, ProjectNoticeKind.PUBLICITY,
                                               window[0], window[1], "县政府公示栏",
                                               "县乡村振兴局", title=f"{code} 项目公示"))
            record_project_notices(s, p.user(s, f"{county}_clerk"), lines)


def plant_div04(pl, county, i):
    """A road paid to a catering business (DIV-04); look-alikes: a builder, and a cement
    works, both paid for the road, with their industry codes on the business registry."""
    p, m = pl.p, pl.m
    for tag, kind, industry, amount, expect in (
            ("diner", "餐饮有限公司", "H6210", 28_000_00, "alert"),
            ("builder", "建筑工程有限公司", "E4812", 29_000_00, "no_alert"),
            ("cement", "水泥制品有限公司", "C3021", 27_000_00, "no_alert")):
        key = f"DIV04:{county}:{i}:{tag}"
        name = _firm(pl, kind) + f"G{i}"
        owner = p.person(county, "其他")
        m.lists[ListKind.BUSINESSES].append(ListRecord(
            0, owner.name, owner.id_number, org=name, category="法定代表人",
            date_from=dt.date(2015, 3, 1), industry_code=industry))

        def act(s, key=key, name=name, amount=amount):
            pl.ids[key] = pl.business(s, county, name)
            pl.pay(s, county, f"XMP{county}", pl.ids[key], amount, pl.day(8, 6), "道路工程款",
                   f"plant:{key}")
        pl.at(pl.day(8, 6), act)
        m.case(["DIV-04"], lambda key=key: f"payee_use:XMP{county}:{pl.ids[key]}:infrastructure",
               amount=amount if expect == "alert" else 0, expect=expect,
               note={"diner": "a road paid to a restaurant (H6210)",
                     "builder": "a builder (E4812)", "cement": "a cement works (C3021)"}[tag])


def plant_payee_kinds(pl, county, i):
    """DIV-02/DIV-03 with issue 17's kinds: a business a registered project never awarded
    (DIV-02) and a village committee paid into its accountant's personal account (DIV-03);
    look-alikes: the township the project names as implementing unit (DIV-02), a person paid
    into their own account (DIV-03)."""
    p, m = pl.p, pl.m
    code = f"XMU{county}{i}"
    township = f"{county}镇人民政府{i}"
    names = {"firm": _firm(pl) + f"U{i}", "awarded": _firm(pl) + f"W{i}"}
    pl.registers[RegisterKind.APPROVED_PAYEES].append(ApprovedPayeeLine(
        0, code, names["awarded"], pl.day(7, 1), basis=f"中标通知书 {code}"))
    accountant, person = p.person(county, "其他"), p.person(county, "其他")
    committee = f"{county}村民委员会{i}"
    pl.registers[RegisterKind.PAYEE_ACCOUNTS] += [
        PayeeAccountLine(0, committee, True, f"{p.rng.randrange(10000):04d}", accountant.name,
                         accountant.id_number, bank="县农村商业银行"),
        PayeeAccountLine(0, person.name, True, f"{p.rng.randrange(10000):04d}", person.name,
                         person.id_number, bank="县农村商业银行")]

    pl.at(pl.day(7, 1), lambda s: pl.project(s, county, code, pl.day(7, 1), 200_000_00,
                                               unit=township))

    def act(s):
        ids = {"firm": pl.business(s, county, names["firm"]),
               "awarded": pl.business(s, county, names["awarded"]),
               "township": pl.business(s, county, township, PayeeKind.UNIT, "11"),
               "committee": pl.business(s, county, committee, PayeeKind.UNIT, "N2")}
        pl.n += 1
        ids["person"] = f"GRP{county}{pl.n:03d}"
        projects.register_payee(s, p.user(s, f"{county}_clerk"), code=ids["person"],
                                kind=PayeeKind.PERSON, name=person.name, region_code=county,
                                id_number=person.id_number, vault=p.vault)
        for tag, amount in (("firm", 31_000_00), ("awarded", 32_000_00),
                            ("township", 33_000_00)):
            pl.pay(s, county, code, ids[tag], amount, pl.day(8, 7), "工程款",
                   f"plant:KIND:{code}:{tag}")
        for tag, amount in (("committee", 21_000_00), ("person", 22_000_00)):
            pl.pay(s, county, f"XMP{county}", ids[tag], amount, pl.day(8, 7), "劳务费",
                   f"plant:KIND:{code}:{tag}")
        pl.ids.update({f"KIND:{code}:{t}": v for t, v in ids.items()})
    pl.at(pl.day(8, 7), act)

    def entity(fmt, tag):
        return lambda: fmt.format(pl.ids[f"KIND:{code}:{tag}"])
    m.case(["DIV-02"], entity(f"project_payee:{code}:{{}}", "firm"), amount=31_000_00,
           note="a business (issue 17 kind) never awarded")
    m.case(["DIV-02"], entity(f"project_payee:{code}:{{}}", "township"), expect="no_alert",
           note="the township named as implementing unit")
    m.case(["DIV-03"], entity("payee:{}", "committee"), amount=21_000_00,
           note="a village committee's money in its accountant's account")
    m.case(["DIV-03"], entity("payee:{}", "person"), expect="no_alert",
           note="a person paid into their own account")


def _split_households(pl):
    """BEN-08: the splits prepared by ledger.demo.misuse, recorded in July, then the new
    household paid directly."""
    from sqlalchemy import select

    from ledger.households import changes as household_changes
    from ledger.models import Member
    p, m = pl.p, pl.m
    for h, new_code, linked, split_on, enrolled_on in m.splits:
        def act(s, h=h, new_code=new_code, split_on=split_on, enrolled_on=enrolled_on):
            son = h.member_ids[-1]
            household_changes.split_household(
                s, p.user(s, f"{h.county}_clerk"), p.vault, from_code=h.code,
                new_code=new_code, member_ids=[son], head_member_id=son,
                effective_date=split_on, enrolled_on=enrolled_on, reason="成婚分户",
                bank_card=p.card())
            m._repay(s, h.county, new_code, 1500_00, "产业奖补 分户后补录", pl.day(7, 3),
                     f"direct:{new_code}")
        pl.at(enrolled_on, act)

        def member(new_code=new_code):
            with transaction(p.factory) as s:
                return "member:" + str(s.execute(select(Member.id).where(
                    Member.household_code == new_code)).scalar_one())
        gap = (enrolled_on - split_on).days
        if linked and gap <= 365:
            m.case(["BEN-08"], f"household:{new_code}", amount=1500_00,
                   note=f"split off {gap} days before enrolment, an official's brother")
        elif linked:
            m.case(["BEN-08"], f"household:{new_code}", expect="no_alert",
                   note=f"an official's brother split off {gap} days before enrolment")
        else:
            m.case(["BEN-08"], f"household:{new_code}", expect="no_alert",
                   note="a marriage split, no official")
        if linked:
            m.case(["FAV-01"], member, amount=1500_00, note="the split-off official's brother")


def _member_changes(pl):
    """BEN-07: the joinings and departures ledger.demo.misuse planned, recorded as
    member_history records them (`household died`, `household move`, the 加入 line)."""
    from ledger.households import changes as household_changes
    p, m = pl.p, pl.m
    for h, index, kind, day in m.member_changes:
        def act(s, h=h, index=index, kind=kind, day=day):
            clerk = p.user(s, f"{h.county}_clerk")
            if kind == "joined":
                household_changes.record_joined(s, clerk, h.member_ids[index], day, "出生")
            else:
                household_changes.move_member(s, clerk, p.vault, h.member_ids[index],
                                              to_household=None, effective_date=day,
                                              reason="迁出")
        pl.at(max(day, pl.day(7, 9)), act)


PLANTS = [plant_div01, plant_e1_e2, plant_dup01, plant_spl01, plant_blk01, plant_fav02,
          plant_statistical, plant_dup02, plant_div02, plant_div03, plant_div05,
          plant_dup_documents, plant_blk01_awards, plant_e2_notices, plant_div04,
          plant_payee_kinds]


def _payee_registers(pl):
    """The registers DIV-02/03/05 read: the planted lines, plus every regular project's
    contractor as its approved payee (so DIV-02 covers the province, not only the plants)."""
    from sqlalchemy import select

    from ledger.models import Payee
    p = pl.p
    with transaction(p.factory) as s:
        regular = s.execute(select(Payee.code, Payee.name).where(
            Payee.code.like("QY%"), Payee.code.not_like("QYP%"))).all()
    for code, name in sorted(regular):  # QY<county><n> works on project XM<county><n>
        pl.registers[RegisterKind.APPROVED_PAYEES].append(ApprovedPayeeLine(
            0, "XM" + code[2:], name, p.day(3, 11), basis="合同"))
    snapshot = dt.date(p.year, 12, 1)
    for kind, lines in pl.registers.items():
        numbered = [type(x)(**{**x.__dict__, "line_no": n + 2}) for n, x in enumerate(lines)]
        with transaction(p.factory) as s:
            record_register(s, p.user(s, "p_clerk"), p.vault, kind=kind,
                            source=REGISTER_SOURCES[kind], snapshot_date=snapshot,
                            lines=numbered)


def _external_lists(pl):
    p, m = pl.p, pl.m
    snapshot = dt.date(p.year, 12, 1)
    # The lists the demo's offices send (SOURCES).
    for kind in SOURCES:
        records = list(m.lists[kind])
        for _ in range(3 * m.k if kind is not ListKind.BLACKLIST else 0):  # noise
            x = p.person(p.rng.choice(p.counties), "其他")
            records.append(_noise(kind, x, p))
        if not records:
            continue
        numbered = [ListRecord(**{**r.__dict__, "line_no": n + 2})
                    for n, r in enumerate(records)]
        with transaction(p.factory) as s:
            record_list(s, p.user(s, "p_clerk"), p.vault, kind=kind, source=SOURCES[kind],
                        snapshot_date=snapshot, records=numbered)


def _noise(kind, x, p):
    if kind is ListKind.DEATHS:
        return ListRecord(0, x.name, x.id_number, date_from=dt.date(p.year, 2, 3))
    if kind is ListKind.PAYROLL:
        return ListRecord(0, x.name, x.id_number, org="县人民医院", category="事业编制",
                          date_from=dt.date(2012, 7, 1))
    if kind is ListKind.VEHICLES:
        return ListRecord(0, x.name, x.id_number, category="小型轿车")
    if kind is ListKind.BUSINESSES:
        return ListRecord(0, x.name, x.id_number, org=x.name[0] + "氏餐饮有限公司",
                          category="股东")
    if kind is ListKind.PROPERTIES:
        return ListRecord(0, x.name, x.id_number, category="城镇住宅", org="县城滨江小区")
    return ListRecord(0, x.name, x.id_number, region_code=p.counties[0], org="副县长",
                      category="本人", date_from=dt.date(2020, 1, 1))
