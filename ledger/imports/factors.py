"""The inputs of a factor allocation (因素法, `fundtrail allocate-factors`): which factors weigh
how much, and a file with one line per county and one column per factor (docs/formats.md)."""
from __future__ import annotations

from pathlib import Path

from ledger.funds.allocation import Factor
from ledger.imports.csvfile import Column, read


def parse_factor(text: str) -> Factor:
    """NAME=WEIGHT[:need|capacity], e.g. poor_population=50 or income_per_head=20:capacity (a
    capacity factor gives more to the county with less of it)."""
    name, sep, rest = text.partition("=")
    weight_text, _, direction = rest.partition(":")
    if not sep or not weight_text.isdigit() or direction not in ("", "need", "capacity"):
        raise ValueError(f"{text!r} is not NAME=WEIGHT[:need|capacity]")
    return Factor(name.strip(), int(weight_text), direction != "capacity")


def positive_whole(text: str) -> int:
    """A factor's value: a whole number above zero, thousands separators allowed."""
    digits = text.replace(",", "")
    if not digits.isdigit() or int(digits) <= 0:
        raise ValueError(f"{text!r} is not a positive whole number")
    return int(digits)


def read_factor_inputs(path: str | Path, factors: list[Factor]) -> dict[str, dict[str, int]]:
    """county code -> factor name -> value, all or nothing (ImportProblems names every line)."""
    columns = [Column("county", ("县代码", "county_code"))] + [
        Column(f.name, (f.name,), positive_whole) for f in factors]
    return {r.values["county"]: {f.name: r.values[f.name] for f in factors}
            for r in read(path, columns)}
