"""A deterministic synthetic province for trying fundtrail out and for measuring the alerts
(`fundtrail demo --seed N --households N [--manifest FILE]`).

The same seed gives the same province. Everything goes through the real services, recorded by
a clerk and approved by a colleague: regions with Chinese names; a prior-year and two current
lots with real function codes, passed down by factors (因素法); projects of each type with
contractors; households with members (valid synthetic ID numbers, encrypted) registered through
`ledger.households`; payment rolls (公示清册) published, approved, sent and answered by the bank
(a few returns re-paid); external lists (deaths, payroll, vehicles, businesses, officials,
blacklist) with noise; then planted misuse of every kind in the alert catalogue, each written
to a ground-truth manifest with hard negatives (ledger.demo_misuse).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from ledger import flows, households as hh, lots, posting, projects, regions, roll_payments, rolls
from ledger.db import transaction
from ledger.errors import LedgerError
from ledger.idcard import check_character
from ledger.models import (
    HouseholdStatus, PayeeKind, ProjectStatus, RegionLevel, Role, SourceLevel, User,
)
from ledger.money import split_largest_remainder

PROVINCE = ("520000", "贵州省")
CITIES = {"520100": ("贵阳市", {"520121": "开阳县", "520122": "息烽县", "520123": "修文县"}),
          "520300": ("遵义市", {"520322": "桐梓县", "520324": "正安县"})}
TOWN_NAMES = ["永温", "南江", "龙岗", "双流", "花梨", "楠木", "禾丰", "青山", "松柏", "石门",
              "桥头", "金沙"]
VILLAGE_NAMES = ["丰收", "和平", "兴隆", "安乐", "平坝", "乐业", "新寨", "坪上", "田坝", "河湾",
                 "高岭", "冲口", "龙井", "杉树", "竹林", "枫香", "茶园", "水口"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐罗韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "明华建国志强秀英桂兰玉梅文军永红春林海燕金凤德福光荣成云平辉丽娟勇杰涛超霞芳"
ROLL_WORKING_DAYS = 7
INDUSTRY_ITEM, EDUCATION_ITEM = "产业奖补", "教育补助"


@dataclass
class Person:
    name: str
    relation: str
    id_number: str
    born: dt.date
    death_date: dt.date | None = None


@dataclass
class DemoHousehold:
    code: str
    county: str
    village: str
    status: HouseholdStatus
    registered_on: dt.date
    card: str
    people: list
    member_ids: list = field(default_factory=list)
    education_quantity: int | None = None  # set to plant D7


@dataclass
class DemoSummary:
    regions: int = 0
    households: int = 0
    transfers: int = 0
    lots: list[int] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


class Province:
    """The generator's state: random source, calendar, unique ID numbers and cards."""

    def __init__(self, factory, vault, seed: int, year: int):
        self.factory, self.vault, self.year = factory, vault, year
        self.rng = random.Random(seed)
        self.ids: set[str] = set()
        self.cards: set[str] = set()
        self.summary = DemoSummary()
        self.villages: list[str] = []
        self.counties = [c for _, (_, cs) in CITIES.items() for c in cs]
        self.city_of = {c: city for city, (_, cs) in CITIES.items() for c in cs}
        self.paid: dict[str, list] = {}  # household → [(date, fen)] (for case amounts)

    def user(self, s, name) -> User:
        return regions.get_user(s, name)

    def approve(self, s, transfer, approver) -> None:
        posting.approve(s, self.user(s, approver), transfer.id, "已核对")
        self.summary.transfers += 1

    def day(self, month: int, dom: int, year: int | None = None) -> dt.date:
        return workday(dt.date(year or self.year, month, dom))

    # -- people ---------------------------------------------------------------------------
    def id_number(self, county: str, born: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{county}{born:%Y%m%d}{seq:03d}"
            number = first17 + check_character(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def name(self, surname: str | None = None) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
        return (surname or self.rng.choice(SURNAMES)) + given

    def birth(self, first: int, last: int) -> dt.date:
        start = dt.date(first, 1, 1)
        return start + dt.timedelta(days=self.rng.randrange((dt.date(last, 12, 31) - start).days))

    def person(self, county, relation, surname=None, born=None, male=None) -> Person:
        born = born or self.birth(1950, 1990)
        male = self.rng.random() < 0.5 if male is None else male
        return Person(self.name(surname), relation, self.id_number(county, born, male), born)

    def card(self) -> str:
        while True:
            card = "6228" + "".join(str(self.rng.randrange(10)) for _ in range(15))
            if card not in self.cards:
                self.cards.add(card)
                return card


def workday(day: dt.date) -> dt.date:
    """The first mainland working day on or after `day` (holidays and 调休 included)."""
    from ledger.alerts.rules_stats import is_working_day
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def build_demo(factory, *, seed: int = 1, households: int = 200, year: int = 2024,
               vault=None, progress: bool = False) -> DemoSummary:
    from ledger.demo_misuse import Misuse, plant_rounds
    from ledger.pii import PiiVault
    p = Province(factory, vault or PiiVault.from_env(), seed, year)
    with transaction(factory) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            raise LedgerError("the database already holds data; the demo needs an empty one "
                              "(use a new --config or FUNDTRAIL_DATABASE_URL)")
        _regions_and_users(s, p)
    misuse = Misuse(p)
    misuse.prior_year()  # FLW-01 (province) and FLW-02: recorded first, as time runs
    with transaction(factory) as s:
        # Grows with the province, and with the plants: each county funds a plant project of
        # ¥6M per round of planted cases (demo_plants), and the smallest factor share is
        # about a tenth of the lot.
        rounds = plant_rounds(households) // len(p.counties) + 1
        central_fen = 80_000_000_00 + households * 8000_00 + 12 * rounds * 6_000_000_00
        central = _lot(s, p, "财农〔%d〕12号" % year, SourceLevel.CENTRAL, central_fen,
                       "中央财政衔接推进乡村振兴补助资金")
        provincial = _lot(s, p, "黔财农〔%d〕8号" % year, SourceLevel.PROVINCE, 6_000_000_00,
                          "省级财政衔接推进乡村振兴补助资金")
        _allocate_by_factors(s, p, central, central_fen)
        _allocate_by_factors(s, p, provincial, 6_000_000_00, late=misuse.late_county)
    p.central, p.provincial = central, provincial
    with transaction(factory) as s:
        _projects_and_contractors(s, p)
    people = _households(p, households, misuse, progress)
    _rolls(p, people, misuse, progress)
    with transaction(factory) as s:
        _corrections(s, p)
    misuse.plant_all(people)
    p.summary.households = len(people)
    p.summary.manifest = misuse.manifest(households)
    with transaction(factory) as s:
        from ledger.models import Approval, Decision
        p.summary.transfers = s.execute(select(func.count()).select_from(Approval).where(
            Approval.decision == Decision.APPROVED)).scalar_one()
        # Planner statistics for the tables just filled: without them PostgreSQL (where
        # autovacuum has not run yet, or is off) picks nested loops, and an alert scan that
        # takes seconds takes many minutes (docs/operations.md, "After a bulk load").
        s.execute(text("ANALYZE"))
    return p.summary


def _regions_and_users(s, p: Province) -> None:
    admin = regions.bootstrap(s, province_code=PROVINCE[0], province_name=PROVINCE[1],
                              admin_username="admin", admin_name="省财政厅管理员")
    _staff(s, admin, PROVINCE[0], "p")
    regions.add_user(s, admin, username="auditor", display_name="省审计厅审计员",
                     role=Role.AUDITOR, region_code=PROVINCE[0])
    count = 1
    for city, (city_name, counties) in CITIES.items():
        regions.add_region(s, admin, code=city, name=city_name, level=RegionLevel.CITY,
                           parent_code=PROVINCE[0])
        _staff(s, admin, city, city)
        count += 1
        for n, (county, county_name) in enumerate(counties.items()):
            regions.add_region(s, admin, code=county, name=county_name,
                               level=RegionLevel.COUNTY, parent_code=city)
            _staff(s, admin, county, county)
            count += 1
            for t in range(2):
                town = f"{county}{t + 1:03d}"
                regions.add_region(s, admin, code=town,
                                   name=TOWN_NAMES[(2 * n + t + int(city[2:4])) % 12] + "镇",
                                   level=RegionLevel.TOWNSHIP, parent_code=county)
                count += 1
                for v in range(3):
                    code = f"{town}{v + 1:03d}"
                    name = VILLAGE_NAMES[(int(county) + 3 * t + v) % len(VILLAGE_NAMES)] + "村"
                    regions.add_region(s, admin, code=code, name=name,
                                       level=RegionLevel.VILLAGE, parent_code=town)
                    p.villages.append(code)
                    count += 1
    p.summary.regions = count


def _staff(s, admin, region, prefix) -> None:
    regions.add_user(s, admin, username=f"{prefix}_clerk", display_name=f"{region} 经办",
                     role=Role.CLERK, region_code=region)
    regions.add_user(s, admin, username=f"{prefix}_approver", display_name=f"{region} 审核",
                     role=Role.APPROVER, region_code=region)


def _lot(s, p, doc, level, amount, title, day=None, year=None) -> int:
    year = year or p.year
    t = lots.appropriate(s, p.user(s, "p_clerk"), doc_number=doc, source_level=level, year=year,
                         title=title, function_codes=["2130504", "2130505", "2130506"],
                         allowed_uses=["household_subsidy", "industry", "infrastructure",
                                       "training", "education"],
                         amount_fen=amount, region_code=PROVINCE[0],
                         effective_date=day or p.day(3, 11))
    p.approve(s, t, "p_approver")
    p.summary.lots.append(t.lot_id)
    return t.lot_id


def _allocate_by_factors(s, p, lot_id, total, late=None) -> None:
    """因素法: weights stand in for poor population, income and fiscal capacity factors."""
    day = p.day(3, 11)
    weights = [p.rng.randint(60, 140) for _ in p.counties]
    # The province keeps 5% in reserve: 95% passed down is what FLW-01 expects.
    shares = split_largest_remainder(total * 95 // 100, weights)
    for city in CITIES:
        city_total = sum(sh for c, sh in zip(p.counties, shares) if p.city_of[c] == city)
        t = flows.allocate(s, p.user(s, "p_clerk"), lot_id=lot_id, from_region=PROVINCE[0],
                           to_region=city, amount_fen=city_total, effective_date=day,
                           key=f"alloc:{lot_id}:{city}", memo="按因素法分配")
        p.approve(s, t, "p_approver")
    for county, share in zip(p.counties, shares):
        if county == late:
            p.late_share = share  # passed down late by the planted FLW-01 case
            continue
        city = p.city_of[county]
        t = flows.allocate(s, p.user(s, f"{city}_clerk"), lot_id=lot_id, from_region=city,
                           to_region=county, amount_fen=share, effective_date=day,
                           key=f"alloc:{lot_id}:{county}", memo="切块到县")
        p.approve(s, t, f"{city}_approver")


PROJECT_TYPES = [("2130504", "村组道路硬化", "infrastructure", "道路工程有限公司"),
                 ("2130505", "特色种养产业", "industry", "农业开发有限公司"),
                 ("2130506", "技能培训", "training", "职业培训学校")]


def _projects_and_contractors(s, p) -> None:
    day = p.day(3, 11)
    later = []
    for county in p.counties:
        clerk = p.user(s, f"{county}_clerk")
        for n, (fc, name, use, firm) in enumerate(PROJECT_TYPES):
            code = f"XM{county}{n + 1:02d}"
            projects.register_project(s, clerk, code=code, name=name, county_code=county,
                                      function_code=fc)
            projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, day)
            projects.advance_project(s, p.user(s, f"{county}_approver"), code,
                                     ProjectStatus.APPROVED, day)
            projects.file_project(s, p.user(s, "p_clerk"), code, day, "省级备案")
            contractor = f"QY{county}{n + 1:02d}"
            projects.register_payee(s, clerk, code=contractor, kind=PayeeKind.CONTRACTOR,
                                    name=p.rng.choice(SURNAMES) + "氏" + firm,
                                    region_code=county)
            amount = p.rng.randint(300_000, 900_000) * 100 + p.rng.randint(0, 99)
            t = flows.fund_project(s, clerk, lot_id=p.central, project_code=code,
                                   amount_fen=amount, effective_date=day, key=f"fund:{code}")
            p.approve(s, t, f"{county}_approver")
            later.append((county, code, contractor, amount * 7 // 10, fc, use, name))
    for county, code, contractor, amount, fc, use, name in later:  # in date order (STA-05)
        t = flows.pay(s, p.user(s, f"{county}_clerk"), lot_id=p.central, payee_code=contractor,
                      amount_fen=amount, function_code=fc, use_code=use, project_code=code,
                      effective_date=p.day(4, 22), key=f"pay:{code}:1", memo=f"{name}工程进度款")
        p.approve(s, t, f"{county}_approver")


def _progress(items, progress, desc):
    if not progress:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=desc, unit="", leave=False)


def new_household(p, county, village, n, status=HouseholdStatus.REGISTERED,
                  registered_on=None, card=None) -> DemoHousehold:
    surname = p.rng.choice(SURNAMES)
    head = p.person(county, "户主", surname, male=True)
    people = [head]
    if p.rng.random() < 0.85:
        people.append(p.person(county, "配偶", born=head.born + dt.timedelta(
            days=p.rng.randrange(-1500, 1500)), male=False))
    for _ in range(p.rng.choice((0, 1, 1, 2, 2, 3))):
        male = p.rng.random() < 0.5
        people.append(p.person(county, "子" if male else "女", surname,
                               born=p.birth(2000, 2018), male=male))
    if p.rng.random() < 0.2:
        people.append(p.person(county, "母亲", born=p.birth(1930, 1950), male=False))
    return DemoHousehold(f"H{village}{n:05d}", county, village, status,
                         registered_on or p.birth(2016, 2020), card or p.card(), people)


def register_many(s, p, batch: list[DemoHousehold]) -> None:
    """Register households with their members, each county's by its own clerk, at once
    (`households.register_households`: the rows and entries of the one-by-one services)."""
    for county in dict.fromkeys(h.county for h in batch):
        mine = [h for h in batch if h.county == county]
        ids = hh.register_households(s, p.user(s, f"{county}_clerk"), p.vault, [
            hh.NewHousehold(h.code, h.village, h.people[0].name, h.status, h.registered_on,
                            h.card, members=tuple(
                                hh.NewMember(x.name, x.relation, x.id_number, x.death_date)
                                for x in h.people)) for h in mine])
        for h, member_ids in zip(mine, ids):
            h.member_ids.extend(member_ids)


def _households(p, count, misuse, progress) -> list[DemoHousehold]:
    people = []
    by_county = {c: [v for v in p.villages if v.startswith(c)] for c in p.counties}
    for n in range(count):
        county = p.counties[n % len(p.counties)]
        village = by_county[county][p.rng.randrange(len(by_county[county]))]
        status = HouseholdStatus.EXITED if p.rng.random() < 0.25 else (
            HouseholdStatus.MONITORED if p.rng.random() < 0.05 else HouseholdStatus.REGISTERED)
        people.append(new_household(p, county, village, n, status))
    people += misuse.registry_cases(people, by_county)
    for start in _progress(range(0, len(people), 500), progress, "households"):
        with transaction(p.factory) as s:
            register_many(s, p, people[start:start + 500])
    return people


def _rolls(p, people, misuse, progress) -> None:
    """One 产业奖补 roll (per household) and one 教育补助 roll (per child) per county."""
    for county in _progress(p.counties, progress, "payment rolls"):
        mine = [h for h in people if h.county == county and h.code in misuse.on_rolls]
        industry = [(h.code, 1) for h in mine]
        education = [(h.code, h.education_quantity or kids) for h in mine
                     if (kids := sum(1 for x in h.people if x.relation in ("子", "女")))
                     or h.education_quantity]
        for item, lines, std, publish in ((INDUSTRY_ITEM, industry, 1000_00, p.day(5, 6)),
                                          (EDUCATION_ITEM, education, 500_00, p.day(6, 3))):
            if lines:
                _pay_roll(p, county, item, lines, std, publish, misuse)


def _pay_roll(p, county, item, lines, standard, publish, misuse) -> None:
    code = f"{county}-{p.year}-{'CYJB' if item == INDUSTRY_ITEM else 'JYBZ'}"
    clerk, approver = f"{county}_clerk", f"{county}_approver"
    with transaction(p.factory) as s:
        rolls.create_roll(s, p.user(s, clerk), code=code, lot_id=p.central, county_code=county,
                          item=item, function_code="2130505",
                          use_code="household_subsidy" if item == INDUSTRY_ITEM else "education",
                          standard_fen=standard, lines=lines, as_of=publish)
        rolls.publish(s, p.user(s, clerk), code, publish)
    approve_day = workday(rolls.publicity_ends(publish, ROLL_WORKING_DAYS))
    with transaction(p.factory) as s:
        rolls.approve_roll(s, p.user(s, approver), code, approve_day, ROLL_WORKING_DAYS)
        sent = rolls.send(s, p.user(s, clerk), code, approve_day)
        outcomes = [misuse.bank_outcome(code, line) for line, _ in sent]
        # The bank's whole result file at once, as `import bank-results` applies it.
        _, problems = roll_payments.settle(s, p.user(s, approver), rolls.get_roll(s, code), [
            roll_payments.BankResult(line.line_no, line.amount_fen, outcome != "failed",
                                     "账户冻结" if outcome == "failed" else "",
                                     f"YH{transfer.id:08d}")
            for (line, transfer), outcome in zip(sent, outcomes) if outcome != "pending"])
        if problems:
            raise LedgerError(f"demo roll {code}: {problems[0][1]}")
        for (line, transfer), outcome in zip(sent, outcomes):
            if outcome == "pending":
                continue
            if outcome == "paid":
                p.paid.setdefault(line.household_code, []).append(
                    (approve_day, line.amount_fen))
            misuse.after_bank(s, code, line, transfer, approve_day, outcome)


def _corrections(s, p) -> None:
    """A mistaken contractor payment reversed, and a county pooling two lots (统筹整合)."""
    county = p.counties[0]
    code, contractor = f"XM{county}01", f"QY{county}01"
    day = p.day(6, 24)
    t = flows.pay(s, p.user(s, f"{county}_clerk"), lot_id=p.central, payee_code=contractor,
                  amount_fen=12_345_00, function_code="2130504", use_code="infrastructure",
                  project_code=code, effective_date=day, key=f"pay:{code}:mistake",
                  memo="误付")
    p.approve(s, t, f"{county}_approver")
    r = posting.reverse(s, p.user(s, f"{county}_clerk"), t.id, reason="误付，冲销",
                        effective_date=day, key=f"reverse:{t.id}")
    p.approve(s, r, f"{county}_approver")
    t = lots.integrate(s, p.user(s, f"{county}_clerk"), county_code=county,
                       doc_number=f"开府发〔{p.year}〕3号", year=p.year,
                       title="涉农资金统筹整合方案", function_codes=["2130505"],
                       allowed_uses=["industry"],
                       sources=[(p.central, 500_000_00), (p.provincial, 200_000_00)],
                       effective_date=day)
    p.approve(s, t, f"{county}_approver")
    p.summary.lots.append(t.lot_id)
