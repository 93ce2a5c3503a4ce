"""Input at the boundary (issue 19, red-team attack 2 and the import breaks).

- Full-width digits (what a Chinese input method types) are the same ID and the same card:
  registered once, matched by the deaths list; a lookalike (letter O, ١) is refused by name.
- A file in neither UTF-8 nor GB18030 is refused naming file, line and column, not decoded as
  GB18030 nonsense; real GB18030 files (with rare 4-byte characters) still import.
- A duplicated column is refused naming both positions.
- Every problem of a file is reported, with line and column, semantic ones too.
- Reading and checking a file takes memory bounded by a line, not by the file.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.households.cards import add_card
from ledger.imports.csvfile import ImportProblems
from ledger.imports.households import import_members
from ledger.models import Card, Member
from ledger.models.alerts import Alert, AlertEvent
from ledger.org.regions import get_user
from ledger.registers.external import ListKind, ListRecord
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn
from tests.ledger.test_import_households import run, write

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def wide(text: str) -> str:
    return text.translate(FULL_WIDTH)


def test_an_id_typed_full_width_is_the_same_person_to_the_registry_and_the_deaths_list(world):
    """Attack 2: the head's ID typed with full-width digits was stored under another digest, so
    the same person could be registered again in ASCII and the deaths list (ASCII) missed him.
    Now the number is read under NFKC: one digest, one person, the death is matched."""
    town = Town(world)
    number = idn(32)
    [head] = town.household("HX", [("王列", "户主", wide(number), None)])
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        with pytest.raises(LedgerError) as err:
            households.add_member(s, clerk, town.vault, household_code="HX", name="王列",
                                  relation="户主", id_number=number)
        assert err.value.code == "member_duplicate"
        stored = s.get(Member, head)
        assert town.vault.decrypt(stored.id_number) == number   # kept as ASCII
        assert stored.id_digest == town.vault.digest(number)    # the digest ASCII IDs had
    town.listing(ListKind.DEATHS, [ListRecord(2, "王列", number, date_from=dt.date(2024, 3, 1))])
    town.pay("HX", 500_00, dt.date(2024, 6, 3))
    with transaction(world.factory) as s:
        raised = [(a.rule_id, a.entity_key) for a in s.execute(select(Alert)).scalars()]
        event = s.execute(select(AlertEvent)).scalar_one()
    assert raised == [("BEN-01", "HX")]
    assert event.finding["evidence"]["death_source"].startswith("deaths list")
    assert "household:HX" in town.fired("BEN-01")


def test_a_card_typed_full_width_is_the_same_card(world):
    town = Town(world)
    card = "6222021234567890123"
    town.household("HC", [("赵卡", "户主", idn(41), None)], card=wide(card))
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        household = households.get_household(s, "HC")
        assert town.vault.decrypt(household.bank_card) == card
        assert household.bank_card_last4 == "0123"
        add_card(s, clerk, town.vault, household_code="HC", kind="household", account=card,
                 bank="农商行", opened_on=dt.date(2020, 1, 1))
        with pytest.raises(LedgerError) as err:
            add_card(s, clerk, town.vault, household_code="HC", kind="household",
                     account="６２２２ ０２１２ ３４５６ ７８９０ １２３", bank="农商行",
                     opened_on=dt.date(2020, 1, 1))
        assert err.value.code == "card_already_registered"
        assert s.execute(select(func.count()).select_from(Card)).scalar_one() == 1


def test_a_lookalike_in_a_number_is_refused_naming_the_character(world, tmp_path):
    """NFKC does not fold a letter O, an Arabic-Indic digit or a Cyrillic Х: each is refused
    (`number_character`), in a service call and in a file, naming character and position,
    never showing the number."""
    town = Town(world)
    town.household("HL", [("李一", "户主", idn(51), None)])
    number = idn(52)
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError) as err:
            households.add_member(s, get_user(s, "k_clerk"), town.vault, household_code="HL",
                                  name="李二", relation="子",
                                  id_number=number[:9] + "O" + number[10:])
    assert err.value.code == "number_character"
    assert err.value.params | {} == {"field": "id_number", "character": "O",
                                     "codepoint": "U+004F", "name": "latin capital letter o",
                                     "position": 10, "looks_like": "0"}
    arabic = "\u0664" + number[1:]                     # ٤ for the leading 4
    cyrillic = number[:17] + "\u0425"                  # Х (Cyrillic) for X
    path = write(tmp_path, "m.csv", "户编码,姓名,与户主关系,身份证号\n"
                 f"HL,李二,子,{arabic}\nHL,李三,女,{cyrillic}\nHL,李四,子,{wide(idn(53))}\n")
    with pytest.raises(ImportProblems) as err:
        run(world, import_members, path)
    found = [(p.line, p.column, p.code, p.params["codepoint"]) for p in err.value.problems]
    assert found == [(2, "身份证号", "number_character", "U+0664"),
                     (3, "身份证号", "number_character", "U+0425")]
    assert number not in str(err.value)
    with transaction(world.factory) as s:
        assert s.execute(select(func.count()).select_from(Member)).scalar_one() == 1
    path.write_text("户编码,姓名,与户主关系,身份证号\n"
                    f"HL,李四,子,{wide(idn(53))}\n", encoding="utf-8")
    assert run(world, import_members, path).added == 1
    with transaction(world.factory) as s:
        digest = s.execute(select(Member.id_digest).where(Member.name == "李四")).scalar_one()
    assert digest == PiiVault.from_env().digest(idn(53))
