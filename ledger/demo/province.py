"""A deterministic synthetic province for trying fundtrail out and for measuring the alerts
(`fundtrail demo --seed N --households N [--manifest FILE]`).

The same seed gives the same province. Everything goes through the real services, recorded by
a clerk and approved by a colleague: regions with Chinese names; a prior-year and two current
lots with real function codes, passed down by factors (因素法); projects of each type with
contractors; households with members (valid synthetic ID numbers, encrypted) registered through
`ledger.households.registry`; payment rolls (公示清册) published, approved, sent and answered by the bank
(a few returns re-paid); external lists (deaths, payroll, vehicles, businesses, officials,
blacklist) with noise; then planted misuse for every rule of the alert catalogue not marked
`not_planted`, each written to a ground-truth manifest with hard negatives (ledger.demo.misuse).
"""
from __future__ import annotations

import datetime as dt
import random
from array import array
from dataclasses import dataclass, field

import cbor2
from sqlalchemy import func, select, text

from ledger.audit.log import record_change
from ledger.core import clock
from ledger.funds import flows, lots, posting, projects
from ledger.households import registry as hh
from ledger.org import regions
from ledger.rolls import lifecycle as rolls, settlement as roll_settlement
from ledger.store.db import transaction
from ledger.core.errors import LedgerError
from ledger.core.idcard import check_character
from ledger.models import (
    AuditEntry, HouseholdStatus, PayeeKind, ProjectStatus, Region, RegionLevel, Role,
    SourceLevel, User,
)
from ledger.core.money import split_largest_remainder
from ledger.demo import people_keys
from ledger.demo.misuse import Misuse, plant_rounds
from ledger.demo.stream import CHUNK, HouseholdStore
from ledger.i18n import _
from ledger.demo.world import (
    CITIES, EDUCATION_ITEM, INDUSTRY_ITEM, PROVINCE, ROLL_WORKING_DAYS, SURNAMES, TOWN_NAMES,
    VILLAGE_NAMES, DemoHousehold, DemoSummary, Province, new_household, open_lot, workday,
)

def build_demo(factory, *, seed: int = 1, households: int = 200, year: int = 2024,
               vault=None, progress: bool = False, key_folder=None,
               key_passphrase: str | None = None) -> DemoSummary:
    """The synthetic province. With `key_folder`, every user gets a personal key file there
    (encrypted with `key_passphrase`), enrolled four-eyes (ledger.demo.people_keys), so that
    the command line can act as them afterwards."""
    from ledger.core.pii import PiiVault
    people = people_keys.People()
    if key_folder is not None:
        factory = people_keys.signing(factory, people)
    p = Province(factory, vault or PiiVault.from_env(), seed, year)
    p.key_folder, p.key_passphrase, p.people = key_folder, key_passphrase, people
    with transaction(factory) as s:
        state = demo_state(s)
        if state == INTERRUPTED:
            raise DemoInterrupted("演示省没有建完：上次 fundtrail demo 在中途被中断，无法接着建 "
                                  "the demo province in this database was cut off mid-build "
                                  "and cannot be resumed; build it again on an empty database")
        if state != EMPTY:
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
        central = open_lot(s, p, "财农〔%d〕12号" % year, SourceLevel.CENTRAL, central_fen,
                       "中央财政衔接推进乡村振兴补助资金")
        provincial = open_lot(s, p, "黔财农〔%d〕8号" % year, SourceLevel.PROVINCE, 6_000_000_00,
                          "省级财政衔接推进乡村振兴补助资金")
        _allocate_by_factors(s, p, central, central_fen)
        _allocate_by_factors(s, p, provincial, 6_000_000_00, late=misuse.late_county)
    p.central, p.provincial = central, provincial
    with transaction(factory) as s:
        _projects_and_contractors(s, p)
    store = HouseholdStore(p.counties)
    try:
        people = _households(p, store, households, misuse, progress)
        _rolls(p, store, people, misuse, progress)
        with transaction(factory) as s:
            _corrections(s, p)
        misuse.plant_all(people)
        p.summary.households = len(people)
        p.summary.manifest = misuse.manifest(households)
    finally:
        store.close()
    if key_folder is not None:
        people_keys.enrol_everyone(factory, key_folder, key_passphrase, "admin", p.people)
    with transaction(factory) as s:
        from ledger.models import Approval, Decision
        p.summary.transfers = s.execute(select(func.count()).select_from(Approval).where(
            Approval.decision == Decision.APPROVED)).scalar_one()
        # Planner statistics for the tables just filled: without them PostgreSQL (where
        # autovacuum has not run yet, or is off) picks nested loops, and an alert scan that
        # takes seconds takes many minutes (docs/operations.md, "After a bulk load").
        s.execute(text("ANALYZE"))
        # The last thing the demo writes: a database with the demo's users but without this
        # entry is a build that was cut off (`demo_state`).
        with record_change(s, "admin", DEMO_BUILT, seed=seed, households=households,
                           year=year):
            pass
    return p.summary


