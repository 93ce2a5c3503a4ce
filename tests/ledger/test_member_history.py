"""Importing members' joining and leaving dates (`member_history`) from real CSV files, on
SQLite and PostgreSQL: for the past, through the services the one-by-one commands use."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ledger.audit.entries import decode_entry
from ledger.audit.verify import verify
from ledger.core.pii import PiiVault
from ledger.households.changes import household_view
from ledger.imports.csvfile import ImportProblems
from ledger.imports.kinds import run_import
from ledger.models import AuditEntry, Member, MemberEvent, MemberEventKind
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write

LEGACY_13 = idn(13)[:6] + idn(13)[8:17]   # 钱二 is registered with his 15-digit number
HISTORY = (
    "户编码,身份证号,事件,日期,原因\n"
    f"H-100,{idn(12, '20050303')},加入,2005-03-03,出生\n"
    f"H-100,{idn(14, '20000505')},加入,2000/5/5,出生\n"
    f"H-100,{idn(14, '20000505')},迁出,2020年9月1日,婚出\n"
    f"H-101,{idn(13)},加入,2010-01-01,户主\n"          # the 18-digit form finds the 15-digit
    f"H-100,{idn(11)},死亡,2023-11-02,\n"
)


@pytest.fixture
def ft(cli, world, tmp_path):
    assert cli("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS))[0] == 0
    members = MEMBERS + f"H-100,赵二,子,{idn(14, '20000505')},\n"
    assert cli("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    return cli


def run(world, path):
    with transaction(world.factory) as s:
        return run_import(s, get_user(s, "k_clerk"), "member_history", path,
                          vault=PiiVault.from_env())


def events(world):
    """Every member event as (household, name, kind, date, reason, to)."""
    with transaction(world.factory) as s:
        return sorted(s.execute(select(
            Member.household_code, Member.name, MemberEvent.kind, MemberEvent.effective_date,
            MemberEvent.reason, MemberEvent.to_household_code).join(
            Member, Member.id == MemberEvent.member_id)).all())


def audit_size(world):
    with transaction(world.factory) as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def assert_intact(world):
    with transaction(world.factory) as s:
        report = verify(s)
        assert report.intact, [f.message for f in report.findings]


def member_ids(ft, code):
    members = json.loads(ft("household", "show", code, "--json")[1])["members"]
    return {m["name"]: m["id"] for m in members}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_joined_and_left_dates_for_the_past_then_unchanged(ft, world, tmp_path, encoding):
    before = audit_size(world)
    code, out, err = ft("--as", "k_clerk", "import", "member_history",
                        write(tmp_path, "history.csv", HISTORY, encoding), "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 5
    assert audit_size(world) == before + 5   # every line is its own audit entry
    d = dt.date
    assert events(world) == sorted([
        ("H-100", "赵小", MemberEventKind.JOINED, d(2005, 3, 3), "出生", None),
        ("H-100", "赵二", MemberEventKind.JOINED, d(2000, 5, 5), "出生", None),
        ("H-100", "赵二", MemberEventKind.MOVED_OUT, d(2020, 9, 1), "婚出", None),
        ("H-101", "钱二", MemberEventKind.JOINED, d(2010, 1, 1), "户主", None),
        ("H-100", "赵大", MemberEventKind.DIED, d(2023, 11, 2), "死亡", None),
    ])
    with transaction(world.factory) as s:
        view = {m["name"]: m for m in household_view(s, None, PiiVault.from_env(),
                                                          "H-100")["members"]}
        h101 = household_view(s, None, PiiVault.from_env(), "H-101")["members"]
    # joining does not take anyone out; death and moving out do
    assert view["赵小"]["present"] and h101[0]["present"]
    assert view["赵二"]["left"] == "moved_out 2020-09-01"
    assert view["赵大"]["left"] == "died 2023-11-02"
    assert_intact(world)

    # the same file again, in the other encoding and with the legacy number written as
    # registered: nothing changes
    again = HISTORY.replace(idn(13), LEGACY_13)
    size, recorded = audit_size(world), events(world)
    result = run(world, write(tmp_path, "again.csv", again, "gb18030"))
    assert (result.added, result.unchanged) == (0, 5)
    assert (audit_size(world), events(world)) == (size, recorded)
    assert_intact(world)


def test_an_imported_death_is_what_household_died_records(ft, world, tmp_path):
    ids = member_ids(ft, "H-100")
    assert ft("--as", "k_clerk", "household", "died", ids["赵大"], "--date", "2023-11-02")[0] == 0
    assert ft("--as", "k_clerk", "household", "move", ids["赵二"], "--date", "2020-09-01",
              "--reason", "婚出")[0] == 0
    history = ("household_code,id_number,event,date,reason\n"
               f"H-101,{LEGACY_13},died,2023-11-02,\n"
               f"H-100,{idn(12, '20050303')},moved_out,2020-09-01,婚出\n")
    code, _, err = ft("--as", "k_clerk", "import", "member_history",
                      write(tmp_path, "d.csv", history))
    assert code == 0, err
    with transaction(world.factory) as s:
        rows = {m.name: (e, decode_entry(s.get(AuditEntry, (e.log_id, e.log_index)).entry))
                for e, m in s.execute(select(MemberEvent, Member).join(
                    Member, Member.id == MemberEvent.member_id))}

    def same_fields(name):
        event, entry = rows[name]
        return ((event.kind, event.effective_date, event.reason, event.to_household_code,
                 event.actor_id), entry["kind"], entry["actor"])
    assert same_fields("钱二") == same_fields("赵大")   # imported == household died
    assert same_fields("赵小") == same_fields("赵二")   # imported == household move
    assert same_fields("钱二")[1] == "member.died"
    # the one-by-one death again, now through the file, is the same event: unchanged
    again = ("户编码,身份证号,事件,日期\n"
             f"H-100,{idn(11)},死亡,2023-11-02\n")
    assert run(world, write(tmp_path, "again.csv", again)).unchanged == 1
    assert_intact(world)


def test_another_date_is_refused_by_line_and_column_and_nothing_goes_in(ft, world, tmp_path):
    assert run(world, write(tmp_path, "h.csv", HISTORY)).added == 5
    size, recorded = audit_size(world), events(world)
    bad = ("户编码,身份证号,事件,日期,原因\n"
           f"H-101,{LEGACY_13},死亡,2024-01-01,\n"                     # good alone
           f"H-100,{idn(12, '20050303')},加入,2005-03-04,出生\n"        # joined: other date
           f"H-100,{idn(11)},死亡,2023-11-03,\n"                        # died: other date
           f"H-100,{idn(14, '20000505')},死亡,2021-01-01,\n"            # already moved out
           f"H-100,{idn(99)},加入,2001-01-01,\n"                        # not a member
           f"H-102,{idn(11)},加入,2001-01-01,\n"                        # not in that household
           f"H-999,{idn(11)},加入,2001-01-01,\n"                        # no such household
           f"H-101,{idn(13)},加入,2010-01-01,\n"                        # the same: unchanged
           f"H-101,{idn(13)},分户,2025-01-01,成婚\n")                   # 钱二 leaves twice
    with pytest.raises(ImportProblems) as caught:
        run(world, write(tmp_path, "bad.csv", bad, "gb18030"))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (3, "日期", "member_event_conflict"),
        (4, "日期", "member_event_conflict"),
        (5, "事件", "member_gone"),
        (6, "身份证号", "member_not_in_household"),
        (7, "身份证号", "member_not_in_household"),
        (8, "户编码", "not_found"),
        (10, "事件", "line_repeated"),
    ]
    conflict = caught.value.problems[1]
    assert conflict.params["recorded"].isoformat() == "2023-11-02"
    assert conflict.params["given"].isoformat() == "2023-11-03"
    assert conflict.params["event"] == "died" and conflict.params["log_index"] > 0
    # nothing went in, not even line 2
    assert (audit_size(world), events(world)) == (size, recorded)

    # leaving before the recorded joining (and the command line's message)
    early = ("户编码,身份证号,事件,日期,原因\n"
             f"H-101,{idn(13)},分户,2009-12-31,成婚\n")
    code, _, err = ft("--as", "k_clerk", "import", "member_history",
                      write(tmp_path, "early.csv", early))
    assert code == 2 and "early.csv, line 2, column 日期" in err, err
    assert "joined on 2010-01-01" in err
    code, _, err = ft("--as", "k_clerk", "import", "member_history",
                      write(tmp_path, "bad.csv", bad))
    assert code == 2 and "bad.csv, line 3, column 日期" in err, err
    assert (audit_size(world), events(world)) == (size, recorded)
    assert_intact(world)


def test_split_out_is_a_move_out_as_household_split_writes_it(ft, world, tmp_path):
    history = ("户编码,身份证号,事件,日期,原因\n"
               f"H-100,{idn(14, '20000505')},分户,2024-09-01,成婚分户\n")
    assert run(world, write(tmp_path, "s.csv", history)).added == 1
    assert [e[1:] for e in events(world)] == [
        ("赵二", MemberEventKind.MOVED_OUT, dt.date(2024, 9, 1),
         "分户 成婚分户", None)]
    assert run(world, write(tmp_path, "s.csv", history)).unchanged == 1
    moved = history.replace("分户,2024", "迁出,2024")   # another kind of leaving: refused
    with pytest.raises(ImportProblems) as caught:
        run(world, write(tmp_path, "m.csv", moved))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "事件", "member_gone")]
    joined_late = history.replace("分户,2024-09-01", "加入,2024-09-02")
    with pytest.raises(ImportProblems) as caught:
        run(world, write(tmp_path, "j.csv", joined_late))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "日期", "member_dates_reversed")]
    assert_intact(world)


def test_a_death_registered_at_the_members_import(cli, world, tmp_path):
    assert cli("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS))[0] == 0
    members = MEMBERS + f"H-100,赵二,子,{idn(14, '20000505')},2022-02-02\n"
    assert cli("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    same = ("户编码,身份证号,事件,日期\n"
            f"H-100,{idn(14, '20000505')},死亡,2022-02-02\n")
    result = run(world, write(tmp_path, "same.csv", same))
    assert (result.added, result.unchanged) == (0, 1) and events(world) == []
    for text, column, code in ((same.replace("2022-02-02", "2022-02-03"), "日期",
                                "member_event_conflict"),
                               (same.replace("死亡", "迁出"), "事件", "member_dead")):
        with pytest.raises(ImportProblems) as caught:
            run(world, write(tmp_path, "x.csv", text))
        assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
            (2, column, code)]
