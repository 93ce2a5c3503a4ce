"""Matching people by Chinese name and ID number (research: misuse-detection-anchors §4.5).

Comparator, strongest first: exact ID number (keyed digest); an ID with one adjacent
transposition together with a similar name; same birth date and village with a similar name.
Name similarity is the larger of a character similarity (look-alike characters folded first)
and a pinyin similarity with the usual confusable sounds folded (l/n, z/zh, c/ch, s/sh,
in/ing, en/eng), so 王建国/汪建国 (same pinyin) and 陈玉/陈王 (look-alike) both score 1.0.
Library: pypinyin for pinyin, rapidfuzz for edit-distance ratios.
"""
from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

# 形近字 often confused when registers are typed from handwritten forms (a small starter table;
# extend it as cases are confirmed).
LOOK_ALIKE = {"玉": "王", "汪": "王", "未": "末", "己": "已", "巳": "已", "曰": "日", "士": "土",
              "候": "侯", "戌": "戍", "戊": "戍", "扬": "杨", "沉": "沈", "箐": "菁", "徐": "涂",
              "兰": "兰", "丙": "两", "人": "入", "八": "入", "千": "干", "于": "干", "毛": "手",
              "贝": "见", "天": "夭", "太": "大", "犬": "大", "刀": "力", "万": "方", "田": "由",
              "甲": "由", "申": "由", "凤": "风", "春": "眷", "云": "去", "荣": "荥"}

_FOLD = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ing", "in"), ("eng", "en")]


def _fold_syllable(syl: str) -> str:
    for a, b in _FOLD:
        syl = syl.replace(a, b)
    if syl.startswith("n"):
        syl = "l" + syl[1:]
    return syl


@lru_cache(maxsize=200_000)
def pinyin_key(name: str) -> str:
    return " ".join(_fold_syllable(s) for s in lazy_pinyin(name))


@lru_cache(maxsize=200_000)
def glyph_key(name: str) -> str:
    return "".join(LOOK_ALIKE.get(ch, ch) for ch in name)


def name_similarity(a: str, b: str) -> tuple[int, str]:
    """(similarity in percent, how) — how is 'same characters', 'look-alike characters',
    'same pinyin' or 'similar'."""
    if a == b:
        return 100, "same characters"
    if glyph_key(a) == glyph_key(b):
        return 100, "look-alike characters"
    if pinyin_key(a) == pinyin_key(b):
        return 100, "same pinyin (confusable sounds folded)"
    chars = Levenshtein.normalized_similarity(glyph_key(a), glyph_key(b))
    sound = Levenshtein.normalized_similarity(pinyin_key(a), pinyin_key(b))
    return int(max(chars, sound) * 100), "similar"


def transpositions(id_number: str) -> list[str]:
    """Every ID differing by one swap of adjacent digits (typing errors), check char kept."""
    out = []
    for i in range(len(id_number) - 1):
        if id_number[i] != id_number[i + 1]:
            out.append(id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2:])
    return out
