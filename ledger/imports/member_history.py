"""Import kind `member_history`: when each member joined the household, and when and why they
left it, as a county's registry keeps them (columns: docs/formats.md, "member_history").

A line names a member already imported (`members`) by household code and ID number, matched
through the keyed digest of the number's 18-character form, as the members import matches: a
legacy 15-digit number finds the member registered with its 18-digit form and the reverse.

Each line goes in through the service that records the same event one by one
(ledger.households.changes), so an imported death is exactly what `household died` records and a
move-out what `household move` (without --to) records; a line those services refuse is refused
with their code. `joined` (加入) is `record_joined`; `split` (分户) is a move-out whose reason
starts with 分户, as `household split` writes it. Without 新户编码 the line names no new household
and no household link is made; with it, the line names a household already imported (none is
created here) and goes through `record_split_into`: the move into it, the split link dated on
the line's date (the new household's creation), and its enrolment from 纳入日期 if it has none.

All-or-nothing and idempotent: every line is checked; if any is refused the error lists file,
line and column of each and nothing is written. A member's event already recorded on the same
date is counted as unchanged (a death registered at the members import, 死亡日期, included); on
another date it is refused (`member_event_conflict`). Each recorded line is its own audit entry.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households.changes import (
    member_gone,
    member_joined,
    move_member,
    record_death,
    record_joined,
    record_split_into,
)
from ledger.households.registry import enrolment
from ledger.imports.csvfile import Column, ImportProblems, Problem, not_one_of, parse_date, read
from ledger.imports.households import ImportResult, household_of_line, registered_id
from ledger.models import Member, MemberEvent, MemberEventKind, User
from ledger.store.access import Action, require

EVENT_WORDS = {"加入": "joined", "迁出": "moved_out", "死亡": "died", "分户": "split"}
SPLIT_PREFIX = "分户"


def parse_event(text: str) -> str:
    value = EVENT_WORDS.get(text, text.lower())
    if value not in EVENT_WORDS.values():
        raise not_one_of(text, EVENT_WORDS)
    return value


COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("id_number", ("身份证号", "id_number"), registered_id),
    Column("event", ("事件", "event"), parse_event),
    Column("date", ("日期", "date"), parse_date),
    Column("reason", ("原因", "reason"), required=False),
    # 分户 only: the household the member split off into, already imported (no household is
    # created here), and the day it was enrolled (纳入), if the registry gives it.
    Column("new_household", ("新户编码", "new_household_code"), required=False),
    Column("enrolled_on", ("纳入日期", "enrolled_on"), parse_date, required=False),
]

# Which column a service's refusal points at.
_COLUMN_OF = {"member_gone": "事件", "member_dead": "事件", "member_dates_reversed": "日期",
              "member_event_conflict": "日期", "date_invalid": "日期",
              "split_date_conflict": "日期", "member_already_in": "新户编码",
              "household_already_enrolled": "纳入日期", "enrolment_before_split": "纳入日期"}


def _event_word(event: MemberEvent) -> str:
    if event.kind == MemberEventKind.MOVED_OUT and event.reason.startswith(SPLIT_PREFIX):
        return "split"
    return event.kind.value


def import_member_history(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, COLUMNS)
    name = Path(path).name
    problems: list[Problem] = []
    report: list[Problem] = list(rows.report)
    todo: list[tuple] = []
    same = 0
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        digest = vault.digest(v["id_number"].matching)
        # One joining and one leaving per member and file.
        key = (v["household"], digest, v["event"] == "joined")
        if key in seen:
            problems.append(Problem(name, row.line, "事件", f"the same person's "
                                    f"{'joining' if key[2] else 'leaving'} is on line "
                                    f"{seen[key]}", "line_repeated", {"first_line": seen[key]}))
            continue
        seen[key] = row.line
        household = household_of_line(session, actor, name, row.line, v["household"],
                                      problems)
        if household is None:
            continue
        if not _split_columns_fit(session, actor, name, row, problems, report):
            continue
        member = session.execute(select(Member).where(
            Member.household_code == household.code, Member.id_digest == digest)
        ).scalar_one_or_none()
        if member is None:
            problems.append(Problem(name, row.line, "身份证号", f"no member of household "
                                    f"{household.code} has this ID number (import the member "
                                    "first)", "member_not_in_household",
                                    {"household": household.code}))
            continue
        recorded = _recorded(session, member, v["event"])
        if recorded is None:
            todo.append((row, member))
        elif recorded[0] == v["date"]:
            if _same_split(session, name, row, member, problems):
                same += 1
        else:
            day, log_index = recorded
            problems.append(Problem(
                name, row.line, "日期", f"member #{member.id} of household {household.code}: "
                f"{v['event']} is recorded on {day} (log entry {log_index}), not on {v['date']}",
                "member_event_conflict",
                {"member": member.id, "household": household.code, "event": v["event"],
                 "recorded": day, "given": v["date"], "log_index": log_index}))
    # Every line the checks above let through goes to its service; a refusal is collected with
    # its line, and then nothing is kept (the caller rolls the transaction back).
    for row, member in todo:
        v = row.values
        try:
            _record(session, actor, vault, member, v)
        except LedgerError as exc:
            problems.append(Problem(name, row.line, _COLUMN_OF.get(exc.code, "事件"), str(exc),
                                    exc.code, exc.params))
    if problems:
        raise ImportProblems(sorted(problems, key=lambda p: p.line))
    return ImportResult("member_history", len(todo), same,
                        sorted(report, key=lambda p: p.line))


def _split_columns_fit(session: Session, actor: User, name: str, row, problems: list[Problem],
                       report: list[Problem]) -> bool:
    """新户编码 and 纳入日期 belong to a 分户 line, 纳入日期 with its 新户编码; the new household
    exists (this file creates none) in the importer's region. A new household enrolled before
    the split's date is reported (the registry's dates, recorded as they are)."""
    v = row.values
    if v["new_household"] is None:
        if v["enrolled_on"] is not None:
            problems.append(Problem(name, row.line, "新户编码", "纳入日期 is the enrolment of "
                                    "the new household: name it in 新户编码", "required",
                                    {"field": "新户编码"}))
            return False
        return True
    if v["event"] != "split":
        problems.append(Problem(name, row.line, "新户编码", "新户编码 is read on 分户 lines "
                                "only", "cell_invalid",
                                {"detail": "新户编码 is read on 分户 lines only"}))
        return False
    found: list[Problem] = []
    target = household_of_line(session, actor, name, row.line, v["new_household"], found)
    if target is None:
        problems.extend(Problem(name, p.line, "新户编码", p.reason, p.code, p.params)
                        for p in found)
        return False
    enrolled = enrolment(session, target.code)
    if enrolled is not None and enrolled.effective_date < v["date"]:
        report.append(Problem(name, row.line, "日期", f"household {target.code} was enrolled "
                              f"on {enrolled.effective_date}, before its split on {v['date']}; "
                              "recorded as the registry has it", "split_after_enrolment",
                              {"household": target.code, "split_on": v["date"].isoformat(),
                               "enrolled": enrolled.effective_date.isoformat()}))
    return True


def _same_split(session: Session, name: str, row, member: Member,
                problems: list[Problem]) -> bool:
    """A split already recorded on the line's date: unchanged if it went to the household the
    line names (or the line names none) and the line's enrolment date is the recorded one."""
    v = row.values
    if v["event"] != "split" or v["new_household"] is None:
        return True
    gone = member_gone(session, member.id)
    if gone.to_household_code != v["new_household"]:
        problems.append(Problem(name, row.line, "新户编码", f"member #{member.id}'s split was "
                                f"recorded (log entry {gone.log_index}) into "
                                f"{gone.to_household_code or 'no registered household'}",
                                "import_reused", {"what": "member", "key": v["household"],
                                                  "log_index": gone.log_index}))
        return False
    enrolled = enrolment(session, v["new_household"])
    if v["enrolled_on"] is not None and (enrolled is None
                                         or enrolled.effective_date != v["enrolled_on"]):
        if enrolled is None:
            problems.append(Problem(name, row.line, "纳入日期", f"household "
                                    f"{v['new_household']} is not enrolled; enrol it with "
                                    "`household enrol`", "household_not_enrolled",
                                    {"household": v["new_household"]}))
        else:
            problems.append(Problem(name, row.line, "纳入日期", f"household "
                                    f"{v['new_household']} was enrolled on "
                                    f"{enrolled.effective_date} (log entry "
                                    f"{enrolled.log_index})", "household_already_enrolled",
                                    {"household": v["new_household"],
                                     "enrolled": enrolled.effective_date.isoformat(),
                                     "log_index": enrolled.log_index}))
        return False
    return True


