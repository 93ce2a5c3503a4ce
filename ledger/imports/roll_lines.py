"""The lines file of a payment roll (`fundtrail roll create --lines`, the web's new-roll form):
one line a row, CSV (UTF-8 or GB18030) or XLSX (columns: docs/formats.md, "Payment rolls").

Only the household is required. With the household and a whole quantity alone, a line is the
roll's item at the roll's standard, as before. The optional columns make a line of the
standards table: its item, tier (一般户 / 监测户) and year, the member it pays (by ID number or
member id, for a per-person item), a decimal quantity (2.5 亩: hundredths, never floats) and
the amount as the county kept it."""
from __future__ import annotations

from pathlib import Path

from ledger.core.money import parse_yuan
from ledger.core.quantity import parse_quantity
from ledger.imports.csvfile import Column, not_a_whole_number, not_a_year, not_positive, read
from ledger.rolls.lifecycle import LineSpec
from ledger.rolls.standards import tier_of


def _year(text: str) -> int:
    if not (text.isdigit() and 2000 <= int(text) <= 2100):
        raise not_a_year(text)
    return int(text)


def _member_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise not_a_whole_number(text)
    return int(text)


def _positive_yuan(text: str) -> int:
    fen = parse_yuan(text)
    if fen <= 0:
        raise not_positive(text)
    return fen


def _quantity(text: str) -> int:
    """`parse_quantity`, with the quantity of nearly every line (a whole number of units, "1")
    read without its general parser: a county's roll has 100,000 of them."""
    if text.isdigit() and text.isascii() and len(text) <= 9:
        value = int(text) * 100
        if value > 0:
            return value
    return parse_quantity(text)   # decimals, and the refusals with their reasons


LINE_COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("quantity", ("数量", "quantity"), _quantity, required=False),
    Column("item", ("补助项目", "item"), required=False),
    Column("tier", ("户类别", "tier"), tier_of, required=False),
    Column("year", ("年度", "year"), _year, required=False),
    Column("member_id_number", ("成员身份证号", "member_id_number"), required=False),
    Column("member_id", ("成员编号", "member_id"), _member_id, required=False),
    Column("amount", ("金额", "amount"), _positive_yuan, required=False),
]


def read_roll_lines(path: str | Path) -> list[LineSpec]:
    """The lines in file order; a missing quantity is 1. Cells left empty are not given."""
    # Every line is kept, for the roll: the file is parsed once, each row made a line as it
    # is checked (csvfile.read with `make`).
    return list(read(path, LINE_COLUMNS, make=_line))


def _line(row) -> LineSpec:
    v = row.values
    return LineSpec(v["household"], v["quantity"] or 100, v["item"] or None,
                    v["tier"] or None, v["year"] or None, v["member_id"] or None,
                    v["member_id_number"] or None, v["amount"] or None)
