"""Text at the boundary: one normal form for everything a person or a file types.

Chinese input methods type digits and Latin letters full-width (４３０１…, ＡＢＣ) as readily as
ASCII; a spreadsheet or a form keeps whatever was typed. An ID number typed both ways is one
person, so every identifier, code, amount and date is read under Unicode NFKC (which folds
full-width and other compatibility forms to ASCII) before it is checked, stored or digested.

NFKC does not fold everything that looks like a digit: Arabic-Indic digits (٤), Devanagari
digits, the Latin letters O and l, Cyrillic О or Х stay what they are. `number_text` refuses
those in a number with the refusal `number_character`, naming the character and its position,
instead of letting `str.isdigit()` (which says yes to ٤) or a lookalike through.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ledger.core.errors import LedgerError

ASCII_DIGITS = frozenset("0123456789")

# Letters that are typed for digits (a worn keyboard, OCR, a habit): named in the refusal.
_LOOKS_LIKE = {"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "i": "1",
               "|": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "G": "6",
               "b": "6", "g": "9", "q": "9"}


class NumberCharacterError(LedgerError, ValueError):
    """A number holding a character that is not one of its digits. A ValueError too, so that
    a parser's caller that turns ValueError into its own refusal still stops on it."""

    code = "number_character"


def fold(text: str) -> str:
    """`text` under NFKC, except the characters NFKC would turn into ASCII letters or digits
    that are no full-width form (a superscript ², a circled ②, a mathematical 𝟏): those stay
    as typed, for a number's reader to refuse by name (`first_disguised`) — folded, 10² would
    be the number 102. Full-width forms (what a Chinese keyboard types), compatibility
    ideographs and spaces are folded as NFKC folds them."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text)
    if folded == text:
        return text
    runs, start = [], 0
    for i, character in enumerate(text):
        if _disguises(character):
            runs.append(unicodedata.normalize("NFKC", text[start:i]))
            runs.append(character)
            start = i + 1
    if start == 0:
        return folded
    runs.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(runs)


def _disguises(character: str) -> bool:
    if character.isascii() or character.isspace() or "\uff01" <= character <= "\uff5e":
        return False
    folded = unicodedata.normalize("NFKC", character)
    return folded != character and any(c.isascii() and c.isalnum() for c in folded)


def nfkc(text: str) -> str:
    """`text` in its normal form (`fold`: NFKC, disguised digits kept), without surrounding
    white space (U+3000, the ideographic space, too)."""
    return fold(text).strip()


def nfkc_upper(text: str) -> str:
    """The normal form of a code or identifier: NFKC, stripped, upper case."""
    return nfkc(text).upper()


def describe(character: str) -> tuple[str, str]:
    """(U+XXXX, its Unicode name) for a message a clerk can act on."""
    return (f"U+{ord(character):04X}",
            unicodedata.name(character, "unnamed character").lower())


def looks_like(character: str) -> str | None:
    """The ASCII digit a character is mistaken for, if any (٤ → 4, O → 0)."""
    value = unicodedata.digit(character, None)
    if value is not None:
        return str(value)
    if character in _LOOKS_LIKE:
        return _LOOKS_LIKE[character]
    # Cyrillic and Greek capitals that look like Latin ones (О, Х, Ο): by their names.
    name = unicodedata.name(character, "")
    for script in ("CYRILLIC", "GREEK"):
        if name.startswith(script) and " LETTER " in name:
            latin = name.rsplit(" ", 1)[-1]
            if len(latin) == 1:
                return _LOOKS_LIKE.get(latin) or latin
    return None


@dataclass(frozen=True)
class CharacterFault:
    """What a refusal says of one character of a number: `text` the sentence after the
    value's name, and the catalogue's parameters of `number_character`."""
    text: str
    character: str
    codepoint: str
    name: str
    position: int               # 1-based, in the value as typed (stripped)
    looks_like: str | None


def fault_at(text: str, position: int) -> CharacterFault:
    """The fault of `text[position]` (0-based)."""
    character = text[position]
    codepoint, name = describe(character)
    like = looks_like(character)
    hint = f" (it looks like {like!r})" if like else ""
    return CharacterFault(f"character {character!r} ({codepoint} {name}) at position "
                          f"{position + 1} is not a digit{hint}", character, codepoint, name,
                          position + 1, like)


def character_error(field: str, text: str, position: int) -> NumberCharacterError:
    """The refusal for `text[position]` (0-based) in a number of kind `field`; the message
    names the field, never the value (an ID or card number is personal data)."""
    fault = fault_at(text, position)
    return NumberCharacterError(f"{field}: {fault.text}", field=field,
                                character=fault.character, codepoint=fault.codepoint,
                                name=fault.name, position=fault.position,
                                looks_like=fault.looks_like)


def number_text(text: str, field: str, *, drop: str = " -", allowed: str = "",
                last: str = "") -> str:
    """A number as typed, in its normal form: NFKC, stripped, upper case, without the
    separators in `drop`; every character must be an ASCII digit, one of `allowed`, or (only
    as the last character) one of `last` — anything else raises `number_character` naming it.
    """
    text = text or ""
    if text.isascii():   # the common case, read without NFKC (ASCII is its own normal form)
        value = text.strip()
        for separator in drop:
            value = value.replace(separator, "")
        body = value[:-1] if value and value[-1].upper() in last else value
        if body.isdigit() or not body:
            return value.upper()
    folded = first_disguised(text)
    if folded is not None:
        raise character_error(field, text.strip(), folded - (len(text) - len(text.lstrip())))
    typed = nfkc(text or "")
    value = "".join(c for c in typed if c not in drop)
    end = max((i for i, c in enumerate(typed) if c not in drop), default=-1)
    for i, character in enumerate(typed):
        if character in drop or character in ASCII_DIGITS or character.upper() in allowed:
            continue
        if character.upper() in last and i == end:
            continue
        # Named as typed, where typed (a lower-case l is the mistake, not an upper-case L).
        raise character_error(field, typed, i)
    return value.upper()


def first_disguised(text: str) -> int | None:
    """The position of the first character NFKC would turn into an ASCII letter or digit that
    is no full-width form (U+FF01–U+FF5E, what a Chinese keyboard types): a superscript ², a
    circled ②, a mathematical 𝟏. In a number these are no slip of the keyboard; folded, 10²
    would be 102."""
    for i, character in enumerate(text):
        if _disguises(character):
            return i
    return None


def first_lookalike(text: str) -> int | None:
    """The position of the first character in `text` that passes for a digit and is none: a
    digit of another script, a Cyrillic or Greek lookalike, or a Latin letter from
    `_LOOKS_LIKE` next to an ASCII digit (12O.00; "inf" alone is a word, not a number)."""
    for i, character in enumerate(text):
        if character in ASCII_DIGITS:
            continue
        if not character.isascii():
            if unicodedata.category(character) == "Nd" or looks_like(character) is not None:
                return i
        elif character in _LOOKS_LIKE and any(
                0 <= j < len(text) and text[j] in ASCII_DIGITS for j in (i - 1, i + 1)):
            return i
    return None
