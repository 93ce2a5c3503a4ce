"""A small, deterministic synthetic province for trying fundtrail out (`fundtrail demo`).

The same seed gives the same province: regions with Chinese names, users at every level, a
central and a provincial lot, factor allocation down to counties, projects, households paid a
subsidy, contractors paid from projects, one reversal and one integration — every transfer
recorded by a clerk and approved by a colleague, through the same services as real work.
Issue 4 grows this into the full province with planted misuse.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ledger import flows, lots, posting, projects, regions
from ledger.db import transaction
from ledger.errors import LedgerError
from ledger.models import PayeeKind, ProjectStatus, RegionLevel, Role, SourceLevel, User
from ledger.money import split_largest_remainder

PROVINCE = ("520000", "贵州省")
CITIES = {"520100": ("贵阳市", {"520121": "开阳县", "520122": "息烽县", "520123": "修文县"}),
          "520300": ("遵义市", {"520322": "桐梓县", "520324": "正安县"})}
TOWN_NAMES = "永温南龙双花楠禾青松石桥"
VILLAGE_NAMES = "丰和兴安平乐新坪坝田湾寨冲河岭"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "明华建国志强秀英桂兰玉梅文军永红春林海燕金凤德福光荣成云"


@dataclass
class DemoSummary:
    regions: int = 0
    households: int = 0
    transfers: int = 0
    lots: list[int] = field(default_factory=list)


def build_demo(factory, *, seed: int = 1, households: int = 200,
               year: int = 2024) -> DemoSummary:
    rng = random.Random(seed)
    summary = DemoSummary()
    with transaction(factory) as s:
        if s.execute(select(func.count()).select_from(User)).scalar_one():
            raise LedgerError("the database already holds data; the demo needs an empty one "
                              "(use a new --config or FUNDTRAIL_DATABASE_URL)")
        villages = _regions_and_users(s, summary)
    counties = [c for _, (_, cs) in CITIES.items() for c in cs]
    day = dt.date(year, 3, 10)
    with transaction(factory) as s:
        central = _lot(s, "财农〔%d〕12号" % year, SourceLevel.CENTRAL, year,
                       "中央财政衔接推进乡村振兴补助资金", 30_000_000_00, day, summary)
        provincial = _lot(s, "黔财农〔%d〕8号" % year, SourceLevel.PROVINCE, year,
                          "省级财政衔接推进乡村振兴补助资金", 6_000_000_00, day, summary)
        for lot_id, total in ((central, 30_000_000_00), (provincial, 6_000_000_00)):
            _allocate_by_factors(s, rng, lot_id, total, day, summary)
    with transaction(factory) as s:
        _projects_and_contractors(s, rng, counties, central, day, summary)
    by_county = {c: [v for v in villages if v.startswith(c)] for c in counties}
    paid = _households(factory, rng, by_county, households, central, day, summary)
    with transaction(factory) as s:
        _corrections(s, paid, counties[0], central, provincial, day, summary)
    summary.households = households
    return summary


def _user(s, name) -> User:
    return regions.get_user(s, name)


def _regions_and_users(s, summary) -> list[str]:
    admin = regions.bootstrap(s, province_code=PROVINCE[0], province_name=PROVINCE[1],
                              admin_username="admin", admin_name="省财政厅管理员")
    villages = []
    _staff(s, admin, PROVINCE[0], "p")
    regions.add_user(s, admin, username="auditor", display_name="省审计厅审计员",
                     role=Role.AUDITOR, region_code=PROVINCE[0])
    for city, (city_name, counties) in CITIES.items():
        regions.add_region(s, admin, code=city, name=city_name, level=RegionLevel.CITY,
                           parent_code=PROVINCE[0])
        _staff(s, admin, city, city)
        for county, county_name in counties.items():
            regions.add_region(s, admin, code=county, name=county_name,
                               level=RegionLevel.COUNTY, parent_code=city)
            _staff(s, admin, county, county)
            for t in range(2):
                town = f"{county}{t + 1:03d}"
                regions.add_region(s, admin, code=town,
                                   name=TOWN_NAMES[(int(county) + t) % len(TOWN_NAMES)] + "镇",
                                   level=RegionLevel.TOWNSHIP, parent_code=county)
                for v in range(3):
                    code = f"{town}{v + 1:03d}"
                    name = VILLAGE_NAMES[(int(county) + 3 * t + v) % len(VILLAGE_NAMES)] + "村"
                    regions.add_region(s, admin, code=code, name=name,
                                       level=RegionLevel.VILLAGE, parent_code=town)
                    villages.append(code)
    summary.regions = 1 + len(CITIES) + sum(len(c) for _, c in CITIES.values()) * 9
    return villages


def _staff(s, admin, region, prefix) -> None:
    regions.add_user(s, admin, username=f"{prefix}_clerk", display_name=f"{region} 经办",
                     role=Role.CLERK, region_code=region)
    regions.add_user(s, admin, username=f"{prefix}_approver", display_name=f"{region} 审核",
                     role=Role.APPROVER, region_code=region)


def _approve(s, transfer, approver, summary) -> None:
    posting.approve(s, _user(s, approver), transfer.id, "已核对")
    summary.transfers += 1


def _lot(s, doc, level, year, title, amount, day, summary) -> int:
    t = lots.appropriate(s, _user(s, "p_clerk"), doc_number=doc, source_level=level, year=year,
                         title=title, function_codes=["2130504", "2130505", "2130506"],
                         allowed_uses=["household_subsidy", "industry", "infrastructure",
                                       "training"],
                         amount_fen=amount, region_code=PROVINCE[0], effective_date=day)
    _approve(s, t, "p_approver", summary)
    summary.lots.append(t.lot_id)
    return t.lot_id


def _allocate_by_factors(s, rng, lot_id, total, day, summary) -> None:
    """因素法: weights stand in for poor population, income and fiscal capacity factors."""
    counties = [(city, c) for city, (_, cs) in CITIES.items() for c in cs]
    weights = [rng.randint(60, 140) for _ in counties]
    shares = split_largest_remainder(total * 9 // 10, weights)  # province keeps 10% in reserve
    for city in CITIES:
        city_total = sum(sh for (c, _), sh in zip(counties, shares) if c == city)
        t = flows.allocate(s, _user(s, "p_clerk"), lot_id=lot_id, from_region=PROVINCE[0],
                           to_region=city, amount_fen=city_total, effective_date=day,
                           key=f"alloc:{lot_id}:{city}", memo="按因素法分配")
        _approve(s, t, "p_approver", summary)
    for (city, county), share in zip(counties, shares):
        t = flows.allocate(s, _user(s, f"{city}_clerk"), lot_id=lot_id, from_region=city,
                           to_region=county, amount_fen=share, effective_date=day,
                           key=f"alloc:{lot_id}:{county}", memo="切块到县")
        _approve(s, t, f"{city}_approver", summary)


def _projects_and_contractors(s, rng, counties, lot_id, day, summary) -> None:
    for county in counties:
        clerk = _user(s, f"{county}_clerk")
        for n, (fc, name, use) in enumerate([("2130504", "村组道路硬化", "infrastructure"),
                                             ("2130505", "特色种养产业", "industry")]):
            code = f"XM{county}{n + 1:02d}"
            projects.register_project(s, clerk, code=code, name=name, county_code=county,
                                      function_code=fc)
            projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, day)
            projects.advance_project(s, _user(s, f"{county}_approver"), code,
                                     ProjectStatus.APPROVED, day)
            projects.file_project(s, _user(s, "p_clerk"), code, day, "省级备案")
            contractor = f"QY{county}{n + 1:02d}"
            projects.register_payee(s, clerk, code=contractor, kind=PayeeKind.CONTRACTOR,
                                    name=f"{name}承建公司", region_code=county)
            amount = rng.randint(800_000, 2_000_000) * 100
            t = flows.fund_project(s, clerk, lot_id=lot_id, project_code=code,
                                   amount_fen=amount, effective_date=day, key=f"fund:{code}")
            _approve(s, t, f"{county}_approver", summary)
            t = flows.pay(s, clerk, lot_id=lot_id, payee_code=contractor,
                          amount_fen=amount * 7 // 10, function_code=fc, use_code=use,
                          project_code=code, effective_date=day + dt.timedelta(days=40),
                          key=f"pay:{code}:1")
            _approve(s, t, f"{county}_approver", summary)


def _households(factory, rng, by_county, count, lot_id, day, summary) -> list:
    paid = []
    counties = list(by_county)
    for n in range(count):
        county = counties[n % len(counties)]
        village = by_county[county][rng.randrange(len(by_county[county]))]
        paid.append((county, village, f"H{village}{n:05d}", rng.choice([800, 1000, 1500, 2000])))
    for county in counties:
        with transaction(factory) as s:
            clerk = _user(s, f"{county}_clerk")
            for c, village, code, yuan in paid:
                if c != county:
                    continue
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN)
                                                      for _ in range(rng.randint(1, 2)))
                projects.register_payee(s, clerk, code=code, kind=PayeeKind.HOUSEHOLD,
                                        name=name, region_code=village)
                t = flows.pay(s, clerk, lot_id=lot_id, payee_code=code, amount_fen=yuan * 100,
                              function_code="2130505", use_code="household_subsidy",
                              county_code=county, effective_date=day + dt.timedelta(days=60),
                              key=f"subsidy:{day.year}:产业奖补:{code}")
                _approve(s, t, f"{county}_approver", summary)
    return paid


def _corrections(s, paid, county, central, provincial, day, summary) -> None:
    """A mistaken payment reversed, and a county pooling part of two lots (统筹整合)."""
    first = next(p for p in paid if p[0] == county)
    key = f"subsidy:{day.year}:产业奖补:{first[2]}"
    from ledger.models import Transfer
    original = s.execute(select(Transfer).where(Transfer.idempotency_key == key)).scalar_one()
    r = posting.reverse(s, _user(s, f"{county}_clerk"), original.id,
                        reason="重复发放，冲销", effective_date=day + dt.timedelta(days=61),
                        key=f"reverse:{original.id}")
    _approve(s, r, f"{county}_approver", summary)
    t = lots.integrate(s, _user(s, f"{county}_clerk"), county_code=county,
                       doc_number=f"开府发〔{day.year}〕3号", year=day.year,
                       title="涉农资金统筹整合方案", function_codes=["2130505"],
                       allowed_uses=["industry"],
                       sources=[(central, 500_000_00), (provincial, 200_000_00)],
                       effective_date=day + dt.timedelta(days=30))
    _approve(s, t, f"{county}_approver", summary)
    summary.lots.append(t.lot_id)
