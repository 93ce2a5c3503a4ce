"""Identity numbers as the national standards define them, computed here from the standards'
text (not from the ledger), so that a wrong check character is the generator's choice."""

from __future__ import annotations

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def id_check(body17: str) -> str:
    """GB 11643-1999: the check character of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS))
    return ID_CHECK[total % 11]


def id_number(region6: str, birth: str, seq3: int) -> str:
    body = f"{region6}{birth}{seq3:03d}"
    return body + id_check(body)


def wrong_check(number: str) -> str:
    """The same number with a check character that is not the right one."""
    right = number[-1]
    for c in "0123456789X":
        if c != right:
            return number[:-1] + c
    raise AssertionError


def legacy15(number18: str) -> str:
    """The 15-digit form of a number born in the 1900s: no '19', no check character."""
    assert number18[6:8] == "19"
    return number18[:6] + number18[8:17]


def org_code(body8: str) -> str:
    """GB 11714: the organisation code's check character over 8 digits."""
    total = sum(int(c) * w for c, w in zip(body8, ORG_WEIGHTS))
    c9 = 11 - total % 11
    return body8 + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def credit_code(department_kind: str, division6: str, serial: int) -> str:
    """GB 32100-2015: 18 characters, the last a check over the other 17 (weights 3^(i-1) mod 31)."""
    body = department_kind + division6 + org_code(f"{serial:08d}")
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS))
    check = (31 - total % 31) % 31
    return body + CREDIT_CHARS[check]


FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}


def full_width(text: str) -> str:
    """Digits as a Chinese input method in full-width mode types them (０１２…)."""
    return text.translate(FULL_WIDTH)
