"""A county's household records as they are (issue 17): the status history imported as the
registry keeps it (`household_status`), and a split's new household created on the split's date
and enrolled on its own date — from the command line and real files (CSV in UTF-8 and GB18030,
XLSX), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.audit.verify import verify
from ledger.core.pii import PiiVault
from ledger.households.registry import current_status, enrolment, status_on
from ledger.imports.csvfile import ImportProblems
from ledger.imports.kinds import run_import
from ledger.models import (
    AuditEntry,
    Household,
    HouseholdEvent,
    HouseholdLink,
    HouseholdLinkKind,
    HouseholdStatus,
    Member,
    MemberEvent,
)
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write
from tests.world import VILLAGE

D = dt.date
HEADER = ["户编码", "户状态", "变更日期", "原因", "文号"]
# H-100 was enrolled (识别日期) on 2019-05-01 as 建档立卡, H-101 on 2019-05-01 as 已脱贫.
HISTORY = [
    ["H-100", "监测对象", "2022-03-01", "", ""],                       # 2: the file's order
    ["H-100", "建档立卡", "2014-05-01", "首次识别", "湘扶〔2014〕1号"],  # 3: before enrolment
    ["H-100", "已脱贫", "2016/12/31", "2016年脱贫", ""],               # 4: before enrolment
    ["H-100", "建档立卡", "2019-05-01", "", ""],                       # 5: the enrolment itself
    ["H-100", "已脱贫", "2020年12月20日", "2020年脱贫验收", "湘扶〔2020〕9号"],   # 6
    ["H-100", "monitored", "2023-03-01", "年度复核", ""],              # 7: repeats
    ["H-101", "返贫", "2021-01-01", "因病返贫", ""],                   # 8
    ["H-101", "注销", "2022-01-01", "户销", ""],                       # 9
    ["H-101", "返贫", "2023-01-01", "恢复", ""],                       # 10: after 注销
]


def history_file(tmp_path, form, rows=HISTORY, name="status"):
    if form == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        path = tmp_path / f"{name}.xlsx"
        book.save(path)
        return path
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    return write(tmp_path, f"{name}.csv", out.getvalue(), form)


@pytest.fixture
def ft(cli, world, tmp_path):
    assert cli("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS))[0] == 0
    members = MEMBERS + f"H-100,赵二,子,{idn(14, '20000505')},\n"
    assert cli("--as", "k_clerk", "import", "members", write(tmp_path, "m.csv", members))[0] == 0
    return cli


def imported(ft, kind, path):
    code, out, err = ft("--as", "k_clerk", "import", kind, path, "--json")
    assert code == 0, err
    return json.loads(out)


def run(world, kind, path):
    with transaction(world.factory) as s:
        return run_import(s, get_user(s, "k_clerk"), kind, path, vault=PiiVault.from_env())


def history(world, code):
    with transaction(world.factory) as s:
        return [(e.effective_date, e.status.value, e.reason, e.doc_number)
                for e in s.execute(select(HouseholdEvent).where(
                    HouseholdEvent.household_code == code).order_by(
                    HouseholdEvent.effective_date, HouseholdEvent.id)).scalars()]


def count(world, model):
    with transaction(world.factory) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def assert_intact(world):
    with transaction(world.factory) as s:
        report = verify(s)
        assert report.intact, [f.message for f in report.findings]


@pytest.mark.parametrize("form", ["utf-8-sig", "gb18030", "xlsx"])
def test_status_history_goes_in_as_the_registry_keeps_it(ft, world, tmp_path, form):
    entries = count(world, AuditEntry)
    result = imported(ft, "household_status", history_file(tmp_path, form))
    assert (result["added"], result["unchanged"]) == (8, 1)
    assert [(r["line"], r["code"]) for r in result["report"]] == [
        (3, "status_before_registration"), (4, "status_before_registration"),
        (7, "status_repeated"), (10, "status_not_in_sequence")]
    assert result["report"][3]["params"]["previous"] == "cancelled"
    assert count(world, AuditEntry) == entries + 8      # one entry per line written
    assert history(world, "H-100") == [
        (D(2014, 5, 1), "registered", "首次识别", "湘扶〔2014〕1号"),
        (D(2016, 12, 31), "exited", "2016年脱贫", None),
        (D(2019, 5, 1), "registered", "registration", None),
        (D(2020, 12, 20), "exited", "2020年脱贫验收", "湘扶〔2020〕9号"),
        (D(2022, 3, 1), "monitored", "", None),
        (D(2023, 3, 1), "monitored", "年度复核", None)]
    with transaction(world.factory) as s:
        assert status_on(s, "H-100", D(2017, 6, 1)) is HouseholdStatus.EXITED
        assert status_on(s, "H-100", D(2021, 6, 1)) is HouseholdStatus.EXITED
        assert current_status(s, "H-100") is HouseholdStatus.MONITORED
        assert status_on(s, "H-101", D(2022, 6, 1)) is HouseholdStatus.CANCELLED
        assert current_status(s, "H-101") is HouseholdStatus.RETURNED   # as the registry says
        assert enrolment(s, "H-100").effective_date == D(2019, 5, 1)     # still the enrolment
    shown = ft("--as", "k_clerk", "household", "show", "H-100")[1]
    assert "2020-12-20 exited     2020年脱贫验收 (湘扶〔2020〕9号)" in shown
    # Again: every line is recorded, nothing is written twice; a new document number on a
    # recorded line is reported and the first kept.
    again = [*HISTORY[:4], ["H-100", "已脱贫", "2020-12-20", "", "湘扶〔2020〕10号"], *HISTORY[5:]]
    result = imported(ft, "household_status", history_file(tmp_path, form, again, "again"))
    assert (result["added"], result["unchanged"]) == (0, 9)
    assert [(r["line"], r["column"], r["code"]) for r in result["report"]] == [
        (6, "文号", "status_kept_as_recorded")]
    assert count(world, AuditEntry) == entries + 8
    # A clerk's change made now still follows the rules of a change made now.
    code, _, err = ft("--as", "k_clerk", "household", "status", "H-100", "已脱贫", "--date",
                      "2024-06-30", "--reason", "2024年脱贫验收", "--doc-number", "湘扶〔2024〕3号")
    assert code == 0, err
    assert history(world, "H-100")[-1] == (D(2024, 6, 30), "exited", "2024年脱贫验收",
                                           "湘扶〔2024〕3号")
    assert_intact(world)


def test_what_cannot_be_true_is_refused_by_line_and_column(ft, world, tmp_path):
    rows = [
        ["H-100", "已脱贫", "2020-12-20", "", ""],
        ["H-100", "已脱贫", "2019-05-01", "", ""],     # 3: the enrolment day says 建档立卡
        ["H-999", "已脱贫", "2020-12-20", "", ""],     # 4: no such household
        ["H-101", "返贫", "2021-01-01", "", ""],
        ["H-101", "监测对象", "2021-01-01", "", ""],   # 6: another status, same day, line 5
        ["H-101", "返贫", "2021-01-01", "", ""],       # 7: line 5 again
    ]
    events = count(world, HouseholdEvent)
    with pytest.raises(ImportProblems) as caught:
        run(world, "household_status", history_file(tmp_path, "gb18030", rows))
    found = [(p.line, p.column, p.code) for p in caught.value.problems]
    assert found == [
        (3, "变更日期", "household_status_conflict"), (4, "户编码", "not_found"),
        (6, "户状态", "line_repeated"), (7, "变更日期", "line_repeated")]
    conflict = next(p for p in caught.value.problems if p.code == "household_status_conflict")
    assert conflict.params["recorded"] == "registered"
    # Cells that do not read are refused by the reader, all at once, before any check.
    cells = [["H-102", "小康", "2022-01-01", "", ""],       # 2: not a status
             ["H-102", "清退", "2022-13-01", "", ""],       # 3: not a date
             ["H-102", "清退", "", "", ""]]                 # 4: no date
    with pytest.raises(ImportProblems) as caught:
        run(world, "household_status", history_file(tmp_path, "xlsx", cells, "cells"))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "户状态", "cell_not_one_of"), (3, "变更日期", "cell_not_a_date"),
        (4, "变更日期", "cell_empty")]
    assert count(world, HouseholdEvent) == events    # all or nothing


def members_of(ft, code):
    return {m["name"]: m["id"] for m in json.loads(
        ft("--as", "k_clerk", "household", "show", code, "--json")[1])["members"]}


def test_a_split_is_created_on_its_date_and_enrolled_on_its_own(ft, world, tmp_path):
    k = ["--as", "k_clerk", "household"]
    ids = members_of(ft, "H-100")
    code, _, err = ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"],
                      "--head", ids["赵二"], "--date", "2024-09-01", "--reason", "成婚分户")
    assert code == 2 and "--enrolled-on" in err           # say when it is enrolled, or not yet
    code, _, err = ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"],
                      "--head", ids["赵二"], "--date", "2024-09-01", "--enrolled-on",
                      "2024-08-31", "--reason", "成婚分户")
    assert code == 2 and "cannot be enrolled on 2024-08-31" in err
    code, out, err = ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"],
                        "--head", ids["赵二"], "--date", "2024-09-01", "--enrolled-on",
                        "2025-03-01", "--reason", "成婚分户")
    assert code == 0 and "enrolled on 2025-03-01" in out, err
    view = json.loads(ft(*k, "show", "H-100-1", "--json")[1])
    assert (view["created"], view["enrolled"], view["status"]) == (
        "2024-09-01", "2025-03-01", "registered")
    assert view["history"] == [{"status": "registered", "date": "2025-03-01",
                                "reason": "registration", "doc_number": None}]
    with transaction(world.factory) as s:
        # What BEN-08 reads: the split link's date (creation) and the enrolment event.
        link = s.execute(select(HouseholdLink).where(
            HouseholdLink.to_household_code == "H-100-1")).scalar_one()
        assert (link.kind, link.from_household_code, link.effective_date) == (
            HouseholdLinkKind.SPLIT, "H-100", D(2024, 9, 1))
        assert enrolment(s, "H-100-1").effective_date == D(2025, 3, 1)
        assert status_on(s, "H-100-1", D(2024, 12, 1)) is None   # not enrolled then: not paid
    assert_intact(world)


def test_a_split_not_enrolled_yet_is_enrolled_later(ft, world, tmp_path):
    k = ["--as", "k_clerk", "household"]
    ids = members_of(ft, "H-100")
    code, out, err = ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"],
                        "--head", ids["赵二"], "--date", "2024-09-01", "--not-enrolled",
                        "--reason", "成婚分户")
    assert code == 0 and "not enrolled yet" in out, err
    view = json.loads(ft(*k, "show", "H-100-1", "--json")[1])
    assert (view["created"], view["enrolled"], view["status"], view["history"]) == (
        "2024-09-01", None, None, [])
    assert "not enrolled" in ft(*k, "show", "H-100-1")[1]
    code, _, err = ft(*k, "status", "H-100-1", "已脱贫", "--date", "2024-12-01", "--reason", "x")
    assert code == 2 and "is not enrolled" in err
    with pytest.raises(ImportProblems) as caught:
        run(world, "household_status", history_file(
            tmp_path, "utf-8", [["H-100-1", "建档立卡", "2024-10-01", "", ""]]))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "户编码", "household_not_enrolled")]
    # It exists from the split: a member may join it then, not before.
    code, _, err = ft(*k, "move", ids["赵小"], "--to", "H-100-1", "--date", "2024-08-31",
                      "--reason", "随兄")
    assert code == 2 and "nobody can join it on 2024-08-31" in err
    assert ft(*k, "move", ids["赵小"], "--to", "H-100-1", "--date", "2024-09-15",
              "--reason", "随兄")[0] == 0
    code, _, err = ft(*k, "enrol", "H-100-1", "--date", "2024-08-01")
    assert code == 2 and "formed by a split on 2024-09-01" in err
    assert ft(*k, "enrol", "H-100-1", "--date", "2024-11-15", "--status", "监测对象")[0] == 0
    code, _, err = ft(*k, "enrol", "H-100-1", "--date", "2024-11-16")
    assert code == 2 and "was enrolled on 2024-11-15" in err
    view = json.loads(ft(*k, "show", "H-100-1", "--json")[1])
    assert (view["created"], view["enrolled"], view["status"]) == (
        "2024-09-01", "2024-11-15", "monitored")
    assert_intact(world)


SPLIT_HEADER = "户编码,身份证号,事件,日期,原因,新户编码,纳入日期\n"


@pytest.fixture
def registry(ft, tmp_path):
    """The registry as a county exports it: the split-off household H-103 in the households
    file (its 识别日期 is its enrolment), 赵二 a member of both H-100 and H-103."""
    households = (HOUSEHOLDS.splitlines()[0] + "\n"
                  f"H-103,{VILLAGE},赵二,建档立卡,2024-12-01,,\n")
    assert ft("--as", "k_clerk", "import", "households",
              write(tmp_path, "h3.csv", households))[0] == 0
    members = ("户编码,姓名,与户主关系,身份证号,死亡日期\n"
               f"H-103,赵二,户主,{idn(14, '20000505')},\n")
    assert ft("--as", "k_clerk", "import", "members", write(tmp_path, "m3.csv", members))[0] == 0
    return ft


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_an_imported_split_names_the_household_it_formed_and_creates_none(
        registry, world, tmp_path, encoding):
    households, members = count(world, Household), count(world, Member)
    lines = (SPLIT_HEADER +
             f"H-100,{idn(14, '20000505')},分户,2024-09-01,成婚分户,H-103,\n"
             f"H-100,{idn(12, '20050303')},分户,2024-09-01,随兄分户,H-103,2024-12-01\n")
    result = run(world, "member_history", write(tmp_path, "s.csv", lines, encoding))
    assert (result.added, result.unchanged, result.report) == (2, 0, [])
    assert count(world, Household) == households               # no household created
    assert count(world, Member) == members + 1   # 赵小 joins H-103; 赵二 was imported there
    with transaction(world.factory) as s:
        moves = s.execute(select(Member.name, MemberEvent.to_household_code, MemberEvent.reason)
                          .join(Member, Member.id == MemberEvent.member_id)
                          .order_by(Member.name)).all()
        assert sorted(moves) == sorted([("赵二", "H-103", "分户 成婚分户"),
                                        ("赵小", "H-103", "分户 随兄分户")])
        links = s.execute(select(HouseholdLink)).scalars().all()
        assert [(x.kind, x.from_household_code, x.to_household_code, x.effective_date)
                for x in links] == [(HouseholdLinkKind.SPLIT, "H-100", "H-103", D(2024, 9, 1))]
        assert enrolment(s, "H-103").effective_date == D(2024, 12, 1)   # as imported
    result = run(world, "member_history", write(tmp_path, "s.csv", lines, encoding))
    assert (result.added, result.unchanged) == (0, 2)
    assert_intact(world)


def test_an_imported_split_that_cannot_be_true_is_refused(registry, world, tmp_path):
    events = count(world, MemberEvent)
    lines = (SPLIT_HEADER +
             f"H-100,{idn(14, '20000505')},分户,2024-09-01,,H-103,2024-12-02\n"  # enrolled 12-01
             f"H-100,{idn(12, '20050303')},分户,2024-09-01,,H-999,\n"            # no such one
             f"H-100,{idn(11)},迁出,2024-09-01,,H-103,\n"                        # 分户 only
             f"H-101,{idn(13)},死亡,2024-09-01,,,2024-12-01\n")                  # whose enrolment?
    with pytest.raises(ImportProblems) as caught:
        run(world, "member_history", write(tmp_path, "x.csv", lines))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "纳入日期", "household_already_enrolled"), (3, "新户编码", "not_found"),
        (4, "新户编码", "cell_invalid"), (5, "新户编码", "required")]
    assert count(world, MemberEvent) == events


def test_an_imported_split_dated_after_the_enrolment_is_reported(registry, world, tmp_path):
    lines = SPLIT_HEADER + f"H-100,{idn(14, '20000505')},分户,2025-01-05,,H-103,\n"
    result = run(world, "member_history", write(tmp_path, "late.csv", lines))
    assert result.added == 1
    assert [(p.line, p.code, p.params["enrolled"]) for p in result.report] == [
        (2, "split_after_enrolment", "2024-12-01")]
    # The second member into the same household on another day contradicts the link.
    other = SPLIT_HEADER + f"H-100,{idn(12, '20050303')},分户,2025-01-06,,H-103,\n"
    with pytest.raises(ImportProblems) as caught:
        run(world, "member_history", write(tmp_path, "other.csv", other))
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (2, "日期", "split_date_conflict")]


def test_a_split_into_a_household_not_enrolled_yet_enrols_it(ft, world, tmp_path):
    k = ["--as", "k_clerk", "household"]
    ids = members_of(ft, "H-100")
    assert ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"], "--head",
              ids["赵二"], "--date", "2024-09-01", "--not-enrolled", "--reason", "分家")[0] == 0
    lines = SPLIT_HEADER + f"H-100,{idn(12, '20050303')},分户,2024-09-01,,H-100-1,2024-10-01\n"
    assert run(world, "member_history", write(tmp_path, "s.csv", lines)).added == 1
    with transaction(world.factory) as s:
        assert enrolment(s, "H-100-1").effective_date == D(2024, 10, 1)
        assert current_status(s, "H-100-1") is HouseholdStatus.REGISTERED
        assert s.execute(select(func.count()).select_from(HouseholdLink)).scalar_one() == 1
    assert_intact(world)


def test_a_split_merged_back_before_enrolment_is_cancelled_never_enrolled(ft, world):
    k = ["--as", "k_clerk", "household"]
    ids = members_of(ft, "H-100")
    assert ft(*k, "split", "H-100", "--new", "H-100-1", "--member", ids["赵二"], "--head",
              ids["赵二"], "--date", "2024-09-01", "--not-enrolled", "--reason", "分家")[0] == 0
    assert ft(*k, "merge", "H-100-1", "--into", "H-101", "--date", "2024-10-01", "--reason",
              "投亲")[0] == 0
    view = json.loads(ft(*k, "show", "H-100-1", "--json")[1])
    assert (view["status"], view["enrolled"], [h["date"] for h in view["history"]]) == (
        "cancelled", None, ["2024-10-01"])
    code, _, err = ft(*k, "enrol", "H-100-1", "--date", "2024-10-02")
    assert code == 2 and "cancelled since 2024-10-01" in err   # final, as for any household
    with transaction(world.factory) as s:
        assert current_status(s, "H-100-1") is HouseholdStatus.CANCELLED
    assert_intact(world)
