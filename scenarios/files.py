"""Writing tables as a county's offices save them: CSV in UTF-8 (with or without BOM) or GB18030
(Excel on a Chinese Windows), and workbooks (.xlsx). Dates and amounts in the forms
docs/formats.md accepts, chosen per file as different offices write them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook

FORMATS = ("utf8", "utf8bom", "gb18030", "xlsx")


def write_table(path: Path, header: list[str], rows: list[list], fmt: str) -> Path:
    """Write HEADER and ROWS to PATH (suffix chosen by FMT); returns the path written."""
    if fmt == "xlsx":
        path = path.with_suffix(".xlsx")
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for row in rows:
            # Text cells, as an office that formats ID and card columns as text keeps them.
            ws.append(["" if v is None else str(v) for v in row])
        wb.properties.created = dt.datetime(2025, 1, 1)
        wb.save(path)
        return path
    path = path.with_suffix(".csv")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if fmt == "gb18030" else "\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    text = buf.getvalue()
    if fmt == "gb18030":
        path.write_bytes(text.encode("gb18030"))
    elif fmt == "utf8bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def date_text(d: dt.date, style: int) -> str:
    """One of the date forms docs/formats.md lists."""
    return [
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        d.strftime("%Y.%m.%d"),
        d.strftime("%Y%m%d"),
        f"{d.year}年{d.month}月{d.day}日",
    ][style % 5]


def fen_to_yuan(fen: int, separators: bool = False) -> str:
    y, f = divmod(fen, 100)
    head = f"{y:,}" if separators else str(y)
    return f"{head}.{f:02d}"


def money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
