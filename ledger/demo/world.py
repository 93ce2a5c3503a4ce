"""The demo province's world: its regions and names, the Province that deals out people, cards
and days from one seeded generator, and the helpers every phase of the demo shares (a lot, a
household). ledger.demo.province builds the province from it; ledger.demo.misuse and
ledger.demo.plants plant misuse in it."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from ledger.funds import flows, lots, posting, projects
from ledger.households import registry as hh
from ledger.org import regions
from ledger.rolls import payments as roll_payments, lifecycle as rolls
from ledger.store.db import transaction
from ledger.core.errors import LedgerError
from ledger.core.idcard import check_character
from ledger.models import (
    HouseholdStatus, PayeeKind, ProjectStatus, RegionLevel, Role, SourceLevel, User,
)
from ledger.core.money import split_largest_remainder

from ledger.core.workdays import is_working_day

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
    regular: bool = False  # one of the province's households (on the rolls), not a plant's


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
        # Bounded by the calendar and the card space, not by the number of households: a
        # province of a million keeps no set of three million ID numbers (IdNumbers, Cards).
        self.ids = IdNumbers()
        self.cards = Cards()
        self.summary = DemoSummary()
        self.villages: list[str] = []
        self.counties = [c for _, (_, cs) in CITIES.items() for c in cs]
        self.city_of = {c: city for city, (_, cs) in CITIES.items() for c in cs}
        # household → [(date, fen)], for the case amounts of planted households only
        # (`watched`): a million regular households' payments are in the ledger, not here.
        self.paid: dict[str, list] = {}
        self.watched: set[str] = set()

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


class IdNumbers:
    """The ID numbers dealt out so far, exactly, in memory bounded by the calendar: one bit
    per sequence number (000–999) under each region and birth date (the first 14 characters),
    about 130 bytes per date in use, whatever the number of people."""

    def __init__(self):
        self._taken: dict[str, int] = {}

    def __contains__(self, number: str) -> bool:
        return bool(self._taken.get(number[:14], 0) >> int(number[14:17]) & 1)

    def add(self, number: str) -> None:
        key = number[:14]
        self._taken[key] = self._taken.get(key, 0) | 1 << int(number[14:17])


class Cards:
    """The bank cards dealt out so far, as a Bloom filter of fixed size (16 MB): a card it has
    seen is always reported seen, so no two households share a card by accident; a card it
    has not seen is reported seen about once in 10⁵ draws at a million households (then the
    generator draws another). An exact set would hold every card of the province."""

    BITS = 1 << 27
    _MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)

    def __init__(self):
        self._bits = bytearray(self.BITS // 8)

    def _slots(self, card: str):
        x = int(card)
        return [((x * m) & 0xFFFFFFFFFFFFFFFF) >> 37 for m in self._MULTIPLIERS]

    def __contains__(self, card: str) -> bool:
        return all(self._bits[i >> 3] >> (i & 7) & 1 for i in self._slots(card))

    def add(self, card: str) -> None:
        for i in self._slots(card):
            self._bits[i >> 3] |= 1 << (i & 7)


def workday(day: dt.date) -> dt.date:
    """The first mainland working day on or after `day` (holidays and 调休 included)."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def open_lot(s, p, doc, level, amount, title, day=None, year=None) -> int:
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
