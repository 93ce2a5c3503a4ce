"""Chinese name matching: same pinyin, look-alike characters, confusable sounds, transposed
ID digits — and look-alikes that must stay apart."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.alerts.matching import name_similarity, transpositions
from ledger.demo.misuse import name_variant, swap_digits
from tests.ledger.alerts.helpers import idn


def test_homophones_lookalikes_and_confusable_sounds_match():
    assert name_similarity("王建国", "汪建国")[0] == 100      # same pinyin
    assert name_similarity("陈玉兰", "陈王兰") == (100, "look-alike characters")
    assert name_similarity("刘娜", "刘拉")[0] == 100           # n/l
    assert name_similarity("张志强", "章志强")[0] == 100


def test_different_people_stay_apart():
    assert name_similarity("王建国", "王建华")[0] < 90       # twins' names
    assert name_similarity("张大伟", "张小伟")[0] < 90
    assert name_similarity("李明", "赵强")[0] < 50


def test_one_swap_of_adjacent_digits_is_found():
    number = idn(123)
    typo = swap_digits(number)
    assert typo != number and number in transpositions(typo)


@settings(deadline=None, max_examples=30)
@given(st.sampled_from("王李张刘陈杨黄赵吴周"), st.text("明华建国志强秀英兰梅", min_size=1,
                                                       max_size=2))
def test_generated_variants_match_their_original(surname, given_name):
    name = surname + given_name
    for want in ("homophone", "lookalike", "confusable"):
        variant = name_variant(name, want)
        if variant is not None:
            assert variant != name and name_similarity(name, variant)[0] == 100
