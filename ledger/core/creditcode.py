"""Unified social credit codes (统一社会信用代码, GB 32100-2015), industry codes (GB/T 4754-2017).

A unified social credit code has 18 characters from 0-9 and the capital letters except I, O, S,
V and Z: the registration department (1 机构编制, 5 民政, 9 工商, N 农业, …), the organisation
category, six digits of the registering office's division code (登记管理机关行政区划码), the
nine-character organisation code, and a check character. GB 32100-2015 §4.4 (and annex): each
of the first 17 characters has its value in that 31-character set, position i (from 1) is
weighted 3^(i-1) mod 31, and the check character's value is 31 - (weighted sum mod 31), 31
written as 0. A mistyped character changes the sum, so nearly every typing error is caught
before a payee is registered under a wrong code.

Industry codes (国民经济行业分类代码) are a section letter A–T and then a division (2 digits), a
group (3) or a class (4); the digits' first two are the division, which belongs to exactly one
section (GB/T 4754-2017, table of sections). A code is written with or without its letter
(`A0111` or `0111`, `E48`); the letter alone names a section.
"""
from __future__ import annotations

from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # GB 32100-2015: no I, O, S, V, Z
VALUE = {ch: i for i, ch in enumerate(CHARSET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, …
LENGTH = 18

# Registration departments (登记管理部门码, GB 32100-2015 table 1): 1 机构编制 (机关, 事业单位),
# 2 外交, 3 司法行政, 4 文化, 5 民政 (社会团体, 基金会), 6 旅游, 7 宗教, 8 工会, 9 工商 (企业,
# 个体工商户, 农民专业合作社), A 中央军委改革和编制办公室, N 农业 (集体经济组织), Y 其他.
DEPARTMENTS = frozenset("123456789ANY")
GOVERNMENT = "1"    # 机构编制: government organs and public institutions
COMMERCIAL = "9"    # 工商 (市场监管): enterprises, individual businesses, cooperatives


class CreditCodeError(ValueError):
    """A code that cannot be right; `problem` names the fault (length, characters, department,
    division, check_character), for the refusals and import problems that carry it."""

    def __init__(self, message: str, problem: str):
        super().__init__(message)
        self.problem = problem


def check_character(first17: str) -> str:
    """The check character of the first 17 characters (GB 32100-2015)."""
    total = sum(VALUE[ch] * w for ch, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def read_credit_code(text: str) -> str:
    """The code as written (spaces dropped, letters upper-cased) when it is a valid unified
    social credit code; CreditCodeError otherwise. Unlike ID numbers on another office's list,
    a payee's code with a wrong check character is not kept: money is paid against it."""
    code = (text or "").strip().upper().replace(" ", "")
    if len(code) != LENGTH:
        raise CreditCodeError(f"a unified social credit code has 18 characters, not "
                              f"{len(code)}", "length")
    bad = sorted({ch for ch in code if ch not in VALUE})
    if bad:
        raise CreditCodeError(f"{code}: {''.join(bad)} cannot appear in a unified social "
                              "credit code (digits and capitals except I O S V Z)", "characters")
    if code[0] not in DEPARTMENTS:
        raise CreditCodeError(f"{code}: {code[0]} is no registration department", "department")
    if not code[2:8].isdigit():
        raise CreditCodeError(f"{code}: characters 3–8 are the registering office's division "
                              "code, digits only", "division")
    if check_character(code[:17]) != code[17]:
        raise CreditCodeError(f"{code}: check character is wrong (typing error?)",
                              "check_character")
    return code


def registration_division(code: str) -> str:
    """The division code of the office that registered the code (characters 3–8)."""
    return code[2:8]


# GB/T 4754-2017: each section and the divisions (first two digits) it holds.
SECTIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
    "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
    "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
    "S": (91, 97), "T": (98, 98),
}


@dataclass(frozen=True)
class IndustryCode:
    section: str      # A–T
    digits: str       # "", or 2–4 digits (division, group, class)

    def __str__(self) -> str:
        return self.section + self.digits


def section_of(division: int) -> str | None:
    for letter, (low, high) in SECTIONS.items():
        if low <= division <= high:
            return letter
    return None


def read_industry_code(text: str) -> IndustryCode:
    """An industry code written `A`, `A01`, `A011`, `A0111` or without its letter (`0111`);
    ValueError when the form is wrong, the division does not exist or the letter is not the
    division's section."""
    code = (text or "").strip().upper().replace(" ", "")
    letter = code[:1] if code[:1].isalpha() else ""
    digits = code[len(letter):]
    if letter and letter not in SECTIONS:
        raise ValueError(f"{text!r}: sections of GB/T 4754 are A to T")
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 4) \
            and not (letter and not digits):
        raise ValueError(f"{text!r} is not an industry code (GB/T 4754: a letter A–T and 2–4 "
                         "digits, e.g. A0111 or E48)")
    if not digits:
        return IndustryCode(letter, "")
    section = section_of(int(digits[:2]))
    if section is None:
        raise ValueError(f"{text!r}: there is no division {digits[:2]} in GB/T 4754")
    if letter and letter != section:
        raise ValueError(f"{text!r}: division {digits[:2]} belongs to section {section}, "
                         f"not {letter}")
    return IndustryCode(section, digits)
