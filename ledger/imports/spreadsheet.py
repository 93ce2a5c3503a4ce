"""Reading Excel workbooks (.xlsx) the way offices keep them, for every import kind.

County offices keep their rolls, registers and bank returns in Excel; asking them to re-save
every file as CSV loses formatting they rely on and invites mistakes. A workbook is read with
openpyxl (the maintained reader of the format, read-only and values-only) into the same
(line, cells) records the CSV reader yields, so every kind's columns, checks and error messages
are the same for both formats, and an error names the workbook's own row number.

Decisions (docs/formats.md, "Excel workbooks"):
- The first worksheet is read; its first row is the header. Other sheets are ignored.
- A formula counts by its value as Excel last saved it; a formula never calculated (no cached
  value) reads as empty, and a required column then says so.
- Dates become 2024-03-01; whole numbers lose Excel's ".0".
- A long number stored as a number (an ID or card number typed without a leading apostrophe)
  has already lost its digits past the 15th inside Excel: it is refused with a message that says
  to store the column as text, instead of being imported wrong.
- The old binary format (.xls) is refused with a message to save as .xlsx or CSV.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Iterator

XLSX_MAGIC = b"PK\x03\x04"       # an .xlsx file is a zip archive
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary format (OLE compound file)
EXCEL_DIGITS = 15                # Excel keeps 15 significant digits of a number
# What a workbook may unpack to. A workbook is a zip archive: a small upload can claim to
# hold gigabytes (a zip bomb). A county's largest roll, 100,000 lines, unpacks to about 30 MB.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024


class SpreadsheetError(ValueError):
    """The workbook cannot be read at all; `line` 0 means the file, not a row."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def is_workbook(path: Path, head: bytes) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm") or head.startswith(XLSX_MAGIC)


def is_old_excel(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".xls" or head.startswith(XLS_MAGIC)


def cell_text(value) -> str:
    """The text a clerk sees in the cell, as the CSV reader would have it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        if len(str(abs(value))) > EXCEL_DIGITS:
            raise ValueError(LOST_DIGITS)
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= 10 ** EXCEL_DIGITS:
                raise ValueError(LOST_DIGITS)
            return str(int(value))
        return format(value, f".{EXCEL_DIGITS}g")
    return str(value)


LOST_DIGITS = ("a number longer than 15 digits was stored as a number, and Excel has already "
                "dropped its last digits: format the column as text and type it again")


def records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header texts, then (row number, raw cell values) of the first worksheet.

    Raises SpreadsheetError for a file that is not a readable workbook. Cells come raw so that
    the caller converts each with `cell_text` and can name the column of a cell that cannot be
    read faithfully."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(0, f"not a readable Excel .xlsx workbook ({exc})") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise SpreadsheetError(0, f"the workbook unpacks to {unpacked} bytes, more than "
                                  f"{MAX_UNPACKED_BYTES}")
    # Imported here: openpyxl (with NumPy and Pillow behind it) is a fifth of the start-up of
    # every command that can read a file, and only a workbook needs it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise SpreadsheetError(0, f"not a readable Excel .xlsx workbook ({exc})") from None
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        workbook.close()
        raise SpreadsheetError(1, "the workbook has no worksheet")
    rows = sheet.iter_rows(values_only=True)
    try:
        first = next(rows)
    except StopIteration:
        workbook.close()
        raise SpreadsheetError(1, "the file is empty") from None
    header = [_header_text(v) for v in first]

    def body() -> Iterator[tuple[int, list]]:
        try:
            for number, values in enumerate(rows, start=2):
                yield number, list(values)
        finally:
            workbook.close()

    return header, body()


def _header_text(value) -> str:
    try:
        return cell_text(value)
    except ValueError:
        return str(value)
