"""Households registered in bulk (households.register_households, used by the demo province)
write exactly what register_household and add_member write one by one: the same rows and
audit entries, entry for entry, apart from the clock and fresh ciphertexts — on SQLite and
PostgreSQL. And a bad household refuses the whole batch."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.core.pii import PiiVault
from ledger.households import registry as hh
from ledger.models import AuditEntry, Household, HouseholdEvent, HouseholdStatus, Member, Payee
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger import same_rows
from tests.ledger.alerts.helpers import idn
from tests.world import VILLAGE, VILLAGE2

MODELS = (Payee, Household, HouseholdEvent, Member)
# Ciphertexts differ on every encryption (a random IV); their plaintexts are compared apart.
# random per row (an IV, a salt): compared in `plaintexts` instead
SKIP = {"bank_card", "phone", "id_number", "card_digest", "birth_digest"}


def batch() -> list[hh.NewHousehold]:
    return [hh.NewHousehold(
        f"B-{n:02d}", VILLAGE, f"户主{n}", HouseholdStatus.EXITED if n % 3 else
        HouseholdStatus.REGISTERED, dt.date(2019, 5, 1 + n),
        f"6222 0212 3456 78{n:02d}" if n % 4 else None, "13800001111" if n == 2 else None,
        tuple(hh.NewMember(name, relation, idn(10 * n + k, "19800101" if k == 0 else
                                               "20100101"),
                           dt.date(2023, 2, 1) if (n, k) == (1, 0) else None)
              for k, (name, relation) in enumerate([(f"户主{n}", "户主"), (f"子{n}", "子")][
                  :1 + n % 2]))) for n in range(7)]


def one_by_one(s, clerk, vault, households) -> None:
    for h in households:
        hh.register_household(s, clerk, vault, code=h.code, village_code=h.village_code,
                              head_name=h.head_name, status=h.status,
                              registered_on=h.registered_on, bank_card=h.bank_card,
                              phone=h.phone)
        for m in h.members:
            hh.add_member(s, clerk, vault, household_code=h.code, name=m.name,
                          relation=m.relation, id_number=m.id_number, death_date=m.death_date)


def plaintexts(s, vault) -> list:
    cards = [(h.code, h.bank_card and vault.decrypt(h.bank_card),
              h.phone and vault.decrypt(h.phone), hh.unsalted(h.card_digest))
             for h in s.execute(select(Household).order_by(Household.code)).scalars()]
    ids = [(vault.decrypt(m.id_number), hh.unsalted(m.birth_digest))
           for m in s.execute(select(Member).order_by(Member.id)).scalars()]
    return [cards, ids]


def test_households_registered_at_once_are_written_as_one_by_one(world):
    vault = PiiVault.from_env()
    s = world.factory()
    since = len(s.execute(select(AuditEntry.idx)).all())
    before = same_rows.marks(s, MODELS)
    one_by_one(s, get_user(s, "k_clerk"), vault, batch())
    s.flush()
    expected = same_rows.state(s, since, before, MODELS, SKIP)
    expected_plain = plaintexts(s, vault)
    s.rollback()
    s.close()
    with transaction(world.factory) as s:
        ids = hh.register_households(s, get_user(s, "k_clerk"), vault, batch())
        assert [len(x) for x in ids] == [1, 2, 1, 2, 1, 2, 1]
    with transaction(world.factory) as s:
        got = same_rows.state(s, since, before, MODELS, SKIP)
        assert plaintexts(s, vault) == expected_plain
        assert verify(s).intact
    for part in expected:
        assert got[part] == expected[part], part


@pytest.mark.parametrize("change, message", [
    (lambda b: b + [b[0]], "'B-00' already exists"),
    (lambda b: b + [hh.NewHousehold("B-X", VILLAGE, "甲", HouseholdStatus.REGISTERED,
                                    dt.date(2020, 1, 1),
                                    members=(hh.NewMember("甲", "表哥", idn(901)),))],
     "relation '表哥'"),
    (lambda b: b + [hh.NewHousehold("B-Y", VILLAGE, "乙", HouseholdStatus.REGISTERED,
                                    dt.date(2020, 1, 1), members=(
                                        hh.NewMember("乙", "户主", "430121198001011234"),))],
     "B-Y, member 乙"),
    (lambda b: b + [hh.NewHousehold("B-Z", VILLAGE, "丙", HouseholdStatus.REGISTERED,
                                    dt.date(2020, 1, 1), "1234")], "12 to 19 digits"),
])
def test_one_bad_household_registers_none_of_the_batch(world, change, message):
    with transaction(world.factory) as s:
        before = len(s.execute(select(AuditEntry.idx)).all())
    with pytest.raises(LedgerError, match=message):
        with transaction(world.factory) as s:
            hh.register_households(s, get_user(s, "k_clerk"), PiiVault.from_env(),
                                   change(batch()))
    with transaction(world.factory) as s:
        assert len(s.execute(select(AuditEntry.idx)).all()) == before
        assert s.execute(select(Household)).all() == []


def test_a_county_clerk_cannot_register_in_another_county(world):
    other = [hh.NewHousehold("B-O", VILLAGE2, "丁", HouseholdStatus.REGISTERED,
                             dt.date(2020, 1, 1))]
    with pytest.raises(PermissionDenied):
        with transaction(world.factory) as s:
            hh.register_households(s, get_user(s, "k_clerk"), PiiVault.from_env(), other)
