"""Matching people by Chinese name and ID number, as other offices type them (research:
misuse-detection-anchors §4.5; issue 18). Every identity rule compares people here.

Text first goes through NFKC (`normalise_name`, `normalise_id`): full-width digits and letters
(０-９, Ｘ, ｘ) become ASCII, compatibility ideographs their unified forms, and spaces and the
middle dot of minority names (·, ・, •) are dropped.

ID numbers (GB 11643-1999, ledger.core.idcard):
- a 15-digit number is the 18-digit one without the century '19' and without the check
  character (`to_18`, `to_15`);
- one typing error — one digit wrong, or two adjacent digits swapped — is found by generating
  the variants of the listed number (`id_variants`) and joining their keyed digests, since IDs
  are stored as digests and never decrypted in bulk. A listed number whose check character is
  wrong kept the true number's check character (it was copied, not computed), so only variants
  that are valid with it are tried; a listed number that is valid can differ from the true one
  only if a system recomputed the check character, so every edit gets its own. At most
  17 × 9 substitutions + 17 swaps + 1 = 171 digests per listed person.

Names (`compare_names`): the same characters; else, position by position, every differing
character must be one of
- **same pinyin** (homophone, tone-insensitive, any reading of a polyphonic character:
  pypinyin's heteronyms), e.g. 王/汪, 张/章, 刘/柳;
- **confusable sound**: the pairs that dialect speakers merge, as listed in the 方言辨正 part of
  the Putonghua proficiency test syllabus (《普通话水平测试实施纲要》): z/zh, c/ch, s/sh
  (平翘舌), n/l (鼻边音), f/h (hu- read as f-), r/l, and the front/back nasals an/ang, en/eng,
  in/ing, ian/iang, uan/uang (前后鼻音), e.g. 陈/程 (chen/cheng), 刘/牛 (liu/niu);
- **look-alike** (形近字) by the shapes in `glyphs/shapes.tsv.gz` (char-similar's tables,
  Apache-2.0; glyphs/SOURCE.md): the same stroke order (笔顺) or one stroke more, less or
  different (both of at least four strokes) — 己/已/巳, 未/末, 戌/戍, 候/侯, 王/玉, 日/曰;
  the same four-corner code (四角号码, all five digits) with stroke counts within one; or the
  same components (拆字) but one, and that one look-alike by the rules before — 晴/睛 (日/目),
  李/季 (木/禾).
Such a name scores 100 and the match names the kinds and the pairs. Otherwise the score is the
larger normalised Levenshtein similarity of the characters and of the folded pinyin (rapidfuzz).
"""
from __future__ import annotations

import datetime as dt
import gzip
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from operator import mul
from pathlib import Path

from pypinyin import Style, lazy_pinyin, pinyin
from rapidfuzz.distance import Levenshtein

from ledger.core.idcard import CHECK, WEIGHTS

SHAPES = Path(__file__).with_name("glyphs") / "shapes.tsv.gz"
_DROP = str.maketrans("", "", " \t\u3000·・•‧∙")


# -- text ---------------------------------------------------------------------------------------
def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width and compatibility forms folded), no spaces, no
    middle dot."""
    return unicodedata.normalize("NFKC", name or "").translate(_DROP)


def normalise_id(text: str) -> str:
    """An ID number as compared: NFKC (０-９ and Ｘ/ｘ to ASCII), spaces dropped, x upper-cased,
    a 15-digit number converted to 18 (`to_18`); anything else returned so cleaned."""
    value = unicodedata.normalize("NFKC", text or "").translate(_DROP).upper()
    return to_18(value) if len(value) == 15 and value.isdigit() else value


# -- ID numbers ---------------------------------------------------------------------------------
def check_character(first17: str) -> str:
    """ledger.core.idcard.check_character, without its generator: LED-02 computes it for every
    stored number and the variants for every listed one."""
    return CHECK[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def to_18(id15: str) -> str:
    """GB 11643: the 18-character number of a legacy 15-digit one (century '19' inserted
    before the year, check character computed)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_character(first17)


def to_15(id18: str) -> str | None:
    """The legacy 15-digit form of an 18-character number, or None for one born outside the
    1900s (no 15-digit number was ever issued for them)."""
    if len(id18) != 18 or id18[6:8] != "19":
        return None
    return id18[:6] + id18[8:17]


