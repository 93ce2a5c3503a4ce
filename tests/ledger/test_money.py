"""Tests for ledger.core.money: parsing, formatting, 大写 and largest-remainder splits."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.core.money import (
    MAX_FEN,
    MoneyError,
    format_yuan,
    format_yuan_plain,
    parse_fen,
    parse_yuan,
    split_largest_remainder,
    to_daxie,
)

fen_amounts = st.integers(min_value=-MAX_FEN, max_value=MAX_FEN)
FULLWIDTH = str.maketrans("0123456789.,-+¥ ", "０１２３４５６７８９．，－＋￥\u3000")


# --- parse_yuan: accepted forms -------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234", 123400),
        ("1,234.56", 123456),
        ("1234.5", 123450),
        ("¥1,234.50", 123450),
        ("￥1234", 123400),
        ("1234.56元", 123456),
        ("1234.56 元", 123456),
        ("1 234.56", 123456),
        ("1\u00a0234.56", 123456),
        ("１２３４．５６", 123456),
        ("￥１，２３４．５６元", 123456),
        ("  \t1234.56\n ", 123456),
        ("\u30001234\u3000", 123400),
        ("0", 0),
        ("0.01", 1),
        ("007", 700),
        ("+12", 1200),
        ("1,234,567.89", 123456789),
        ("1.230", 123),  # zeros beyond the fen are harmless
        ("1.2300000", 123),
        ("-0", 0),  # minus zero is zero, not a negative amount
        ("-0.00", 0),
        ("100000000000.00", 10**13),
        ("10,000,000,000,000.00", MAX_FEN),
    ],
)
def test_parse_yuan_accepts(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("-5", -500),
        ("-1,234.56", -123456),
        ("-¥1,234.56", -123456),
        ("¥-1,234.56", -123456),
        ("－１２．５", -1250),
        ("\u22123", -300),
        ("-10,000,000,000,000.00", -MAX_FEN),
    ],
)
def test_parse_yuan_negative_when_allowed(text: str, fen: int) -> None:
    assert parse_yuan(text, allow_negative=True) == fen


# --- parse_yuan / parse_fen: rejections ------------------------------------

REJECTED_YUAN = [
    ("", "is empty"),
    ("   ", "is empty"),
    ("\u3000", "is empty"),
    ("abc", "is not an amount"),
    ("12.345", "smaller than one fen"),
    ("0.001", "smaller than one fen"),
    ("1.234", "smaller than one fen"),
    ("1.2301", "smaller than one fen"),
    ("-5", "is negative"),
    ("-0.01", "is negative"),
    ("1e3", "exponent"),
    ("1E+3", "exponent"),
    ("1.5e-2", "exponent"),
    ("nan", "not a finite amount"),
    ("NaN", "not a finite amount"),
    ("inf", "not a finite amount"),
    ("-Infinity", "not a finite amount"),
    ("1,23,4", "malformed thousands separators"),
    ("1,2345", "malformed thousands separators"),
    ("1234,567", "malformed thousands separators"),
    ("1,,234", "malformed thousands separators"),
    (",123", "malformed thousands separators"),
    ("1,234 567", "malformed thousands separators"),
    ("12,34", "malformed thousands separators"),  # a European decimal comma
    ("--5", "more than one sign"),
    ("+-5", "more than one sign"),
    ("-¥-5", "more than one sign"),
    ("¥¥5", "is not an amount"),
    ("1.2.3", "is not an amount"),
    (".5", "is not an amount"),
    ("5.", "is not an amount"),
    ("5-", "is not an amount"),
    ("¥", "is not an amount"),
    ("元", "is not an amount"),
    ("1²3", "'²' (U+00B2 superscript two) at position 2 is not a digit"),
    ("①", "(U+2460 circled digit one) at position 1 is not a digit"),
    ("12O.00", "'O' (U+004F latin capital letter o) at position 3 is not a digit (it looks "
               "like '0')"),
    ("١٢٣", "(U+0661 arabic-indic digit one) at position 1 is not a digit (it looks like "
            "'1')"),
    ("0x10", "is not an amount"),
    ("1_000", "is not an amount"),
    ("10,000,000,000,000.01", "exceeds the maximum"),
    ("99999999999999999999", "exceeds the maximum"),
    ("1" * 5000, "exceeds the maximum"),  # must not trip int()'s digit limit
]


@pytest.mark.parametrize(("text", "problem"), REJECTED_YUAN)
def test_parse_yuan_rejects_with_reason_and_text(text: str, problem: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_yuan(text)
    message = str(caught.value)
    assert problem in message
    assert repr(text[:60]) in message


def test_money_error_is_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize("bad", [None, 12, 12.5, b"12"])
def test_parsers_reject_non_text(bad: object) -> None:
    with pytest.raises(TypeError):
        parse_yuan(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_fen(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fen", "allow_negative"),
    [
        ("0", 0, False),
        ("123456", 123456, False),
        (" 42 ", 42, False),
        ("４２", 42, False),
        ("+7", 7, False),
        ("-0", 0, False),
        ("-15", -15, True),
        (str(MAX_FEN), MAX_FEN, False),
    ],
)
def test_parse_fen_accepts(text: str, fen: int, allow_negative: bool) -> None:
    assert parse_fen(text, allow_negative=allow_negative) == fen


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("12.5", "not a whole number of fen"),
        ("1,234", "not a whole number of fen"),
        ("abc", "not a whole number of fen"),
        ("1e3", "not a whole number of fen"),
        ("-15", "is negative"),
        ("--15", "more than one sign"),
        (str(MAX_FEN + 1), "exceeds the maximum"),
        ("9" * 5000, "exceeds the maximum"),
    ],
)
def test_parse_fen_rejects_with_reason_and_text(text: str, problem: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_fen(text)
    assert problem in str(caught.value)
    assert repr(text[:60]) in str(caught.value)


# --- format ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "grouped", "plain"),
    [
        (0, "0.00", "0.00"),
        (1, "0.01", "0.01"),
        (50, "0.50", "0.50"),
        (123456, "1,234.56", "1234.56"),
        (-123456, "-1,234.56", "-1234.56"),
        (-5, "-0.05", "-0.05"),
        (100000000, "1,000,000.00", "1000000.00"),
    ],
)
def test_format_yuan(fen: int, grouped: str, plain: str) -> None:
    assert format_yuan(fen) == grouped
    assert format_yuan_plain(fen) == plain


@pytest.mark.parametrize("bad", [1.5, "100", True, Decimal("1")])
def test_format_rejects_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        format_yuan(bad)  # type: ignore[arg-type]


@given(fen_amounts)
def test_format_parse_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen
    assert parse_yuan(format_yuan_plain(fen), allow_negative=True) == fen
    assert parse_fen(str(fen), allow_negative=True) == fen


@st.composite
def decorated_amounts(draw: st.DrawFn) -> tuple[str, int]:
    """A decimal string in one of the accepted spellings, and its value in fen."""
    yuan = draw(st.integers(min_value=0, max_value=MAX_FEN // 100 - 1))
    places = draw(st.integers(min_value=0, max_value=2))
    frac = draw(st.integers(min_value=0, max_value=10**places - 1)) if places else 0
    separator = draw(st.sampled_from(["", ",", " ", "\u00a0"]))
    body = f"{yuan:,}".replace(",", separator)
    if places:
        body += "." + str(frac).zfill(places) + "0" * draw(st.integers(0, 3))
    negative = draw(st.booleans())
    text = ("-" if negative else "") + draw(st.sampled_from(["", "¥", "￥", "¥ "])) + body
    text += draw(st.sampled_from(["", "元", " 元"]))
    if draw(st.booleans()):
        text = text.translate(FULLWIDTH)
    text = draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "\n"]))
    # Independent oracle: Decimal on the undecorated digits.
    plain = str(yuan) + (f".{str(frac).zfill(places)}" if places else "")
    fen = int(Decimal(plain) * 100)
    return text, -fen if negative else fen


@given(decorated_amounts())
def test_parse_yuan_matches_decimal_oracle(case: tuple[str, int]) -> None:
    text, fen = case
    assert parse_yuan(text, allow_negative=True) == fen


@given(st.text(alphabet="0123456789.,-+ eE¥元", max_size=20))
def test_parse_yuan_near_miss_text_is_right_or_rejected(text: str) -> None:
    """On number-ish noise: either a MoneyError, or the value Decimal agrees on."""
    try:
        fen = parse_yuan(text, allow_negative=True)
    except MoneyError:
        return
    cleaned = text.strip().replace(",", "").replace(" ", "").replace("¥", "").replace("元", "")
    assert fen == Decimal(cleaned) * 100
    assert abs(fen) <= MAX_FEN


@given(st.text(max_size=30))
def test_parse_never_raises_anything_but_money_error(text: str) -> None:
    for parse in (parse_yuan, parse_fen):
        try:
            result = parse(text, allow_negative=True)
        except MoneyError:
            continue
        assert isinstance(result, int) and abs(result) <= MAX_FEN


# --- 大写 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "daxie"),
    [
        (0, "零元整"),
        (1, "壹分"),
        (5, "伍分"),
        (15, "壹角伍分"),
        (50, "伍角整"),
        (100, "壹元整"),
        (1000, "壹拾元整"),  # banks write 壹拾, never bare 拾
        (1001, "壹拾元零壹分"),
        (1010, "壹拾元壹角整"),
        (11000, "壹佰壹拾元整"),
        (100000, "壹仟元整"),
        (100100, "壹仟零壹元整"),
        (100450, "壹仟零肆元伍角整"),
        (101000, "壹仟零壹拾元整"),
        (168032, "壹仟陆佰捌拾元叁角贰分"),  # 零 after 元 optional here; omitted
        (1000000, "壹万元整"),
        (1000100, "壹万零壹元整"),
        (10150000, "壹拾万壹仟伍佰元整"),  # trailing zeros absorbed by 万
        (10700053, "壹拾万柒仟元伍角叁分"),
        (1640902, "壹万陆仟肆佰零玖元零贰分"),  # PBOC examples
        (32504, "叁佰贰拾伍元零肆分"),
        (600714, "陆仟零柒元壹角肆分"),
        (140950, "壹仟肆佰零玖元伍角整"),
        (10000000000, "壹亿元整"),
        (10001000000, "壹亿零壹万元整"),
        (20000000100, "贰亿零壹元整"),
        (10000100005, "壹亿零壹仟元零伍分"),
        (11000010000, "壹亿壹仟万零壹佰元整"),
        (10100000000, "壹亿零壹佰万元整"),
        (12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
        (100000000000000, "壹万亿元整"),
        (100000000000001, "壹万亿元零壹分"),
        (100010000000000, "壹万零壹亿元整"),  # not 壹万亿零壹亿
        (100100000000000, "壹万零壹拾亿元整"),
        (101000000000000, "壹万零壹佰亿元整"),
        (110000000000000, "壹万壹仟亿元整"),
        (100000010000000, "壹万亿零壹拾万元整"),
        (MAX_FEN - 1, "玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        (MAX_FEN, "壹拾万亿元整"),
        (-5, "负伍分"),
        (-100450, "负壹仟零肆元伍角整"),
    ],
)
def test_to_daxie_known_cases(fen: int, daxie: str) -> None:
    assert to_daxie(fen) == daxie


DAXIE_CHARACTERS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负")


@given(fen_amounts)
def test_to_daxie_uses_only_allowed_characters(fen: int) -> None:
    daxie = to_daxie(fen)
    assert daxie
    assert set(daxie) <= DAXIE_CHARACTERS
    assert "零零" not in daxie
    assert daxie.startswith("负") == (fen < 0)
    assert daxie.endswith("分") == (fen % 10 != 0)


def test_to_daxie_rejects_out_of_range_and_non_int() -> None:
    with pytest.raises(MoneyError, match=str(MAX_FEN + 1)):
        to_daxie(MAX_FEN + 1)
    with pytest.raises(TypeError):
        to_daxie(12.5)  # type: ignore[arg-type]


# --- split_largest_remainder -------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # tie goes to the lowest index
        (100, [1, 1, 1, 1], [25, 25, 25, 25]),
        (10, [0, 1, 0], [0, 10, 0]),
        (0, [3, 4], [0, 0]),
        (7, [Fraction(1, 3), Fraction(2, 3)], [2, 5]),  # quotas 2.33, 4.67
        (1000, [5, 3, 2], [500, 300, 200]),
        (1, [1, 1], [1, 0]),
    ],
)
def test_split_known_cases(total: int, weights: list, parts: list[int]) -> None:
    assert split_largest_remainder(total, weights) == parts


@pytest.mark.parametrize("weights", [[], [0], [0, 0, Fraction(0)]])
def test_split_rejects_all_zero_weights(weights: list) -> None:
    with pytest.raises(MoneyError, match="all zero"):
        split_largest_remainder(100, weights)


def test_split_rejects_negative_input() -> None:
    with pytest.raises(MoneyError, match="-1"):
        split_largest_remainder(-1, [1])
    with pytest.raises(MoneyError, match="-2"):
        split_largest_remainder(10, [1, -2])
    with pytest.raises(TypeError):
        split_largest_remainder(10, [0.5, 0.5])  # type: ignore[list-item]


weights_lists = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.fractions(min_value=0, max_value=1000, max_denominator=1000),
    ),
    min_size=1,
    max_size=30,
)


@given(st.integers(min_value=0, max_value=MAX_FEN), weights_lists)
def test_split_properties(total: int, weights: list) -> None:
    assume(sum(weights) > 0)
    parts = split_largest_remainder(total, weights)
    weight_sum = sum(Fraction(w) for w in weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights):
        quota = total * Fraction(weight) / weight_sum
        assert abs(part - quota) < 1
        if weight == 0:
            assert part == 0
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert parts[i] >= parts[j]
