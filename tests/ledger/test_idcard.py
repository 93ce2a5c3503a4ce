"""ID numbers: check characters, legacy 15-digit numbers, impossible dates, masking."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.idcard import IdNumberError, check_character, mask, normalise
from ledger.core.normalise import NumberCharacterError


def make(region="430121", birth=dt.date(1990, 1, 1), seq="123"):
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + check_character(first17)


def test_known_number_with_x_check_character():
    # GB 11643's own example: 11010519491231002X
    assert normalise("11010519491231002x") == "11010519491231002X"


def test_legacy_15_digit_number_converts():
    assert normalise("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize("bad,reason", [
    ("110105194912310021", "check character"),
    ("11010519491331002X", "not a date"),
    ("1101051949123100", "16 characters"),
    ("11010521491231002X"[:17] + "0", "impossible"),
])
def test_bad_numbers_are_refused_with_a_reason(bad, reason):
    with pytest.raises(IdNumberError, match=reason):
        normalise(bad)


def test_a_character_that_is_no_digit_is_named():
    """Full-width digits are the number (NFKC); a letter or another script's digit is named."""
    assert normalise("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    for bad, named in (("11010519491231002Y", "'Y' (U+0059 latin capital letter y) at "
                        "position 18"), ("11010519491231O02X", "'O' (U+004F latin capital "
                        "letter o) at position 15 is not a digit (it looks like '0')"),
                       ("١1010519491231002X", "U+0661 arabic-indic digit one")):
        with pytest.raises(NumberCharacterError, match=re.escape(named)) as err:
            normalise(bad)
        assert err.value.code == "number_character" and bad not in str(err.value)


def test_messages_never_show_the_whole_number():
    with pytest.raises(IdNumberError) as err:
        normalise("110105194912310021")
    assert "110105194912310021" not in str(err.value)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 999))
def test_every_generated_number_validates_and_one_changed_digit_fails(birth, seq):
    number = make(birth=birth, seq=f"{seq:03d}")
    assert normalise(number) == number
    changed = number[:16] + str((int(number[16]) + 1) % 10) + number[17]
    with pytest.raises(IdNumberError):
        normalise(changed)


def test_mask_keeps_first_and_last_four():
    assert mask("11010519491231002X") == "1101**********002X"
    assert mask("6222021234567890123", 6, 4) == "622202*********0123"
