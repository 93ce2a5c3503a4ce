"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation, legacy conversion, masking.

An 18-character number is 6 digits of region, 8 of birth date (YYYYMMDD), 3 of sequence (odd for
men) and a check character computed by ISO 7064 MOD 11-2 ('X' stands for 10). Older registries
still hold 15-digit numbers (YYMMDD birth date, no check character); they are valid and are
converted by inserting "19" before the year and computing the check character (DOMAIN.md §1).

A registry keeps a number as it was registered (`read_number`: `IdNumber.registered`, 15 or 18
characters) and matches people through its 18-character form (`IdNumber.matching`, what keyed
digests are computed from), so a legacy number finds the same person on a list that has the
new one. `normalise` is the strict reading: the 18-character form of a number with no fault.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.core.normalise import nfkc_upper, number_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


class IdNumberError(ValueError):
    """An ID number that cannot be right; the message says why and `problem` names it
    (length, characters, birth_date, check_character), for refusals that carry it."""

    def __init__(self, message: str, problem: str):
        super().__init__(message)
        self.problem = problem


def check_character(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


@dataclass(frozen=True)
class IdNumber:
    """An ID number as read: `registered` as written (spaces dropped, `x` upper-cased),
    `matching` its 18-character form (legacy numbers converted), and whether its only fault is
    a wrong check character (then `matching` is the number as written)."""
    registered: str
    matching: str
    wrong_check_character: bool = False


def read_number(text: str) -> IdNumber:
    """Read an ID number whose length, characters and birth date are right; raise
    IdNumberError otherwise. A wrong check character is not raised but marked: whether it may
    stand is the caller's rule (a historical registry record may; a new entry may not).

    The number is read under NFKC (ledger.core.normalise): typed full-width, it is the same
    number as typed in ASCII, registered and digested as ASCII; a character that is no digit
    (a letter O, an Arabic-Indic ٤, a Cyrillic Х for X) is refused as `number_character`,
    named."""
    registered = number_text(text, "id_number", drop=" ", last="X")
    value = registered
    if len(value) == 15:
        if not value.isdigit():
            raise IdNumberError(f"{mask(value)}: a 15-digit ID number has digits only",
                                "characters")
        value = value[:6] + "19" + value[6:]
        value += check_character(value)
    if len(value) != 18:
        raise IdNumberError(f"ID number has {len(value)} characters; it must have 18 (or 15)",
                            "length")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError(f"{mask(value)}: only digits, with X allowed last", "characters")
    birth = birth_date(value)
    if birth > dt.date.today() or birth.year < 1880:
        raise IdNumberError(f"{mask(value)}: birth date {birth} is impossible", "birth_date")
    return IdNumber(registered, value, check_character(value[:17]) != value[17])


def check_character_error(number: IdNumber) -> IdNumberError:
    return IdNumberError(f"{mask(number.matching)}: check character is wrong (typing error?)",
                         "check_character")


def normalise(text: str) -> str:
    """Return the 18-character form of a valid ID number, or raise IdNumberError."""
    number = read_number(text)
    if number.wrong_check_character:
        raise check_character_error(number)
    return number.matching


def matching_form(value: str) -> str:
    """The 18-character form of a number as registered (spaces dropped, `x` upper-cased, a
    legacy 15-digit number converted; anything else returned so cleaned, never refused). For
    digests of stored numbers; a number from input is read with `read_number`. Under NFKC,
    as `read_number` reads: a number stored full-width before that finds its ASCII form."""
    value = nfkc_upper(value or "").replace(" ", "")
    if len(value) == 15 and value.isdigit():
        value = value[:6] + "19" + value[6:]
        return value + check_character(value)
    return value


def birth_date(value: str) -> dt.date:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(f"{mask(value)}: the birth-date digits are not a date",
                            "birth_date") from None


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """Mask for public display: keep the first and last digits only (DOMAIN.md §2)."""
    value = value or ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
