"""Planted misuse for the demo province, with its ground-truth manifest (`--manifest FILE`).

Every rule of the alert catalogue is planted through the real services, but for those whose
entry says why not (`not_planted`; tests/ledger/alerts/test_catalogue.py holds the two to each
other): a few cases per rule (more for larger provinces), at several difficulties for the
identity rules (exact ID, transposed ID digits, same pinyin, look-alike characters, confusable
sounds). Hard negatives — look-alikes that must not fire (twins, namesakes in other villages,
exempt posts, farm vehicles, deregistered companies, on-time returns) — are listed too, and an
eligible relative of an official is an expected alert with an expected dismissal, scored apart.
"""
from __future__ import annotations

import datetime as dt
from array import array
from collections import defaultdict

from ledger.funds import flows, posting, projects
from ledger.alerts.matching import char_kinship
from ledger.store.db import transaction
from ledger.demo.stream import Pool
from ledger.demo.world import (
    EDUCATION_ITEM, GIVEN, INDUSTRY_ITEM, SURNAMES, DemoHousehold, Person, open_lot,
    new_household, workday,
)
from ledger.registers.external import ListKind, ListRecord
from ledger.models import HouseholdStatus, ProjectStatus, SourceLevel

NAME_POOL = SURNAMES + GIVEN + "汪扬涂鸣桦健帼墙瑛岚玫雯君虹琳艳今奉得富广容诚芸智咏绣钰贵" \
    "南宁牛娜拉兰蓝铭敏名民洪宏鸿"


def name_variant(name: str, want: str):
    """A different name that the comparator should still match: one character changed for
    one with the same pinyin ('homophone'), a look-alike ('lookalike'), or a sound dialect
    speakers merge, l/n, z/zh and the like ('confusable') — by ledger.alerts.matching."""
    wanted = _WANTED[want]
    for i, ch in enumerate(name):
        for other in NAME_POOL:
            if other != ch and char_kinship(ch, other) == wanted:
                return name[:i] + other + name[i + 1:]
    return None


_WANTED = {"lookalike": "look-alike characters", "homophone": "same pinyin",
           "confusable": "confusable sound"}


def swap_digits(id_number: str) -> str:
    """The ID with two adjacent, different sequence digits swapped (a typing error)."""
    for i in (14, 15, 13, 12):
        if id_number[i] != id_number[i + 1]:
            return id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2:]
    return id_number[:16] + str((int(id_number[16]) + 2) % 10) + id_number[17]


def one_digit_wrong(id_number: str) -> str:
    """The ID with one sequence digit mistyped, the check character copied as it was (so it
    no longer fits: LED-02 names the number too)."""
    from ledger.core.idcard import check_character
    for off in range(1, 10):
        typo = id_number[:15] + str((int(id_number[15]) + off) % 10) + id_number[16:]
        if check_character(typo[:17]) != typo[17]:
            return typo
    raise AssertionError("a digit change always changes the check sum")


def wrong_check(id_number: str) -> str:
    """The ID with a check character that does not fit its digits."""
    right = id_number[17]
    return id_number[:17] + ("1" if right != "1" else "2")


MAX_PLANT_ROUNDS = 25


