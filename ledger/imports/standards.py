"""Import kind `standards`: a county's policy standards table (补助标准; columns: docs/formats.md).

All lines are checked first; any problem names file, line and column and nothing is written.
A line equal to the standard in force for its county, item, tier and year is unchanged (the
same file imported again changes nothing); a line that differs is a correction: a new row that
supersedes the old one for lines priced after it (ledger.rolls.standards).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.money import parse_yuan
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    not_a_year,
    not_positive,
    parse_date,
    read,
    too_long,
)
from ledger.imports.households import ImportResult
from ledger.models import User
from ledger.rolls.standards import (
    StandardSpec,
    check_county,
    per_of,
    record_standards,
    tier_of,
)


def _year(text: str) -> int:
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        raise not_a_year(text)
    return int(text)


def _positive_yuan(text: str) -> int:
    fen = parse_yuan(text)
    if fen <= 0:
        raise not_positive(text)
    return fen


def _short(limit: int):
    def parse(text: str) -> str:
        if len(text) > limit:
            raise too_long(text, limit)
        return text
    return parse


STANDARD_COLUMNS = [
    Column("county", ("县级区划代码", "county_code")),
    Column("item", ("补助项目", "item"), _short(100)),
    Column("tier", ("户类别", "tier"), tier_of),
    Column("year", ("年度", "year"), _year),
    Column("standard", ("补助标准", "standard"), _positive_yuan),
    Column("basis", ("计量单位", "basis"), _short(20)),
    Column("per", ("发放对象", "per"), per_of),
    Column("function_code", ("功能科目", "function_code"), _short(10)),
    Column("effective_date", ("执行日期", "effective_date"), parse_date, required=False),
    Column("doc_number", ("文号", "doc_number"), _short(100), required=False),
]


def import_standards(session: Session, actor: User, _vault, path) -> ImportResult:
    rows = read(path, STANDARD_COLUMNS)
    name = Path(path).name
    problems, specs, seen = [], [], {}
    for row in rows:
        v = row.values
        key = (v["county"], v["item"], v["tier"], v["year"])
        if key in seen:
            problems.append(Problem(name, row.line, "补助项目", f"{v['item']} ({v['tier'].value}, "
                                    f"{v['year']}) of county {v['county']} also on line "
                                    f"{seen[key]}", "line_repeated", {"first_line": seen[key]}))
            continue
        seen[key] = row.line
        specs.append((row.line, StandardSpec(
            v["county"], v["item"], v["tier"], v["year"], v["standard"], v["basis"], v["per"],
            v["function_code"], v["effective_date"] or None, v["doc_number"] or "")))
    if problems:
        raise ImportProblems(problems)
    # Every county of the file is checked (exists, is a county, the actor's) at its first line.
    firsts = {}
    for line, spec in specs:
        firsts.setdefault(spec.county_code, line)
    problems = [Problem(name, line, "县级区划代码", str(exc), exc.code, exc.params)
                for county, line in firsts.items() for exc in _refusal(check_county, session,
                                                                       county)]
    if problems:   # every county's, not the first one's
        raise ImportProblems(problems)
    added, same = record_standards(session, actor, [spec for _line, spec in specs])
    return ImportResult("standards", added, same)


def _refusal(check, *args) -> list[LedgerError]:
    """The refusal `check(*args)` raises, as a list of none or one."""
    try:
        check(*args)
    except LedgerError as exc:
        return [exc]
    return []