class DemoInterrupted(LedgerError):
    """The database holds a demo build that was cut off (the command line says what to do)."""


EMPTY, COMPLETE, INTERRUPTED, OTHER = "empty", "complete", "interrupted", "other"
DEMO_BUILT = "demo.built"


def demo_state(s) -> str:
    """What the database holds, as `fundtrail demo` sees it: nothing yet, a complete demo
    province, one whose build was killed part-way (the demo's own users and root region, but
    not its closing `demo.built` entry), or other data (never the demo's to remove)."""
    users = set(s.execute(select(User.username)).scalars())
    if not users:
        return EMPTY
    if "admin" not in users or not users <= _demo_usernames() \
            or s.get(Region, PROVINCE[0]) is None:
        return OTHER
    marker = cbor2.dumps(DEMO_BUILT)
    rows = s.execute(select(AuditEntry.entry).order_by(AuditEntry.idx.desc())
                     .execution_options(yield_per=2000)).scalars()
    return COMPLETE if any(marker in bytes(e) for e in rows) else INTERRUPTED


def _demo_usernames() -> set[str]:
    # admin2: the second administrator who enrols the people's keys (ledger.demo.people_keys)
    names = {"admin", "admin2", "auditor"} | {f"p_{r}" for r in ("clerk", "approver")}
    for city, (_name, counties) in CITIES.items():
        for code in [city, *counties]:
            names |= {f"{code}_{r}" for r in ("clerk", "approver")}
    return names


def _regions_and_users(s, p: Province) -> None:
    admin = regions.bootstrap(s, province_code=PROVINCE[0], province_name=PROVINCE[1],
                              admin_username="admin", admin_name="省财政厅管理员")
    if p.key_folder is not None:
        people_keys.genesis(s, p.key_folder, p.key_passphrase, "admin", p.people)
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


class _Bar:
    """Progress on stderr (tqdm): households done of the total, their rate and the time left;
    nothing at all when `progress` is off (the command turns it on for a terminal)."""

    def __init__(self, progress: bool, total: int, desc: str):
        self._bar = None
        if progress:
            from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, unit=" " + _("户"), unit_scale=True,
                             dynamic_ncols=True, mininterval=0.5, smoothing=0.05)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


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


def _households(p, store: HouseholdStore, count, misuse, progress) -> Households:
    """The regular households, generated, registered and written to `store` a chunk at a
    time, then the planted ones (ledger.demo.misuse). The chunks are those the demo always
    registered (`CHUNK` of the regular households then the planted ones, in that order), so a
    seed gives the same province as before the households were streamed."""
    by_county = {c: [v for v in p.villages if v.startswith(c)] for c in p.counties}
    pool = array("l")       # the regular households the plants may take: not exited
    first_exited = None
    bar = _Bar(progress, count, _("登记农户"))
    try:
        for n in range(count):
            county = p.counties[n % len(p.counties)]
            village = by_county[county][p.rng.randrange(len(by_county[county]))]
            status = HouseholdStatus.EXITED if p.rng.random() < 0.25 else (
                HouseholdStatus.MONITORED if p.rng.random() < 0.05
                else HouseholdStatus.REGISTERED)
            h = new_household(p, county, village, n, status)
            h.regular = True
            store.append(h)
            if status is not HouseholdStatus.EXITED:
                pool.append(n)
            elif first_exited is None:
                first_exited = n
            if len(store.buffer) == CHUNK:
                _register(p, store.buffer)
                store.store(store.buffer[:])
                bar.update(CHUNK)
        # The tail of the regular households, registered with the first planted ones.
        extras = misuse.registry_cases(store, pool, first_exited, by_county)
        tail = store.buffer[:]
        rest = tail + extras
        for start in range(0, len(rest), CHUNK):
            _register(p, rest[start:start + CHUNK])
        if tail:
            store.store(tail)
        bar.update(len(tail))
    finally:
        bar.close()
    return Households(store, extras)


def _register(p, batch) -> None:
    with transaction(p.factory) as s:
        register_many(s, p, batch)