def _recorded(session: Session, member: Member, event: str):
    """(date, log entry) of the member's event of this kind already recorded, or None."""
    if event == "joined":
        joined = member_joined(session, member.id)
        return None if joined is None else (joined.effective_date, joined.log_index)
    gone = member_gone(session, member.id)
    if gone is not None:
        # Another kind of leaving goes to the service, which refuses it (member_gone).
        return (gone.effective_date, gone.log_index) if _event_word(gone) == event else None
    if event == "died" and member.death_date is not None:
        return member.death_date, member.log_index   # registered dead at the members import
    return None


def _record(session: Session, actor: User, vault: PiiVault, member: Member, v: dict) -> None:
    reason = v["reason"] or ""
    if v["event"] == "joined":
        record_joined(session, actor, member.id, v["date"], reason)
    elif v["event"] == "died":
        record_death(session, actor, member.id, v["date"], reason)
    elif v["event"] == "moved_out":
        move_member(session, actor, vault, member.id, to_household=None,
                    effective_date=v["date"], reason=reason or "迁出")
    elif v["new_household"] is None:   # split: as household split writes its move-out reason
        move_member(session, actor, vault, member.id, to_household=None,
                    effective_date=v["date"], reason=f"{SPLIT_PREFIX} {reason}".rstrip())
    else:   # split into a household already imported: the link, and its enrolment if given
        record_split_into(session, actor, vault, member.id, to_code=v["new_household"],
                          effective_date=v["date"], reason=f"{SPLIT_PREFIX} {reason}".rstrip(),
                          enrolled_on=v["enrolled_on"])
