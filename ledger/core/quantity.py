"""Quantities on roll lines: decimals to 0.01 in the item's basis (2.5 亩, 3 人, 1.25 万元·年).

Stored as integer hundredths, never floats: "2.5", "2.50" and "２.５" are 250; "3" is 300. An
amount is standard × quantity rounded half-up to the fen (`amount_fen`), in integers only.
The text rules follow `ledger.core.money`: full-width digits and surrounding spaces are
accepted; signs, exponents, thousands separators, more than two decimals (unless zeros) and
anything that is not a plain decimal are refused with the reason.
"""
from __future__ import annotations

import re

SCALE = 100                      # hundredths
MAX_HUNDREDTHS = 10**11          # a billion units: larger is a typing error, not a quantity
_FULLWIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]*))?|\.([0-9]+)")


class QuantityError(ValueError):
    """A quantity that cannot be accepted, with the reason."""


def _quote(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


def parse_quantity(text: str) -> int:
    """Parse a positive decimal quantity with at most two decimals; return hundredths."""
    if not isinstance(text, str):
        raise TypeError(f"quantity must be str, not {type(text).__name__}")
    body = text.translate(_FULLWIDTH).strip()
    if not body:
        raise QuantityError(f"{_quote(text)} is empty")
    match = _DECIMAL.fullmatch(body)
    if match is None:
        raise QuantityError(f"{_quote(text)} is not a decimal quantity (e.g. 2.5)")
    whole, frac = (match[1], match[2] or "") if match[1] is not None else ("0", match[3])
    if frac[2:].strip("0"):
        raise QuantityError(f"{_quote(text)} has more than two decimals")
    whole = whole.lstrip("0") or "0"
    if len(whole) > len(str(MAX_HUNDREDTHS // SCALE)):
        raise QuantityError(f"{_quote(text)} is larger than any quantity")
    value = int(whole) * SCALE + int(frac[:2].ljust(2, "0"))
    if value <= 0:
        raise QuantityError(f"{_quote(text)} is not more than zero")
    if value > MAX_HUNDREDTHS:
        raise QuantityError(f"{_quote(text)} is larger than any quantity")
    return value


def format_quantity(hundredths: int) -> str:
    """250 → "2.5", 300 → "3", 235 → "2.35": as a clerk writes it."""
    whole, frac = divmod(hundredths, SCALE)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:02d}".rstrip("0")


def amount_fen(standard_fen: int, hundredths: int) -> int:
    """standard × quantity, rounded half-up to the fen (both positive integers)."""
    return (standard_fen * hundredths * 2 + SCALE) // (2 * SCALE)
