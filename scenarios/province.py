"""A province's records as its offices would hand them over, written from docs/formats.md and
DOMAIN.md alone: regions, households with members and their histories, cards, standards,
projects with notices, contractors with contracts and accounts, two years of money (2023,
2024), payment rolls with the bank's answers, and the external lists. Honest activity at
ordinary rates, and for every rule of the catalogue about five planted misuses per seed, each
beside one or two honest look-alikes (`expect: no_alert`). What was planted is the manifest.

The output folder holds the files, `steps.json` (the order a county would load them in, with
the dates of the decisions that are commands, not files) and `manifest.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from scenarios.files import date_text, fen_to_yuan, money, write_table
from scenarios.idcodes import credit_code, full_width, id_number, legacy15, wrong_check

D = dt.date
PROVINCE, PROVINCE_NAME = "380000", "岭南测评省"
CITY, CITY_NAME = "380100", "东岭市"
COUNTY_NAMES = {"380121": "青禾县", "380122": "石桥县", "380123": "白水县"}
TOWNSHIP_NAMES = ["城关镇", "河口镇", "龙坪乡", "高桥镇", "竹林乡", "新华乡"]
VILLAGE_WORDS = [
    "枫木",
    "石门",
    "茶园",
    "高坪",
    "黄土",
    "杨柳",
    "白岩",
    "青山",
    "桃源",
    "清水",
    "岩口",
    "大田",
    "麻溪",
    "新寨",
    "长冲",
    "坪上",
    "团结",
    "光明",
    "和平",
    "金竹",
]
SURNAMES = "杨吴龙石张刘李王向田彭谭舒蒲姚滕粟陈黄周罗曾邓谢唐"
MALE = [
    "建国",
    "志强",
    "德明",
    "光辉",
    "永福",
    "正华",
    "昌平",
    "世平",
    "文军",
    "海林",
    "国庆",
    "长生",
    "贵生",
    "金山",
    "秋生",
    "祖荣",
    "先进",
    "再兴",
    "家旺",
    "春林",
    "少华",
    "远东",
]
FEMALE = [
    "秀英",
    "桂兰",
    "玉梅",
    "春花",
    "金莲",
    "翠英",
    "小燕",
    "红梅",
    "丽华",
    "冬梅",
    "月娥",
    "凤英",
    "银花",
    "淑芬",
    "美玲",
    "彩霞",
    "水仙",
    "春梅",
    "素珍",
    "兰芳",
    "巧云",
    "爱莲",
]
CHILD = [
    "浩然",
    "子涵",
    "宇航",
    "欣怡",
    "俊杰",
    "雨萱",
    "梓轩",
    "诗琪",
    "一鸣",
    "佳怡",
    "明轩",
    "思雨",
    "博文",
    "紫萱",
    "天佑",
    "若曦",
    "晨阳",
    "梦瑶",
    "嘉豪",
    "雅婷",
]
BANKS = ["农村信用社", "邮储银行", "农业银行", "农商银行"]
ROAD_WORDS = [
    "通组道路硬化",
    "安全饮水巩固提升",
    "产业路建设",
    "村级光伏电站",
    "山塘整治",
    "机耕道建设",
]
FARM_WORDS = ["蔬菜大棚", "油茶基地", "生猪养殖", "中药材种植", "茶叶加工", "肉牛养殖"]
SCAN_AS_OF = D(2024, 12, 31)


@dataclass
class Person:
    name: str
    id18: str
    birth: dt.date
    relation: str
    death: dt.date | None = None  # written in the members file (the registry at import)
    id_written: str | None = None  # as the registry keeps it (15 digits, a wrong check)
    hid: str = ""

    @property
    def written(self) -> str:
        return self.id_written or self.id18


@dataclass
class Household:
    code: str
    village: str
    county: str
    members: list[Person]
    status: str = "已脱贫"
    registered_on: dt.date = D(2016, 5, 1)
    card: str = ""
    tier: str = "一般户"
    mu: Decimal = Decimal("1.00")
    history: list[tuple[str, dt.date, str]] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # member_history lines
    on_rolls: bool = True
    planted: bool = False

    @property
    def head(self) -> Person:
        return self.members[0]


@dataclass
class Payee:
    code: str
    name: str
    county: str
    credit: str
    rep: Person
    industry: str
    kind: str = "企业"


class Province:
    """Everything drawn from one seed; `write(out)` writes the files."""

    def __init__(self, seed: int, households: int, plants: int = 5):
        self.seed = seed
        self.plants = plants
        self.rng = random.Random(seed * 7919 + households)
        self.n = households
        self.counties = list(COUNTY_NAMES)[: 2 if households <= 3000 else 3]
        self.townships: dict[str, list[str]] = {}
        self.villages: dict[str, list[str]] = {}
        self.region_rows: list[list] = []
        self.households: list[Household] = []
        self.by_code: dict[str, Household] = {}
        self.id_seq: dict[str, int] = {}
        self.used_names: set[str] = set()
        self.cases: list[dict] = []
        self.steps: list[dict] = []
        self.files: dict[str, list] = {}
        self.payees: dict[str, list[Payee]] = {c: [] for c in self.counties}
        self.projects: list[dict] = []
        self.payments: list[
            dict
        ] = []  # {county, lot, project, payee, fen, date, voucher, memo, fc, use}
        self.fundings: list[dict] = []  # {county, lot, project, fen, date, voucher}
        self.notices: list[list] = []
        self.approved: list[list] = []
        self.accounts: list[list] = []
        self.receipts: list[list] = []
        self.businesses: list[list] = []
        self.officials: list[list] = []
        self.deaths: list[list] = []
        self.payroll: list[list] = []
        self.vehicles: list[list] = []
        self.blacklist: list[list] = []
        self.properties: list[list] = []
        self.card_rows: list[list] = []
        self.cards_seen: set[str] = set()
        self.late_status: list[list] = []
        self.rolls: list[dict] = []
        self.outsiders = 0

    # -- people -------------------------------------------------------------------------------

    def new_id(self, region6: str, birth: dt.date, sex: str) -> str:
        key = region6 + birth.strftime("%Y%m%d")
        n = self.id_seq.get(key, self.rng.randrange(1, 40) * 2)
        n += 1
        if (n % 2 == 1) != (sex == "m"):
            n += 1
        self.id_seq[key] = n
        return id_number(region6, birth.strftime("%Y%m%d"), n)

    def birth(self, lo: int, hi: int) -> dt.date:
        return D(
            self.rng.randrange(lo, hi + 1), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        )

    def name(self, sex: str, surname: str | None = None, child: bool = False) -> str:
        for _ in range(50):
            s = surname or self.rng.choice(SURNAMES)
            given = self.rng.choice(CHILD if child else MALE if sex == "m" else FEMALE)
            n = s + given
            if n not in self.used_names:
                self.used_names.add(n)
                return n
        return n

    def person(
        self, county: str, relation: str, lo: int, hi: int, sex: str, surname: str | None = None
    ) -> Person:
        b = self.birth(lo, hi)
        child = b.year >= 1995
        nm = self.name(sex, surname, child)
        return Person(nm, self.new_id(county, b, sex), b, relation)

    def outsider(self, county: str, lo: int = 1960, hi: int = 1990, sex: str = "m") -> Person:
        """Someone in no household of the registry (an official, a contractor's owner)."""
        self.outsiders += 1
        return self.person(county, "", lo, hi, sex)

    # -- the structure ------------------------------------------------------------------------

    def build_regions(self) -> None:
        rows = [[CITY, CITY_NAME, "市", PROVINCE]]
        per_village = 50
        n_villages = max(2, -(-self.n // per_village))
        per_county = -(-n_villages // len(self.counties))
        for county in self.counties:
            rows.append([county, COUNTY_NAMES[county], "县", CITY])
            n_town = 3 if per_county >= 6 else 2
            towns = [f"{county}{100 + 100 * t:03d}"[:9] for t in range(n_town)]
            towns = [f"{county}{t + 1:03d}" for t in range(n_town)]
            self.townships[county] = towns
            self.villages[county] = []
            for t, town in enumerate(towns):
                rows.append(
                    [town, TOWNSHIP_NAMES[t], "乡" if "乡" in TOWNSHIP_NAMES[t] else "镇", county]
                )
            for v in range(per_county):
                town = towns[v % n_town]
                code = f"{town}{v // n_town + 1:03d}"
                word = VILLAGE_WORDS[v % len(VILLAGE_WORDS)]
                rows.append(
                    [code, f"{word}村" if v < len(VILLAGE_WORDS) else f"{word}{v}村", "村", town]
                )
                self.villages[county].append(code)
        self.region_rows = rows

    def build_households(self) -> None:
        rng = self.rng
        per_county = -(-self.n // len(self.counties))
        for county in self.counties:
            vills = self.villages[county]
            for i in range(per_county):
                if len(self.households) >= self.n:
                    break
                village = vills[i % len(vills)]
                code = f"H{village}-{i // len(vills) + 1:04d}"
                sur = rng.choice(SURNAMES)
                head = self.person(
                    county, "户主", 1950, 1985, "m" if rng.random() < 0.85 else "f", sur
                )
                members = [head]
                if rng.random() < 0.85:
                    members.append(
                        self.person(
                            county,
                            "配偶",
                            head.birth.year - 3,
                            head.birth.year + 4,
                            "f" if head.id18[16] in "13579" else "m",
                        )
                    )
                for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                    y = max(head.birth.year + 20, 1996)
                    sex = rng.choice("mf")
                    members.append(
                        self.person(
                            county,
                            "子" if sex == "m" else "女",
                            min(y, 2018),
                            min(y + 12, 2019),
                            sex,
                            sur,
                        )
                    )
                if rng.random() < 0.25 and head.birth.year < 1975:
                    p = self.person(
                        county, rng.choice(["父亲", "母亲"]), 1930, 1949, rng.choice("mf"), sur
                    )
                    if rng.random() < 0.15:
                        p.death = D(
                            rng.randrange(2019, 2024), rng.randrange(1, 13), rng.randrange(1, 28)
                        )
                    members.append(p)
                reg = D(rng.choice([2014, 2015, 2016]), rng.randrange(3, 12), rng.randrange(1, 28))
                hh = Household(
                    code,
                    village,
                    county,
                    members,
                    registered_on=reg,
                    card=self.card_number("62"),
                    mu=Decimal(rng.randrange(50, 600)) / 100,
                )
                hh.history = [("建档立卡", reg, "首次识别")]
                if rng.random() < 0.92:
                    hh.history.append(
                        (
                            "已脱贫",
                            D(rng.choice([2018, 2019, 2020]), 12, rng.randrange(10, 28)),
                            "脱贫验收",
                        )
                    )
                if rng.random() < 0.10:
                    hh.history.append(
                        (
                            "监测对象",
                            D(2022, rng.randrange(2, 12), rng.randrange(1, 28)),
                            "纳入监测",
                        )
                    )
                    hh.tier = "监测户"
                hh.status = hh.history[-1][0]
                for p in members:
                    p.hid = code
                self.households.append(hh)
                self.by_code[code] = hh
        # Legacy 15-digit numbers as old registries hold them (about 1%: valid, not errors).
        for hh in rng.sample(self.households, max(1, len(self.households) // 100)):
            p = hh.members[-1]
            if p.birth.year < 2000:
                p.id_written = legacy15(p.id18)
        # A few cleared (清退) in 2022: never on a roll.
        for hh in rng.sample(self.households, max(1, len(self.households) // 150)):
            hh.history.append(("清退", D(2022, 6, 30), "信息比对不符"))
            hh.status = "清退"
            hh.on_rolls = False

    def card_number(self, prefix: str) -> str:
        while True:
            n = prefix + "".join(str(self.rng.randrange(10)) for _ in range(17))
            if n not in self.cards_seen:
                self.cards_seen.add(n)
                return n

    def fresh_households(self, county: str, k: int, cond=None) -> list[Household]:
        """K honest households of COUNTY not used by a plant yet (and not cleared)."""
        pool = [
            h
            for h in self.households
            if h.county == county and not h.planted and h.on_rolls and (cond is None or cond(h))
        ]
        if len(pool) < k:  # a small province: the condition is relaxed, not the plant dropped
            pool = [
                h
                for h in self.households
                if h.county == county and not h.planted and h.on_rolls is True
            ]
        picked = self.rng.sample(pool, k)
        for h in picked:
            h.planted = True
        return picked

    def case(self, rule: str, expect: str, keys: dict, note: str, **extra) -> None:
        self.cases.append({"rule": rule, "expect": expect, "keys": keys, "note": note, **extra})

    def county_of(self, i: int) -> str:
        return self.counties[i % len(self.counties)]

    # -- household plants ---------------------------------------------------------------------

    def plant_households(self) -> None:
        """Misuse a county's registry and lists can show, and the honest look-alikes beside it.
        Rolls are paid in April (R1, sent 2024-04-26) and September (R2, sent 2024-09-20)."""
        rng = self.rng
        R1_PAID = D(2024, 4, 29)
        for i in range(self.plants):
            c = self.county_of(i)
            # BEN-01: the head died months before the payment; on the deaths list (民政) or in
            # the registry's member history. Look-alikes: died in the month of payment; a
            # non-head member died before it.
            a = self.fresh_households(c, 1, lambda h: len(h.members) >= 2)[0]
            # the member who dies is no student: a student's own per-person line paid after
            # their death would be a real BEN-01 case, not a look-alike
            neg2 = self.fresh_households(
                c, 1, lambda h: len(h.members) >= 2 and h.members[1] not in self.students(h)
            )[0]
            neg1 = self.fresh_households(
                c, 1, lambda h: len(h.members) >= 2 and not self.students(h)
            )[0]
            died = D(2024, rng.randrange(1, 3), rng.randrange(1, 28))
            if i % 2 == 0:
                self.deaths.append([a.head.written, a.head.name, date_text(died, i)])
            else:
                a.events.append((a.head, "死亡", died, "病故", None, None))
            self.case("BEN-01", "alert", {"household": a.code}, f"head died {died}, paid {R1_PAID}")
            self.deaths.append([neg1.head.id18, neg1.head.name, date_text(D(2024, 4, 3), i + 1)])
            self.case(
                "BEN-01", "no_alert", {"household": neg1.code}, "head died in the month of payment"
            )
            neg2.events.append((neg2.members[1], "死亡", D(2024, 2, 11), "病故", None, None))
            neg3 = self.fresh_households(c, 1, lambda h: bool(self.students(h)))[0]
            self.deaths.append([neg3.head.id18, neg3.head.name, date_text(D(2024, 5, 20), i)])
            self.case(
                "BEN-01",
                "no_alert",
                {"household": neg3.code},
                "head died in May; the student's own item (按人) paid in September",
            )
            self.case("BEN-01", "no_alert", {"household": neg2.code}, "a non-head member died")

            # BEN-06: paid while cleared (清退) on the payment date; the registry's status
            # history arrives after the rolls were made (a later import), as corrections do.
            a, neg1 = self.fresh_households(c, 2)
            self.late_status.append(
                [
                    a.code,
                    "清退",
                    date_text(D(2024, 3, 20), i),
                    "信息比对清退",
                    f"清〔2024〕{i + 1}号",
                ]
            )
            self.case("BEN-06", "alert", {"household": a.code}, "cleared 2024-03-20, paid in April")
            self.late_status.append(
                [neg1.code, "清退", date_text(D(2024, 11, 20), i), "信息比对清退", ""]
            )
            neg1.on_rolls = True
            self.case(
                "BEN-06", "no_alert", {"household": neg1.code}, "cleared after the last payment"
            )
            # ... and one enrolled after it was paid (识别日期 after the roll's payment)
            b = self.fresh_households(c, 1)[0]
            b.registered_on = D(2024, 6, 1)
            b.history = [("建档立卡", b.registered_on, "新识别")]
            b.status = "建档立卡"
            self.case(
                "BEN-06",
                "alert",
                {"household": b.code},
                "enrolled 2024-06-01, paid in April",
                may_refuse=True,
            )

            # BEN-03: one card registered for two households.
            a, b = self.fresh_households(c, 2)
            b.card = a.card
            self.case(
                "BEN-03",
                "alert",
                {"household": b.code},
                f"shares the card of {a.code}",
                also={"household": a.code},
            )
            # Look-alike: a grandmother's own card also receives her orphaned grandchild's
            # per-person item under a registered guardianship (监护人卡).
            g, orphan = self.fresh_households(c, 2)
            orphan.members = [self.person(c, "户主", 2008, 2008, "f", g.head.name[0])]
            orphan.members[0].hid = orphan.code
            self.card_rows.append(
                [
                    orphan.code,
                    "监护人卡",
                    orphan.members[0].id18,
                    None,
                    g.head.id18,
                    "农村信用社",
                    g.card,
                    date_text(D(2022, 3, 1), i),
                    None,
                    None,
                    None,
                ]
            )
            orphan.on_rolls = "guardian"
            self.case(
                "BEN-03",
                "no_alert",
                {"household": orphan.code},
                "guardian card of a registered guardian (her own household card)",
            )
            self.case(
                "BEN-07",
                "alert",
                {"household": orphan.code},
                "a minor as the only member",
                also_note="the same household is BEN-03's look-alike",
            )

            # BEN-02: one person registered in two households (not moved out); a homophone
            # with the same birth date in the same village. Look-alikes: twins in one
            # household; a member who split off and is in the new household.
            a, b = self.fresh_households(c, 2, lambda h: len(h.members) >= 3)
            dup = a.members[2]
            b.members.append(Person(dup.name, dup.id18, dup.birth, "其他", hid=b.code))
            self.case(
                "BEN-02",
                "alert",
                {"household": b.code, "household2": a.code},
                "same ID in two households",
            )
            vill = [
                h
                for h in self.households
                if h.village == a.village and not h.planted and h.on_rolls and len(h.members) >= 2
            ]
            homo = {
                "华": "花",
                "明": "名",
                "英": "鹰",
                "平": "萍",
                "兰": "岚",
                "梅": "媚",
                "林": "琳",
                "生": "升",
                "军": "君",
                "国": "果",
                "强": "墙",
                "福": "富",
                "辉": "徽",
                "荣": "蓉",
                "山": "珊",
                "霞": "侠",
                "莲": "连",
                "燕": "艳",
                "芳": "方",
                "云": "芸",
                "珍": "真",
                "玲": "铃",
                "东": "冬",
                "进": "近",
                "兴": "星",
                "旺": "望",
                "海": "凯",
                "庆": "青",
                "杰": "洁",
                "然": "燃",
                "涵": "寒",
                "航": "杭",
                "怡": "宜",
                "萱": "宣",
                "轩": "宣",
                "琪": "琦",
                "鸣": "铭",
                "雨": "宇",
                "博": "搏",
                "文": "雯",
                "佑": "右",
                "曦": "希",
                "阳": "杨",
                "瑶": "遥",
                "豪": "毫",
                "婷": "亭",
                "娥": "鹅",
                "仙": "先",
                "芬": "分",
                "彩": "采",
                "巧": "乔",
                "爱": "艾",
                "素": "速",
                "秀": "绣",
                "桂": "贵",
                "玉": "育",
                "春": "椿",
                "金": "今",
                "翠": "萃",
                "小": "晓",
                "红": "虹",
                "丽": "力",
                "冬": "东",
                "月": "悦",
                "凤": "奉",
                "银": "寅",
                "淑": "书",
                "美": "每",
                "水": "谁",
                "远": "源",
                "少": "绍",
                "家": "佳",
                "再": "在",
                "先": "仙",
                "祖": "组",
                "秋": "丘",
                "长": "常",
                "贵": "桂",
                "世": "市",
                "昌": "常",
                "正": "政",
                "永": "勇",
                "光": "广",
                "德": "得",
                "志": "智",
                "建": "健",
                "子": "紫",
                "宇": "雨",
                "欣": "新",
                "俊": "骏",
                "诗": "师",
                "梓": "子",
                "一": "依",
                "佳": "家",
                "思": "斯",
                "紫": "子",
                "天": "添",
                "若": "弱",
                "晨": "辰",
                "梦": "孟",
                "嘉": "佳",
                "雅": "亚",
            }
            if vill:
                h2 = vill[0]
                h2.planted = True
                m = a.members[1]
                # one character of the given name swapped for a homophone (same pinyin)
                nm = m.name[:-1] + homo.get(m.name[-1], m.name[-1])
                if nm == m.name:
                    nm = m.name[0] + homo.get(m.name[1], m.name[1]) + m.name[2:]
                sex = "m" if int(m.id18[16]) % 2 else "f"
                fake = Person(nm, self.new_id(c, m.birth, sex), m.birth, "其他", hid=h2.code)
                h2.members.append(fake)
                self.case(
                    "BEN-02",
                    "alert",
                    {"household": h2.code, "household2": a.code},
                    f"{nm} / {m.name}: same birth date, same village",
                    difficulty="homophone",
                )
            t = self.fresh_households(c, 1)[0]
            tb = self.birth(2004, 2006)
            for sx in "mf":
                t.members.append(
                    Person(
                        self.name(sx, t.head.name[0], True),
                        self.new_id(c, tb, sx),
                        tb,
                        "子" if sx == "m" else "女",
                        hid=t.code,
                    )
                )
            self.case("BEN-02", "no_alert", {"household": t.code}, "twins in one household")

            # BEN-04: a member on the public payroll (教师) while paid. Look-alikes: a
            # public-welfare post (公益性岗位, exempt); a payroll record that ended in 2021.
            a, n1, n2 = self.fresh_households(c, 3)
            self.payroll.append(
                [a.head.id18, a.head.name, "县教育局", "事业编制", date_text(D(2018, 9, 1), i), ""]
            )
            self.case("BEN-04", "alert", {"household": a.code}, "head on the payroll")
            self.payroll.append(
                [
                    n1.head.id18,
                    n1.head.name,
                    "村委会",
                    "公益性岗位",
                    date_text(D(2022, 3, 1), i),
                    "",
                ]
            )
            self.case("BEN-04", "no_alert", {"household": n1.code}, "exempt post")
            self.payroll.append(
                [
                    n2.head.id18,
                    n2.head.name,
                    "县林业局",
                    "编外聘用",
                    date_text(D(2015, 3, 1), i),
                    date_text(D(2021, 6, 30), i),
                ]
            )
            self.case("BEN-04", "no_alert", {"household": n2.code}, "payroll ended 2021")

            # BEN-05: a car (小型轿车) or an active company; look-alikes: a tractor, a company
            # deregistered in 2021.
            a, n1, n2 = self.fresh_households(c, 3)
            if i % 2 == 0:
                self.vehicles.append(
                    [
                        a.head.id18,
                        a.head.name,
                        "小型轿车",
                        f"岭A{rng.randrange(10000, 99999)}",
                        date_text(D(2022, 5, 1), i),
                        "正常",
                    ]
                )
                self.case(
                    "BEN-05", "alert", {"household": a.code}, "owns a car", difficulty="vehicle"
                )
            else:
                self.businesses.append(
                    [
                        f"{a.head.name[0]}氏商贸有限公司",
                        credit_code("91", c, 700000 + i),
                        a.head.id18,
                        a.head.name,
                        "法定代表人",
                        date_text(D(2020, 1, 1), i),
                        "",
                        "F5212",
                    ]
                )
                self.case(
                    "BEN-05",
                    "alert",
                    {"household": a.code},
                    "legal representative of a company",
                    difficulty="company",
                )
            self.vehicles.append(
                [n1.head.id18, n1.head.name, "拖拉机", "", date_text(D(2019, 4, 1), i), "正常"]
            )
            self.case("BEN-05", "no_alert", {"household": n1.code}, "a tractor")
            self.businesses.append(
                [
                    f"{n2.head.name[0]}记农机合作社有限公司",
                    credit_code("91", c, 710000 + i),
                    n2.head.id18,
                    n2.head.name,
                    "法定代表人",
                    date_text(D(2016, 1, 1), i),
                    date_text(D(2021, 6, 30), i),
                    "A0511",
                ]
            )
            self.case("BEN-05", "no_alert", {"household": n2.code}, "company deregistered 2021")

            # FAV-01: the township head's brother in a paid household of his township; the
            # look-alikes: an official of another county's relative; a third-degree relative.
            town = self.townships[c][i % len(self.townships[c])]
            off = self.outsider(c)
            self.officials.append(
                [
                    off.id18,
                    off.name,
                    "本人",
                    None,
                    None,
                    "镇长",
                    town,
                    date_text(D(2021, 1, 1), i),
                    None,
                    None,
                ]
            )
            a = self.fresh_households(c, 1, lambda h, t=town: h.village.startswith(t))[0]
            self.officials.append(
                [a.head.id18, a.head.name, "兄弟", None, off.id18, None, None, None, None, None]
            )
            self.case("FAV-01", "alert", {"household": a.code}, "brother of the township head")
            n1 = self.fresh_households(c, 1, lambda h, t=town: h.village.startswith(t))[0]
            self.officials.append(
                [n1.head.id18, n1.head.name, "堂兄弟", None, off.id18, None, None, None, None, "4"]
            )
            self.case("FAV-01", "no_alert", {"household": n1.code}, "a fourth-degree cousin")
            other = [t for t in self.townships[c] if t != town][0]
            n2 = self.fresh_households(c, 1, lambda h, t=other: h.village.startswith(t))[0]
            self.officials.append(
                [n2.head.id18, n2.head.name, "配偶", None, off.id18, None, None, None, None, None]
            )
            self.case(
                "FAV-01",
                "no_alert",
                {"household": n2.code},
                "spouse of an official of another township (no authority over the village)",
            )

            # BEN-08: a household split off from the official's brother's household two months
            # before its enrolment. Look-alike: a marriage split with no official.
            src = a
            son = self.person(c, "子", 1996, 1999, "m", src.head.name[0])
            son.hid = src.code
            src.members.append(son)
            self.officials.append(
                [son.id18, son.name, "侄", None, off.id18, None, None, None, None, "2"]
            )
            new = self.split(src, son, D(2024, 1, 10), D(2024, 3, 1), i)
            self.case(
                "BEN-08",
                "alert",
                {"household": new.code},
                "split 2024-01-10, enrolled 2024-03-01, official's nephew",
            )
            self.case(
                "FAV-01", "alert", {"household": new.code}, "the official's nephew, split off"
            )
            msrc = self.fresh_households(c, 1)[0]
            bride = self.person(c, "子", 1996, 1999, "m", msrc.head.name[0])
            bride.hid = msrc.code
            msrc.members.append(bride)
            mnew = self.split(msrc, bride, D(2024, 1, 15), D(2024, 3, 1), i + 1)
            self.case(
                "BEN-08", "no_alert", {"household": mnew.code}, "a split for marriage, no official"
            )

            # BEN-07: a member over 100; a household halved within a year (three of four moved
            # out). Look-alikes: a member of 99; a household whose last two members died
            # (dissolved to zero); one member of four died.
            a, n1 = self.fresh_households(c, 2)
            old = self.person(c, "母亲", 1921, 1922, "f", a.head.name[0])
            old.hid = a.code
            a.members.append(old)
            self.case("BEN-07", "alert", {"household": a.code}, f"member born {old.birth}")
            y99 = self.person(c, "母亲", 1926, 1926, "f", n1.head.name[0])
            y99.birth = D(1926, 1, 2)
            y99.id18 = self.new_id(c, y99.birth, "f")
            y99.hid = n1.code
            n1.members.append(y99)
            self.case("BEN-07", "no_alert", {"household": n1.code}, "member aged 98-99")
            big = self.fresh_households(c, 1, lambda h: len(h.members) >= 4)[0]
            leaving = big.members[1:][: len(big.members) // 2 + 1]   # more than half
            for k, m in enumerate(leaving):
                big.events.append((m, "迁出", D(2024, 2 + k, 10), "外出务工迁出户口", None, None))
            self.case(
                "BEN-07", "alert", {"household": big.code},
                f"{len(leaving)} of {len(big.members)} members moved out in 2024",
            )
            gone = self.fresh_households(c, 1, lambda h: len(h.members) == 2)[0]
            for k, m in enumerate(gone.members):
                gone.events.append((m, "死亡", D(2024, 6 + 2 * k, 5), "病故", None, None))
            gone.on_rolls = False
            self.case(
                "BEN-07", "no_alert", {"household": gone.code}, "dissolved to zero (both died)"
            )
            one = self.fresh_households(
                c, 1, lambda h: len(h.members) >= 4 and h.members[-1] not in self.students(h)
            )[0]
            # no student: their own per-person line paid after the death would be a BEN-01 case
            one.events.append((one.members[-1], "死亡", D(2024, 3, 5), "病故", None, None))
            self.case("BEN-07", "no_alert", {"household": one.code}, "one of four died")

            # LED-02: an ID whose check character is wrong, as an old registry keeps it
            # (imported with accept_wrong_check_character). Look-alikes: a legacy 15-digit
            # number; an ID ending in X that is right.
            a = self.fresh_households(c, 1, lambda h: len(h.members) >= 2)[0]
            a.members[1].id_written = wrong_check(a.members[1].id18)
            self.case(
                "LED-02", "alert", {"household": a.code}, "member ID with a wrong check character"
            )
            n1 = self.fresh_households(c, 1, lambda h: h.members[-1].birth.year < 2000)[0]
            n1.members[-1].id_written = legacy15(n1.members[-1].id18)
            self.case("LED-02", "no_alert", {"household": n1.code}, "a legacy 15-digit number")
            n2 = self.fresh_households(c, 1)[0]
            for _ in range(200):
                b = self.birth(1960, 1990)
                x = self.new_id(c, b, "m")
                if x.endswith("X"):
                    n2.members.append(
                        Person(self.name("m", n2.head.name[0]), x, b, "兄弟", hid=n2.code)
                    )
                    break
            self.case("LED-02", "no_alert", {"household": n2.code}, "a right ID ending in X")

    def split(
        self, src: Household, member: Person, on: dt.date, enrolled: dt.date, i: int
    ) -> Household:
        """A household formed by a split: imported with its member, and the split in the
        member history of the household it left."""
        vill = src.village
        code = f"{src.code}-F{i + 1}"
        copy = Person(member.name, member.id18, member.birth, "户主", hid=code)
        new = Household(
            code,
            vill,
            src.county,
            [copy],
            registered_on=enrolled,
            card=self.card_number("62"),
            history=[("建档立卡", enrolled, "分户新识别")],
            status="建档立卡",
            planted=True,
        )
        src.events.append((member, "分户", on, "分户", code, None))
        self.households.append(new)
        self.by_code[code] = new
        return new

    # -- projects, contractors, money ---------------------------------------------------------

    def new_payee(
        self, c: str, industry: str, rep: Person | None = None, word: str = "建设工程"
    ) -> Payee:
        k = sum(len(v) for v in self.payees.values()) + 1
        town = self.rng.choice(VILLAGE_WORDS)
        name = f"{COUNTY_NAMES[c][:2]}{town}{word}有限公司{'' if k < 10 else ''}"
        while any(p.name == name for v in self.payees.values() for p in v):
            name = f"{COUNTY_NAMES[c][:2]}{town}{word}{k}有限公司"
        rep = rep or self.outsider(c, 1965, 1990)
        p = Payee(
            f"QY{c}{k:03d}",
            name,
            c,
            credit_code("91", c, 100000 + k * 7 + self.seed),
            rep,
            industry,
        )
        self.payees[c].append(p)
        self.businesses.append(
            [
                p.name,
                p.credit,
                rep.id18,
                rep.name,
                "法定代表人",
                date_text(D(2015, 6, 1), k),
                "",
                industry,
            ]
        )
        self.accounts.append(
            [p.name, "对公", self.card_number("44")[:17], self.rng.choice(BANKS), p.name, ""]
        )
        return p

    def project(
        self,
        c: str,
        year: int,
        fc: str,
        approved: dt.date,
        *,
        name: str | None = None,
        notice_days: int = 10,
        accepted: dt.date | None = None,
    ) -> dict:
        k = sum(1 for p in self.projects if p["county"] == c and p["year"] == year) + 1
        use = "infrastructure" if fc == "2130504" else "industry"
        words = ROAD_WORDS if fc == "2130504" else FARM_WORDS
        vname = self.rng.choice(VILLAGE_WORDS)
        p = {
            "code": f"XM-{c}-{year}-{k:03d}",
            "county": c,
            "year": year,
            "fc": fc,
            "use": use,
            "name": name or f"{vname}村{self.rng.choice(words)}项目",
            "approved": approved,
            "accepted": accepted
            if accepted is not None
            else (D(year, 12, 15) if year == 2024 else D(2023, 12, 10)),
            "proposed": D(year - 1, 11, self.rng.randrange(1, 28)),
            "lot": f"中财农〔{year}〕{self.seed}号",
            "funded": 0,
        }
        self.projects.append(p)
        village = self.rng.choice(self.villages[c])
        if notice_days:
            start = approved + dt.timedelta(days=1)
            self.notices.append(
                [
                    p["code"],
                    village,
                    "公示",
                    date_text(start, k),
                    date_text(start + dt.timedelta(days=notice_days - 1), k),
                    f"{vname}村村务公开栏",
                    f"{vname}村村民委员会",
                    "",
                    f"{p['name']}公示",
                ]
            )
        return p

    def pay(
        self,
        p: dict,
        payee: Payee,
        fen: int,
        day: dt.date,
        memo: str,
        *,
        voucher: str | None = None,
        entered: dt.date | None = None,
        fund: bool = True,
    ) -> str:
        n = len(self.payments) + 1
        v = voucher or f"{COUNTY_NAMES[p['county']][0]}财付〔{day.year}〕{n:04d}号"
        self.payments.append(
            {
                "county": p["county"],
                "lot": p["lot"],
                "project": p["code"],
                "payee": payee.code,
                "fen": fen,
                "date": day,
                "voucher": v,
                "memo": memo,
                "fc": p["fc"],
                "use": p["use"],
                "entered": entered or day,
            }
        )
        if fund:
            p["funded"] += fen
        return v

    def award(self, p: dict, payee: Payee, on: dt.date, until: dt.date | None = None) -> None:
        self.approved.append(
            [
                p["code"],
                payee.name,
                payee.credit,
                date_text(on, 0),
                date_text(until, 0) if until else "",
                f"中标通知书 {p['code']}",
            ]
        )

    def honest_project(
        self,
        c: str,
        year: int,
        fc: str | None = None,
        total_wan: int | None = None,
        industry: str | None = None,
    ) -> tuple[dict, Payee]:
        rng = self.rng
        fc = fc or rng.choice(["2130504", "2130505"])
        approved = D(year, 3, rng.randrange(1, 20))
        p = self.project(c, year, fc, approved)
        payee = self.new_payee(
            c,
            industry or ("E4813" if fc == "2130504" else "A0141"),
            word="建设工程" if fc == "2130504" else "农业开发",
        )
        self.award(p, payee, approved + dt.timedelta(days=12))
        total = (total_wan or rng.randrange(20, 120)) * 1_000_000 + rng.randrange(0, 100) * 100
        first = total * 2 // 5
        d1 = approved + dt.timedelta(days=rng.randrange(25, 45))
        self.pay(p, payee, first, d1, "工程进度款")
        d2 = d1 + dt.timedelta(days=rng.randrange(60, 100))
        self.pay(p, payee, first, d2, "工程进度款")  # an equal instalment months later
        self.pay(
            p,
            payee,
            total - 2 * first,
            min(d2 + dt.timedelta(days=rng.randrange(60, 110)), D(year, 12, 5)),
            "工程尾款",
        )
        return p, payee

    def one_payment_project(self, c: str, fen: int, day: dt.date) -> tuple[dict, Payee]:
        """A small project paid once (DIV-05 judges money back against the latest payment)."""
        p = self.project(c, 2024, "2130504", D(2024, 4, 1))
        payee = self.new_payee(c, "E4813")
        self.award(p, payee, D(2024, 4, 15))
        self.pay(p, payee, fen, day, "工程款")
        return p, payee

    def plant_payments(self) -> None:
        rng = self.rng
        for c in self.counties:
            for _ in range(2):
                self.honest_project(c, 2023)
            for _ in range(max(2, self.n // 400)):
                self.honest_project(c, 2024)
        for i in range(self.plants):
            c = self.county_of(i)
            # DIV-01: memos a county clerk writes for prohibited uses; look-alikes.
            p, payee = self.honest_project(c, 2024)
            memo = [
                "乡镇办公楼维修工程款",
                "购置工作用越野车一辆",
                "村干部误工补贴",
                "偿还村集体历年欠款",
                "接待省考察组费用",
            ][i]
            v = self.pay(p, payee, rng.randrange(5, 30) * 1_000_000, D(2024, 8, 12 + i), memo)
            self.case("DIV-01", "alert", {"voucher": v}, memo)
            memo2 = [
                "购置农机具补助款",
                "小额信贷到期还款贴息",
                "茶园观光步道建设款",
                "产业路垫层施工款",
                "村级光伏电站运维费",
            ][i]
            v = self.pay(p, payee, rng.randrange(5, 30) * 1_000_000, D(2024, 8, 20 + i), memo2)
            self.case("DIV-01", "no_alert", {"voucher": v}, memo2)

            # DUP-01 / DUP-02: the same payment twice; look-alikes months apart.
            p, payee = self.honest_project(c, 2024)
            amt = rng.randrange(10, 40) * 1_000_000 + 35_000
            self.pay(p, payee, amt, D(2024, 6, 3 + i), "材料款")
            v = self.pay(p, payee, amt, D(2024, 6, 9 + i), "材料款")
            self.case("DUP-01", "alert", {"voucher": v}, "same payee, amount, memo 6 days apart")
            v = self.pay(p, payee, amt, D(2024, 7, 14 + i), "材料款")
            self.case("DUP-01", "no_alert", {"voucher": v}, "the same monthly amount 35 days later")
            p, payee = self.honest_project(c, 2024)
            amt = rng.randrange(10, 40) * 1_000_000 + 72_000
            self.pay(p, payee, amt, D(2024, 6, 3 + i), "材料款")
            v = self.pay(p, payee, amt, D(2024, 6, 8 + i), "人工费")
            self.case(
                "DUP-02", "alert", {"voucher": v}, "same payee and amount 5 days later, other memo"
            )
            v = self.pay(p, payee, amt, D(2024, 7, 4 + i), "设备租赁费")
            self.case(
                "DUP-02", "no_alert", {"voucher": v}, "same amount, other memo, 26 days later"
            )

            # SPL-01: three payments just under ¥500,000 within 25 days; look-alikes.
            p, payee = self.honest_project(c, 2024)
            for k, d in enumerate((D(2024, 5, 6), D(2024, 5, 16), D(2024, 5, 29))):
                self.pay(
                    p, payee, 46_000_000 + k * 1_000_000 + i * 100_000, d, f"第{k + 1}批工程款"
                )
            self.case(
                "SPL-01",
                "alert",
                {"payee": payee.code},
                "three payments in [450k, 500k) within 23 days",
            )
            p, payee = self.honest_project(c, 2024)
            for k, d in enumerate((D(2024, 5, 6), D(2024, 6, 20), D(2024, 8, 5))):
                self.pay(p, payee, 47_000_000, d, f"第{k + 1}批工程款")
            self.case(
                "SPL-01", "no_alert", {"payee": payee.code}, "three such payments 45 days apart"
            )

            # STA-05: a voucher entered months after its date (后补凭证); look-alike: 10 days.
            p, payee = self.honest_project(c, 2024)
            v = self.pay(
                p,
                payee,
                rng.randrange(5, 20) * 1_000_000,
                D(2024, 8, 1 + i),
                "补录工程款",
                entered=D(2024, 10, 15 + i),
            )
            self.case("STA-05", "alert", {"voucher": v}, "dated 2024-08-0x, entered 2024-10-15+")
            v = self.pay(
                p,
                payee,
                rng.randrange(5, 20) * 1_000_000,
                D(2024, 10, 5 + i),
                "补录工程款",
                entered=D(2024, 10, 15 + i),
            )
            self.case("STA-05", "no_alert", {"voucher": v}, "dated 10 days before entry")

            # BLK-01: a blacklisted contractor paid during its listing; one paid after it ended.
            p, payee = self.honest_project(c, 2024)
            self.blacklist.append(
                [
                    payee.name,
                    payee.credit,
                    "",
                    "围标串标",
                    date_text(D(2024, 1, 1), i),
                    date_text(D(2025, 12, 31), i),
                ]
            )
            self.case("BLK-01", "alert", {"payee": payee.code}, "blacklisted 2024-2025, paid 2024")
            p, payee = self.honest_project(c, 2024)
            self.blacklist.append(
                [
                    payee.name,
                    payee.credit,
                    "",
                    "拖欠农民工工资",
                    date_text(D(2021, 1, 1), i),
                    date_text(D(2023, 12, 31), i),
                ]
            )
            self.case("BLK-01", "no_alert", {"payee": payee.code}, "listing ended 2023-12-31")

            # E1: paid before approval (vouchers entered after the approval); E2: paid 4 days
            # after approval, inside the 10-day notice. Look-alikes: paid after the notice.
            approved = D(2024, 5, 20 + i)
            p = self.project(c, 2024, "2130504", approved)
            payee = self.new_payee(c, "E4813")
            self.award(p, payee, approved - dt.timedelta(days=40))
            p["fund_date"] = approved - dt.timedelta(days=25)
            p["fund_entered"] = approved
            self.pay(
                p,
                payee,
                3_000_000 + i * 10_000,
                approved - dt.timedelta(days=20),
                "先行施工进度款",
                entered=approved,
            )
            self.pay(p, payee, 2_000_000, approved + dt.timedelta(days=60), "工程进度款")
            self.case("E1", "alert", {"project": p["code"]}, "paid 20 days before approval")
            self.case(
                "E2", "alert", {"project": p["code"]}, "paid before approval, so before its notice"
            )
            p = self.project(c, 2024, "2130504", D(2024, 5, 6 + i))
            payee = self.new_payee(c, "E4813")
            self.award(p, payee, D(2024, 5, 6 + i))
            self.pay(p, payee, 4_000_000, D(2024, 5, 10 + i), "预付工程款")
            p["fund_date"] = D(2024, 5, 7 + i)
            self.case(
                "E2", "alert", {"project": p["code"]}, "paid 4 days after approval, notice 10 days"
            )
            p = self.project(c, 2024, "2130504", D(2024, 5, 6 + i))
            payee = self.new_payee(c, "E4813")
            self.award(p, payee, D(2024, 5, 6 + i))
            self.pay(p, payee, 4_000_000, D(2024, 5, 18 + i), "预付工程款")
            self.case(
                "E2", "no_alert", {"project": p["code"]}, "paid 12 days after approval, notice done"
            )
            self.case("E1", "no_alert", {"project": p["code"]}, "paid after approval")

            # E2 against the notices as displayed: the notice went up three weeks after the
            # approval and the contractor was paid two weeks after it, before any display.
            if i % 2 == 0:
                approved = D(2024, 6, 3 + i)
                p = self.project(c, 2024, "2130504", approved, notice_days=0)
                start = approved + dt.timedelta(days=21)
                vname = self.rng.choice(VILLAGE_WORDS)
                self.notices.append(
                    [p["code"], self.rng.choice(self.villages[c]), "公示", date_text(start, i),
                     date_text(start + dt.timedelta(days=9), i), f"{vname}村村务公开栏",
                     f"{vname}村村民委员会", "", f"{p['name']}公示"])
                payee = self.new_payee(c, "E4813")
                self.award(p, payee, approved)
                p["fund_date"] = approved + dt.timedelta(days=1)
                self.pay(p, payee, 2_500_000, approved + dt.timedelta(days=14), "预付工程款")
                self.case("E2", "alert", {"project": p["code"]},
                          "paid 14 days after approval, before its notice went up (day 21)")

            # FLW-02: a 2023 project funded in March 2023 and never paid; look-alike: a 2024
            # project funded in January and not yet paid.
            p = self.project(c, 2023, "2130505", D(2023, 3, 6))
            p["idle_fund"] = 5_000_000 + i * 100_000
            self.case("FLW-02", "alert", {"project": p["code"]}, "funded 2023-03, no outflow")
            p = self.project(c, 2024, "2130505", D(2024, 1, 22))
            p["idle_fund"] = 3_000_000
            p["fund_date"] = D(2024, 2, 26)
            self.case(
                "FLW-02", "no_alert", {"project": p["code"]}, "funded 2024-02, idle 10 months"
            )

            # DIV-02: paid a contractor the project's register does not name; look-alikes: the
            # awarded contractor; one awarded two days before its first payment.
            p, awarded = self.honest_project(c, 2024)
            other = self.new_payee(c, "E4813")
            v = self.pay(p, other, 8_000_000, D(2024, 9, 10 + i), "工程进度款")
            self.case(
                "DIV-02",
                "alert",
                {"project": p["code"], "payee": other.code},
                "not in the register",
            )
            late = self.new_payee(c, "E4813")
            self.award(p, late, D(2024, 9, 8 + i))
            self.pay(p, late, 6_000_000, D(2024, 9, 10 + i), "设备款")
            self.case(
                "DIV-02",
                "no_alert",
                {"project": p["code"], "payee": late.code},
                "awarded 2 days before",
            )
            self.case(
                "DIV-02",
                "no_alert",
                {"project": p["code"], "payee": awarded.code},
                "the awarded contractor",
            )

            # DIV-03: a contractor paid into a personal account of someone in no household.
            p, payee = self.honest_project(c, 2024)
            holder = self.outsider(c)
            self.accounts.append(
                [
                    payee.name,
                    "个人",
                    self.card_number("62")[:19],
                    "农业银行",
                    holder.name,
                    holder.id18,
                ]
            )
            self.case("DIV-03", "alert", {"payee": payee.code}, "personal account of a non-member")
            p, payee = self.honest_project(c, 2024, industry="E4890")
            worker = self.fresh_households(c, 1)[0].head
            self.accounts.append(
                [
                    payee.name,
                    "个人",
                    self.card_number("62")[:19],
                    "农村信用社",
                    worker.name,
                    worker.id18,
                ]
            )
            self.case(
                "DIV-03",
                "no_alert",
                {"payee": payee.code},
                "personal account of a registered member (以工代赈)",
            )

            # DIV-05: money back from the contractor to the county's account within 30 days.
            p, payee = self.one_payment_project(c, 9_000_000, D(2024, 7, 1 + i))
            self.receipts.append(
                [
                    date_text(D(2024, 7, 11 + i), 0),
                    "27000.00",
                    payee.name,
                    f"{COUNTY_NAMES[c]}财政局",
                    c,
                    "",
                    "往来款",
                    f"B{self.seed}{i:03d}01",
                ]
            )
            self.case(
                "DIV-05", "alert", {"payee": payee.code}, "30% back to the county 10 days later"
            )
            p, payee = self.one_payment_project(c, 9_000_000, D(2024, 7, 1 + i))
            self.receipts.append(
                [
                    date_text(D(2024, 7, 15 + i), 0),
                    "9000.00",
                    payee.name,
                    f"{COUNTY_NAMES[c]}财政局",
                    c,
                    "",
                    "追回多付工程款",
                    f"B{self.seed}{i:03d}02",
                ]
            )
            self.case("DIV-05", "no_alert", {"payee": payee.code}, "a recovery (追回)")
            p, payee = self.one_payment_project(c, 9_000_000, D(2024, 7, 1 + i))
            self.receipts.append(
                [
                    date_text(D(2024, 8, 16 + i), 0),
                    "20000.00",
                    payee.name,
                    f"{COUNTY_NAMES[c]}财政局",
                    c,
                    "",
                    "往来款",
                    f"B{self.seed}{i:03d}03",
                ]
            )
            self.case("DIV-05", "no_alert", {"payee": payee.code}, "back after 46 days")

            # DIV-04: a vendor whose trade does not fit the project (catering, software, retail,
            # real estate, advertising paid for roads and farming); look-alikes: a builder for
            # a road, a farm for farming.
            trade = ["H6210", "I6510", "F5212", "K7010", "L7251"][i]
            p, payee = self.honest_project(c, 2024, fc="2130504", industry=trade)
            self.case(
                "DIV-04",
                "alert",
                {"payee": payee.code},
                f"industry {trade} paid for infrastructure",
            )
            p, payee = self.honest_project(c, 2024, fc="2130504", industry="E4812")
            self.case("DIV-04", "no_alert", {"payee": payee.code}, "builder for a road")
            p, payee = self.honest_project(c, 2024, fc="2130505", industry="A0141")
            self.case("DIV-04", "no_alert", {"payee": payee.code}, "farm for production")

            # FAV-02: the contractor's legal representative is an official or their spouse.
            off = self.outsider(c)
            self.officials.append(
                [
                    off.id18,
                    off.name,
                    "本人",
                    None,
                    None,
                    "县住建局局长",
                    c,
                    date_text(D(2020, 1, 1), i),
                    None,
                    None,
                ]
            )
            if i % 2 == 0:
                rep = off
            else:
                rep = self.outsider(c, sex="f")
                self.officials.append(
                    [rep.id18, rep.name, "配偶", None, off.id18, None, None, None, None, None]
                )
            p, payee = self.honest_project(c, 2024)
            payee.rep = rep
            self.businesses[-1] = [
                payee.name,
                payee.credit,
                rep.id18,
                rep.name,
                "法定代表人",
                date_text(D(2015, 6, 1), i),
                "",
                "E4813",
            ]
            for row in self.businesses:
                if row[0] == payee.name:
                    row[2], row[3] = rep.id18, rep.name
            self.case(
                "FAV-02", "alert", {"payee": payee.code}, "representative is an official or spouse"
            )
            cousin = self.outsider(c)
            self.officials.append(
                [cousin.id18, cousin.name, "堂兄弟", None, off.id18, None, None, None, None, "4"]
            )
            p, payee = self.honest_project(c, 2024)
            for row in self.businesses:
                if row[0] == payee.name:
                    row[2], row[3] = cousin.id18, cousin.name
            self.case(
                "FAV-02", "no_alert", {"payee": payee.code}, "representative a 4th-degree cousin"
            )

    # -- rolls and the bank -------------------------------------------------------------------

    STANDARDS = [  # item, tier, yuan, basis, per
        ("产业奖补", "一般户", "312.50", "亩", "按户"),
        ("产业奖补", "监测户", "416.67", "亩", "按户"),
        ("雨露计划", "一般户", "1500.00", "学期", "按人"),
        ("雨露计划", "监测户", "1500.00", "学期", "按人"),
        ("公益岗位", "一般户", "500.00", "月", "按人"),
        ("公益岗位", "监测户", "500.00", "月", "按人"),
    ]

    def std(self, item: str, tier: str) -> Decimal:
        return next(Decimal(s[2]) for s in self.STANDARDS if s[0] == item and s[1] == tier)

    @staticmethod
    def students(h: Household) -> list[Person]:
        return [m for m in h.members if 2002 <= m.birth.year <= 2008 and m.death is None]

    def plant_rolls(self) -> None:
        rng = self.rng
        self.answers: dict[str, dict] = {}
        single = lambda h: not self.students(h)  # noqa: E731 - one line a roll
        for c in self.counties:
            for r in ("01", "02"):
                self.answers[f"{c}-2024-{r}"] = {"households": {}, "extra": [], "later": {}}
        # Honest returns (退票) re-paid by a re-payment roll within 30 days: about 1 in 120.
        for c in self.counties:
            pool = [
                h
                for h in self.households
                if h.county == c and not h.planted and h.on_rolls is True and single(h)
            ]
            for k, h in enumerate(rng.sample(pool, max(2, len(pool) // 120))):
                h.planted = True
                self.answers[f"{c}-2024-01"]["households"][h.code] = {
                    "result": "失败",
                    "reason": rng.choice(["卡号已注销", "账户已冻结", "户名与账号不符"]),
                    "repay": True,
                }
                if k < 2:
                    self.case(
                        "WHD-04",
                        "no_alert",
                        {"household": h.code},
                        "returned and re-paid within 30 days",
                    )
                    self.case(
                        "WHD-05", "no_alert", {"household": h.code}, "a return is not a difference"
                    )
            # Honest fees of ¥0.50 (手续费).
            for h in rng.sample([h for h in pool if not h.planted], max(1, len(pool) // 150)):
                h.planted = True
                self.answers[f"{c}-2024-01"]["households"][h.code] = {
                    "short": 50,
                    "reason": "手续费",
                }
        for i in range(self.plants):
            c = self.county_of(i)
            r1 = f"{c}-2024-01"
            # WHD-01: credited ¥60 short (代扣); look-alikes ¥1.00 and ¥0.50 short.
            a, n1 = self.fresh_households(c, 2, single)
            self.answers[r1]["households"][a.code] = {"short": 6000, "reason": "代扣"}
            self.case("WHD-01", "alert", {"roll": r1, "household": a.code}, "credited ¥60 short")
            self.answers[r1]["households"][n1.code] = {"short": 100, "reason": "手续费"}
            self.case("WHD-01", "no_alert", {"roll": r1, "household": n1.code}, "¥1.00 fee")
            # WHD-04: returned, never re-paid.
            a = self.fresh_households(c, 1, single)[0]
            self.answers[r1]["households"][a.code] = {"result": "失败", "reason": "账户已冻结"}
            self.case(
                "WHD-04",
                "alert",
                {"roll": r1, "household": a.code},
                "returned 2024-04-29, not re-paid",
            )
            # WHD-02: the bank never answered a line; look-alike: answered in a later file.
            a, n1 = self.fresh_households(c, 2, lambda h: single(h) and h.tier == "一般户")
            self.answers[r1]["households"][a.code] = {"missing": True}
            self.case(
                "WHD-02", "alert", {"roll": r1, "household": a.code}, "no result from the bank"
            )
            self.answers[r1]["households"][n1.code] = {"missing": True}
            self.answers[r1]["later"][n1.code] = {}
            self.case(
                "WHD-02", "no_alert", {"roll": r1, "household": n1.code}, "answered 20 days later"
            )
            # WHD-05: the bank paid other than the posted roll.
            a = self.fresh_households(c, 1, single)[0]
            kind = ["account", "account", "amount", "name", "extra"][i]
            if kind == "account":
                self.answers[r1]["households"][a.code] = {"account": self.card_number("62")}
            elif kind == "amount":
                self.answers[r1]["households"][a.code] = {"sent_plus": 50000}
            elif kind == "name":
                self.answers[r1]["households"][a.code] = {"name": self.name("m")}
            else:
                a.on_rolls = False
                self.answers[r1]["extra"].append(
                    {"household": a.code, "name": a.head.name, "account": a.card, "fen": 120000}
                )
            self.case(
                "WHD-05", "alert", {"roll": r1, "household": a.code}, f"bank paid another {kind}"
            )
            n1 = self.fresh_households(c, 1, single)[0]
            self.answers[r1]["households"][n1.code] = {"account_spaced": True}
            self.case(
                "WHD-05",
                "no_alert",
                {"roll": r1, "household": n1.code},
                "account written with spaces",
            )
            # D7: an amount above standard × quantity; look-alike: half a fen rounded up.
            a = self.fresh_households(c, 1, single)[0]
            a.inflate = 20000
            self.case(
                "D7", "alert", {"roll": r1, "household": a.code}, "amount ¥200 above standard × 亩"
            )
            n1 = self.fresh_households(
                c, 1, lambda h: single(h) and h.tier == "一般户" and int(h.mu * 100) % 2 == 1
            )[0]
            self.case("D7", "no_alert", {"roll": r1, "household": n1.code}, "x.xx5 rounded half-up")
        # Students' personal cards: most students are paid to their own card (个人卡).
        for h in self.households:
            for s in self.students(h):
                if rng.random() < 0.6:
                    num = self.card_number("62")
                    written = full_width(num) if rng.random() < 0.1 else num
                    self.card_rows.append(
                        [
                            h.code,
                            "个人卡",
                            s.written,
                            None,
                            None,
                            rng.choice(BANKS),
                            written,
                            date_text(D(2022, 9, 1), 0),
                            None,
                            None,
                            None,
                        ]
                    )
            if rng.random() < 0.02 and h.on_rolls is True and not h.planted:
                new = self.card_number("62")
                self.card_rows.append(
                    [
                        h.code,
                        "户卡",
                        None,
                        None,
                        None,
                        rng.choice(BANKS),
                        new,
                        date_text(D(2023, 6, 1), 0),
                        None,
                        h.card,
                        "换卡",
                    ]
                )
                h.card_now = new

    def roll_rows(self, c: str, which: str) -> tuple[list[list], int]:
        rows, total = [], 0
        n = 0
        for h in self.households:
            if h.county != c or not h.on_rolls:
                continue
            lines = []
            if h.on_rolls == "guardian":
                if which == "01":
                    lines.append(("雨露计划", h.members[0], Decimal(1)))
            elif which == "01":
                lines.append(("产业奖补", None, h.mu))
                lines += [("雨露计划", s, Decimal(1)) for s in self.students(h)]
            else:
                lines += [("雨露计划", s, Decimal(1)) for s in self.students(h)]
                if not h.planted and int(h.code[-2:]) % 23 == 0:
                    lines.append(("公益岗位", h.head, Decimal(6)))
            for item, m, q in lines:
                amt = money(self.std(item, h.tier) * q)
                fen = int(amt * 100) + (getattr(h, "inflate", 0) if item == "产业奖补" else 0)
                n += 1
                total += fen
                qty = f"{q:.2f}".rstrip("0").rstrip(".") if item == "产业奖补" else str(int(q))
                rows.append(
                    [
                        n,
                        h.code,
                        h.head.name,
                        item,
                        h.tier,
                        "2024",
                        m.written if m else "",
                        qty,
                        fen_to_yuan(fen),
                        "",
                    ]
                )
        return rows, total

    # -- money: lots, allocations, funding ----------------------------------------------------

    def plan_money(self) -> None:
        rng = self.rng
        self.roll_files: dict[str, tuple[list, int]] = {}
        for c in self.counties:
            p = self.project(c, 2024, "2130505", D(2024, 3, 1), name="2024年到户产业及教育补助项目")
            p["household_programme"] = True
            for r in ("01", "02"):
                rows, total = self.roll_rows(c, r)
                self.roll_files[f"{c}-2024-{r}"] = (rows, total)
                p["funded"] += total
            p["fund_date"] = D(2024, 3, 25)
            self.programme = getattr(self, "programme", {})
            self.programme[c] = p["code"]
        # FLW-01: provincial lots passed down late by the province (46 days) or the city
        # (70 days); look-alikes on day 27 and day 52.
        self.flw_lots = []
        for k in range(self.plants + 2):
            c = self.county_of(k)
            doc = f"省财农〔2024〕{self.seed}{k + 10:02d}号"
            received = D(2024, 2, 1)
            if k < (self.plants + 1) // 2:
                to_city, to_county = D(2024, 3, 18), D(2024, 3, 25)
                self.case("FLW-01", "alert", {"lot": doc}, "province passed it down after 46 days")
            elif k < self.plants:
                to_city, to_county = D(2024, 2, 20), D(2024, 4, 30)
                self.case(
                    "FLW-01", "alert", {"lot": doc}, "city passed it down 70 days after receipt"
                )
            else:
                to_city, to_county = D(2024, 2, 28), D(2024, 4, 20)
                self.case("FLW-01", "no_alert", {"lot": doc}, "passed down on day 27 and day 52")
            p = self.project(c, 2024, "2130504", D(2024, 5, 8))
            p["lot"] = doc
            payee = self.new_payee(c, "E4813")
            self.award(p, payee, D(2024, 5, 20))
            total = rng.randrange(30, 90) * 1_000_000
            self.pay(p, payee, total // 2, D(2024, 6, 20), "工程进度款")
            self.pay(p, payee, total - total // 2, D(2024, 9, 20), "工程尾款")
            p["fund_date"] = D(2024, 5, 12)
            self.flw_lots.append(
                {
                    "doc": doc,
                    "county": c,
                    "received": received,
                    "to_city": to_city,
                    "to_county": to_county,
                    "fen": total,
                }
            )
        for p in self.projects:
            fen = p["funded"] + p.get("idle_fund", 0)
            p["fund_fen"] = fen
            p.setdefault("fund_date", p["approved"] + dt.timedelta(days=5))
            p.setdefault("fund_entered", p["fund_date"])
            if fen:
                n = len(self.fundings) + 1
                self.fundings.append(
                    {
                        "county": p["county"],
                        "lot": p["lot"],
                        "project": p["code"],
                        "fen": fen,
                        "date": p["fund_date"],
                        "entered": p["fund_entered"],
                        "voucher": f"{COUNTY_NAMES[p['county']][0]}财预〔{p['year']}〕{n:04d}号",
                    }
                )

    # -- writing ------------------------------------------------------------------------------

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        rng = self.rng
        fmt_of = {c: ["gb18030", "xlsx", "utf8bom"][k % 3] for k, c in enumerate(self.counties)}
        steps: list[tuple] = []  # (entered date, order, step)
        order = [0]

        def step(day: dt.date, **kw) -> None:
            order[0] += 1
            steps.append((day, order[0], kw))

        def table(name: str, header: list[str], rows: list[list], fmt: str) -> str:
            return write_table(out / name, header, rows, fmt).name

        REG = D(2023, 1, 3)
        step(
            REG,
            do="import",
            who="admin",
            kind="regions",
            file=table(
                "regions", ["区划代码", "名称", "级别", "上级代码"], self.region_rows, "utf8"
            ),
        )
        for c in self.counties:
            hs = [h for h in self.households if h.county == c]
            f = fmt_of[c]
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="households",
                file=table(
                    f"households-{c}",
                    ["户编码", "村代码", "户主姓名", "户状态", "识别日期", "银行卡号", "联系电话"],
                    [
                        [
                            h.code,
                            h.village,
                            h.head.name,
                            h.history[0][0],
                            date_text(h.registered_on, k),
                            h.card
                            if k % 7
                            else " ".join(h.card[j : j + 4] for j in range(0, 19, 4)),
                            f"1{rng.randrange(3, 9)}{rng.randrange(10**8, 10**9)}",
                        ]
                        for k, h in enumerate(hs)
                    ],
                    f,
                ),
            )
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="members",
                file=table(
                    f"members-{c}",
                    ["户编码", "姓名", "与户主关系", "身份证号", "死亡日期"],
                    [
                        [
                            h.code,
                            m.name,
                            m.relation if m is not h.head else "户主",
                            m.written,
                            date_text(m.death, 0) if m.death else "",
                        ]
                        for h in hs
                        for m in h.members
                    ],
                    "xlsx" if f != "xlsx" else "gb18030",
                ),
            )
            hist = [
                [h.code, m.written, ev, date_text(d, 0), why, new or "", ""]
                for h in hs
                for (m, ev, d, why, new, _e) in h.events
            ]
            if hist:
                step(
                    REG,
                    do="import",
                    who=f"{c}_clerk",
                    kind="member_history",
                    file=table(
                        f"member-history-{c}",
                        ["户编码", "身份证号", "事件", "日期", "原因", "新户编码", "纳入日期"],
                        hist,
                        "gb18030",
                    ),
                )
            status = [
                [h.code, st, date_text(d, k), why, ""]
                for k, h in enumerate(hs)
                for (st, d, why) in h.history
            ]
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="household_status",
                file=table(
                    f"household-status-{c}",
                    ["户编码", "户状态", "变更日期", "原因", "文号"],
                    status,
                    "utf8",
                ),
            )
            cards = [r for r in self.card_rows if self.by_code[r[0]].county == c]
            if cards:
                step(
                    REG,
                    do="import",
                    who=f"{c}_clerk",
                    kind="cards",
                    file=table(
                        f"cards-{c}",
                        [
                            "户编码",
                            "卡类别",
                            "成员身份证号",
                            "持卡人姓名",
                            "监护人身份证号",
                            "开户银行",
                            "银行卡号",
                            "开卡日期",
                            "销户日期",
                            "原卡号",
                            "原因",
                        ],
                        cards,
                        "gb18030",
                    ),
                )
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="standards",
                file=table(
                    f"standards-{c}",
                    [
                        "县级区划代码",
                        "补助项目",
                        "户类别",
                        "年度",
                        "补助标准",
                        "计量单位",
                        "发放对象",
                        "功能科目",
                        "执行日期",
                        "文号",
                    ],
                    [
                        [
                            c,
                            it,
                            tier,
                            "2024",
                            y,
                            basis,
                            per,
                            "2130505",
                            "2024-01-10",
                            f"县农发〔2024〕{k + 1}号",
                        ]
                        for k, (it, tier, y, basis, per) in enumerate(self.STANDARDS)
                    ],
                    "gb18030",
                ),
            )
            ps = [p for p in self.projects if p["county"] == c]
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="projects",
                file=table(
                    f"projects-{c}",
                    [
                        "项目编码",
                        "项目名称",
                        "县代码",
                        "功能科目",
                        "状态",
                        "入库日期",
                        "文号",
                        "申报日期",
                        "申报文号",
                    ],
                    [
                        [
                            p["code"],
                            p["name"],
                            c,
                            p["fc"],
                            "入库",
                            date_text(p["proposed"] + dt.timedelta(days=30), k),
                            f"{COUNTY_NAMES[c][:1]}振库〔{p['year']}〕{k + 1}号",
                            date_text(p["proposed"], k),
                            "",
                        ]
                        for k, p in enumerate(ps)
                    ],
                    "gb18030",
                ),
            )
            step(
                REG,
                do="import",
                who=f"{c}_clerk",
                kind="payees",
                file=table(
                    f"payees-{c}",
                    [
                        "收款人编码",
                        "收款人名称",
                        "收款人类型",
                        "所在区划",
                        "统一社会信用代码",
                        "身份证号",
                        "注册地县代码",
                    ],
                    [[p.code, p.name, p.kind, c, p.credit, "", ""] for p in self.payees[c]],
                    "utf8bom",
                ),
            )
        # Money: lots at the province, passed to the city and the counties.
        lots = {2023: f"中财农〔2023〕{self.seed}号", 2024: f"中财农〔2024〕{self.seed}号"}
        for year, doc in lots.items():
            per_county = {
                c: sum(f["fen"] for f in self.fundings if f["lot"] == doc and f["county"] == c)
                for c in self.counties
            }
            total = sum(per_county.values())
            rec = D(year, 1, 20) if year == 2023 else D(2024, 1, 15)
            rows = [
                [
                    doc,
                    "中央",
                    str(year),
                    "衔接推进乡村振兴补助资金",
                    "2130504;2130505;2130506",
                    "infrastructure;industry;household_subsidy;employment;education",
                    fen_to_yuan(total, True),
                    PROVINCE,
                    date_text(rec, year),
                ]
            ]
            if year == 2024:
                for lot in self.flw_lots:
                    rows.append(
                        [
                            lot["doc"],
                            "省级",
                            "2024",
                            "省级衔接资金",
                            "2130504;2130505",
                            "infrastructure;industry",
                            fen_to_yuan(lot["fen"], True),
                            PROVINCE,
                            date_text(lot["received"], 1),
                        ]
                    )
            step(
                rec,
                do="money",
                who=PROVINCE,
                kind="appropriations",
                file=table(
                    f"appropriations-{year}",
                    [
                        "文号",
                        "资金级次",
                        "年度",
                        "资金名称",
                        "功能科目",
                        "用途",
                        "金额",
                        "下达区划",
                        "下达日期",
                    ],
                    rows,
                    "gb18030",
                ),
            )
            d1, d2 = rec + dt.timedelta(days=21), rec + dt.timedelta(days=42)
            step(
                d1,
                do="money",
                who=PROVINCE,
                kind="allocations",
                file=table(
                    f"allocations-{year}-province",
                    ["资金批次", "拨出区划", "拨入区划", "金额", "下达日期", "凭证号", "摘要"],
                    [
                        [
                            doc,
                            PROVINCE,
                            CITY,
                            fen_to_yuan(total, True),
                            date_text(d1, 0),
                            full_width(f"省财农〔{year}〕10{self.seed}号")
                            if year == 2024
                            else f"省财农〔{year}〕10{self.seed}号",
                            "切块到市",
                        ]
                    ],
                    "gb18030",
                ),
            )
            step(
                d2,
                do="money",
                who=CITY,
                kind="allocations",
                file=table(
                    f"allocations-{year}-city",
                    ["资金批次", "拨出区划", "拨入区划", "金额", "下达日期", "凭证号", "摘要"],
                    [
                        [
                            doc,
                            CITY,
                            c,
                            fen_to_yuan(per_county[c], True),
                            date_text(d2, 0),
                            f"市财农〔{year}〕{self.seed}{k:02d}号",
                            "切块到县",
                        ]
                        for k, c in enumerate(self.counties)
                    ],
                    "utf8",
                ),
            )
        for k, lot in enumerate(self.flw_lots):
            step(
                lot["to_city"],
                do="money",
                who=PROVINCE,
                kind="allocations",
                file=table(
                    f"allocations-flw{k}-province",
                    ["资金批次", "拨出区划", "拨入区划", "金额", "日期", "凭证号"],
                    [
                        [
                            lot["doc"],
                            PROVINCE,
                            CITY,
                            fen_to_yuan(lot["fen"], True),
                            date_text(lot["to_city"], k),
                            f"省财农拨〔2024〕{self.seed}{k:02d}号",
                        ]
                    ],
                    "utf8",
                ),
            )
            step(
                lot["to_county"],
                do="money",
                who=CITY,
                kind="allocations",
                file=table(
                    f"allocations-flw{k}-city",
                    ["资金批次", "拨出区划", "拨入区划", "金额", "日期", "凭证号"],
                    [
                        [
                            lot["doc"],
                            CITY,
                            lot["county"],
                            fen_to_yuan(lot["fen"], True),
                            date_text(lot["to_county"], k),
                            f"市财农拨〔2024〕{self.seed}{k:02d}号",
                        ]
                    ],
                    "utf8",
                ),
            )
        # Project stages, as the county's approver and clerk decide them.
        for p in self.projects:
            c = p["county"]
            step(
                p["approved"],
                do="advance",
                who=f"{c}_approver",
                project=p["code"],
                to="approved",
                date=p["approved"].isoformat(),
                doc=f"{COUNTY_NAMES[c][:1]}政函〔{p['year']}〕{p['approved'].month}号",
            )
            if p["funded"] and not p.get("idle_fund"):
                step(
                    p["approved"] + dt.timedelta(days=2),
                    do="advance",
                    who=f"{c}_clerk",
                    project=p["code"],
                    to="implementing",
                    date=(p["approved"] + dt.timedelta(days=2)).isoformat(),
                )
                step(
                    p["accepted"],
                    do="advance",
                    who=f"{c}_approver",
                    project=p["code"],
                    to="accepted",
                    date=p["accepted"].isoformat(),
                    doc=f"{COUNTY_NAMES[c][:1]}验〔{p['year']}〕{len(steps)}号",
                )

        # Funding and payments in files of half a month, lines in date order.
        def batches(items, kind, header, row):
            groups: dict[tuple, list] = {}
            for it in items:
                e = it["entered"]
                # funding files by day (money must be behind a project before it pays), payment
                # files by half-month
                part = e.day if kind == "project_funding" else e.day > 15
                groups.setdefault((it["county"], e.year, e.month, part), []).append(it)
            for (c, y, m, half), its in sorted(groups.items()):
                its.sort(key=lambda x: (x["date"], x["voucher"]))
                name = f"{kind}-{c}-{y}{m:02d}" + (
                    f"{half:02d}" if kind == "project_funding" else "ab"[half]
                )
                f = ["gb18030", "xlsx", "utf8"][(m + int(half)) % 3]
                last = max(x["entered"] for x in its)
                step(
                    last,
                    do="money",
                    who=c,
                    kind=kind,
                    file=table(name, header, [row(x, k) for k, x in enumerate(its)], f),
                )

        batches(
            self.fundings,
            "project_funding",
            ["资金批次", "项目编码", "金额", "安排日期", "凭证号", "摘要"],
            lambda x, k: [
                x["lot"],
                x["project"],
                fen_to_yuan(x["fen"], True),
                date_text(x["date"], k),
                x["voucher"],
                "项目资金安排",
            ],
        )
        batches(
            self.payments,
            "payments",
            [
                "资金批次",
                "项目编码",
                "县代码",
                "收款人编码",
                "金额",
                "功能科目",
                "用途",
                "支付日期",
                "凭证号",
                "摘要",
            ],
            lambda x, k: [
                x["lot"],
                x["project"],
                "",
                x["payee"],
                full_width(fen_to_yuan(x["fen"], True))
                if k % 11 == 5
                else fen_to_yuan(x["fen"], True),
                x["fc"],
                x["use"],
                date_text(x["date"], k),
                full_width(x["voucher"]) if k % 13 == 7 else x["voucher"],
                x["memo"],
            ],
        )
        # Rolls: spring (产业奖补, 雨露计划) and autumn (雨露计划, 公益岗位), each re-paying
        # its returns.
        sched = {
            "01": (
                D(2024, 4, 8),
                D(2024, 4, 9),
                D(2024, 4, 22),
                D(2024, 4, 26),
                D(2024, 4, 29),
                D(2024, 5, 13),
                D(2024, 5, 14),
                D(2024, 5, 24),
                D(2024, 5, 27),
                D(2024, 5, 28),
            ),
            "02": (
                D(2024, 9, 2),
                D(2024, 9, 3),
                D(2024, 9, 16),
                D(2024, 9, 20),
                D(2024, 9, 24),
                D(2024, 10, 8),
                D(2024, 10, 9),
                D(2024, 10, 21),
                D(2024, 10, 22),
                D(2024, 10, 23),
            ),
        }
        for k, c in enumerate(self.counties):
            for r, s in sched.items():
                code = f"{c}-2024-{r}"
                rows, _ = self.roll_files[code]
                f = ["gb18030", "xlsx", "utf8bom"][(k + int(r)) % 3]
                fname = table(
                    f"roll-{code}",
                    [
                        "序号",
                        "户编码",
                        "户主姓名",
                        "补助项目",
                        "户类别",
                        "年度",
                        "成员身份证号",
                        "数量",
                        "金额",
                        "备注",
                    ],
                    rows,
                    f,
                )
                ans = self.answers.get(code, {"households": {}, "extra": [], "later": {}})
                (out / f"bank-answers-{code}.json").write_text(
                    json.dumps(ans, ensure_ascii=False, indent=1), encoding="utf-8"
                )
                # Each decision on its own day: entries dated ahead of the books would make
                # everything entered after them look backdated (STA-05).
                step(
                    s[0],
                    do="roll_create",
                    code=code,
                    county=c,
                    lot=lots[2024],
                    project=self.programme[c],
                    file=fname,
                    created=s[0].isoformat(),
                    published=s[1].isoformat(),
                )
                step(s[2], do="roll_approve", code=code, county=c, date=s[2].isoformat())
                step(s[3], do="roll_send", code=code, county=c, date=s[3].isoformat())
                step(
                    s[4],
                    do="roll_bank",
                    code=code,
                    county=c,
                    value_date=s[4].isoformat(),
                    answers=f"bank-answers-{code}.json",
                    result_format=["gb18030", "xlsx"][k % 2],
                )
                repay = [h for h, a in ans["households"].items() if a.get("repay")]
                if repay:
                    new = f"{code}-B"
                    step(
                        s[5],
                        do="repay",
                        roll=code,
                        new=new,
                        county=c,
                        households=repay,
                        created=s[5].isoformat(),
                        published=s[6].isoformat(),
                    )
                    step(s[7], do="roll_approve", code=new, county=c, date=s[7].isoformat())
                    step(s[8], do="roll_send", code=new, county=c, date=s[8].isoformat())
                    step(
                        s[9],
                        do="roll_bank",
                        code=new,
                        county=c,
                        value_date=s[9].isoformat(),
                        answers=None,
                        result_format="gb18030",
                    )
                if ans["later"]:
                    step(
                        s[4] + dt.timedelta(days=20),
                        do="bank_later",
                        roll=code,
                        answers=f"bank-answers-{code}.json",
                        value_date=(s[4] + dt.timedelta(days=20)).isoformat(),
                    )
        # The registry's later corrections, notices as displayed, the external lists, the registers.
        END = D(2024, 12, 1)
        if self.late_status:
            step(
                END,
                do="import",
                who=f"{PROVINCE}_clerk",
                kind="household_status",
                file=table(
                    "household-status-corrections",
                    ["户编码", "户状态", "变更日期", "原因", "文号"],
                    self.late_status,
                    "utf8",
                ),
            )
        for c in self.counties:
            rows = [n for n in self.notices if n[0].startswith(f"XM-{c}")]
            step(
                END,
                do="import",
                who=f"{c}_clerk",
                kind="project_notices",
                file=table(
                    f"project-notices-{c}",
                    [
                        "项目编码",
                        "区划代码",
                        "类型",
                        "开始日期",
                        "结束日期",
                        "公示地点",
                        "发布单位",
                        "文号",
                        "标题",
                    ],
                    rows,
                    "utf8bom",
                ),
            )
        lists = [
            ("deaths", "省民政厅", ["身份证号", "姓名", "死亡日期"], self.deaths),
            (
                "payroll",
                "省人社厅",
                ["身份证号", "姓名", "工作单位", "岗位类别", "起始日期", "终止日期"],
                self.payroll,
            ),
            (
                "vehicles",
                "省公安厅交警总队",
                ["身份证号", "姓名", "车辆类型", "号牌号码", "登记日期", "车辆状态"],
                self.vehicles,
            ),
            (
                "businesses",
                "省市场监管局",
                [
                    "企业名称",
                    "统一社会信用代码",
                    "身份证号",
                    "姓名",
                    "角色",
                    "成立日期",
                    "注销日期",
                    "行业代码",
                ],
                self.businesses,
            ),
            (
                "officials",
                "省纪委监委",
                [
                    "身份证号",
                    "姓名",
                    "关系",
                    "出生日期",
                    "干部身份证号",
                    "职务",
                    "辖区代码",
                    "任职起",
                    "任职止",
                    "亲等",
                ],
                self.officials,
            ),
            (
                "blacklist",
                "省财政厅",
                ["名称", "统一社会信用代码", "身份证号", "原因", "起始日期", "终止日期"],
                self.blacklist,
            ),
            (
                "approved_payees",
                "县公共资源交易中心",
                ["项目编码", "单位名称", "统一社会信用代码", "批准日期", "截止日期", "依据"],
                self.approved,
            ),
            (
                "payee_accounts",
                "县国库支付中心",
                ["收款人名称", "账户类型", "账号", "开户行", "户名", "户主身份证号"],
                self.accounts,
            ),
            (
                "unit_receipts",
                "县财政局银行对账单",
                [
                    "到账日期",
                    "金额",
                    "付款人名称",
                    "收款户名",
                    "收款单位区划",
                    "收款人身份证号",
                    "摘要",
                    "流水号",
                ],
                self.receipts,
            ),
        ]
        for k, (kind, source, header, rows) in enumerate(lists):
            if rows:
                step(
                    END,
                    do="import",
                    who=f"{PROVINCE}_clerk",
                    kind=kind,
                    source=source,
                    snapshot=END.isoformat(),
                    file=table(
                        f"{kind}-2024-12-01", header, rows, ["gb18030", "xlsx", "utf8"][k % 3]
                    ),
                )
        step(SCAN_AS_OF, do="scan", as_of=SCAN_AS_OF.isoformat())
        steps.sort(key=lambda s: (s[0], s[1]))
        plan = {
            "province": {"code": PROVINCE, "name": PROVINCE_NAME},
            "city": {"code": CITY, "name": CITY_NAME},
            "counties": {c: COUNTY_NAMES[c] for c in self.counties},
            "seed": self.seed,
            "households": len(self.households),
            "plants": self.plants,
            "steps": [dict(s[2], entered=s[0].isoformat()) for s in steps],
        }
        (out / "steps.json").write_text(
            json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        manifest = {
            "seed": self.seed,
            "households": len(self.households),
            "scan_as_of": SCAN_AS_OF.isoformat(),
            "cases": self.cases,
        }
        (out / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def write_province(seed: int, households: int, out: Path, plants: int = 5) -> dict:
    pr = Province(seed, households, plants)
    pr.build_regions()
    pr.build_households()
    pr.plant_households()
    pr.plant_payments()
    pr.plant_rolls()
    pr.plan_money()
    pr.write(out)
    return {"households": len(pr.households), "cases": len(pr.cases)}
