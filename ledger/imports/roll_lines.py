"""The lines file of a payment roll (`fundtrail roll create --lines`, the web's new-roll form):
one household a line, with an optional whole quantity (columns: docs/formats.md)."""
from __future__ import annotations

from pathlib import Path

from ledger.imports.csvfile import Column, read


def _quantity(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number of at least 1")
    return int(text)


LINE_COLUMNS = [
    Column("household", ("户编码", "household_code")),
    Column("quantity", ("数量", "quantity"), _quantity, required=False),
]


def read_roll_lines(path: str | Path) -> list[tuple[str, int]]:
    """(household code, quantity) per line, in file order; a missing quantity is 1."""
    return [(r.values["household"], r.values["quantity"] or 1) for r in read(path, LINE_COLUMNS)]
