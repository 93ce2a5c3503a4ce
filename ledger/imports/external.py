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

from ledger.core.idcard import IdNumberError, read_number
from ledger.core.pii import PiiVault
from ledger.imports.csvfile import Column, ImportProblems, Problem, at_line, parse_date, read
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


def _degree(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 4:
        raise ValueError(f"{text!r} is not a degree of kinship (1–4)")
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
        Column("date_from", ("登记日期", "registered_on"), parse_date, required=False)],
    ListKind.BUSINESSES: [
        Column("org", ("企业名称", "company")),
        Column("org_code", ("统一社会信用代码", "credit_code"), required=False),
        ID, NAME, Column("category", ("角色", "role")),
        Column("date_from", ("成立日期", "established_on"), parse_date, required=False),
        Column("date_to", ("注销日期", "deregistered_on"), parse_date, required=False)],
    ListKind.OFFICIALS: [
        ID, NAME, Column("category", ("关系", "relation")),
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
            if not v.get("region_code"):
                problems.append(Problem(name, row.line, "辖区代码",
                                        "an official needs the region they have authority over",
                                        "required", {"field": "region_code"}))
        elif not v.get("related_id_number"):
            problems.append(Problem(name, row.line, "干部身份证号",
                                    "a relative needs the ID number of their official",
                                    "required", {"field": "related_id_number"}))
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
