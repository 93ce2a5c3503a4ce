"""Import kinds `households` and `members` (columns: docs/formats.md).

All-or-nothing and idempotent: every line is parsed and checked against the ledger first; any
problem lists file, line and column and nothing is written. A line already imported with the
same content is skipped; the same key with other content is a problem naming what differs.

What goes in with a remark is listed in the result's `report` (values of the same shape as
problems, codes in ledger.core.refusals): the columns and blank lines the file reader did not
read (ledger.imports.csvfile), an ID number with a wrong check character let in by `[imports]
accept_wrong_check_character` (a historical registry record), and a member already imported
whose number the file writes in its other form (15 or 18 characters; the first is kept).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.idcard import IdNumber, IdNumberError, read_number
from ledger.core.pii import PiiVault
from ledger.households.changes import PastStatus, record_past_statuses
from ledger.households.registry import (
    NewHousehold,
    NewMember,
    add_members,
    check_new_household,
    get_household,
    normalise_card,
    prepare_member,
    register_households,
)
from ledger.imports.csvfile import (
    Column,
    ImportProblems,
    Problem,
    Problems,
    every_line,
    not_one_of,
    parse_date,
    read,
)
from ledger.models import Household, HouseholdEvent, HouseholdStatus, Member, Payee, User
from ledger.store.access import Action, in_scope, require
from ledger.store.context import context_of
from ledger.store.db import check_text

STATUS_WORDS = {
    "建档立卡": "registered", "贫困户": "registered", "已脱贫": "exited", "脱贫": "exited",
    "返贫": "returned", "监测对象": "monitored", "清退": "removed", "注销": "cancelled",
}


def parse_status(text: str) -> HouseholdStatus:
    value = STATUS_WORDS.get(text, text.lower())
    try:
        return HouseholdStatus(value)
    except ValueError:
        raise not_one_of(text, STATUS_WORDS) from None


HOUSEHOLD_COLUMNS = [
    Column("code", ("户编码", "household_code")),
    Column("village", ("村代码", "village_code")),
    Column("head_name", ("户主姓名", "head_name")),
    Column("status", ("户状态", "status"), parse_status),
    Column("registered_on", ("识别日期", "registered_on"), parse_date),
    Column("bank_card", ("银行卡号", "bank_card"), normalise_card, required=False),
    Column("phone", ("联系电话", "phone"), required=False),
    # The day 户状态 took effect when it is not the enrolment's (脱贫时间, 清退日期 of a registry
    # export): the household is enrolled (建档立卡) on 识别日期 and changes to 户状态 then.
    Column("status_date", ("状态日期", "status_date"), parse_date, required=False),
]

def registered_id(text: str) -> IdNumber:
    """A member's ID number as the registry has it: length, characters and birth date must be
    right; a wrong check character is marked, and judged by `import_members`."""
    try:
        return read_number(text)
    except IdNumberError as exc:
        raise LedgerError(str(exc), code="id_number_invalid", problem=exc.problem) from None


MEMBER_COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("name", ("姓名", "name")),
    Column("relation", ("与户主关系", "relation")),
    Column("id_number", ("身份证号", "id_number"), registered_id),
    Column("death_date", ("死亡日期", "death_date"), parse_date, required=False),
]


@dataclass
class ImportResult:
    kind: str
    added: int
    unchanged: int
    # What went in with a remark, or was in the file and not read: csvfile.Problem values
    # (file, line, column, code, params, reason) that did not stop the import.
    report: list = field(default_factory=list)


REGISTER_BATCH = 5_000

# A line's part in the writing passes, by its place among the file's rows (one byte a line:
# the rows are read again from the file, in the same order, instead of being kept): a new
# household, a status change to record (户状态 after 识别日期), or both.
_NEW, _STATUS = 1, 2


def import_households(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, HOUSEHOLD_COLUMNS)
    name = Path(path).name
    problems, checked, same = Problems(), Problems(), 0   # every problem of the file
    parts = bytearray(len(rows))
    villages: set[str] = set()

    def check(row):
        # Each new line's own checks, so that a refusal names its line and column (every
        # line's, with the loop's problems below); register_households makes them again.
        v = row.values
        check_new_household(session, actor, v["village"], v["registered_on"], v["bank_card"],
                            villages)
        check_text(Household.__table__, {"code": v["code"], "village_code": v["village"],
                                         "head_name": v["head_name"]})

    with _FirstLines() as seen:
        for place, row in enumerate(rows):
            v = row.values
            first = seen.first(v["code"], row.line)
            if first is not None:
                problems.append(Problem(name, row.line, "户编码", f"{v['code']} also on line "
                                        f"{first}", "line_repeated", {"first_line": first}))
                continue
            if v.get("status_date") is not None and v["status_date"] < v["registered_on"]:
                problems.append(Problem(name, row.line, "状态日期", f"状态日期 "
                                        f"{v['status_date']} is before 识别日期 "
                                        f"{v['registered_on']}", "dates_reversed",
                                        {"field": "状态日期", "start": v["registered_on"],
                                         "end": v["status_date"]}))
                continue
            existing = session.get(Household, v["code"])
            if existing is None:
                if session.get(Payee, v["code"]) is not None:
                    problems.append(Problem(name, row.line, "户编码",
                                            f"{v['code']} is already a contractor's code",
                                            "already_exists", {"what": "payee",
                                                               "key": v["code"]}))
                else:
                    parts[place] = _NEW | (_STATUS if _enrolled_as(v) is not v["status"]
                                           else 0)
                    checked.extend(every_line(name, (row,), check, columns=HOUSEHOLD_COLUMNS,
                                              by_code=_HOUSEHOLD_COLUMN_OF, default="户编码"))
                continue
            if not in_scope(session, actor, existing.village_code):
                # Another region's household: say only that the code is taken (as key_taken).
                problems.append(Problem(name, row.line, "户编码", f"code {v['code']} is "
                                        "already used", "code_taken", {"key": v["code"]}))
                continue
            diffs = _household_diffs(session, existing, v, vault)
            if diffs:
                problems.append(Problem(name, row.line, "户编码", f"household {v['code']} was "
                                        f"imported before (log entry {existing.log_index}) "
                                        f"with other values: {'; '.join(diffs)}",
                                        "import_reused", {"what": "household", "key": v["code"],
                                                          "log_index": existing.log_index}))
            else:
                same += 1
                if _enrolled_as(v) is not v["status"]:
                    # A later export's status with its date (清退 since June): recorded as the
                    # status history import records it; already recorded, nothing is written.
                    parts[place] = _STATUS
    _raise_if((problems + checked).sorted(key=_report_order), rows)
    # The writing passes read the rows again (memory bounded by a batch, not by the file:
    # bench/import_memory.py): every new household, in batches (register_households: the
    # same rows and entries as one call), then the status changes of the new lines and of
    # the lines already imported, in that order.
    _in_batches(rows, parts, (_NEW, _NEW | _STATUS), lambda batch: register_households(
        session, actor, vault, [
            NewHousehold(v["code"], v["village"], v["head_name"], _enrolled_as(v),
                         v["registered_on"], v["bank_card"], v["phone"]) for v in batch]))
    for part in (_NEW | _STATUS, _STATUS):
        _in_batches(rows, parts, (part,), lambda batch: record_past_statuses(
            session, actor, [PastStatus(v["code"], v["status"], v["status_date"],
                                        "户状态（建档立卡户导入）") for v in batch]))
    return ImportResult("households", parts.count(_NEW) + parts.count(_NEW | _STATUS), same,
                        rows.report)


def _in_batches(rows, parts: bytearray, wanted: tuple[int, ...], write) -> None:
    """`write(values)` for the rows whose part is in `wanted`, REGISTER_BATCH at a time, in the
    file's order; no pass over the file when there is none."""
    if not any(part in parts for part in wanted):
        return
    batch = []
    for place, row in enumerate(rows):
        # A file changed since it was checked is refused when its reading ends (csvfile,
        # file_changed) and the transaction rolls back; a line past the checked ones waits.
        if place >= len(parts) or parts[place] not in wanted:
            continue
        batch.append(row.values)
        if len(batch) == REGISTER_BATCH:
            write(batch)
            batch = []
    if batch:
        write(batch)


