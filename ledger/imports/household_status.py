"""Import kind `household_status` (户状态变更): each household's status history as a county's
registry keeps it — several lines per household, any past dates, in any order in the file
(columns: docs/formats.md, "household_status").

A line names a household already imported (`households`) and is one of its status events
(`household_events`), written as the registry has it by
ledger.households.changes.record_past_statuses: `household status` decides a change made now
(the sequence of statuses, no backdating); a history says what was decided then.

Refused, because it cannot be true (the error lists file, line and column, nothing is written):
a household that does not exist, is outside the importer's region, or was formed by a split and
is not enrolled yet (`household enrol` first); another status on the same day as a recorded one
or another line of the file; the same line twice. Recorded, with a line in the import's report:
a line dated before the household's enrolment (识别日期), a line repeating the status in force
just before it, a status that the ordered history reaches from one it does not follow
(`changes.NEXT_STATUS`: after 清退 or 注销, or 返贫 straight after 建档立卡), and a line
already recorded whose 原因 or 文号 the file writes otherwise (the first one is kept).

Idempotent: a line whose household, date and status are recorded (the enrolment written by the
households import included) is counted as unchanged. Each line written is its own audit entry.
"""
from __future__ import annotations

from pathlib import Path

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households.changes import (
    NEXT_STATUS,
    PastStatus,
    check_past_status,
    record_past_statuses,
    recorded_statuses,
)
from ledger.households.registry import ENROLMENT
from ledger.imports.csvfile import Column, ImportProblems, Problem, parse_date, read
from ledger.imports.households import ImportResult, household_of_line, parse_status
from ledger.models import HouseholdEvent, User
from ledger.store.access import Action, require
from ledger.store.db import check_text

COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("status", ("户状态", "status"), parse_status),
    Column("date", ("变更日期", "effective_date"), parse_date),
    Column("reason", ("原因", "reason"), required=False),
    Column("doc_number", ("文号", "doc_number"), required=False),
]


def import_household_status(session, actor: User, vault: PiiVault | None, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, COLUMNS)
    name = Path(path).name
    problems: list[Problem] = []
    report: list[Problem] = list(rows.report)
    lines: list[tuple] = []     # (row, PastStatus) of every line that names its household
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        key = (v["household"], v["date"], v["status"])
        if key in seen:
            problems.append(Problem(name, row.line, "变更日期", f"the same status on the same "
                                    f"day is on line {seen[key]}", "line_repeated",
                                    {"first_line": seen[key]}))
            continue
        seen[key] = row.line
        if household_of_line(session, actor, name, row.line, v["household"],
                             problems) is None:
            continue
        try:
            check_text(HouseholdEvent.__table__, {"reason": v["reason"],
                                                  "doc_number": v["doc_number"]})
        except LedgerError as exc:
            problems.append(Problem(name, row.line, "文号" if exc.params.get("column") ==
                                    "doc_number" else "原因", str(exc), exc.code, exc.params))
            continue
        lines.append((row, PastStatus(v["household"], v["status"], v["date"],
                                      v["reason"] or "", v["doc_number"] or None)))
    recorded = recorded_statuses(session, sorted({line.household for _, line in lines}))
    enrolled = {code: next((e.effective_date for e in events if e.reason == ENROLMENT), None)
                for code, events in recorded.items()}
    timeline = {code: [(e.effective_date, e.status) for e in events]
                for code, events in recorded.items()}
    new, same = [], 0
    for row, line in lines:
        try:
            event = check_past_status(recorded[line.household], line)
        except LedgerError as exc:
            problems.append(Problem(name, row.line, _column_of(exc.code), str(exc), exc.code,
                                    exc.params))
            continue
        if event is None:
            # Within the file too: another status on a day another line gives.
            other = next((s for d, s in timeline[line.household]
                          if d == line.effective_date and s is not line.status), None)
            if other is not None:
                first = seen[(line.household, line.effective_date, other)]
                problems.append(Problem(
                    name, row.line, "户状态", f"line {first} gives household {line.household} "
                    f"another status ({other.value}) on {line.effective_date}",
                    "line_repeated", {"first_line": first}))
                continue
            timeline[line.household].append((line.effective_date, line.status))
            new.append((row, line))
            continue
        same += 1
        differs = []   # the enrolment's reason is the ledger's own word, not the registry's
        if line.reason and event.reason != ENROLMENT and line.reason != event.reason:
            differs.append("原因")
        if line.doc_number and line.doc_number != event.doc_number:
            differs.append("文号")
        if differs:
            report.append(Problem(
                name, row.line, differs[0], f"household {line.household}: "
                f"{line.status.value} on {line.effective_date} was recorded before (log entry "
                f"{event.log_index}) with another {'/'.join(differs)}; the first is kept",
                "status_kept_as_recorded", {"household": line.household,
                                            "log_index": event.log_index}))
    if problems:
        raise ImportProblems(sorted(problems, key=lambda p: p.line))
    for row, line in new:
        report.extend(_remarks(name, row.line, line, enrolled[line.household],
                               sorted(timeline[line.household], key=lambda e: e[0])))
    added = record_past_statuses(session, actor, [line for _, line in new])
    return ImportResult("household_status", added, same,
                        sorted(report, key=lambda p: p.line))


def _remarks(name: str, line_number: int, line: PastStatus, enrolled, timeline) -> list[Problem]:
    """What the line says that the ledger would not decide now, for the import's report."""
    remarks = []
    code = line.household
    if enrolled is not None and line.effective_date < enrolled:
        remarks.append(Problem(
            name, line_number, "变更日期", f"household {code}: {line.status.value} on "
            f"{line.effective_date}, before its enrolment on {enrolled}; recorded as the "
            "registry has it", "status_before_registration",
            {"household": code, "date": line.effective_date.isoformat(),
             "registered": enrolled.isoformat()}))
    before = [s for d, s in timeline if d < line.effective_date]
    if not before:
        return remarks
    previous = before[-1]
    if previous is line.status:
        remarks.append(Problem(
            name, line_number, "户状态", f"household {code}: {line.status.value} on "
            f"{line.effective_date} repeats the status in force; recorded as the registry has "
            "it", "status_repeated",
            {"household": code, "status": line.status.value,
             "date": line.effective_date.isoformat()}))
    elif line.status not in NEXT_STATUS[previous]:
        remarks.append(Problem(
            name, line_number, "户状态", f"household {code}: {line.status.value} on "
            f"{line.effective_date} follows {previous.value}, which it does not follow in a "
            "change made now; recorded as the registry has it", "status_not_in_sequence",
            {"household": code, "previous": previous.value, "status": line.status.value,
             "date": line.effective_date.isoformat()}))
    return remarks


def _column_of(code: str) -> str:
    return {"household_not_enrolled": "户编码"}.get(code, "变更日期")
