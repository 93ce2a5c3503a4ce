"""Import kinds `regions`, `appropriations` and `projects` (columns: docs/formats.md).

Same rules as every import: all lines are checked first, any problem names file, line and column
and nothing is written; a line already imported with the same content is unchanged.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core.money import parse_yuan
from ledger.funds import lots, projects
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    every_line,
    not_a_year,
    not_one_of,
    parse_date,
    read,
)
from ledger.imports.households import ImportResult
from ledger.models import Project, ProjectStatus, Region, RegionLevel, SourceLevel, User
from ledger.org import regions
from ledger.store.access import Action, require

LEVEL_WORDS = {"省": "province", "市": "city", "县": "county", "区": "county", "乡": "township",
               "镇": "township", "乡镇": "township", "村": "village"}
SOURCE_WORDS = {"中央": "central", "省级": "province", "省": "province", "市级": "city",
                "市": "city", "县级": "county", "县": "county"}


def _enum_parser(enum_cls, words):
    def parse(text: str):
        value = words.get(text, text.lower())
        try:
            return enum_cls(value)
        except ValueError:
            raise not_one_of(text, words) from None
    return parse


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.replace("，", ";").replace(",", ";").split(";") if c.strip()]


def _year(text: str) -> int:
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        raise not_a_year(text)
    return int(text)


REGION_COLUMNS = [
    Column("code", ("区划代码", "code")),
    Column("name", ("名称", "name")),
    Column("level", ("级别", "level"), _enum_parser(RegionLevel, LEVEL_WORDS)),
    Column("parent", ("上级代码", "parent_code")),
]

APPROPRIATION_COLUMNS = [
    Column("doc", ("文号", "doc_number")),
    Column("source", ("资金级次", "source_level"), _enum_parser(SourceLevel, SOURCE_WORDS)),
    Column("year", ("年度", "year"), _year),
    Column("title", ("资金名称", "title")),
    Column("function_codes", ("功能科目", "function_codes"), _codes),
    Column("uses", ("用途", "allowed_uses"), _codes),
    Column("amount", ("金额", "amount"), parse_yuan),
    Column("region", ("下达区划", "region_code")),
    Column("date", ("下达日期", "date"), parse_date),
]


def import_regions(session: Session, actor: User, _vault, path) -> ImportResult:
    rows = read(path, REGION_COLUMNS)
    name = Path(path).name
    count = {"added": 0, "same": 0}

    def line(row):  # parents come before children in a well-formed file, as in the registry
        v = row.values
        existing = session.get(Region, v["code"])
        if existing is not None:
            if (existing.name, existing.level, existing.parent_code) == \
                    (v["name"], v["level"], v["parent"]):
                count["same"] += 1
                return
            raise ImportProblems([Problem(name, row.line, "区划代码", f"region {v['code']} "
                                          f"exists as {existing.name} ({existing.level.value}, "
                                          f"under {existing.parent_code})", "already_exists",
                                          {"what": "region", "key": v["code"]})])
        regions.add_region(session, actor, code=v["code"], name=v["name"], level=v["level"],
                           parent_code=v["parent"])
        count["added"] += 1

    # Every line's refusal, each with its column (a refused line rolls back alone, so the
    # lines after it are judged as if it were not there; nothing is kept when any is).
    _raise_all(every_line(name, rows, line, session=session, columns=REGION_COLUMNS,
                          by_code={"not_found": "上级代码"}, default="区划代码"))
    return ImportResult("regions", count["added"], count["same"], rows.report)


def import_appropriations(session: Session, actor: User, _vault, path) -> ImportResult:
    rows = read(path, APPROPRIATION_COLUMNS)
    name = Path(path).name
    count = {"added": 0, "same": 0}

    def line(row):
        v = row.values
        known = lots.find_lot(session, v["doc"], v["source"], v["year"]) is not None
        lots.appropriate(session, actor, doc_number=v["doc"], source_level=v["source"],
                         year=v["year"], title=v["title"], function_codes=v["function_codes"],
                         allowed_uses=v["uses"], amount_fen=v["amount"],
                         region_code=v["region"], effective_date=v["date"])
        # appropriate() was a no-op when known: same document, same content
        count["same" if known else "added"] += 1

    _raise_all(every_line(name, rows, line, session=session, columns=APPROPRIATION_COLUMNS,
                          by_code=_APPROPRIATION_COLUMN_OF, default="文号"))
    return ImportResult("appropriations", count["added"], count["same"], rows.report)


# Which column a refusal of an appropriation line points at (the rest: 文号).
_APPROPRIATION_COLUMN_OF = {"not_found": "下达区划", "out_of_scope": "下达区划",
                            "function_code_administrative": "功能科目",
                            "function_code_unknown": "功能科目", "use_unknown": "用途",
                            "use_prohibited": "用途", "amount_not_positive": "金额",
                            "amount_too_large": "金额", "date_invalid": "下达日期"}


def _raise_all(problems: list[Problem]) -> None:
    if problems:
        raise ImportProblems(problems)


def appropriation_keys(path) -> list[tuple]:
    """What each line of an appropriations file recorded: (line, idempotency key of the lot's
    opening transfer — one per document, source level and year —, amount in fen, date)."""
    return [(row.line, lots.appropriation_key(row.values["doc"], row.values["source"],
                                              row.values["year"]),
             row.values["amount"], row.values["date"])
            for row in read(path, APPROPRIATION_COLUMNS)]


STAGE_WORDS = {"申报": "proposed", "入库": "in_library", "不予立项": "rejected",
               "未通过": "rejected"}
IMPORTABLE_STAGES = (ProjectStatus.PROPOSED, ProjectStatus.IN_LIBRARY, ProjectStatus.REJECTED)

PROJECT_COLUMNS = [
    Column("code", ("项目编码", "code")),
    Column("name", ("项目名称", "name")),
    Column("county", ("县代码", "county_code")),
    Column("function_code", ("功能科目", "function_code")),
    Column("stage", ("状态", "stage"), _enum_parser(ProjectStatus, STAGE_WORDS),
           required=False),
    Column("date", ("入库日期", "日期", "stage_date", "date"), parse_date, required=False),
    Column("doc", ("文号", "doc_number"), required=False),
    Column("proposed_on", ("申报日期", "proposed_on"), parse_date, required=False),
    Column("proposal_doc", ("申报文号", "proposal_doc_number"), required=False),
    Column("comment", ("备注", "comment"), required=False),
    # The unit or contractor named to carry the project out (issue 18: BLK-01 asks whether it
    # was blacklisted when the project was approved).
    Column("implementing_unit", ("实施单位", "implementing_unit"), required=False),
]


def _line_stage(name, row) -> tuple:
    """(stage, stage date, stage document, proposal date, proposal document) of one line."""
    v = row.values
    stage = v.get("stage") or ProjectStatus.PROPOSED
    if stage not in IMPORTABLE_STAGES:
        raise ImportProblems([Problem(name, row.line, "状态", "only 申报, 入库 or 不予立项 can "
                                      "be imported; approval and later steps are recorded by "
                                      "an approver", "project_stage_not_importable",
                                      {"stage": stage.value})])
    date, doc = v.get("date"), v.get("doc")
    proposed_on, proposal_doc = v.get("proposed_on"), v.get("proposal_doc")
    if stage is ProjectStatus.PROPOSED:  # the line's date and number are the proposal's
        for column, given, other in (("申报日期", proposed_on, date),
                                     ("申报文号", proposal_doc, doc)):
            if given is not None and other is not None and given != other:
                raise ImportProblems([Problem(name, row.line, column, f"{given} differs from "
                                              f"{other} given for the same proposal",
                                              "cell_invalid", {"detail": f"{given} ≠ {other}"})])
        return stage, None, None, proposed_on or date, proposal_doc or doc
    if date is None:
        raise ImportProblems([Problem(name, row.line, "入库日期", f"a project "
                                      f"{v['stage'].value} needs the date of that step",
                                      "required", {"field": "date"})])
    if proposed_on is not None and date < proposed_on:
        raise ImportProblems([Problem(name, row.line, "入库日期", f"{date} is before the "
                                      f"proposal ({proposed_on})", "dates_reversed",
                                      {"field": "project_stage",
                                       "start": proposed_on.isoformat(),
                                       "end": date.isoformat()})])
    return stage, date, doc, proposed_on, proposal_doc


def _compare_step(name, line, code, event, column_date, column_doc, date, doc) -> bool:
    """True when the recorded step has the line's date and number (those the line gives)."""
    for column, field, recorded, given in ((column_date, "date", event.effective_date, date),
                                           (column_doc, "doc_number", event.doc_number, doc)):
        if given is not None and recorded != given:
            raise ImportProblems([Problem(
                name, line, column, f"project {code}: its {event.status.value} step is "
                f"recorded with {field} {recorded}, the file says {given}",
                "project_stage_conflict", {"project": code, "stage": event.status.value,
                                           "field": field, "recorded": str(recorded),
                                           "given": str(given)})])
    return True