def check_ok(id18: str) -> bool:
    return len(id18) == 18 and id18[:17].isdigit() and check_character(id18[:17]) == id18[17]


def _plausible(first17: str) -> bool:
    """Birth-date digits that are a date (a variant with month 13 is nobody's number)."""
    month, day = int(first17[10:12]), int(first17[12:14])
    return 1 <= month <= 12 and 1 <= day <= 31 and 1880 <= int(first17[6:10]) <= 2100


def id_variants(id18: str) -> dict[str, str]:
    """The numbers one typing error away from `id18`, each with how it differs: one of the 17
    digits wrong ('one digit wrong'), two adjacent digits swapped ('two adjacent digits
    swapped'), or the check character alone wrong ('check character wrong'). See the module
    docstring for which check character each variant gets."""
    id18 = normalise_id(id18)
    if len(id18) != 18 or not id18[:17].isdigit():
        return {}
    first17, listed_check = id18[:17], id18[17]
    copied = not check_ok(id18)  # a wrong check character: copied from the true number
    out: dict[str, str] = {}

    def add(c17: str, how: str) -> None:
        if c17 == first17 or not _plausible(c17):
            return
        right = check_character(c17)
        if copied and right != listed_check:
            return  # the true number would have the check character that was copied
        out.setdefault(c17 + right, how)

    for i in range(17):
        for d in "0123456789":
            if d != first17[i]:
                add(first17[:i] + d + first17[i + 1:], "one digit wrong")
    for i in range(16):
        if first17[i] != first17[i + 1]:
            add(first17[:i] + first17[i + 1] + first17[i] + first17[i + 2:],
                "two adjacent digits swapped")
    if copied:
        out.setdefault(first17 + check_character(first17), "check character wrong")
    return out


# Province-level codes of GB/T 2260 (the first two digits of every ID number's region): the 31
# mainland provinces, autonomous regions and municipalities, 71 Taiwan, 81 Hong Kong, 82 Macao,
# and 83, which the residence permits of Taiwan residents carry (台湾居民居住证, 2018).
PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
                       "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
                       "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"})


def id_problems(text: str, as_of, provinces=None) -> dict[str, str]:
    """What is impossible about an ID number as stored (GB 11643-1999): {'problem': detail}
    for 'length', 'characters', 'region' (no such province: GB/T 2260's, or `provinces` where
    the caller adds the ledger's own), 'birth_date' (not a date, before 1880 or after `as_of`)
    and 'check_character' (written one, computed one). Empty when it could be a real number."""
    value = normalise_id(text)
    if len(value) != 18:
        return {"length": f"{len(value)} characters"}
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return {"characters": "only digits, with X allowed last"}
    out = {}
    if value[:2] not in (provinces or PROVINCES):
        out["region"] = f"no province {value[:2]} in GB/T 2260"
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        if born.year < 1880 or born > as_of:
            out["birth_date"] = f"{born} is impossible"
    except ValueError:
        out["birth_date"] = "the birth-date digits are not a date"
    right = check_character(value[:17])
    if right != value[17]:
        out["check_character"] = f"written {value[17]}, computed {right}"
    return out


def transpositions(id_number: str) -> list[str]:
    """Every ID differing by one swap of adjacent digits (typing errors), check char kept."""
    out = []
    for i in range(len(id_number) - 1):
        if id_number[i] != id_number[i + 1]:
            out.append(id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2:])
    return out


# -- sounds -------------------------------------------------------------------------------------
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w")
_FOLD_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l"}
_HU_AS_F = {"u": "u", "ua": "a", "uai": "ai", "uan": "an", "uang": "ang", "ui": "ei", "un": "en",
            "uo": "o"}
_FOLD_FINAL = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}


def fold_syllable(syl: str) -> str:
    """A toneless syllable with the dialect confusions of the module docstring merged."""
    initial = next((i for i in _INITIALS if syl.startswith(i)), "")
    final = syl[len(initial):]
    if initial == "h" and final in _HU_AS_F:   # 湖/福, 黄/方, 灰/飞: hu- read as f-
        initial, final = "f", _HU_AS_F[final]
    initial = _FOLD_INITIAL.get(initial, initial)
    final = _FOLD_FINAL.get(final, final)
    return initial + final


