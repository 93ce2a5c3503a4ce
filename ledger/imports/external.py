"""Import kinds for external lists: deaths, payroll, vehicles, businesses, officials, blacklist.

`fundtrail import KIND FILE --source TEXT --snapshot DATE`. Columns per kind: docs/formats.md.
All-or-nothing like every import: every line is checked first and problems name file, line
and column; the same file (same source and snapshot) again changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core.creditcode import read_industry_code
from ledger.core.idcard import IdNumberError, read_number
from ledger.core.pii import PiiVault
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    at_line,
    not_one_of,
    parse_date,
    read,
)
from ledger.models import User
from ledger.registers.external import ListImport, ListKind, ListRecord, record_list


def listed_id(text: str) -> str:
    """ID numbers as another office typed them: valid ones normalised; an 18-character number
    whose only fault is its check character is kept as written (a typing error that the
    fuzzy comparator may still match), not refused."""
    try:
        number = read_number(text)
    except IdNumberError as exc:
        raise ValueError(str(exc)) from None
    return number.matching   # as written when only the check character is wrong


ID = Column("id_number", ("身份证号", "id_number"), listed_id)
NAME = Column("name", ("姓名", "name"))


# Vehicle registration statuses (机动车状态) as vehicle offices write them, by word or by the
# letter of the traffic-management system (GA/T 16): what BEN-05 can tell apart — a vehicle a
# household still owns, or one gone (transferred, scrapped, deregistered). Kept in English.
VEHICLE_STATUS = {
    "正常": "active", "A": "active", "active": "active",
    "转出": "transferred", "B": "transferred", "transferred": "transferred",
    "被盗抢": "stolen", "C": "stolen", "stolen": "stolen",
    "停驶": "laid_up", "D": "laid_up", "laid_up": "laid_up",
    "注销": "deregistered", "E": "deregistered", "deregistered": "deregistered",
    "强制注销": "scrapped", "M": "scrapped", "报废": "scrapped", "达到报废标准": "scrapped",
    "P": "scrapped", "scrapped": "scrapped",
    "抵押": "mortgaged", "G": "mortgaged", "mortgaged": "mortgaged",
    "查封": "seized", "K": "seized", "seized": "seized",
}


def _vehicle_status(text: str) -> str:
    status = VEHICLE_STATUS.get(text) or VEHICLE_STATUS.get(text.upper()) \
        or VEHICLE_STATUS.get(text.lower())
    if status is None:
        raise not_one_of(text, ("正常", "转出", "被盗抢", "停驶", "注销", "报废", "抵押", "查封",
                              "A–P"))
    return status


def _industry(text: str) -> str:
    return str(read_industry_code(text))


def _degree(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 4:
        raise not_one_of(text, ("1", "2", "3", "4"))
    return int(text)


COLUMNS: dict[ListKind, list[Column]] = {
    ListKind.DEATHS: [ID, NAME, Column("date_from", ("死亡日期", "death_date"), parse_date)],
    ListKind.PAYROLL: [
        ID, NAME, Column("org", ("工作单位", "employer")),
        Column("category", ("岗位类别", "post_category"), required=False),
        Column("date_from", ("起始日期", "start_date"), parse_date),
        Column("date_to", ("终止日期", "end_date"), parse_date, required=False)],
    ListKind.VEHICLES: [
        ID, NAME, Column("category", ("车辆类型", "vehicle_type")),
        Column("org_code", ("号牌号码", "plate"), required=False),
        Column("date_from", ("登记日期", "registered_on"), parse_date, required=False),
        Column("status", ("车辆状态", "status"), _vehicle_status, required=False)],
    ListKind.BUSINESSES: [
        Column("org", ("企业名称", "company")),
        Column("org_code", ("统一社会信用代码", "credit_code"), required=False),
        ID, NAME, Column("category", ("角色", "role")),
        Column("date_from", ("成立日期", "established_on"), parse_date, required=False),
        Column("date_to", ("注销日期", "deregistered_on"), parse_date, required=False),
        Column("industry_code", ("行业代码", "industry_code"), _industry, required=False)],
    ListKind.OFFICIALS: [
        # A relative may be declared by name and birth date without an ID number (干部近亲属
        # 申报 often has none for a parent-in-law or a grandchild); an official may not.
        Column("id_number", ("身份证号", "id_number"), listed_id, required=False),
        NAME, Column("category", ("关系", "relation")),
        Column("birth_date", ("出生日期", "birth_date"), parse_date, required=False),
        Column("related_id_number", ("干部身份证号", "official_id_number"), listed_id,
               required=False),
        Column("org", ("职务", "post"), required=False),
        Column("region_code", ("辖区代码", "jurisdiction_code"), required=False),
        Column("date_from", ("任职起", "term_start"), parse_date, required=False),
        Column("date_to", ("任职止", "term_end"), parse_date, required=False),
        Column("degree", ("亲等", "degree"), _degree, required=False)],
    ListKind.BLACKLIST: [
        Column("name", ("名称", "name")),
        Column("org_code", ("统一社会信用代码", "credit_code"), required=False),
        Column("id_number", ("身份证号", "id_number"), listed_id, required=False),
        Column("org", ("原因", "reason")),
        Column("date_from", ("起始日期", "start_date"), parse_date),
        Column("date_to", ("终止日期", "end_date"), parse_date, required=False)],
    ListKind.PROPERTIES: [
        ID, NAME, Column("category", ("房屋类型", "property_type")),
        Column("org", ("坐落", "address")),
        Column("org_code", ("不动产权证号", "certificate"), required=False),
        Column("region_code", ("所在区划", "region_code"), required=False),
        Column("date_from", ("登记日期", "registered_on"), parse_date, required=False),
        Column("date_to", ("注销日期", "deregistered_on"), parse_date, required=False)],
}

OFFICIAL_SELF = ("本人", "self")


@dataclass
class ListImported(ListImport):
    """The stored snapshot, and the file reader's report (columns not read, blank lines:
    ledger.imports.csvfile.Rows), which `fundtrail import` prints."""
    report: list = field(default_factory=list)


def _check_officials(name: str, rows) -> list[Problem]:
    problems = []
    for row in rows:
        v = row.values
        if v["category"] in OFFICIAL_SELF:
            if not v.get("id_number"):
                problems.append(Problem(name, row.line, "身份证号",
                                        "an official is declared with their ID number",
                                        "required", {"field": "id_number"}))
            if not v.get("region_code"):
                problems.append(Problem(name, row.line, "辖区代码",
                                        "an official needs the region they have authority over",
                                        "required", {"field": "region_code"}))
        else:
            if not v.get("related_id_number"):
                problems.append(Problem(name, row.line, "干部身份证号",
                                        "a relative needs the ID number of their official",
                                        "required", {"field": "related_id_number"}))
            if not v.get("id_number") and not v.get("birth_date"):
                problems.append(Problem(name, row.line, "出生日期",
                                        "a relative without an ID number needs a birth date",
                                        "relative_unidentified", {}))
    return problems


def import_list(kind: ListKind, session: Session, actor: User, vault: PiiVault, path, *,
                source: str, snapshot: dt.date) -> ListImport:
    rows = read(path, COLUMNS[kind])
    name = Path(path).name
    if kind is ListKind.OFFICIALS:
        problems = _check_officials(name, rows)
        if problems:
            raise ImportProblems(problems)
    records = [ListRecord(line_no=row.line, **{k: v for k, v in row.values.items()
                                               if v is not None}) for row in rows]
    if kind is ListKind.OFFICIALS:
        records = [r if r.category not in OFFICIAL_SELF else
                   ListRecord(**{**r.__dict__, "category": "本人"}) for r in records]
    done = at_line(name, 0, lambda: record_list(session, actor, vault, kind=kind,
                                                source=source, snapshot_date=snapshot,
                                                records=records))
    return ListImported(done.list_id, done.added, done.unchanged, rows.report)


KINDS = {kind.value: partial(import_list, kind) for kind in ListKind}
