"""Import kind `project_notices`: project notices (公示 before implementation, 公告 after
acceptance) as a county kept them, for the years before fundtrail printed them (columns:
docs/formats.md).

Same rules as every import: every line is checked first, each problem names file, line and
column, and nothing is written if any line is wrong. A notice is one board's notice of one
project, of one kind, first displayed on one day; the same notice imported again with the same
content is unchanged, with other content it is refused naming the earlier log entry.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.disclosure import notices
from ledger.imports.csvfile import Column, ImportProblems, Problem, not_one_of, parse_date, read
from ledger.imports.households import ImportResult
from ledger.models import User
from ledger.models.disclosure import ProjectNoticeKind

KIND_WORDS = {"公示": ProjectNoticeKind.PUBLICITY, "公告": ProjectNoticeKind.ANNOUNCEMENT}


def parse_kind(text: str) -> ProjectNoticeKind:
    kind = KIND_WORDS.get(text)
    if kind is None:
        try:
            kind = ProjectNoticeKind(text.lower())
        except ValueError:
            raise not_one_of(text, ("公示", "公告")) from None
    return kind


COLUMNS = [
    Column("project", ("项目编码", "project_code")),
    Column("region", ("区划代码", "村代码", "region_code", "village_code")),
    Column("kind", ("类型", "公示类型", "kind"), parse_kind),
    Column("display_from", ("开始日期", "公示开始日期", "display_from"), parse_date),
    Column("display_to", ("结束日期", "公示结束日期", "display_to"), parse_date),
    Column("place", ("公示地点", "地点", "place")),
    Column("issuer", ("发布单位", "issuer")),
    Column("doc_number", ("文号", "doc_number"), required=False),
    Column("title", ("标题", "title"), required=False),
]
HEADER = {c.key: c.headers[0] for c in COLUMNS}


def _column_of(exc: LedgerError) -> str:
    """The column a service's refusal is about, so the problem names it."""
    params = exc.params
    if exc.code == "not_found":
        return HEADER["project"] if params.get("what") == "project" else HEADER["region"]
    if exc.code == "project_notice_region":
        return HEADER["region"]
    if exc.code == "dates_reversed":
        return HEADER["display_to"]
    if exc.code == "required_fields":
        return HEADER[params["fields"][0]]
    if exc.code == "text_too_long":
        return {"place": HEADER["place"], "issuer": HEADER["issuer"],
                "doc_number": HEADER["doc_number"], "title": HEADER["title"]}.get(
                    params.get("column"), "")
    return ""


def import_project_notices(session: Session, actor: User, _vault, path) -> ImportResult:
    rows = read(path, COLUMNS)
    name = Path(path).name
    problems: list[Problem] = []
    seen: dict[tuple, int] = {}
    new: list[notices.ProjectNoticeLine] = []
    same = 0
    for row in rows:
        v = row.values
        line = notices.ProjectNoticeLine(
            project_code=v["project"], region_code=v["region"], kind=v["kind"],
            display_from=v["display_from"], display_to=v["display_to"], place=v["place"],
            issuer=v["issuer"], doc_number=v.get("doc_number"), title=v.get("title"))
        if line.key() in seen:
            problems.append(Problem(name, row.line, HEADER["display_from"],
                                    f"the same notice is on line {seen[line.key()]}",
                                    "line_repeated", {"first_line": seen[line.key()]}))
            continue
        seen[line.key()] = row.line
        try:
            checked = notices.check_project_notice(session, actor, line)
            existing = notices.find_project_notice(session, *line.key())
            if existing is not None:
                differs = notices.notice_differences(checked, existing)
                if differs:
                    raise LedgerError(
                        f"project notice {v['project']} ({v['region']}, {v['kind'].value}, "
                        f"from {v['display_from']}) was imported before (log entry "
                        f"{existing.log_index}) with other values: {', '.join(differs)}",
                        code="import_reused", what="project notice",
                        key=f"{v['project']}/{v['region']}/{v['kind'].value}/"
                            f"{v['display_from'].isoformat()}",
                        log_index=existing.log_index)
                same += 1
                continue
        except LedgerError as exc:
            problems.append(Problem(name, row.line, _column_of(exc), str(exc), exc.code,
                                    exc.params))
            continue
        new.append(line)
    if problems:
        raise ImportProblems(problems)
    notices.record_project_notices(session, actor, new, kind="project_notice.import")
    return ImportResult("project_notices", len(new), same)