class _FirstLines:
    """The line each code of a file is first on, kept in a private SQLite database on disk
    (stdlib sqlite3; deleted when closed) rather than in memory: a 200 MB file has 2.5 million
    codes, and a dict of them took 300 MB. Exact (the codes themselves, under a primary key),
    for any database the ledger is on."""

    def __enter__(self):
        # "": a temporary database of this connection alone, in a file SQLite deletes; its
        # pages beyond the cache go to that file. Nothing needs to survive a crash.
        self._db = sqlite3.connect("")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE first_line (code TEXT PRIMARY KEY, line INTEGER) "
                         "WITHOUT ROWID")
        return self

    def __exit__(self, *exc) -> None:
        self._db.close()

    def first(self, code: str, line: int) -> int | None:
        """The line `code` was first on, or None when `line` is its first (then recorded)."""
        if self._db.execute("INSERT OR IGNORE INTO first_line VALUES (?, ?)",
                            (code, line)).rowcount:
            return None
        return self._db.execute("SELECT line FROM first_line WHERE code = ?",
                                (code,)).fetchone()[0]


def _enrolled_as(v: dict) -> HouseholdStatus:
    """The status at enrolment (识别日期): 户状态 itself, unless 状态日期 says it took effect
    later — then the household was enrolled as 建档立卡 and changed on 状态日期."""
    later = v.get("status_date") is not None and v["status_date"] > v["registered_on"]
    return HouseholdStatus.REGISTERED if later else v["status"]


