"""Importing households and members from real CSV files, as offices export them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ledger.audit.verify import verify
from ledger.core.idcard import check_character
from ledger.core.pii import PiiVault
from ledger.households.registry import current_status
from ledger.imports.csvfile import ImportProblems
from ledger.imports.households import import_households, import_members
from ledger.models import AuditEntry, Household, HouseholdStatus, Member
from ledger.store.db import transaction
from tests.world import VILLAGE


def idn(seq: int, birth="19800101") -> str:
    first = f"430121{birth}{seq:03d}"
    return first + check_character(first)


HOUSEHOLDS = (
    "户编码,村代码,户主姓名,户状态,识别日期,银行卡号,联系电话\n"
    f"H-100,{VILLAGE},赵大,建档立卡,2019-05-01,6222021234567890123,13800001111\n"
    f"H-101,{VILLAGE},钱二,已脱贫,2019/5/1,6222021234567890456,\n"
    f"H-102,{VILLAGE},孙三,监测对象,2021年6月1日,,\n"
)
MEMBERS = (
    "household_code,name,relation,id_number,death_date\n"
    f"H-100,赵大,户主,{idn(11)},\n"
    f"H-100,赵小,子,{idn(12, '20050303')},\n"
    f"H-101,钱二,户主,{idn(13)[:6] + idn(13)[8:17]},\n"   # a legacy 15-digit number
)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(world, func_, path):
    with transaction(world.factory) as s:
        from ledger.org.regions import get_user
        return func_(s, get_user(s, "k_clerk"), PiiVault.from_env(), path)


def counts(world):
    with transaction(world.factory) as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Household, Member, AuditEntry))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_households_and_members_import_in_either_encoding(world, tmp_path, encoding):
    h = run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS, encoding))
    m = run(world, import_members, write(tmp_path, "m.csv", MEMBERS, encoding))
    assert (h.added, m.added) == (3, 3)
    with transaction(world.factory) as s:
        assert current_status(s, "H-101") is HouseholdStatus.EXITED
        household = s.get(Household, "H-100")
        assert household.bank_card_last4 == "0123"
        assert "6222021234567890123" not in household.bank_card  # encrypted at rest
        vault = PiiVault.from_env()
        numbers = {vault.decrypt(m.id_number) for m in s.execute(select(Member)).scalars()}
        # the 15-digit number is kept as registered, matched through its 18-digit form
        assert idn(13)[:6] + idn(13)[8:17] in numbers and idn(13) not in numbers
        assert s.execute(select(Member.id_digest).where(Member.name == "钱二")) \
            .scalar_one() == vault.digest(idn(13))
        for e in s.execute(select(AuditEntry.entry)).scalars():
            for secret in (b"6222021234567890123", b"13800001111", idn(11).encode()):
                assert secret not in bytes(e)
        assert verify(s).intact


def test_reimporting_the_same_file_changes_nothing(world, tmp_path):
    path = write(tmp_path, "h.csv", HOUSEHOLDS)
    run(world, import_households, path)
    before = counts(world)
    again = run(world, import_households, path)
    assert (again.added, again.unchanged) == (0, 3) and counts(world) == before


def test_same_key_with_other_content_names_line_and_field(world, tmp_path):
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    changed = HOUSEHOLDS.replace("钱二", "钱贰")
    with pytest.raises(ImportProblems) as err:
        run(world, import_households, write(tmp_path, "h2.csv", changed))
    assert "h2.csv, line 3, column 户编码" in str(err.value)
    assert "户主姓名 钱二 → 钱贰" in str(err.value)


@pytest.mark.parametrize("text,where,reason", [
    (HOUSEHOLDS.replace("2019/5/1", "2019-13-01"), "line 3, column 识别日期", "not a date"),
    (HOUSEHOLDS.replace("已脱贫", "富裕"), "line 3, column 户状态", "not one of"),
    (HOUSEHOLDS.replace(",6222021234567890456,", ",6222-1234,"), "line 3, column 银行卡号",
     "12 to 19 digits"),
    (HOUSEHOLDS.replace(",6222021234567890456,", ",6222-abc,"), "line 3, column 银行卡号",
     "character 'a' (U+0061 latin small letter a) at position 6 is not a digit"),
    (HOUSEHOLDS.replace("赵大", "=cmd|' /C calc'!A0"), "line 2, column 户主姓名",
     "spreadsheet formula"),
    (HOUSEHOLDS.replace("户主姓名", "姓名"), "line 1, column 户主姓名", "missing column"),
    (HOUSEHOLDS + "H-100,430121001001,重复,建档立卡,2019-05-01,,\n", "line 5, column 户编码",
     "also on line 2"),
    (HOUSEHOLDS.replace("H-102,430121001001", "H-102,430122001001"), "line 4",
     "may not record"),
])
def test_a_bad_line_imports_nothing_and_says_where(world, tmp_path, text, where, reason):
    before = counts(world)
    with pytest.raises(ImportProblems) as err:
        run(world, import_households, write(tmp_path, "bad.csv", text))
    assert f"bad.csv, {where}" in str(err.value) and reason in str(err.value)
    assert counts(world) == before


@pytest.mark.parametrize("bad_id,reason", [
    (idn(11)[:-1] + ("0" if idn(11)[-1] != "0" else "1"), "check character"),
    ("43012119800101", "14 characters"),
])
def test_bad_id_numbers_are_refused_without_printing_them(world, tmp_path, bad_id, reason):
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    text = MEMBERS.replace(idn(11), bad_id)
    with pytest.raises(ImportProblems) as err:
        run(world, import_members, write(tmp_path, "m.csv", text))
    assert "m.csv, line 2, column 身份证号" in str(err.value) and reason in str(err.value)
    assert bad_id not in str(err.value) or len(bad_id) < 15


def test_members_of_an_unknown_household_are_refused(world, tmp_path):
    with pytest.raises(ImportProblems, match="household 'H-100' does not exist"):
        run(world, import_members, write(tmp_path, "m.csv", MEMBERS))


def test_a_file_in_no_known_encoding_is_refused(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00h\x00e\x00a\x00d")
    with pytest.raises(ImportProblems, match="neither UTF-8 nor GB18030"):
        run(world, import_households, path)


def test_import_from_the_command_line(world, tmp_path, db_url, monkeypatch, capsys):
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    path = write(tmp_path, "h.csv", HOUSEHOLDS, "gb18030")
    assert main(["--as", "k_clerk", "import", "households", str(path)]) == 0
    assert "3 added" in capsys.readouterr().out
    bad = write(tmp_path, "bad.csv", HOUSEHOLDS.replace("2019/5/1", "someday"))
    assert main(["--as", "k_clerk", "import", "households", str(bad)]) == 2
    assert "bad.csv, line 3, column 识别日期" in capsys.readouterr().err


def test_another_county_cannot_probe_households_or_members(world, tmp_path):
    """Review finding: re-imports must not confirm card numbers or ID numbers across scope."""
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    run(world, import_members, write(tmp_path, "m.csv", MEMBERS))
    from ledger.org.regions import get_user
    for func_, name, text in ((import_households, "h2.csv", HOUSEHOLDS),
                              (import_members, "m2.csv", MEMBERS)):
        with transaction(world.factory) as s:
            with pytest.raises(ImportProblems) as err:
                func_(s, get_user(s, "k2_clerk"), PiiVault.from_env(),
                      write(tmp_path, name, text))
        message = str(err.value)
        assert "already used" in message or "outside your region" in message
        assert "赵大" not in message and "differs" not in message and "unchanged" not in message


def test_a_status_change_is_not_slipped_in_by_reimporting(world, tmp_path):
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    changed = HOUSEHOLDS.replace("H-100,430121001001,赵大,建档立卡,2019-05-01",
                                 "H-100,430121001001,赵大,清退,2023-01-01")
    with pytest.raises(ImportProblems, match="status changes are recorded as events"):
        run(world, import_households, write(tmp_path, "h2.csv", changed))


def test_member_entries_reveal_neither_birth_date_nor_sex(world, tmp_path):
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    run(world, import_members, write(tmp_path, "m.csv", MEMBERS))
    from ledger.audit.entries import decode_entry
    births = []
    with transaction(world.factory) as s:
        for data in s.execute(select(AuditEntry.entry)).scalars():
            for table, _key, _v, _p, image in decode_entry(bytes(data))["rows"]:
                if table == "members":
                    assert set(image) == {"id", "household_code", "name", "relation",
                                          "id_number", "id_digest", "birth_digest",
                                          "death_date", "log_index"}
                    assert isinstance(image["id_number"], dict)
                    births.append(image["birth_digest"]["sha256"])
        # 赵大 and 钱二 were both born on 1980-01-01: the stored blocking keys agree, so BEN-02
        # compares them, but what the log shows of them (commitments of salted values) does not
        from ledger.households.registry import unsalted
        from ledger.models import Member
        keys = dict(s.execute(select(Member.name, Member.birth_digest)).all())
        assert unsalted(keys["赵大"]) == unsalted(keys["钱二"]) != unsalted(keys["赵小"])
        assert keys["赵大"] != keys["钱二"]
    assert len(births) == 3 and len(set(births)) == 3


def test_a_cell_with_a_control_character_is_refused_where_it_is(world, tmp_path):
    """A NUL in a cell (found by test_fuzz_imports on PostgreSQL, which refuses NUL in the
    statement that looks the household up) is refused on its line and column, for every
    import kind, before any lookup."""
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    text = MEMBERS.replace("H-100,赵大,户主", "H-1\x0000,赵大,户主", 1)
    with pytest.raises(ImportProblems) as caught:
        run(world, import_members, write(tmp_path, "m.csv", text))
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.code) == (2, "户编码", "cell_control_character")


def test_a_current_status_with_its_date_is_enrolment_then_the_change(world, tmp_path):
    """A registry export gives today's 户状态 with the day it took effect (状态日期): the
    household was enrolled (建档立卡) on 识别日期 and changed then, so the county's status
    history imported after it agrees with it instead of conflicting (found by the outsider's
    evaluation: 已脱贫 on the enrolment day refused the whole history)."""
    from ledger.imports.household_status import import_household_status
    from ledger.models import HouseholdEvent
    rows = ("户编码,村代码,户主姓名,户状态,识别日期,状态日期\n"
            f"H-110,{VILLAGE},周一,已脱贫,2019-05-01,2020-12-20\n"
            f"H-111,{VILLAGE},周二,清退,2019-05-01,2022-03-01\n"
            f"H-112,{VILLAGE},周三,建档立卡,2019-05-01,\n"
            f"H-113,{VILLAGE},周四,监测对象,2021-06-01,2021-06-01\n")
    path = write(tmp_path, "h.csv", rows, "gb18030")
    assert run(world, import_households, path).added == 4
    with transaction(world.factory) as s:
        events = [(e.household_code, e.status, e.effective_date.isoformat()) for e in
                  s.execute(select(HouseholdEvent).order_by(HouseholdEvent.household_code,
                                                            HouseholdEvent.effective_date))
                  .scalars()]
    R, X, M, C = (HouseholdStatus.REGISTERED, HouseholdStatus.EXITED,
                  HouseholdStatus.MONITORED, HouseholdStatus.REMOVED)
    assert events == [("H-110", R, "2019-05-01"), ("H-110", X, "2020-12-20"),
                      ("H-111", R, "2019-05-01"), ("H-111", C, "2022-03-01"),
                      ("H-112", R, "2019-05-01"), ("H-113", M, "2021-06-01")]
    again = run(world, import_households, path)
    assert (again.added, again.unchanged) == (0, 4)
    # a later export: H-110 removed (清退) since June 2024 — recorded, not lost
    later = write(tmp_path, "h2.csv", rows.replace("已脱贫,2019-05-01,2020-12-20",
                                                   "清退,2019-05-01,2024-06-01"))
    assert run(world, import_households, later).unchanged == 4
    with transaction(world.factory) as s:
        assert s.execute(select(HouseholdEvent.status).where(
            HouseholdEvent.household_code == "H-110",
            HouseholdEvent.effective_date == dt.date(2024, 6, 1))).scalar_one() == C
    history = write(tmp_path, "s.csv", "户编码,户状态,变更日期\nH-110,建档立卡,2019-05-01\n"
                    "H-110,已脱贫,2020-12-20\nH-111,建档立卡,2019-05-01\nH-111,清退,2022-03-01\n")
    assert run(world, import_household_status, history).added == 0
    bad = write(tmp_path, "bad.csv", "户编码,村代码,户主姓名,户状态,识别日期,状态日期\n"
                f"H-120,{VILLAGE},周五,已脱贫,2019-05-01,2018-12-20\n")
    with pytest.raises(ImportProblems) as refused:
        run(world, import_households, bad)
    assert [(p.line, p.column) for p in refused.value.problems] == [(2, "状态日期")]
