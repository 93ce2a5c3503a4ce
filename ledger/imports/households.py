"""Import kinds `households` and `members` (columns: docs/formats.md).

All-or-nothing and idempotent: every line is parsed and checked against the ledger first; any
problem lists file, line and column and nothing is written. A line already imported with the
same content is skipped; the same key with other content is a problem naming what differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.core.idcard import normalise
from ledger.core.pii import PiiVault
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
    at_line,
    parse_date,
    read,
)
from ledger.models import Household, HouseholdEvent, HouseholdStatus, Member, Payee, User
from ledger.store.access import Action, in_scope, require
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
        raise ValueError(f"{text!r} is not a status ({'、'.join(STATUS_WORDS)} or "
                         f"{', '.join(s.value for s in HouseholdStatus)})") from None


HOUSEHOLD_COLUMNS = [
    Column("code", ("户编码", "household_code")),
    Column("village", ("村代码", "village_code")),
    Column("head_name", ("户主姓名", "head_name")),
    Column("status", ("户状态", "status"), parse_status),
    Column("registered_on", ("识别日期", "registered_on"), parse_date),
    Column("bank_card", ("银行卡号", "bank_card"), normalise_card, required=False),
    Column("phone", ("联系电话", "phone"), required=False),
]

MEMBER_COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("name", ("姓名", "name")),
    Column("relation", ("与户主关系", "relation")),
    Column("id_number", ("身份证号", "id_number"), normalise),
    Column("death_date", ("死亡日期", "death_date"), parse_date, required=False),
]


@dataclass
class ImportResult:
    kind: str
    added: int
    unchanged: int


def import_households(session: Session, actor: User, vault: PiiVault, path) -> ImportResult:
    require(session, actor, Action.RECORD, actor.region_code)
    rows = read(path, HOUSEHOLD_COLUMNS)
    name = Path(path).name
    problems, new, same = [], [], 0
    seen: dict[str, int] = {}
    for row in rows:
        v = row.values
        if v["code"] in seen:
            problems.append(Problem(name, row.line, "户编码", f"{v['code']} also on line "
                                    f"{seen[v['code']]}", "line_repeated",
                                    {"first_line": seen[v["code"]]}))
            continue
        seen[v["code"]] = row.line
        existing = session.get(Household, v["code"])
        if existing is None:
            if session.get(Payee, v["code"]) is not None:
                problems.append(Problem(name, row.line, "户编码",
                                        f"{v['code']} is already a contractor's code",
                                        "already_exists", {"what": "payee", "key": v["code"]}))
            else:
                new.append(row)
            continue
        if not in_scope(session, actor, existing.village_code):
            # Another region's household: say only that the code is taken (as key_taken).
            problems.append(Problem(name, row.line, "户编码", f"code {v['code']} is already used",
                                    "code_taken", {"key": v["code"]}))
            continue
        diffs = _household_diffs(session, existing, v, vault)
        if diffs:
            problems.append(Problem(name, row.line, "户编码", f"household {v['code']} was "
                                    f"imported before (log entry {existing.log_index}) with "
                                    f"other values: {'; '.join(diffs)}", "import_reused",
                                    {"what": "household", "key": v["code"],
                                     "log_index": existing.log_index}))
        else:
            same += 1
    _raise_if(problems)
    # Each line's own checks first, so that a refusal names its line; then every new
    # household at once (households.register_households: the same rows and entries).
    villages: set[str] = set()
    for row in new:
        v = row.values
        at_line(name, row.line, lambda: (check_new_household(
            session, actor, v["village"], v["registered_on"], v["bank_card"], villages),
            check_text(Household.__table__, {"code": v["code"], "village_code": v["village"],
                                             "head_name": v["head_name"]})))
    register_households(session, actor, vault, [
        NewHousehold(v["code"], v["village"], v["head_name"], v["status"], v["registered_on"],
                     v["bank_card"], v["phone"]) for v in (row.values for row in new)])
    return ImportResult("households", len(new), same)


def _household_diffs(session, existing: Household, v: dict, vault: PiiVault) -> list[str]:
    diffs = []
    first = session.execute(select(HouseholdEvent).where(
        HouseholdEvent.household_code == existing.code).order_by(HouseholdEvent.id)
        .limit(1)).scalar_one()
    if (first.status, first.effective_date) != (v["status"], v["registered_on"]):
        diffs.append(f"户状态/识别日期 {first.status.value} {first.effective_date} → "
                     f"{v['status'].value} {v['registered_on']} (status changes are recorded "
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
    rows = read(path, MEMBER_COLUMNS)
    name = Path(path).name
    problems, new, same = [], [], 0
    seen: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        key = (v["household"], vault.digest(v["id_number"]))
        if key in seen:
            problems.append(Problem(name, row.line, "身份证号", f"the same person is on line "
                                    f"{seen[key]}", "line_repeated", {"first_line": seen[key]}))
            continue
        seen[key] = row.line
        try:
            household = get_household(session, v["household"])
        except LedgerError as exc:
            problems.append(Problem(name, row.line, "户编码", str(exc), exc.code, exc.params))
            continue
        if not in_scope(session, actor, household.village_code):
            problems.append(Problem(name, row.line, "户编码", f"household {v['household']} is "
                                    "outside your region", "household_out_of_scope",
                                    {"household": v["household"]}))
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
    _raise_if(problems)
    members = []
    for row in new:
        v = row.values
        member = NewMember(v["name"], v["relation"], v["id_number"], v["death_date"])
        at_line(name, row.line, lambda: (prepare_member(vault, v["household"], member),
                                         check_text(Member.__table__, {"name": v["name"]})))
        members.append((v["household"], member))
    add_members(session, actor, vault, members)   # all at once, as add_member would one by one
    return ImportResult("members", len(new), same)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ImportProblems(problems)
