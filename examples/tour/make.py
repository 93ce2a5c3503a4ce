"""Write the sample files the README's tour imports (examples/tour/README.md says what each is).

    .venv/bin/python examples/tour/make.py      # rewrites the files beside this script

Eight invented households of 冲口村 (village 520121001001 of the demo province's 开阳县): the
registry (GB18030, as an office saves it from Excel), their members (Excel), the county's
policy standards, two payment rolls (a CSV at one standard, a workbook of several items priced
from the standards), the bank's result file for the first roll and a civil-affairs deaths list.
The same bytes every run: no randomness, and the workbooks carry a fixed time. ID numbers get
their right check character (GB 11643); names, numbers and cards are invented.

The files carry no date that goes stale: the standards and the second roll's lines name the
policy year 2025 explicitly, and the tour types every other date relative to the day it runs.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
VILLAGE = "520121001001"
COUNTY = "520121"
POLICY_YEAR = 2025

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def id_number(birth: str, seq: int, female: bool) -> str:
    """A well-formed 18-character number of the county: 6 + birth date + 3 (odd = male) + check."""
    order = seq * 2 + (0 if female else 1)
    first17 = f"{COUNTY}{birth}{order:03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


# code suffix, head, status, status date, card; then members: name, relation, birth, female
HOUSEHOLDS = [
    ("9001", "赵大山", "建档立卡", "", "6217991520121900011",
     [("王玉梅", "配偶", "19720308", True), ("赵小军", "子", "19990615", False),
      ("赵小红", "女", "20050912", True)]),
    ("9002", "钱秀英", "监测对象", "", "6217991520121900029",
     [("钱明", "子", "19950420", False)]),
    ("9003", "孙有才", "已脱贫", "2020-12-20", "6217991520121900037",
     [("刘桂芝", "配偶", "19660101", True)]),
    ("9004", "李春花", "建档立卡", "", "6217991520121900045",
     [("李强", "子", "20060322", False)]),
    ("9005", "周永福", "建档立卡", "", "6217991520121900052", []),
    ("9006", "吴桂兰", "建档立卡", "", "6217991520121900060",
     [("郑文", "子", "19980808", False)]),
    ("9007", "冯德胜", "建档立卡", "", "6217991520121900078", []),
    ("9008", "陈金凤", "已脱贫", "2021-06-30", "6217991520121900086",
     [("陈杰", "子", "20040111", False)]),
]
HEAD_BIRTHS = ["19700512", "19680203", "19650714", "19780930", "19480101", "19720616",
               "19590827", "19710405"]


def code(suffix: str) -> str:
    return f"H{VILLAGE}-{suffix}"


def write_csv(name: str, header: list[str], rows: list[list], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    (HERE / name).write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(name: str, header: list[str], rows: list[list], text_columns: set[str]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(header)
    for row in rows:
        ws.append(row)
    for index, column in enumerate(header, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = 22 if column in text_columns else 12
        if column in text_columns:   # ID numbers as text, as a careful office keeps them
            for cell in ws[letter][1:]:
                cell.number_format = "@"
    fixed = dt.datetime(2025, 1, 17, 9, 0, 0)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "开阳县乡村振兴局"
    path = HERE / name
    wb.save(path)
    with zipfile.ZipFile(path) as z:   # fixed zip times: the same data gives the same bytes
        members = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for filename, data in members:
            if filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-17T09:00:00Z",
                              data)
            info = zipfile.ZipInfo(filename, date_time=(2025, 1, 17, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def main() -> None:
    ids: dict[str, str] = {}
    households, members = [], []
    seq = 1
    for (suffix, head, status, status_date, card, others), birth in zip(HOUSEHOLDS, HEAD_BIRTHS):
        households.append([code(suffix), VILLAGE, head, status, "2019-05-01", card,
                           f"1388512{suffix}", status_date])
        head_female = head in ("钱秀英", "李春花", "吴桂兰", "陈金凤")
        ids[head] = id_number(birth, seq, head_female)
        members.append([code(suffix), head, "户主", ids[head]])
        seq += 1
        for name, relation, born, female in others:
            ids[name] = id_number(born, seq, female)
            members.append([code(suffix), name, relation, ids[name]])
            seq += 1
    write_csv("households.csv", ["户编码", "村代码", "户主姓名", "户状态", "识别日期", "银行卡号",
                                 "联系电话", "状态日期"], households, "gb18030")
    write_xlsx("members.xlsx", ["户编码", "姓名", "与户主关系", "身份证号"], members, {"身份证号"})

    # Roll 1: 产业奖补 at one standard (--item, --standard): household and quantity only.
    write_csv("lines.csv", ["户编码", "数量"], [[code(h[0]), 1] for h in HOUSEHOLDS], "utf-8")

    # The county's policy standards (补助标准) of the policy year, per item and tier.
    write_csv("standards.csv", ["县级区划代码", "补助项目", "户类别", "年度", "补助标准",
                                "计量单位", "发放对象", "功能科目", "执行日期", "文号"], [
        [COUNTY, "产业奖补", "一般户", POLICY_YEAR, "300.00", "亩", "按户", "2130505",
         "2025-03-20", "开农发〔2025〕6号"],
        [COUNTY, "产业奖补", "监测户", POLICY_YEAR, "400.00", "亩", "按户", "2130505",
         "2025-03-20", "开农发〔2025〕6号"],
        [COUNTY, "雨露计划", "一般户", POLICY_YEAR, "1500.00", "学期", "按人", "2130505",
         "2025-02-15", "开乡振〔2025〕2号"],
        [COUNTY, "雨露计划", "监测户", POLICY_YEAR, "1500.00", "学期", "按人", "2130505",
         "2025-02-15", "开乡振〔2025〕2号"],
    ], "utf-8")

    # Roll 2: several items priced from the standards — 亩 with a decimal, a student by ID
    # number; the tour withdraws line 3 before sending (重复申报: already paid on another roll).
    write_xlsx("items.xlsx", ["序号", "户编码", "补助项目", "户类别", "年度", "数量",
                              "成员身份证号"], [
        [1, code("9001"), "产业奖补", "一般户", POLICY_YEAR, 2.5, None],
        [2, code("9001"), "雨露计划", "一般户", POLICY_YEAR, 1, ids["赵小军"]],
        [3, code("9004"), "产业奖补", "一般户", POLICY_YEAR, 1.2, None],
        [4, code("9002"), "产业奖补", "监测户", POLICY_YEAR, 3, None],
        [5, code("9004"), "雨露计划", "一般户", POLICY_YEAR, 1, ids["李强"]],
    ], {"户编码", "成员身份证号"})

    # The bank's answer to roll 1 (回盘, GB18030): line 4 credited 2.00 short (手续费), line 7
    # returned (卡号已注销), the others paid in full.
    results = []
    for n, h in enumerate(HOUSEHOLDS, start=1):
        credited, result, reason = "500.00", "成功", ""
        if n == 4:
            credited, reason = "498.00", "手续费"
        if n == 7:
            credited, result, reason = "0.00", "失败", "卡号已注销"
        results.append([n, code(h[0]), "500.00", credited, result, reason, f"NSH-TOUR-{n:04d}"])
    write_csv("bank-result.csv", ["序号", "户编码", "金额", "入账金额", "结果", "失败原因",
                                  "银行流水号"], results, "gb18030")

    # The civil-affairs deaths list (民政): the head of 9005 died before the rolls paid him.
    write_csv("deaths.csv", ["身份证号", "姓名", "死亡日期"],
              [[ids["周永福"], "周永福", "2025-01-15"]], "utf-8")


if __name__ == "__main__":
    main()