def import_projects(session: Session, actor: User, _vault, path) -> ImportResult:
    """Project library entries (项目库): proposed (申报, with its date and document number),
    taken into the library (入库) or not taken (不予立项 / 未通过).

    Approval and later stages are a county approver's decision, recorded one by one with
    `fundtrail project advance`, never imported: an import file cannot approve a project.
    """
    rows = read(path, PROJECT_COLUMNS)
    name = Path(path).name
    count = {"added": 0, "same": 0}
    _raise_all(every_line(name, rows, lambda row: _import_project(session, actor, name, row,
                                                                  count),
                          session=session, columns=PROJECT_COLUMNS,
                          by_code={"not_found": "县代码", "out_of_scope": "县代码",
                                   "function_code_unknown": "功能科目",
                                   "function_code_administrative": "功能科目",
                                   "project_function_code": "功能科目"}, default="项目编码"))
    return ImportResult("projects", count["added"], count["same"], rows.report)


def _import_project(session, actor, name, row, count) -> None:
    """One line of a projects file (see import_projects)."""
    v = row.values
    stage, date, doc, proposed_on, proposal_doc = _line_stage(name, row)
    existing = session.get(Project, v["code"])
    if existing is not None:
        # Scope first: a clerk of another county learns nothing of this project.
        require(session, actor, Action.RECORD, existing.county_code)
        recorded = (existing.name, existing.county_code, existing.function_code)
        if recorded != (v["name"], v["county"], v["function_code"]) or (
                v.get("implementing_unit") is not None
                and v["implementing_unit"] != existing.implementing_unit):
            raise ImportProblems([Problem(
                name, row.line, "项目编码", f"project {v['code']} exists as "
                f"{existing.name} ({existing.county_code}, {existing.function_code})",
                "already_exists", {"what": "project", "key": v["code"]})])
        events = projects.stage_events(session, v["code"])
        _compare_step(name, row.line, v["code"], events[0], "申报日期", "申报文号",
                      proposed_on, proposal_doc)
    else:
        events = []
        projects.register_project(
            session, actor, code=v["code"], name=v["name"], county_code=v["county"],
            function_code=v["function_code"], proposed_on=proposed_on,
            doc_number=proposal_doc, implementing_unit=v.get("implementing_unit"))
    current = projects.project_stage(session, v["code"])
    if stage is not ProjectStatus.PROPOSED and current is stage:
        step = next(e for e in reversed(events) if e.status is stage)
        _compare_step(name, row.line, v["code"], step, "入库日期", "文号", date, doc)
    elif stage is ProjectStatus.IN_LIBRARY and current is ProjectStatus.PROPOSED or \
            stage is ProjectStatus.REJECTED:
        comment = v.get("comment") or ("导入入库" if stage is ProjectStatus.IN_LIBRARY
                                       else "导入不予立项")
        projects.advance_project(session, actor, v["code"], stage, date, comment,
                                 doc_number=doc)
        count["added"] += 1
        return
    count["same" if existing is not None else "added"] += 1
