"""Money as integer fen (1 yuan = 100 fen): parsing, formatting, 大写, splitting.

Floats never appear: a float cannot hold 0.1 yuan exactly, and a ledger
that has to reconcile to the fen cannot afford that.  Amounts are plain
``int`` fen; ratios are ``fractions.Fraction``.

Parsing rules (``parse_yuan``), chosen to match what Chinese office
spreadsheets and bank export files actually contain:

* Full-width digits and punctuation (``１２３４．５６``, ``￥``, ``，``,
  ``－``) are mapped to ASCII first, by an explicit table rather than NFKC,
  because NFKC also turns superscripts and circled digits (``²``, ``①``)
  into digits, which would silently accept garbage.
* Optional sign and optional ``¥``/``￥`` in front (either order), optional
  ``元`` at the end, whitespace around any of them.
* Thousands separators are optional; when present they must all be the same
  character (``,`` or a space: ASCII, no-break, thin or narrow no-break)
  and every group after the first must have exactly three digits.
* At least one digit before the decimal point, and at least one after it
  if there is a point (``.5`` and ``5.`` are rejected as ambiguous).
* Decimal places beyond the second are accepted only if they are all zero
  (``1.230`` is 123 fen, ``1.234`` is an error): trailing zeros change no
  value, while any other digit there would have to be rounded away.
* Rejected with ``MoneyError``: empty text, exponents, nan/inf, malformed
  separators, several signs, negatives unless ``allow_negative``, and
  magnitudes above ``MAX_FEN``.  ``-0`` is zero, not a negative amount.

大写 rules (``to_daxie``) follow the People's Bank of China rules for
filling in bills (正确填写票据和结算凭证的基本规定):

* 10 is written 壹拾 (never bare 拾), as banks require, so that nothing can be
  inserted in front of it.
* Runs of zeros inside the integer part collapse to one 零, also across
  万/亿 sections (100001000 元 -> 壹亿零壹仟元).  A section that follows a
  non-zero one but starts with zero gets a 零 (1,1000,0100 -> …万零壹佰元);
  zeros at the end of a section are absorbed by its 万/亿 (10,7000 ->
  壹拾万柒仟元), which the rules allow either way.  Counts of 亿 above 9999
  are read with 万 (1,0001,0000,0000 元 -> 壹万零壹亿元).
* 零 is written between 元 and 分 when 角 is zero (10.01 -> 壹拾元零壹分).
  When only the 元 digit is zero and 角 is not, the rules allow 零 or not;
  we omit it, consistently with the 万 case: 1680.32 -> 壹仟陆佰捌拾元叁角贰分
  and 107000.53 -> 壹拾万柒仟元伍角叁分 (the PBOC lists both spellings as valid).
* 整 follows 元 when 角 and 分 are zero, and follows 角 when 分 is zero;
  nothing follows 分.  Amounts under one yuan have no 元 part (0.5 ->
  伍角整), zero is 零元整, negatives get a 负 prefix.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Sequence

from ledger.core.normalise import (
    NumberCharacterError,
    fault_at,
    first_disguised,
    first_lookalike,
    nfkc,
)

__all__ = [
    "MAX_FEN",
    "MoneyError",
    "format_yuan",
    "format_yuan_plain",
    "parse_fen",
    "parse_yuan",
    "split_largest_remainder",
    "to_daxie",
]

#: Largest magnitude accepted anywhere: 10^15 fen = 10 万亿 yuan, far above any
#: real appropriation, low enough to catch a pasted account number.
MAX_FEN = 10**15

_FULLWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "．": ".",
        "，": ",",
        "＋": "+",
        "－": "-",
        "\u2212": "-",  # MINUS SIGN, produced by some spreadsheet exports
        "￥": "¥",
        "\u3000": " ",  # ideographic space
    }
)
_GROUP_SEPARATORS = ", \u00a0\u2009\u202f"
_AFFIXES = re.compile(r"(?P<pre>[+\-¥\s]*)(?P<body>.*?)\s*元?", re.S)
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[, \u00a0\u2009\u202f])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_EXPONENT = re.compile(r"[0-9.,]*[0-9.][eE][+-]?[0-9]+")
_NOT_FINITE = {"nan", "snan", "inf", "infinity"}
_MAX_INT_DIGITS = len(str(MAX_FEN // 100))


class MoneyError(ValueError):
    """An amount of money that cannot be accepted, with the reason."""


class AmountCharacterError(NumberCharacterError, MoneyError):
    """An amount holding a lookalike of a digit (12O.00, ١٢٣): the catalogued refusal
    `number_character`, caught where a MoneyError is."""


def _quote(text: str) -> str:
    # repr shows invisible characters (\u3000, \xa0) that caused the problem;
    # truncation keeps a pasted megabyte out of log lines.
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


def _fail(text: str, problem: str) -> MoneyError:
    return MoneyError(f"{_quote(text)} {problem}")


def _normalise(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"amount must be str, not {type(text).__name__}")
    # NFKC after the table: it folds what the table does not list (full-width letters, the
    # circled and other compatibility digits) and leaves ASCII alone.
    translated = text.translate(_FULLWIDTH)
    disguised = first_disguised(translated)
    if disguised is not None:
        raise _character(text, translated, disguised)
    normalised = nfkc(translated)
    if not normalised:
        raise _fail(text, "is empty")
    lookalike = first_lookalike(normalised)
    if lookalike is not None:
        raise _character(text, normalised, lookalike)
    return normalised


def _character(text: str, read: str, position: int) -> AmountCharacterError:
    fault = fault_at(read, position)
    return AmountCharacterError(f"{_quote(text)}: {fault.text}", field="amount",
                                character=fault.character, codepoint=fault.codepoint,
                                name=fault.name, position=fault.position,
                                looks_like=fault.looks_like)


def _check_range(text: str, fen: int, allow_negative: bool) -> int:
    if abs(fen) > MAX_FEN:
        raise _fail(text, f"exceeds the maximum of {format_yuan(MAX_FEN)} yuan")
    if fen < 0 and not allow_negative:
        raise _fail(text, "is negative")
    return fen


def _split_sign(text: str, prefix: str) -> bool:
    """Return True if the prefix (signs, ¥, spaces) makes the amount negative."""
    signs = [c for c in prefix if c in "+-"]
    if len(signs) > 1:
        raise _fail(text, "has more than one sign")
    if prefix.count("¥") > 1:
        raise _fail(text, "is not an amount")
    return signs == ["-"]


def _integer_digits(text: str, part: str) -> str:
    if re.fullmatch(r"[0-9]+", part):
        return part
    if _GROUPED.fullmatch(part):
        return re.sub(r"[^0-9]", "", part)
    if part and all(c in "0123456789" + _GROUP_SEPARATORS for c in part):
        raise _fail(text, "has malformed thousands separators")
    raise _fail(text, "is not an amount")


def _fraction_fen(text: str, frac: str) -> int:
    if not re.fullmatch(r"[0-9]+", frac):
        raise _fail(text, "is not an amount")
    if frac[2:].strip("0"):
        raise _fail(text, "has a part smaller than one fen")
    return int(frac[:2].ljust(2, "0"))


def _body_to_fen(text: str, body: str) -> int:
    if body.lower() in _NOT_FINITE:
        raise _fail(text, "is not a finite amount")
    if _EXPONENT.fullmatch(body):
        raise _fail(text, "uses exponent notation, which is not allowed")
    if body.count(".") > 1:
        raise _fail(text, "is not an amount")
    int_part, point, frac = body.partition(".")
    digits = _integer_digits(text, int_part).lstrip("0")
    fen = _fraction_fen(text, frac) if point else 0
    # Checked before int() so huge inputs fail with our message, not int()'s.
    if len(digits) > _MAX_INT_DIGITS:
        raise _fail(text, f"exceeds the maximum of {format_yuan(MAX_FEN)} yuan")
    return int(digits or "0") * 100 + fen


_PLAIN_YUAN = re.compile(r"[0-9]{1,13}\.[0-9]{2}")  # 500.00: how bank files write amounts


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """Parse a yuan amount as written in spreadsheets and bank files; return fen."""
    if type(text) is str and _PLAIN_YUAN.fullmatch(text):
        # The common form, digits and two decimals, read directly (a bank's result file has
        # one per line); the general path below gives the same value for it.
        return int(text.replace(".", ""))
    normalised = _normalise(text)
    match = _AFFIXES.fullmatch(normalised)
    assert match is not None  # the pattern matches every string
    negative = _split_sign(text, match["pre"])
    fen = _body_to_fen(text, match["body"])
    return _check_range(text, -fen if negative else fen, allow_negative)


def parse_fen(text: str, *, allow_negative: bool = False) -> int:
    """Parse an integer fen field: digits with an optional sign, nothing else."""
    normalised = _normalise(text)
    match = re.fullmatch(r"([+-]*)\s*([0-9]+)", normalised)
    if match is None:
        raise _fail(text, "is not a whole number of fen")
    negative = _split_sign(text, match[1])
    digits = match[2].lstrip("0")
    if len(digits) > len(str(MAX_FEN)):
        raise _fail(text, f"exceeds the maximum of {MAX_FEN} fen")
    fen = int(digits or "0")
    return _check_range(text, -fen if negative else fen, allow_negative)


def _require_int(fen: int) -> None:
    # bool is an int subclass; True as "1 fen" is always a bug upstream.
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"fen must be int, not {type(fen).__name__}")


def format_yuan(fen: int) -> str:
    """Format fen as yuan with thousands separators: 123456 -> '1,234.56'."""
    _require_int(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def format_yuan_plain(fen: int) -> str:
    """Format fen as yuan without separators: 123456 -> '1234.56'."""
    return format_yuan(fen).replace(",", "")


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")


def _section_daxie(value: int) -> str:
    """One four-digit section (1..9999) without its 万/亿 unit."""
    out, pending_zero = [], False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            pending_zero = bool(out)  # only zeros between non-zero digits count
            continue
        if pending_zero:
            out.append("零")
        out.append(_DIGITS[digit] + _PLACES[place])
        pending_zero = False
    return "".join(out)


def _join_units(
    high: str, unit: str, low: int, low_size: int, render: Callable[[int], str]
) -> str:
    # A 零 is needed when the lower part does not fill its top digit
    # (1,0000,0100 -> 壹亿零壹佰); zeros at the end of the higher part are
    # absorbed by its unit word, which the PBOC rules permit.
    if low == 0:
        return high + unit
    return high + unit + ("零" if low < low_size // 10 else "") + render(low)


def _below_yi_daxie(yuan: int) -> str:
    high, low = divmod(yuan, 10**4)
    if not high:
        return _section_daxie(low)
    return _join_units(_section_daxie(high), "万", low, 10**4, _section_daxie)


def _integer_daxie(yuan: int) -> str:
    # Above 亿 the count of 亿 is itself read with 万 (壹万零壹亿), so recurse
    # rather than inventing a 万亿 section that would read 壹万亿零壹亿.
    high, low = divmod(yuan, 10**8)
    if not high:
        return _below_yi_daxie(low)
    return _join_units(_integer_daxie(high), "亿", low, 10**8, _below_yi_daxie)


def _fraction_daxie(has_yuan: bool, jiao: int, fen: int) -> str:
    if jiao == 0 and fen == 0:
        return "整"
    out = _DIGITS[jiao] + "角" if jiao else ("零" if has_yuan else "")
    return out + (_DIGITS[fen] + "分" if fen else "整")


def to_daxie(fen: int) -> str:
    """Amount in capital characters (人民币大写): 100450 -> '壹仟零肆元伍角整'."""
    _require_int(fen)
    if abs(fen) > MAX_FEN:
        raise MoneyError(f"{fen} fen exceeds the maximum of {MAX_FEN} fen")
    if fen == 0:
        return "零元整"
    yuan, cents = divmod(abs(fen), 100)
    integer = _integer_daxie(yuan) + "元" if yuan else ""
    body = integer + _fraction_daxie(bool(yuan), cents // 10, cents % 10)
    return ("负" if fen < 0 else "") + body


def _check_weight(weight: int | Fraction) -> Fraction:
    # Floats are refused: 0.1 as a weight is already not 1/10.
    if isinstance(weight, bool) or not isinstance(weight, (int, Fraction)):
        raise TypeError(f"weight must be int or Fraction, not {type(weight).__name__}")
    if weight < 0:
        raise MoneyError(f"weight {weight} is negative")
    return Fraction(weight)


def split_largest_remainder(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split total fen in proportion to weights; parts sum exactly to total.

    Hamilton's method: everyone gets the floor of their exact quota, and the
    fen left over go one each to the largest fractional remainders, ties to
    the lower index so the result never depends on sort stability.
    """
    _require_int(total)
    if total < 0:
        raise MoneyError(f"total {total} fen is negative")
    exact = [_check_weight(w) for w in weights]
    weight_sum = sum(exact, Fraction(0))
    if weight_sum == 0:
        raise MoneyError(f"cannot split {total} fen: weights are empty or all zero")
    quotas = [total * w / weight_sum for w in exact]
    parts = [q.numerator // q.denominator for q in quotas]
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (parts[i] - quotas[i], i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return parts
