"""Plain-text tables for the terminal with Chinese in them: a CJK character takes two columns,
so padding counts display width, not characters (str.ljust would misalign every column after
a Chinese heading)."""
from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Display width of `text` in a terminal: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * max(size - width(text), 0)
    return fill + text if right else text + fill


def columns(headings: list[str], rows: list[list[str]], right: set[int] = frozenset(),
            gap: str = "  ") -> str:
    """Headings and rows aligned in columns; the columns in `right` (amounts) right-aligned.
    The last column is not padded (no trailing spaces)."""
    sizes = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headings)]
    last = len(headings) - 1

    def line(cells):
        return gap.join(cell if i == last else pad(cell, sizes[i], i in right)
                        for i, cell in enumerate(cells))
    return "\n".join([line(headings)] + [line(r) for r in rows])