def _household_diffs(session, existing: Household, v: dict, vault: PiiVault) -> list[str]:
    diffs = []
    first = session.execute(select(HouseholdEvent).where(
        HouseholdEvent.household_code == existing.code).order_by(HouseholdEvent.id)
        .limit(1)).scalar_one()
    if (first.status, first.effective_date) != (_enrolled_as(v), v["registered_on"]):
        diffs.append(f"户状态/识别日期 {first.status.value} {first.effective_date} → "
                     f"{_enrolled_as(v).value} {v['registered_on']} (status changes are recorded "
                     "as events, not by re-importing)")
    if existing.village_code != v["village"]:
        diffs.append(f"村代码 {existing.village_code} → {v['village']}")
    if existing.head_name != v["head_name"]:
        diffs.append(f"户主姓名 {existing.head_name} → {v['head_name']}")
    card = vault.decrypt(existing.bank_card) if existing.bank_card else None
    if card != v["bank_card"]:
        diffs.append("银行卡号 differs")
    phone = vault.decrypt(existing.phone) if existing.phone else None
    if phone != v["phone"]:
        diffs.append("联系电话 differs")
    return diffs


def import_members(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    accept_wrong_check = context_of(session).accept_wrong_check_character
    rows = read(path, MEMBER_COLUMNS)
    name = Path(path).name
    problems, new, same, report = Problems(), [], 0, list(rows.report)
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        number: IdNumber = v["id_number"]
        if number.wrong_check_character:
            if not accept_wrong_check:
                problems.append(Problem(name, row.line, "身份证号", "check character is wrong "
                                        "(typing error?); a historical registry record is "
                                        "imported with [imports] accept_wrong_check_character",
                                        "id_number_invalid", {"problem": "check_character"}))
                continue
            report.append(Problem(name, row.line, "身份证号", f"household {v['household']}, "
                                  f"{v['name']}: the ID number's check character is wrong; "
                                  "imported as registered", "id_check_character_accepted",
                                  {"household": v["household"]}))
        # Matched through the 18-character form: a legacy number is the same person as its
        # new form (ledger.households.registry.add_member).
        key = (v["household"], vault.digest(number.matching))
        if key in seen:
            problems.append(Problem(name, row.line, "身份证号", f"the same person is on line "
                                    f"{seen[key]}", "line_repeated", {"first_line": seen[key]}))
            continue
        seen[key] = row.line
        household = household_of_line(session, actor, name, row.line, v["household"],
                                      problems)
        if household is None:
            continue
        existing = session.execute(select(Member).where(
            Member.household_code == key[0], Member.id_digest == key[1])).scalar_one_or_none()
        if existing is None:
            new.append(row)
        elif (existing.name, existing.relation, existing.death_date) != \
                (v["name"], v["relation"], v["death_date"]):
            problems.append(Problem(name, row.line, "身份证号", f"this person was imported "
                                    f"before (log entry {existing.log_index}) with other "
                                    "name, relation or death date", "import_reused",
                                    {"what": "member", "key": v["household"],
                                     "log_index": existing.log_index}))
        else:
            same += 1
            if vault.decrypt(existing.id_number) != number.registered:
                report.append(Problem(name, row.line, "身份证号", f"household "
                                      f"{v['household']}, {v['name']}: imported before (log "
                                      f"entry {existing.log_index}) with the ID number in its "
                                      "other form (15 or 18 characters); the number as first "
                                      "registered is kept", "id_number_form_kept",
                                      {"household": v["household"],
                                       "log_index": existing.log_index}))
    members = []

    def check(row):
        v = row.values
        member = NewMember(v["name"], v["relation"], v["id_number"].registered, v["death_date"],
                           accept_wrong_check_character=accept_wrong_check)
        prepare_member(vault, v["household"], member)
        check_text(Member.__table__, {"name": v["name"]})
        members.append((v["household"], member))

    checked = every_line(name, new, check, columns=MEMBER_COLUMNS,
                         by_code={"invalid_choice": "与户主关系", "id_number_invalid": "身份证号",
                                  "number_character": "身份证号", "date_invalid": "死亡日期"},
                         default="身份证号")
    _raise_if((problems + checked).sorted(key=_report_order), rows)
    add_members(session, actor, vault, members)   # all at once, as add_member would one by one
    return ImportResult("members", len(new), same, sorted(report, key=_report_order))


def household_of_line(session: Session, actor: User, name: str, line: int, code: str,
                      problems: list[Problem]) -> Household | None:
    """The registered household a line names, if it exists and lies in the actor's region;
    otherwise None, with the problem added (the importers of members and of their history
    look up a line's household the same way)."""
    try:
        household = get_household(session, code)
    except LedgerError as exc:
        problems.append(Problem(name, line, "户编码", str(exc), exc.code, exc.params))
        return None
    if not in_scope(session, actor, household.village_code):
        problems.append(Problem(name, line, "户编码", f"household {code} is outside your region",
                                "household_out_of_scope", {"household": code}))
        return None
    return household


def _report_order(line: Problem) -> int:
    return line.line   # by line; within a line, in the order found (sorted is stable)


def _raise_if(problems: list[Problem], rows=None) -> None:
    """Every problem, each cell's with its column's place in the file."""
    if problems:
        places = getattr(rows, "positions", {})
        placed = Problems(p if p.position or p.column not in places
                          else replace(p, position=places[p.column]) for p in problems)
        placed.more = getattr(problems, "more", 0)
        raise ImportProblems(placed)


# Which column a refusal of the household checks points at (the rest: 户编码).
_HOUSEHOLD_COLUMN_OF = {"not_found": "村代码", "not_a_village": "村代码",
                        "out_of_scope": "村代码",
                        "date_invalid": "识别日期", "date_future": "识别日期",
                        "bank_card_invalid": "银行卡号", "number_character": "银行卡号",
                        "text_too_long": "户主姓名"}