@lru_cache(maxsize=100_000)
def readings(ch: str) -> frozenset[str]:
    """Every toneless reading pypinyin knows for one character (heteronyms included)."""
    got = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(r for group in got for r in group)


@lru_cache(maxsize=200_000)
def pinyin_key(name: str) -> str:
    """The name's pinyin with the confusable sounds folded (one reading a character)."""
    return " ".join(fold_syllable(s) for s in lazy_pinyin(normalise_name(name)))


# -- shapes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    order: str
    four_corner: str
    strokes: int
    components: tuple[str, ...]


@lru_cache(maxsize=1)
def _shapes() -> dict[str, Shape]:
    out = {}
    with gzip.open(SHAPES, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            ch, order, corner, count, parts = line.rstrip("\n").split("\t")
            out[ch] = Shape(order, corner, int(count) if count else 0, tuple(parts.split()))
    return out


def _one_stroke_apart(a: Shape, b: Shape) -> bool:
    if not a.order or not b.order:
        return False
    d = Levenshtein.distance(a.order, b.order)
    return d == 0 or (d == 1 and min(len(a.order), len(b.order)) >= 4)


def _same_corners(a: Shape, b: Shape) -> bool:
    return bool(a.four_corner) and a.four_corner == b.four_corner \
        and abs(a.strokes - b.strokes) <= 1


def _near(a: str, b: str) -> bool:
    shapes = _shapes()
    sa, sb = shapes.get(a), shapes.get(b)
    return sa is not None and sb is not None and (_one_stroke_apart(sa, sb)
                                                  or _same_corners(sa, sb))


@lru_cache(maxsize=200_000)
def look_alike(a: str, b: str) -> bool:
    """Two different characters that look alike (形近字), by the rules of the module
    docstring."""
    if a == b:
        return False
    if _near(a, b):
        return True
    shapes = _shapes()
    sa, sb = shapes.get(a), shapes.get(b)
    if sa is None or sb is None or len(sa.components) != len(sb.components) \
            or len(sa.components) < 2:
        return False
    differ = [(x, y) for x, y in zip(sa.components, sb.components) if x != y]
    return len(differ) == 1 and _near(*differ[0])


@lru_cache(maxsize=200_000)
def char_kinship(a: str, b: str) -> str | None:
    """How two characters of a name can be one: 'same pinyin', 'confusable sound',
    'look-alike characters', or None."""
    if a == b:
        return "same characters"
    if look_alike(a, b):
        return "look-alike characters"
    ra, rb = readings(a), readings(b)
    if ra & rb:
        return "same pinyin"
    if {fold_syllable(x) for x in ra} & {fold_syllable(y) for y in rb}:
        return "confusable sound"
    return None


# -- names --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NameMatch:
    score: int        # percent
    how: str          # 'same characters', 'look-alike characters', 'same pinyin' … or 'similar'
    pairs: tuple = ()  # (character, character, kind) for each character that differs

    def evidence(self) -> dict:
        return {"name_similarity_percent": self.score, "name_match": self.how,
                "differing_characters": [f"{a}/{b} ({k})" for a, b, k in self.pairs]}


_ORDER = ("look-alike characters", "same pinyin", "confusable sound")


@lru_cache(maxsize=200_000)
def compare_names(a: str, b: str) -> NameMatch:
    a, b = normalise_name(a), normalise_name(b)
    if a == b:
        return NameMatch(100 if a else 0, "same characters")
    if len(a) == len(b):
        pairs = []
        for x, y in zip(a, b):
            if x != y:
                kind = char_kinship(x, y)
                if kind is None:
                    break
                pairs.append((x, y, kind))
        else:
            kinds = [k for k in _ORDER if any(p[2] == k for p in pairs)]
            return NameMatch(100, " + ".join(kinds), tuple(pairs))
    chars = Levenshtein.normalized_similarity(a, b)
    sound = Levenshtein.normalized_similarity(pinyin_key(a), pinyin_key(b))
    return NameMatch(int(max(chars, sound) * 100), "similar")


def name_similarity(a: str, b: str) -> tuple[int, str]:
    """(similarity in percent, how) — see `compare_names`."""
    m = compare_names(a, b)
    return m.score, m.how
