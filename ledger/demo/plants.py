"""The plant phase of the demo: misuse in the ledger itself (payments, projects, transfers)
and the external lists. Actions are scheduled by date and run in date order, so that only the
planted backdated entry looks backdated (rule STA-05)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ledger.funds import flows, projects
from ledger.store.db import transaction
from ledger.demo.world import SURNAMES, workday
from ledger.registers.external import ListKind, ListRecord, record_list
from ledger.models import HouseholdStatus, PayeeKind
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

    def project(self, s, county, code, approved_on, amount, fund_on=None):
        p = self.p
        self.m._project(s, code, county, "村级基础设施", approved_on)
        t = flows.fund_project(s, p.user(s, f"{county}_clerk"), lot_id=p.central,
                               project_code=code, amount_fen=amount,
                               effective_date=fund_on or approved_on, key=f"fund:{code}")
        p.approve(s, t, f"{county}_approver")

    def pay(self, s, county, project, payee, amount, day, memo, key) -> int:
        p = self.p
        t = flows.pay(s, p.user(s, f"{county}_clerk"), lot_id=p.central, payee_code=payee,
                      amount_fen=amount, function_code="2130504", use_code="infrastructure",
                      project_code=project, effective_date=day, key=key, memo=memo)
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
    member = next(h for h in pl.people if h.county == county and h.code in m.on_rolls
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
          plant_statistical, plant_dup02, plant_div02, plant_div03, plant_div05]


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
