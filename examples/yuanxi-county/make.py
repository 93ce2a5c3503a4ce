"""Write the records of 沅溪县 (Yuanxi county), a synthetic county moving into fundtrail.

    .venv/bin/python examples/yuanxi-county/make.py      # rewrites the files beside this script

The files are what a county hands over, kept as counties keep them: Chinese headers, GB18030
for the CSVs an office saved from Excel, two workbooks (.xlsx), two years (2023 and 2024).
Everything is drawn from a fixed seed, so running this again writes the same bytes (the
workbooks carry a fixed creation time). The people, ID numbers and bank cards are invented;
the region codes 431299… are not a real county's.

What is planted, so that `fundtrail alerts scan` has something real to find (PLANTED below,
and README.md beside this script): four heads of household who died before the 2024 roll paid
them, found on the civil-affairs deaths list (民政死亡名单) — one of them registered with a
legacy 15-digit ID number while the list has the 18-digit one — and, as controls that must
raise nothing, a head who died in the month the roll was paid and one who died after it.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
SEED = 20250117

PROVINCE, CITY, COUNTY = "430000", "431200", "431299"
TOWNSHIPS = {"431299100": "溪口镇", "431299200": "龙潭乡"}
VILLAGES = {
    "431299100001": ("溪口村", "431299100"), "431299100002": ("枫木村", "431299100"),
    "431299100003": ("石门村", "431299100"), "431299200001": ("龙潭村", "431299200"),
    "431299200002": ("茶园村", "431299200"), "431299200003": ("高坪村", "431299200"),
}
HOUSEHOLDS_PER_VILLAGE = 50

# Heads of household on the deaths list, by household number (0-based, in file order):
# (death date, raises BEN-01?). The 2024 roll is sent on ROLL_2024_SENT.
ROLL_2024_SENT = dt.date(2024, 9, 13)
# Lines of the 2024 bank result credited 2.00 short (手续费) and paid into another account.
BANK_SHORT, BANK_OTHER_ACCOUNT = (12,), (33,)
PLANTED = {
    7: (dt.date(2023, 12, 3), True),     # registered with a 15-digit number (LEGACY_HEAD)
    61: (dt.date(2024, 3, 12), True),
    118: (dt.date(2024, 5, 20), True),
    203: (dt.date(2024, 6, 28), True),
    152: (dt.date(2024, 9, 2), False),   # the month of death may still be paid
    250: (dt.date(2024, 10, 15), False),  # died after the payment
}
LEGACY_HEAD = 7
WRONG_CHECK_MEMBER = 3   # household whose elderly parent's number has a wrong check character
NO_CARD = {20, 95, 170, 230, 290}       # households with no bank card: never on a roll

SURNAMES = "杨吴龙石张刘李王向田彭谭舒蒲姚滕粟陈黄周"
MALE = ["建国", "志强", "德明", "光辉", "永福", "正华", "昌平", "世平", "文军", "海林",
        "国庆", "长生", "贵生", "金山", "秋生", "祖荣", "先进", "再兴", "家旺", "春林"]
FEMALE = ["秀英", "桂兰", "玉梅", "春花", "金莲", "翠英", "小燕", "红梅", "丽华", "冬梅",
          "银香", "月娥", "素珍", "美玲", "巧云", "凤英"]
CHILD_M = ["浩", "俊杰", "宇航", "子豪", "文涛", "明轩", "博文", "思远", "家豪", "一鸣"]
CHILD_F = ["欣怡", "雨婷", "佳琪", "思雨", "梦洁", "诗涵", "晓雪", "雅琪", "紫涵", "婉婷"]


def check_character(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def luhn(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def yuan(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class County:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ids: set[str] = set()
        self.cards: set[str] = set()
        self.households: list[dict] = []
        self.build()

    def id_number(self, born: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{COUNTY}{born:%Y%m%d}{seq:03d}"
            number = body + check_character(body)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def born(self, first: int, last: int) -> dt.date:
        start = dt.date(first, 1, 1).toordinal()
        return dt.date.fromordinal(self.rng.randrange(start, dt.date(last, 12, 28).toordinal()))

    def card(self) -> str:
        while True:
            body = "621799" + "".join(str(self.rng.randrange(10)) for _ in range(12))
            number = body + luhn(body)
            if number not in self.cards:
                self.cards.add(number)
                return number

    def person(self, relation: str, male: bool, born: dt.date, surname: str):
        given = self.rng.choice((MALE if male else FEMALE) if born.year < 1990
                                else (CHILD_M if male else CHILD_F))
        return {"name": surname + given, "relation": relation, "born": born, "male": male,
                "id": self.id_number(born, male), "died": None}

    def build(self):
        rng, n = self.rng, 0
        for village, (_vname) in VILLAGES.items():
            for k in range(1, HOUSEHOLDS_PER_VILLAGE + 1):
                surname = rng.choice(SURNAMES)
                head_male = rng.random() < 0.85
                head = self.person("户主", head_male, self.born(1950, 1985), surname)
                members = [head]
                if rng.random() < 0.8:
                    members.append(self.person("配偶", not head_male,
                                               self.born(head["born"].year - 3,
                                                         min(head["born"].year + 3, 1988)),
                                               rng.choice(SURNAMES)))
                for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                    male = rng.random() < 0.5
                    first = max(head["born"].year + 20, 1995)
                    members.append(self.person("子" if male else "女", male,
                                               self.born(first, min(first + 12, 2016)),
                                               surname))
                if rng.random() < 0.25:
                    male = rng.random() < 0.5
                    parent = self.person("父亲" if male else "母亲", male,
                                         self.born(1932, min(head["born"].year - 18, 1950)),
                                         surname if male else rng.choice(SURNAMES))
                    if rng.random() < 0.15:   # died; the registry says so
                        parent["died"] = dt.date(2022 + rng.randrange(3), rng.randrange(1, 12),
                                                 rng.randrange(1, 28))
                    members.append(parent)
                monitored = rng.random() < 0.12
                household = {
                    "code": f"H{village}-{k:03d}", "village": village, "n": n,
                    "status": "监测对象" if monitored else "已脱贫",
                    "registered_on": (dt.date(2021 + rng.randrange(2), rng.randrange(3, 12),
                                              rng.randrange(1, 28)) if monitored
                                      else dt.date(2020, 12, rng.randrange(1, 28))),
                    "card": None if n in NO_CARD else self.card(),
                    "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                    "members": members,
                    "tier": "监测户" if monitored else "一般户",
                    "mu_2023": Decimal(rng.randrange(50, 601, 5)) / 100,
                    "mu_2024": Decimal(rng.randrange(50, 601, 5)) / 100,
                }
                self.households.append(household)
                n += 1
        # Legacy 15-digit numbers, as the registry still holds them: one head (planted), and
        # about one parent in nine born before 1950 (nobody born after 1999 can have one).
        head = self.households[LEGACY_HEAD]["members"][0]
        head["legacy"] = head["id"][:6] + head["id"][8:17]
        for m in (m for h in self.households for m in h["members"]):
            if m["relation"] in ("父亲", "母亲") and m["born"].year < 1950 \
                    and int(m["id"][14:17]) % 9 == 0:
                m["legacy"] = m["id"][:6] + m["id"][8:17]
        # A historical record whose check character was typed wrong (an elderly parent).
        h = self.households[WRONG_CHECK_MEMBER]
        h["members"].append(self.person("母亲", False, dt.date(1941, 4, 9), "杨"))
        right = h["members"][-1]["id"]
        wrong = next(c for c in "0123456789X" if c != right[17])
        h["members"][-1]["id_as_registered"] = right[:17] + wrong
        for index in PLANTED:
            assert self.households[index]["card"], index

    def students(self, year: int) -> list[tuple[dict, dict]]:
        """Members aged 15–21 in `year`: vocational students for 雨露计划 (a fixed share)."""
        out = []
        for h in self.households:
            if not h["card"]:
                continue
            for m in h["members"]:
                if m["relation"] in ("子", "女") and 15 <= year - m["born"].year <= 21 \
                        and int(m["id"][14:17]) % 5 == 0:
                    out.append((h, m))
        return out


def write_csv(name: str, header: list[str], rows: list[list], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else str(v) for v in row] for row in rows])
    data = buffer.getvalue().encode(encoding)
    (HERE / name).write_bytes(data)


def write_xlsx(name: str, title: str, header: list[str], rows: list[list],
               text_columns: set[str]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for row in rows:
        ws.append(row)
    for index, column in enumerate(header, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = 22 if column in text_columns else 12
        if column in text_columns:   # ID and card numbers as text, as a careful office keeps them
            for cell in ws[letter][1:]:
                cell.number_format = "@"
    fixed = dt.datetime(2025, 1, 17, 9, 0, 0)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "沅溪县乡村振兴局"
    wb.save(HERE / name)
    _fix_zip_times(HERE / name)


def _fix_zip_times(path: Path) -> None:
    """openpyxl stamps the zip members and the workbook's modified time with the time of saving:
    rewrite them with a fixed one, so the same data gives the same bytes."""
    import re
    import zipfile
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info.filename)) for info in z.infolist()]
    members = [(info, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-17T09:00:00Z",
                             data) if info.filename == "docProps/core.xml" else data)
               for info, data in members]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 17, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(fixed, data)


STANDARDS = {  # (item, tier, year): (yuan per unit, unit, per, effective date, document)
    ("产业奖补", "一般户", 2023): ("300.00", "亩", "按户", "2023-03-20", "沅农发〔2023〕6号"),
    ("产业奖补", "监测户", 2023): ("400.00", "亩", "按户", "2023-03-20", "沅农发〔2023〕6号"),
    ("雨露计划", "一般户", 2023): ("1500.00", "学期", "按人", "2023-02-15", "沅乡振〔2023〕2号"),
    ("雨露计划", "监测户", 2023): ("1500.00", "学期", "按人", "2023-02-15", "沅乡振〔2023〕2号"),
    ("产业奖补", "一般户", 2024): ("350.00", "亩", "按户", "2024-03-18", "沅农发〔2024〕5号"),
    ("产业奖补", "监测户", 2024): ("500.00", "亩", "按户", "2024-03-18", "沅农发〔2024〕5号"),
    ("雨露计划", "一般户", 2024): ("1500.00", "学期", "按人", "2024-02-20", "沅乡振〔2024〕3号"),
    ("雨露计划", "监测户", 2024): ("1500.00", "学期", "按人", "2024-02-20", "沅乡振〔2024〕3号"),
}


def standard(item: str, tier: str, year: int) -> Decimal:
    return Decimal(STANDARDS[(item, tier, year)][0])


def main() -> None:
    rng = random.Random(SEED)
    county = County(rng)
    hs = county.households

    write_csv("regions.csv", ["区划代码", "名称", "级别", "上级代码"],
              [[CITY, "怀化市", "市", PROVINCE], [COUNTY, "沅溪县", "县", CITY]]
              + [[code, name, "镇" if name.endswith("镇") else "乡", COUNTY]
                 for code, name in TOWNSHIPS.items()]
              + [[code, name, "村", township] for code, (name, township) in VILLAGES.items()],
              "utf-8")

    header = ["文号", "资金级次", "年度", "资金名称", "功能科目", "用途", "金额", "下达区划",
              "下达日期"]
    uses = "industry;household_subsidy;infrastructure;education"
    for year, central, province in ((2023, ("湘财农指〔2023〕5号", "2,400,000.00", "2023-02-20"),
                                     ("湘财农指〔2023〕18号", "900,000.00", "2023-03-15")),
                                    (2024, ("湘财农指〔2024〕3号", "2,600,000.00", "2024-02-05"),
                                     ("湘财农指〔2024〕21号", "1,000,000.00", "2024-03-28"))):
        write_csv(f"appropriations-{year}.csv", header,
                  [[central[0], "中央", year, f"{year}年中央财政衔接推进乡村振兴补助资金",
                    "2130505;2130504", uses, central[1], COUNTY, central[2]],
                   [province[0], "省级", year, f"{year}年省级财政衔接推进乡村振兴补助资金",
                    "2130504", "infrastructure", province[1], COUNTY, province[2]]],
                  "gb18030")

    # Money put behind projects (项目资金安排) and contractors paid (项目支出), as the county's
    # vouchers list them: lots named by the documents that opened them (no randomness here).
    funding_header = ["资金批次", "项目编码", "金额", "安排日期", "凭证号", "摘要"]
    write_csv("project-funding-2023.csv", funding_header, [
        ["湘财农指〔2023〕5号", "XM-2023-01", "600,000.00", "2023-03-16", "沅财农〔2023〕11号",
         "溪口村蔬菜大棚产业基地"],
        ["湘财农指〔2023〕18号", "XM-2023-02", "850,000.00", "2023-03-16", "沅财农〔2023〕12号",
         "龙潭乡茶园村组道路硬化"],
        # the household programme (到户项目): the 2023 rolls pay from it
        ["湘财农指〔2023〕5号", "XM-2023-04", "500,000.00", "2023-03-16", "沅财农〔2023〕13号",
         "2023年到户产业奖补和雨露计划"]], "gb18030")
    write_csv("project-funding-2024.csv", funding_header, [
        ["湘财农指〔2024〕21号", "XM-2024-01", "720,000.00", "2024-04-08", "沅财农〔2024〕9号",
         "高坪村安全饮水巩固提升"]], "gb18030")
    write_xlsx("payments-2023.xlsx", "支出凭证",
               ["资金批次", "项目编码", "收款人编码", "金额", "功能科目", "用途", "支付日期",
                "凭证号", "摘要"],
               [["湘财农指〔2023〕5号", "XM-2023-01", "QY43129902", "585,000.00", "2130505",
                 "industry", "2023-11-24", "沅财付〔2023〕0418号", "溪口村蔬菜大棚建设工程款"],
                ["湘财农指〔2023〕18号", "XM-2023-02", "QY43129901", "780,000.00", "2130504",
                 "infrastructure", "2023-11-30", "沅财付〔2023〕0412号", "茶园村组道路硬化工程款"]],
               {"凭证号", "功能科目"})

    projects = [
        # code, name, function code, stage in the file, stage date, stage doc, proposed, doc, note
        ["XM-2023-01", "溪口村蔬菜大棚产业基地", "2130505", "入库", "2022-12-20",
         "沅乡振〔2022〕31号", "2022-11-08", "溪口镇〔2022〕17号", ""],
        ["XM-2023-02", "龙潭乡茶园村组道路硬化", "2130504", "入库", "2022-12-20",
         "沅乡振〔2022〕31号", "2022-11-15", "龙潭乡〔2022〕9号", ""],
        ["XM-2023-03", "石门村乡村旅游观景台", "2130505", "不予立项", "2022-12-20",
         "沅乡振〔2022〕31号", "2022-11-10", "溪口镇〔2022〕18号", "用地未落实，不予立项"],
        ["XM-2023-04", "2023年到户产业奖补和雨露计划", "2130505", "入库", "2023-01-05",
         "沅乡振〔2023〕1号", "2022-12-28", "", ""],
        ["XM-2024-01", "高坪村安全饮水巩固提升", "2130504", "入库", "2023-12-22",
         "沅乡振〔2023〕40号", "2023-11-20", "龙潭乡〔2023〕21号", ""],
        ["XM-2024-02", "枫木村油茶低改", "2130505", "入库", "2023-12-22",
         "沅乡振〔2023〕40号", "2023-11-22", "溪口镇〔2023〕25号", ""],
        ["XM-2024-03", "龙潭村民宿改造", "2130505", "不予立项", "2023-12-22",
         "沅乡振〔2023〕40号", "2023-11-25", "龙潭乡〔2023〕22号", "经营主体带贫机制不明确"],
        ["XM-2025-01", "溪口村冷链仓储", "2130505", "申报", "", "", "2024-11-18",
         "溪口镇〔2024〕30号", "2025年度申报"],
    ]
    write_csv("projects.csv",
              ["项目编码", "项目名称", "县代码", "功能科目", "状态", "入库日期", "文号",
               "申报日期", "申报文号", "备注"],
              [[p[0], p[1], COUNTY, p[2], *p[3:]] for p in projects], "gb18030")

    write_csv("project_notices.csv",
              ["项目编码", "区划代码", "类型", "开始日期", "结束日期", "公示地点", "发布单位",
               "文号", "标题"],
              [["XM-2023-01", "431299100001", "公示", "2023-03-06", "2023-03-15",
                "溪口村村务公开栏", "溪口村村民委员会", "", "溪口村2023年衔接资金项目公示"],
               ["XM-2023-01", COUNTY, "公示", "2023-03-06", "2023-03-15",
                "沅溪县人民政府门户网站", "沅溪县乡村振兴局", "沅乡振公〔2023〕2号",
                "沅溪县2023年衔接资金项目计划公示"],
               ["XM-2023-02", "431299200002", "公示", "2023-03-08", "2023-03-17",
                "茶园村村务公开栏", "茶园村村民委员会", "", "茶园村2023年衔接资金项目公示"],
               ["XM-2023-01", "431299100001", "公告", "2023-12-04", "2023-12-13",
                "溪口村村务公开栏", "溪口村村民委员会", "", "溪口村蔬菜大棚项目验收结果公告"],
               ["XM-2023-02", "431299200002", "公告", "2023-12-11", "2023-12-20",
                "茶园村村务公开栏", "茶园村村民委员会", "", "茶园村道路硬化项目验收结果公告"],
               ["XM-2024-01", "431299200003", "公示", "2024-03-04", "2024-03-13",
                "高坪村村务公开栏", "高坪村村民委员会", "", "高坪村2024年衔接资金项目公示"],
               ["XM-2024-02", "431299100002", "公示", "2024-03-05", "2024-03-14",
                "枫木村村务公开栏", "枫木村村民委员会", "", "枫木村2024年衔接资金项目公示"]],
              "utf-8-sig")

    write_csv("households.csv",
              ["户编码", "村代码", "户主姓名", "户状态", "识别日期", "银行卡号", "联系电话"],
              [[h["code"], h["village"], h["members"][0]["name"], h["status"],
                h["registered_on"].isoformat(), h["card"], h["phone"]] for h in hs],
              "gb18030")

    member_rows = []
    for h in hs:
        for m in h["members"]:
            number = m.get("legacy") or m.get("id_as_registered") or m["id"]
            member_rows.append([h["code"], m["name"], m["relation"], number,
                                m["died"].isoformat() if m["died"] else None])
    write_xlsx("members.xlsx", "家庭成员", ["户编码", "姓名", "与户主关系", "身份证号", "死亡日期"],
               member_rows, {"身份证号"})

    write_csv("standards.csv",
              ["县级区划代码", "补助项目", "户类别", "年度", "补助标准", "计量单位", "发放对象",
               "功能科目", "执行日期", "文号"],
              [[COUNTY, item, tier, year, *v[:3], "2130505", *v[3:]]
               for (item, tier, year), v in STANDARDS.items()], "gb18030")

    # Rolls: (file, lines, sent on, failed line numbers)
    def yulu(year, semesters, tag):
        lines = []
        for h, m in county.students(year):
            q = Decimal(semesters)
            lines.append({"h": h, "item": "雨露计划", "q": q, "year": year, "member": m,
                          "amount": standard("雨露计划", h["tier"], year) * q, "note": tag})
        return lines

    def cyjb(year, every):
        lines = []
        for h in hs:
            if h["card"] and h["n"] % every != 1:
                q = h[f"mu_{year}"]
                lines.append({"h": h, "item": "产业奖补", "q": q, "year": year, "member": None,
                              "amount": standard("产业奖补", h["tier"], year) * q,
                              "note": f"{q}亩"})
        return lines

    roll_2023_1 = yulu(2023, 1, "2023年春季学期")
    roll_2023_2 = cyjb(2023, 9) + yulu(2023, 1, "2023年秋季学期")
    roll_2024_1 = cyjb(2024, 7) + yulu(2024, 2, "2024年春秋两学期")
    on_2024 = {x["h"]["n"] for x in roll_2024_1}
    for index in PLANTED:
        assert index in on_2024, f"planted household {index} is not on the 2024 roll"

    header = ["序号", "村名", "户编码", "户主姓名", "补助项目", "户类别", "年度", "数量",
              "成员姓名", "成员身份证号", "金额", "备注"]

    def rows_of(lines):
        return [[i, VILLAGES[x["h"]["village"]][0], x["h"]["code"], x["h"]["members"][0]["name"],
                 x["item"], x["h"]["tier"], x["year"], str(x["q"]),
                 x["member"]["name"] if x["member"] else None,
                 x["member"]["id"] if x["member"] else None, yuan(x["amount"]), x["note"]]
                for i, x in enumerate(lines, start=1)]

    write_csv("roll-2023-1.csv", header, rows_of(roll_2023_1), "gb18030")
    write_csv("roll-2023-2.csv", header, rows_of(roll_2023_2), "utf-8-sig")
    write_xlsx("roll-2024-1.xlsx", "2024年到户补助清册", header, rows_of(roll_2024_1),
               {"户编码", "成员身份证号"})

    # The bank's result files, as the county's 农商银行 returns them. The 2024 file is the
    # bank's newer format (value date, amount credited, the name and account it paid) and
    # holds what a real file holds: a fee deducted (手续费), a line paid into another account,
    # and the withdrawn line paid all the same. Each is recorded and shown, never refused.
    def results(name, lines, day, failed=(), withdrawn=(), full=False, short=(), other=()):
        rows = []
        for i, x in enumerate(lines, start=1):
            if i in withdrawn and not full:
                continue
            ok = i not in failed
            row = [i, x["h"]["code"], yuan(x["amount"]), "成功" if ok else "失败",
                   "" if ok else "卡号已注销", f"NSH{day:%Y%m%d}{i:05d}"]
            if full:
                credited = (x["amount"] - Decimal("2.00") if i in short
                            else x["amount"] if ok else Decimal(0))
                row[4] = "手续费" if i in short else row[4]
                card = "6217000000000000" + f"{i:03d}" if i in other else x["h"]["card"]
                row = row[:3] + [yuan(credited)] + row[3:] + [
                    day.isoformat(), x["h"]["members"][0]["name"], card]
            rows.append(row)
        header = ["序号", "户编码", "金额", "结果", "失败原因", "银行流水号"]
        if full:
            header = ["序号", "户编码", "发送金额", "入账金额", "结果", "失败原因", "银行流水号",
                      "入账日期", "收款人户名", "收款账号"]
        write_csv(name, header, rows, "gb18030")

    results("bank-result-2023-1.csv", roll_2023_1, dt.date(2023, 4, 28))
    results("bank-result-2023-2.csv", roll_2023_2, dt.date(2023, 10, 27), failed={17})
    withdrawn = ROLL_2024_WITHDRAWN
    results("bank-result-2024-1.csv", roll_2024_1, ROLL_2024_SENT, failed={40, 41},
            withdrawn={withdrawn}, full=True, short=BANK_SHORT, other=BANK_OTHER_ACCOUNT)
    for line in (40, 41, withdrawn, *BANK_SHORT, *BANK_OTHER_ACCOUNT):
        assert roll_2024_1[line - 1]["h"]["n"] not in PLANTED, line
        assert roll_2024_1[line - 1]["h"]["card"], line

    # The civil-affairs deaths list (民政死亡人口), drawn 2024-12-01: the planted heads, the
    # registry's own deaths, and people of the county who were never on the registry.
    deaths = []
    for index, (died, _raises) in sorted(PLANTED.items()):
        head = hs[index]["members"][0]
        deaths.append([head["id"], head["name"], died.isoformat()])
    for h in hs:
        for m in h["members"]:
            if m["died"]:
                deaths.append([m["id"], m["name"], m["died"].isoformat()])
    for _ in range(12):
        male = rng.random() < 0.5
        born = county.born(1925, 1950)
        number = county.id_number(born, male)
        deaths.append([number, rng.choice(SURNAMES) + rng.choice(MALE if male else FEMALE),
                       dt.date(2023 + rng.randrange(2), rng.randrange(1, 13),
                               rng.randrange(1, 28)).isoformat()])
    deaths.sort(key=lambda r: r[2])
    write_csv("deaths-2024-12-01.csv", ["身份证号", "姓名", "死亡日期"], deaths, "gb18030")

    summary = {
        "households": len(hs), "members": len(member_rows),
        "roll-2023-1": len(roll_2023_1), "roll-2023-2": len(roll_2023_2),
        "roll-2024-1": len(roll_2024_1),
        "ben01": sorted(hs[i]["code"] for i, (_d, raises) in PLANTED.items() if raises),
        "legacy_ids": sum(1 for h in hs for m in h["members"] if "legacy" in m),
        "legacy_head": hs[LEGACY_HEAD]["code"],
        "ben01_not": sorted(hs[i]["code"] for i, (_d, raises) in PLANTED.items()
                            if not raises),
        # the 2024 bank result's lines that differ from the roll, by line: what is recorded
        "bank_differences": [[ROLL_2024_WITHDRAWN, "not_posted"],
                             *([n, "short_credit"] for n in BANK_SHORT),
                             *([n, "other_account"] for n in BANK_OTHER_ACCOUNT)],
    }
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in summary.items()]
    (HERE / "expected.toml").write_text(
        "# What make.py wrote and planted (read by tests/test_example_county.py)\n"
        + "\n".join(lines) + "\n", encoding="utf-8")


ROLL_2024_WITHDRAWN = 5   # line withdrawn before sending (重复申报): never paid

if __name__ == "__main__":
    main()
