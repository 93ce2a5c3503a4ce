"""Blank files to fill in, one per import kind: the header row exactly as the kind's reader
expects it and one fictional example row (ledger.imports.kinds: `header`, `example_row`).

Decisions:
- CSV is UTF-8 with a BOM: Excel on a Chinese Windows opens a CSV without one as GBK, and a
  UTF-8 header then reads as nonsense; with the BOM it opens in Chinese, and the reader takes
  UTF-8 with or without it (ledger/imports/csvfile.py).
- The workbook's columns are text (number format "@" on each column), so that an ID or card
  number typed into it keeps all its digits: a number cell keeps 15, and the reader refuses a
  cut number (`cell_lost_digits`). The header is bold and frozen.
- The example row imports as it stands once the reference data it names exists (the lot,
  project, payee and household of the other kinds' examples): the clerk overwrites it.
"""
from __future__ import annotations

import csv
import io

from ledger.imports.kinds import ImportKind

FORMATS = ("csv", "xlsx")


def csv_bytes(spec: ImportKind) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(spec.header)
    writer.writerow(spec.example_row)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def xlsx_bytes(spec: ImportKind) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = spec.name
    sheet.append(spec.header)
    sheet.append(spec.example_row)
    for i, header in enumerate(spec.header, start=1):
        sheet.cell(1, i).font = Font(bold=True)
        letter = get_column_letter(i)
        width = max(_width(header), _width(spec.example_row[i - 1])) + 2
        sheet.column_dimensions[letter].width = min(max(width, 10), 48)
        # The column's own format, for every row Excel adds (no empty cells written: the
        # reader would count each as a blank line), and the example's cells.
        sheet.column_dimensions[letter].number_format = "@"
        sheet.cell(2, i).number_format = "@"
    sheet.freeze_panes = "A2"
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _width(text: str) -> int:
    """Excel's column width of `text`: a Chinese character takes two."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text)


def template_bytes(spec: ImportKind, fmt: str) -> bytes:
    if fmt == "csv":
        return csv_bytes(spec)
    if fmt == "xlsx":
        return xlsx_bytes(spec)
    raise ValueError(f"no template format {fmt!r}")
