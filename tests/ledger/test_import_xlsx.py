"""Importing from Excel workbooks (.xlsx) as offices keep them: the same columns, checks and
errors as CSV, with the workbook's own row numbers (ledger/imports/spreadsheet.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.audit.verify import verify
from ledger.households.registry import current_status
from ledger.imports.csvfile import ImportProblems
from ledger.imports.households import import_households, import_members
from ledger.models import Household, HouseholdEvent, HouseholdStatus, Member
from ledger.store.db import transaction
from tests.ledger.test_import_households import counts, idn, run
from tests.world import VILLAGE

HOUSEHOLD_HEADER = ["户编码", "村代码", "户主姓名", "户状态", "识别日期", "银行卡号", "联系电话"]


def workbook(path, header, rows, *, extra_sheet=False):
    """A workbook as a clerk saves it: typed cells (dates as dates, phone numbers as numbers)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "建档立卡户"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        book.create_sheet("说明").append(["这一页不是数据"])
    book.save(path)
    return path


def households_book(tmp_path, name="h.xlsx"):
    return workbook(tmp_path / name, HOUSEHOLD_HEADER, [
        ["H-100", VILLAGE, "赵大", "建档立卡", dt.datetime(2019, 5, 1), "6222021234567890123",
         13800001111],
        ["H-101", VILLAGE, "钱二", "已脱贫", dt.date(2019, 5, 1), "6222021234567890456", None],
        [None] * 7,  # a blank row between blocks, as sheets often have
        ["H-102", VILLAGE, "孙三", "监测对象", "2021年6月1日", None, None],
    ], extra_sheet=True)


def test_households_and_members_import_from_workbooks(world, tmp_path):
    members = workbook(tmp_path / "m.xlsx", ["户编码", "姓名", "与户主关系", "身份证号"], [
        ["H-100", "赵大", "户主", idn(11)],
        ["H-100", "赵小", "子", idn(12, "20050303")],
        ["H-101", "钱二", "户主", idn(13)],
    ])
    assert run(world, import_households, households_book(tmp_path)).added == 3
    assert run(world, import_members, members).added == 3
    with transaction(world.factory) as s:
        rows = {h.code: h for h in s.execute(select(Household)).scalars()}
        assert rows["H-100"].head_name == "赵大" and rows["H-100"].bank_card_last4 == "0123"
        first = {e.household_code: e for e in s.execute(
            select(HouseholdEvent).order_by(HouseholdEvent.id)).scalars()}
        assert first["H-100"].effective_date == dt.date(2019, 5, 1)   # a date cell
        assert first["H-102"].effective_date == dt.date(2021, 6, 1)   # text as offices type it
        assert current_status(s, "H-101") is HouseholdStatus.EXITED
        assert s.execute(select(func.count()).select_from(Member)).scalar_one() == 3
        assert verify(s).intact
    # The same workbook again changes nothing (idempotent, as with CSV).
    assert run(world, import_households, households_book(tmp_path)).unchanged == 3


def test_an_id_number_excel_kept_as_a_number_is_refused_by_row_and_column(world, tmp_path):
    path = workbook(tmp_path / "m.xlsx", ["户编码", "姓名", "与户主关系", "身份证号"], [
        ["H-100", "赵大", "户主", idn(11)],
        ["H-100", "赵小", "子", int(idn(12, "20050303")[:17] + "1")],  # typed without '
    ])
    run(world, import_households, households_book(tmp_path))
    before = counts(world)
    with pytest.raises(ImportProblems) as refused:
        run(world, import_members, path)
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.column, problem.code) == \
        ("m.xlsx", 3, "身份证号", "cell_lost_digits")
    assert counts(world) == before


def test_a_formula_never_calculated_reads_as_empty(world, tmp_path):
    path = workbook(tmp_path / "h.xlsx", HOUSEHOLD_HEADER, [
        ["H-100", VILLAGE, "=A1&\"户\"", "建档立卡", dt.date(2019, 5, 1), None, None]])
    with pytest.raises(ImportProblems) as refused:
        run(world, import_households, path)
    assert [(p.line, p.column, p.code) for p in refused.value.problems] == \
        [(2, "户主姓名", "cell_empty")]


@pytest.mark.parametrize("name, content, code", [
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "file_old_excel"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip archive", "file_not_workbook"),
])
def test_files_that_are_not_readable_workbooks_say_so(world, tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportProblems) as refused:
        run(world, import_households, path)
    assert [(p.file, p.line, p.code) for p in refused.value.problems] == [(name, 0, code)]


def test_an_empty_workbook_is_empty(world, tmp_path):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(ImportProblems) as refused:
        run(world, import_households, path)
    assert [p.code for p in refused.value.problems] == ["file_empty"]


def test_a_workbook_that_claims_to_unpack_to_too_much_is_refused(world, tmp_path, monkeypatch):
    """A zip bomb: the limit is checked on what the archive declares, before anything is
    unpacked (the limit is lowered here so the test needs no gigabyte)."""
    from ledger.imports import spreadsheet
    path = households_book(tmp_path)
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ImportProblems) as refused:
        run(world, import_households, path)
    (problem,) = refused.value.problems
    assert (problem.line, problem.code) == (0, "file_not_workbook")
    assert "unpacks to" in problem.params["detail"]