def plant_rounds(households: int) -> int:
    """Planted cases per rule: two, and one more round per 400 households, up to 25 — enough
    to measure each rule; a province of a million households gets 25, not 2,500 (the plants
    go through the one-by-one services and would take most of its build time)."""
    return min(MAX_PLANT_ROUNDS, max(2, households // 400))


class Misuse:
    def __init__(self, p):
        self.p = p
        self.cases: list[dict] = []
        self.on_rolls: set[str] = set()
        self.roll_plans: dict[str, str] = {}
        self.late_county = "520324"
        self.lists = defaultdict(list)
        self.direct: list = []      # (kind, household, amount)
        self.k = 2

    # -- bookkeeping ----------------------------------------------------------------------
    def case(self, rules, entity, *, amount=0, difficulty="exact", expect="alert", note=""):
        self.cases.append({"rules": list(rules), "entity": entity, "amount_fen": amount,
                           "difficulty": difficulty, "expect": expect, "note": note})

    def manifest(self, households: int) -> dict:
        resolved = []
        for n, c in enumerate(self.cases, start=1):
            entity = c["entity"]() if callable(entity := c["entity"]) else entity
            amount = c["amount_fen"]() if callable(c["amount_fen"]) else c["amount_fen"]
            resolved.append({"case_id": f"C{n:04d}", **c, "entity": entity,
                             "amount_fen": amount})
        return {"seed_households": households, "year": self.p.year,
                "as_of": dt.date(self.p.year, 12, 31).isoformat(), "cases": resolved}

    def paid_to(self, code):
        return lambda: sum(a for _, a in self.p.paid.get(code, []))

    # -- prior year: FLW-01 at the province, FLW-02 on a project ---------------------------
    def prior_year(self):
        p, y = self.p, self.p.year - 1
        amount = 8_000_000_00
        with transaction(p.factory) as s:
            lot = open_lot(s, p, f"财农〔{y}〕9号", SourceLevel.CENTRAL, amount,
                       "中央财政专项扶贫资金（上年）", day=workday(dt.date(y, 2, 1)), year=y)
            day = workday(dt.date(y, 3, 20))
            for frm, to, who in (("520000", "520100", "p"), ("520100", "520121", "520100")):
                t = flows.allocate(s, p.user(s, f"{who}_clerk"), lot_id=lot, from_region=frm,
                                   to_region=to, amount_fen=amount, effective_date=day,
                                   key=f"alloc:{lot}:{to}", memo="下达")
                p.approve(s, t, f"{who}_approver")
            code = f"XM520121{y}"
            self._project(s, code, "520121", "易地搬迁后续产业", workday(dt.date(y, 4, 10)))
            t = flows.fund_project(s, p.user(s, "520121_clerk"), lot_id=lot, project_code=code,
                                   amount_fen=amount, effective_date=workday(dt.date(y, 4, 12)),
                                   key=f"fund:{code}")
            p.approve(s, t, "520121_approver")
        self.case(["FLW-01"], f"lot_unit:{lot}:520000", amount=amount,
                  note="province passed a central lot down after 47 days")
        self.case(["FLW-02"], f"account:{lot}:project:{code}", amount=amount,
                  note="project money idle since the previous spring")

    def _project(self, s, code, county, name, approved_on, fc="2130504", unit=None):
        p = self.p
        clerk = p.user(s, f"{county}_clerk")
        projects.register_project(s, clerk, code=code, name=name, county_code=county,
                                  function_code=fc, implementing_unit=unit)
        projects.advance_project(s, clerk, code, ProjectStatus.IN_LIBRARY, approved_on)
        projects.advance_project(s, p.user(s, f"{county}_approver"), code,
                                 ProjectStatus.APPROVED, approved_on)

    # -- households ------------------------------------------------------------------------
    def registry_cases(self, regular, pool: array, first_exited: int | None,
                       by_county) -> list[DemoHousehold]:
        """The planted households, and plants on regular ones: `regular` (a
        ledger.demo.stream.HouseholdStore, every one on the rolls), `pool` the numbers of those
        not exited, `first_exited` the first exited one's."""
        p = self.p
        self.k = k = plant_rounds(len(regular))
        self.pool = Pool(regular, pool, p.rng)
        extra: list[DemoHousehold] = []
        n = len(regular)

        def add(h, on_rolls=True):
            nonlocal n
            n += 1
            extra.append(h)
            p.watched.add(h.code)
            if on_rolls:
                self.on_rolls.add(h.code)
            return h

        def fresh(county=None, village=None, **kw):
            county = county or p.counties[n % len(p.counties)]
            village = village or p.rng.choice(by_county[county])
            return new_household(p, county, village, n, **kw)
        self._add, self._fresh = add, fresh

        for _ in range(k):  # BEN-01 from the registry: the head died in March
            h = add(fresh())
            h.people[0].death_date = p.day(3, 14)
            self._adult_stays(h)   # no child left alone: that would be BEN-07's
            self.case(["BEN-01"], f"household:{h.code}", amount=self.paid_to(h.code),
                      difficulty="registry")
        h = add(fresh())  # hard negative: died in the month of the payment, no children
        h.people = [x for x in h.people if x.relation not in ("子", "女")]
        h.people[0].death_date = dt.date(p.year, 5, 2)
        self.case(["BEN-01"], f"household:{h.code}", expect="no_alert",
                  note="month of death may be paid")
        h = add(fresh())  # hard negative: a member other than the head died
        h.people[-1].death_date = p.day(2, 1) if len(h.people) > 1 else None
        self.case(["BEN-01"], f"household:{h.code}", expect="no_alert",
                  note="a non-head member died")
        for i in range(k):  # BEN-01 from the deaths list only
            h = add(fresh())
            self.lists[ListKind.DEATHS].append(ListRecord(0, h.people[0].name,
                                                          h.people[0].id_number,
                                                          date_from=p.day(4, 1)))
            self.case(["BEN-01"], f"household:{h.code}", amount=self.paid_to(h.code),
                      difficulty="deaths list")
        h = add(fresh())
        self.lists[ListKind.DEATHS].append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                                      date_from=dt.date(p.year, 11, 20)))
        self.case(["BEN-01"], f"household:{h.code}", expect="no_alert",
                  note="died after the last payment")
        for i in range(k):  # BEN-06: removed (清退) and not yet registered, paid directly
            h = add(fresh(status=HouseholdStatus.REMOVED), on_rolls=False)
            self.direct.append(("BEN-06", h, 1500_00))
            h = add(fresh(registered_on=dt.date(p.year, 9, 1)), on_rolls=False)
            self.direct.append(("BEN-06", h, 1500_00))
        # The hard negative: an exited (脱贫) household may still be paid. A tiny demo may have
        # drawn no exited household, so one is added for it then.
        exited = regular.pin(first_exited) if first_exited is not None \
            else add(fresh(status=HouseholdStatus.EXITED), on_rolls=False)
        p.watched.add(exited.code)
        self.direct.append(("BEN-06-negative", exited, 1500_00))
        for i in range(k):  # BEN-03: a second household on someone else's card
            a = self.take()
            b = add(fresh(county=a.county, card=a.card))
            digest = p.vault.digest("card:" + a.card)[:16]
            self.case(["BEN-03"], f"card:{digest}", amount=self.paid_to(b.code))
        extra += self._duplicates(add, fresh, by_county)
        self._implausible_members(add, fresh)
        for i in range(k):  # D7: more children claimed than the household has members
            h = self.take()
            h.education_quantity = len(h.people) + 2
            self.case(["D7"], self._line_of(EDUCATION_ITEM, h),
                      amount=2 * 500_00)
        for plan, rule in (("whd01", "WHD-01"), ("whd02", "WHD-02"), ("whd04", "WHD-04"),
                           ("whd01_ok", "WHD-01"), ("whd04_ok", "WHD-04"),
                           ("whd01_fee", "WHD-01"), ("whd01_fee_ok", "WHD-01"),
                           ("whd04_other", "WHD-04")):
            for i in range(k if not plan.endswith("_ok") else 1):
                h = self.take()
                self.roll_plans[h.code] = plan
                line = self._line_of(INDUSTRY_ITEM, h)
                if plan.endswith("_ok"):
                    self.case([rule], line, expect="no_alert", note=plan)
                else:
                    self.case([rule], line, amount={"whd01": 200_00, "whd01_fee": 30_00}
                              .get(plan, 1000_00), note=plan)
        self._list_people()
        self._split_households()
        return extra

    def _adult_stays(self, h):
        """A spouse for a household whose head is planted dead, if it has none."""
        if not any(x.relation == "配偶" for x in h.people):
            h.people.insert(1, self.p.person(h.county, "配偶", born=self.p.birth(1950, 1990),
                                             male=False))

    def _implausible_members(self, add, fresh):
        """BEN-07: a member over 100 (and a 98-year-old who is not), a minor as the only member
        (and a minor whose parent died after the last payment), a household that doubled in
        the year with two members joined in April (and one birth in a household of three; a
        household whose members all left: dissolved, excepted). The joinings and departures
        are recorded in the plant phase (ledger.demo.plants), as member_history writes them."""
        p, y = self.p, self.p.year
        self.member_changes = []   # (household, member index, joined | moved_out, date)

        def member(h, i):
            return lambda: f"member:{h.member_ids[i]}"
        for i in range(self.k + 1):
            h = add(fresh())
            old = i < self.k
            h.people.append(p.person(h.county, "母亲", born=p.birth(1917, 1922) if old
                                     else p.birth(1926, 1926), male=False))
            if old:
                self.case(["BEN-07"], member(h, len(h.people) - 1), amount=self.paid_to(h.code),
                          difficulty="over 100")
            else:
                self.case(["BEN-07"], member(h, len(h.people) - 1), expect="no_alert",
                          note="98 years old")
        for i in range(self.k + 1):
            h = add(fresh())
            alone = i < self.k
            surname = h.people[0].name[0]
            child = p.person(h.county, "户主" if alone else "子", surname,
                             born=p.birth(2008, 2011))
            if alone:
                h.people = [child]
                self.case(["BEN-07"], f"household:{h.code}", amount=self.paid_to(h.code),
                          difficulty="minor alone")
            else:
                h.people = [h.people[0], child]
                h.people[0].death_date = dt.date(y, 11, 20)
                self.case(["BEN-07"], f"household:{h.code}", expect="no_alert",
                          note="the parent died after the last payment")
        for i in range(self.k + 2):
            h = add(fresh())
            head = h.people[0]
            h.people = [head, p.person(h.county, "配偶", born=p.birth(1960, 1990), male=False)]
            if i < self.k:   # two children joined in April: 2 → 4
                for _ in range(2):
                    h.people.append(p.person(h.county, "子", head.name[0],
                                             born=p.birth(2012, 2016), male=True))
                    self.member_changes.append((h, len(h.people) - 1, "joined",
                                                p.day(4, 1)))
                self.case(["BEN-07"], f"household_year:{h.code}:{y}",
                          amount=self.paid_to(h.code), difficulty="size doubled")
            elif i == self.k:   # a birth in a household of three: 3 → 4
                h.people.append(p.person(h.county, "女", head.name[0], born=p.birth(2012, 2016),
                                         male=False))
                h.people.append(p.person(h.county, "子", head.name[0],
                                         born=dt.date(y, 2, 10), male=True))
                self.member_changes.append((h, 3, "joined", dt.date(y, 2, 10)))
                self.case(["BEN-07"], f"household_year:{h.code}:{y}", expect="no_alert",
                          note="one birth in a household of three")
            else:   # everyone moved away in August, after the rolls: dissolved to zero
                for n in range(len(h.people)):
                    self.member_changes.append((h, n, "moved_out", p.day(8, 5)))
                self.case(["BEN-07"], f"household_year:{h.code}:{y}", expect="no_alert",
                          note="household dissolved to zero")

    def _split_households(self):
        """BEN-08: a family whose grown son is an official's brother splits him off into a
        household of his own just before it is paid (the split is recorded in the plant
        phase, ledger.demo.plants); and a split with no official behind it (a marriage), which
        must not fire. The families are kept off the rolls, so only the new households are
        paid."""
        p = self.p
        self.splits = []
        # (linked to an official, split date, enrolment date): enrolled the day of the split,
        # enrolled months later (a split is not an enrolment), and the look-alikes: a marriage
        # split with no official, and an official's brother split off two years before the
        # enrolment.
        plans = [(True, p.day(7, 2), p.day(7, 2)), (True, p.day(3, 2), p.day(7, 2))]
        plans = plans * ((self.k + 1) // 2)
        plans += [(False, p.day(7, 2), p.day(7, 2)),
                  (True, p.day(3, 2, p.year - 2), p.day(7, 2))]
        for linked, split_on, enrolled_on in plans:
            h = self._add(self._fresh(), on_rolls=False)
            son = p.person(h.county, "子", h.people[0].name[0], born=p.birth(1994, 2000),
                           male=True)
            h.people.append(son)
            if linked:
                o = self._official(self.lists[ListKind.OFFICIALS], h.village[:9], "村党支部书记")
                self.lists[ListKind.OFFICIALS].append(ListRecord(
                    0, son.name, son.id_number, category="兄弟", related_id_number=o.id_number))
            self.splits.append((h, f"{h.code}-1", linked, split_on, enrolled_on))

    def take(self) -> DemoHousehold:
        """A regular household to plant on (a new one when a small province runs out)."""
        if self.pool:
            h = self.pool.pop()
            self.p.watched.add(h.code)
            return h
        return self._add(self._fresh())

    def _line_of(self, item, h):
        """The household's line on its county's roll of `item` (which of the county's rolls,
        when a large county has several: ledger.demo.province.roll_codes)."""
        def resolve():
            from sqlalchemy import select

            from ledger.models import PaymentRoll, RollLine
            with transaction(self.p.factory) as s:
                code, line = s.execute(select(PaymentRoll.code, RollLine.line_no)
                                       .join(PaymentRoll).where(
                    PaymentRoll.item == item, PaymentRoll.county_code == h.county,
                    RollLine.household_code == h.code)).one()
            return f"roll_line:{code}:{line}"
        return resolve

    def _duplicates(self, add, fresh, by_county):
        """BEN-02: the same ID in two households; clones with similar names; and look-alikes
        that must not fire (twins in one household, namesakes in another village)."""
        p, out = self.p, []
        for i in range(self.k):
            a = self.take()
            other = p.rng.choice([v for v in by_county[a.county] if v != a.village])
            b = add(fresh(county=a.county, village=other))
            b.people.append(Person(a.people[0].name, "其他", a.people[0].id_number,
                                   a.people[0].born))
            self.case(["BEN-02"], self._pair(a, 0, b, len(b.people) - 1),
                      amount=self.paid_to(b.code), difficulty="exact ID")
        for want in ("homophone", "lookalike", "confusable") * self.k:
            a, variant = self._with_variant(want)
            if a is None:
                continue
            b = add(fresh(county=a.county, village=a.village))
            src = a.people[0]
            b.people.append(Person(variant, "其他", p.id_number(a.county, src.born, True),
                                   src.born))
            self.case(["BEN-02"], self._pair(a, 0, b, len(b.people) - 1),
                      amount=self.paid_to(b.code), difficulty=want)
        twins = add(fresh())
        born = p.birth(2005, 2015)
        surname = twins.people[0].name[0]
        twins.people += [Person(surname + "建国", "子", p.id_number(twins.county, born, True),
                                born),
                         Person(surname + "建华", "子", p.id_number(twins.county, born, True),
                                born)]
        self.case(["BEN-02"], self._pair(twins, len(twins.people) - 2, twins,
                                         len(twins.people) - 1),
                  expect="no_alert", note="twins in one household")
        a = self.take()
        far = p.rng.choice([c for c in p.counties if c != a.county])
        b = add(fresh(county=far))
        src = a.people[0]
        b.people.append(Person(src.name, "其他", p.id_number(far, src.born, True), src.born))
        self.case(["BEN-02"], self._pair(a, 0, b, len(b.people) - 1), expect="no_alert",
                  note="same name and birth date in another county")
        return out

    def _with_variant(self, want):
        h, v = self.pool.take_last(lambda h: name_variant(h.people[0].name, want))
        if h is not None:
            self.p.watched.add(h.code)
            return h, v
        for _ in range(50):
            h = self._add(self._fresh())
            v = name_variant(h.people[0].name, want)
            if v:
                return h, v
            self.pool.append(h)
        return None, None

    @staticmethod
    def _pair(a, ia, b, ib):
        return lambda: "members:" + "-".join(str(x) for x in sorted(
            (a.member_ids[ia], b.member_ids[ib])))

    def _list_people(self):
        """Payroll, vehicles, businesses and officials records for planted people."""
        p, k = self.p, self.k
        payroll, vehicles = self.lists[ListKind.PAYROLL], self.lists[ListKind.VEHICLES]
        business, officials = self.lists[ListKind.BUSINESSES], self.lists[ListKind.OFFICIALS]
        start = dt.date(2019, 9, 1)

        def member(h, i=0):
            return lambda: f"member:{h.member_ids[i]}"

        for i in range(k):
            h = self.take()
            payroll.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                      org="县教育局", category="事业编制", date_from=start))
            self.case(["BEN-04"], member(h), amount=self.paid_to(h.code))
            h = self.take()
            payroll.append(ListRecord(0, h.people[0].name, swap_digits(h.people[0].id_number),
                                      org="镇卫生院", category="事业编制", date_from=start))
            self.case(["BEN-04"], member(h), amount=self.paid_to(h.code),
                      difficulty="transposed ID digits")
        h = self.take()
        payroll.append(ListRecord(0, h.people[0].name, h.people[0].id_number, org="村委会",
                                  category="公益性岗位", date_from=start))
        self.case(["BEN-04"], member(h), expect="no_alert", note="exempt public-welfare post")
        h = self.take()
        payroll.append(ListRecord(0, h.people[0].name, h.people[0].id_number, org="县林业局",
                                  category="事业编制", date_from=dt.date(2015, 1, 1),
                                  date_to=dt.date(p.year - 1, 12, 31)))
        self.case(["BEN-04"], member(h), expect="no_alert", note="left the payroll before")
        h = self.take()
        payroll.append(ListRecord(0, h.people[0].name,
                                  p.id_number(h.county, p.birth(1960, 1990), True),
                                  org="县财政局", category="公务员", date_from=start))
        self.case(["BEN-04"], member(h), expect="no_alert", note="namesake, another person")
        for i in range(k):
            h = self.take()
            vehicles.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                       category="小型轿车", org_code=f"贵A{i:05d}"))
            self.case(["BEN-05"], member(h), amount=self.paid_to(h.code), difficulty="vehicle")
            h = self.take()
            business.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                       org=f"{h.people[0].name[0]}氏商贸有限公司",
                                       category="法定代表人", date_from=dt.date(2018, 5, 1)))
            self.case(["BEN-05"], member(h), amount=self.paid_to(h.code), difficulty="company")
        h = self.take()
        vehicles.append(ListRecord(0, h.people[0].name, h.people[0].id_number, category="拖拉机"))
        self.case(["BEN-05"], member(h), expect="no_alert", note="farm vehicle")
        properties = self.lists[ListKind.PROPERTIES]
        for i in range(k):  # urban housing (不动产登记), the owner's name typed full-width-free
            h = self.take()
            properties.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                         category="城镇住宅", org=f"贵阳市云岩区中华北路{i + 1}号",
                                         date_from=dt.date(2021, 6, 1)))
            self.case(["BEN-05"], member(h), amount=self.paid_to(h.code), difficulty="property")
        for status, note in (("scrapped", "scrapped car (报废)"),
                             ("transferred", "car transferred to another owner (转出)")):
            h = self.take()
            vehicles.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                       category="小型轿车", status=status))
            self.case(["BEN-05"], member(h), expect="no_alert", note=note)
        h = self.take()
        properties.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                     category="宅基地", org="本村宅基地"))
        self.case(["BEN-05"], member(h), expect="no_alert", note="rural homestead (宅基地)")
        h = self.take()
        properties.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                     category="城镇住宅", org="县城小区", date_from=dt.date(2015, 1, 1),
                                     date_to=dt.date(p.year - 1, 3, 1)))
        self.case(["BEN-05"], member(h), expect="no_alert", note="urban flat sold before")
        h = self.take()
        business.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                   org="已注销养殖合作社有限公司", category="法定代表人",
                                   date_from=dt.date(2015, 1, 1), date_to=dt.date(2022, 6, 30)))
        self.case(["BEN-05"], member(h), expect="no_alert", note="deregistered company")
        self._officials(officials, member)

    def _official(self, officials, region, post):
        p = self.p
        o = p.person(region[:6], "本人", born=p.birth(1965, 1985), male=True)
        officials.append(ListRecord(0, o.name, o.id_number, region_code=region, org=post,
                                    category="本人", date_from=dt.date(2021, 1, 1)))
        return o

    def _officials(self, officials, member):
        p = self.p
        for i in range(self.k + 1):
            h = self.take()
            town = h.village[:9]
            o = self._official(officials, town, "镇党委书记")
            officials.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                        category="兄弟", related_id_number=o.id_number))
            if i < self.k:
                self.case(["FAV-01"], member(h), amount=self.paid_to(h.code))
                self.case(["BEN-08"], f"household:{h.code}", expect="no_alert",
                          note="an official's relative, no split")
            else:
                self.case(["FAV-01"], member(h), expect="dismiss",
                          note="eligible relative: disclosed, allowed")
        for i in range(self.k):
            h = self.take()
            o = self._official(officials, h.village[:9], "镇党委书记")
            head = h.people[0]
            if i % 2 == 0:  # the declaration's ID number has one digit wrong
                officials.append(ListRecord(0, head.name, one_digit_wrong(head.id_number),
                                            category="兄弟", related_id_number=o.id_number))
                hardness = "ID with one digit wrong"
                self.case(["LED-02"], self._list_record(head.name, "兄弟"),
                          note="declared brother's ID with one digit wrong")
            else:  # declared by name and birth date, no ID number (干部近亲属申报)
                officials.append(ListRecord(0, head.name, None, category="兄弟",
                                            birth_date=head.born,
                                            related_id_number=o.id_number))
                hardness = "declared by name and birth date"
            self.case(["FAV-01"], member(h), amount=self.paid_to(h.code), difficulty=hardness)
        h = self.take()  # namesake: same name, declared with another birth date
        o = self._official(officials, h.village[:9], "镇党委书记")
        officials.append(ListRecord(0, h.people[0].name, None, category="兄弟",
                                    birth_date=h.people[0].born - dt.timedelta(days=400),
                                    related_id_number=o.id_number))
        self.case(["FAV-01"], member(h), expect="no_alert",
                  note="relative declared by name and another birth date: a namesake")
        h = self.take()
        far = next(c for c in p.counties if c != h.county)
        o = self._official(officials, far, "县长")
        officials.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                    category="兄弟", related_id_number=o.id_number))
        self.case(["FAV-01"], member(h), expect="no_alert", note="official of another county")
        h = self.take()
        o = self._official(officials, h.village[:9], "镇长")
        officials.append(ListRecord(0, h.people[0].name, h.people[0].id_number,
                                    category="堂兄弟", degree=3, related_id_number=o.id_number))
        self.case(["FAV-01"], member(h), expect="no_alert", note="third-degree relative")
        self.fav02_officials = [self._official(officials, c, "县委常委") for c in p.counties]
        for i in range(self.k):  # LED-02: declared ID numbers that cannot be right
            o = self._official(officials, p.counties[i % len(p.counties)], "副县长")
            rel = p.person(o.id_number[:6], "配偶", born=p.birth(1970, 1985), male=False)
            bad = wrong_check(rel.id_number) if i % 2 == 0 else \
                rel.id_number[:10] + "13" + rel.id_number[12:]   # month 13
            officials.append(ListRecord(0, rel.name, bad, category="配偶",
                                        related_id_number=o.id_number))
            self.case(["LED-02"], self._list_record(rel.name, "配偶"),
                      note="declared spouse's ID: "
                      + ("check character wrong" if i % 2 == 0 else "birth month 13"))
        o = self._official(officials, p.counties[0], "副县长")
        rel = p.person(o.id_number[:6], "配偶", born=p.birth(1970, 1985), male=False)
        officials.append(ListRecord(0, rel.name, rel.id_number, category="配偶",
                                    related_id_number=o.id_number))
        self.case(["LED-02"], self._list_record(rel.name, "配偶"), expect="no_alert",
                  note="a right ID number of a declared spouse")

    def _list_record(self, name, relation):
        def resolve():
            from sqlalchemy import select

            from ledger.models.registers import ExternalRecord
            with transaction(self.p.factory) as s:
                return "list_record:" + str(s.execute(select(ExternalRecord.id).where(
                    ExternalRecord.name == name, ExternalRecord.category == relation)
                    .order_by(ExternalRecord.id)).scalars().first())
        return resolve

    # -- bank results on the rolls ---------------------------------------------------------
    def bank_outcome(self, code, line) -> str:
        plan = self.roll_plans.get(line.household_code) if "CYJB" in code else None
        return {"whd02": "pending", "whd04": "failed", "whd04_ok": "failed",
                "whd04_other": "failed"}.get(plan, "paid")

    def credited(self, code, line) -> int | None:
        """What the bank credited of a paid line: ¥30 short (代扣) on the WHD-01 fee plants,
        all of it otherwise (None)."""
        plan = self.roll_plans.get(line.household_code) if "CYJB" in code else None
        return line.amount_fen - 30_00 if plan in ("whd01_fee", "whd01_fee_ok") else None

    def after_bank(self, s, code, line, transfer, day, outcome):
        p = self.p
        plan = self.roll_plans.get(line.household_code) if "CYJB" in code else None
        if plan is None:
            return  # most lines: nothing planted (and no user to look up)
        county = code.split("-")[0]
        clerk, approver = p.user(s, f"{county}_clerk"), f"{county}_approver"
        later = workday(day + dt.timedelta(days=7))
        if plan in ("whd01", "whd01_ok"):
            r = posting.reverse(s, clerk, transfer.id, reason="银行退回，改为补发",
                                effective_date=later, key=f"reverse:{transfer.id}")
            p.approve(s, r, approver)
            p.paid[line.household_code].pop()
            amount = line.amount_fen * 8 // 10 if plan == "whd01" else line.amount_fen
            self._repay(s, county, line.household_code, amount, f"产业奖补 {code} 补发", later,
                        f"repay:{code}:{line.line_no}")
        elif plan == "whd04_ok":
            self._repay(s, county, line.household_code, line.amount_fen,
                        f"产业奖补 {code} 第{line.line_no}行 退票重发", later,
                        f"repay:{code}:{line.line_no}")
        elif plan == "whd04_other":   # the same item paid again, naming no roll: no re-payment
            self._repay(s, county, line.household_code, line.amount_fen, "产业奖补 7月",
                        later, f"other:{code}:{line.line_no}")
        elif plan == "whd01_fee_ok":  # the difference reviewed, then the household topped up
            from ledger.models.rolls import BankResult
            from ledger.rolls import settlement
            from sqlalchemy import select
            moved = s.execute(select(BankResult.difference_transfer_id).where(
                BankResult.line_id == line.id)).scalar_one()
            posting.approve(s, p.user(s, f"{p.city_of[county]}_approver"), moved, "已复核")
            t = settlement.top_up(s, clerk, code, line.line_no, later,
                                  voucher=f"BZ{line.line_no}")
            p.approve(s, t, approver)
            p.paid[line.household_code].append((later, t.amount_fen))

    def _repay(self, s, county, household, amount, memo, day, key):
        p = self.p
        t = flows.pay(s, p.user(s, f"{county}_clerk"), lot_id=p.central, payee_code=household,
                      amount_fen=amount, function_code="2130505", use_code="household_subsidy",
                      county_code=county, effective_date=day, key=key, memo=memo)
        p.approve(s, t, f"{county}_approver")
        p.paid.setdefault(household, []).append((day, amount))
        return t

    # -- the plant phase (July onwards, recorded in date order per unit) -------------------
    def plant_all(self, people):
        from ledger.demo.plants import plant_ledger
        plant_ledger(self, people)