class Households:
    """The province's households: the regular ones (on disk, `store`), then the planted ones
    (in memory), in the order the demo dealt them."""

    def __init__(self, store: HouseholdStore, extras: list[DemoHousehold]):
        self.store, self.extras = store, extras

    def __iter__(self):
        yield from self.store
        yield from self.extras

    def __len__(self) -> int:
        return len(self.store) + len(self.extras)

    def county(self, county: str, on_rolls):
        """The county's households on the rolls, in order."""
        yield from self.store.county(county)   # every regular household is on the rolls
        yield from (h for h in self.extras if h.county == county and h.code in on_rolls)


ROLL_LINES = 20_000  # households on one roll; a county with more gets several (issue 21)


def roll_codes(county: str, year: int, item: str, households: int) -> list[str]:
    """The codes of a county's rolls of `item` for `households` households: one roll, coded as
    the demo always coded it, while they fit on one; else one per `ROLL_LINES`, numbered."""
    base = f"{county}-{year}-{'CYJB' if item == INDUSTRY_ITEM else 'JYBZ'}"
    rolls = max(1, -(-households // ROLL_LINES))
    return [base] if rolls == 1 else [f"{base}-{n + 1:02d}" for n in range(rolls)]


def _kids(h) -> int:
    return h.education_quantity or sum(1 for x in h.people if x.relation in ("子", "女"))


def _rolls(p, store, people: Households, misuse, progress) -> None:
    """One 产业奖补 roll (per household) and one 教育补助 roll (per child) per county — several
    of each for a county of more than `ROLL_LINES` households, all its 产业奖补 rolls first (as
    the one roll was: a county's payments are recorded in date order, STA-05). The county's
    households are read from `store` for each item, a roll's worth at a time."""
    totals = {county: len(range(k, len(store), len(p.counties))) + sum(
        1 for h in people.extras if h.county == county and h.code in misuse.on_rolls)
        for k, county in enumerate(p.counties)}
    bar = _Bar(progress, 2 * sum(totals.values()), _("清册发放"))
    try:
        for county in p.counties:
            total = totals[county]
            for item, std, publish in ((INDUSTRY_ITEM, 1000_00, p.day(5, 6)),
                                       (EDUCATION_ITEM, 500_00, p.day(6, 3))):
                codes = iter(roll_codes(county, p.year, item, total))
                lines, counted = [], 0
                for h in people.county(county, misuse.on_rolls):
                    counted += 1
                    if item == INDUSTRY_ITEM:
                        lines.append((h.code, 1))
                    elif kids := _kids(h):
                        lines.append((h.code, kids))
                    if counted == ROLL_LINES:
                        _pay_roll(p, county, item, next(codes), lines, std, publish, misuse)
                        bar.update(counted)
                        lines, counted = [], 0
                if counted:
                    _pay_roll(p, county, item, next(codes), lines, std, publish, misuse)
                    bar.update(counted)
    finally:
        bar.close()


def _pay_roll(p, county, item, code, lines, standard, publish, misuse) -> None:
    if not lines:
        return   # e.g. no child in a roll's worth of households
    clerk, approver = f"{county}_clerk", f"{county}_approver"
    # The province's year is lived in seconds: each step is recorded on its day
    # (ledger.core.clock), so the publicity window counts as it did in the year.
    with transaction(p.factory) as s, clock.at(publish):
        rolls.create_roll(s, p.user(s, clerk), code=code, lot_id=p.central, county_code=county,
                          item=item, function_code="2130505",
                          use_code="household_subsidy" if item == INDUSTRY_ITEM else "education",
                          standard_fen=standard, lines=lines, as_of=publish)
        rolls.publish(s, p.user(s, clerk), code, publish)
    approve_day = workday(rolls.publicity_ends(publish, ROLL_WORKING_DAYS))
    with transaction(p.factory) as s, clock.at(approve_day):
        rolls.approve_roll(s, p.user(s, approver), code, approve_day, ROLL_WORKING_DAYS)
        sent = rolls.send(s, p.user(s, clerk), code, approve_day)
        outcomes = [misuse.bank_outcome(code, line) for line, _ in sent]
        # The bank's whole result file at once, as `import bank-results` applies it.
        _, problems = roll_settlement.settle(s, p.user(s, approver), rolls.get_roll(s, code), [
            roll_settlement.BankLine(line.line_no, line.amount_fen, outcome != "failed",
                                     "账户冻结" if outcome == "failed" else "",
                                     f"YH{transfer.id:08d}", value_date=approve_day,
                                     credited_fen=misuse.credited(code, line))
            for (line, transfer), outcome in zip(sent, outcomes) if outcome != "pending"])
        if problems:
            raise LedgerError(f"demo roll {code}: {problems[0][1]}")
        for (line, transfer), outcome in zip(sent, outcomes):
            if outcome == "pending":
                continue
            if outcome == "paid" and line.household_code in p.watched:
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
