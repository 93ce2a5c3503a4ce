"""Insiders who want an entry to disappear or money to go elsewhere (docs/threat-model.md).

Most claims of the threat model are tested where the mechanism lives (tests/ledger/audit/,
tests/ledger/test_invariants.py); these are the ones that needed a test of their own.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.audit.entries import decode_entry
from ledger.audit.log import entry_bytes
from ledger.audit.verify import verify
from ledger.imports.households import import_households
from ledger.models import Household
from ledger.store.db import transaction
from tests.ledger.audit.test_verify_db import tamper
from tests.ledger.test_import_households import HOUSEHOLDS, run, write


@pytest.fixture
def registered(world, tmp_path):
    """Households a clerk imported (one of them could be invented)."""
    run(world, import_households, write(tmp_path, "h.csv", HOUSEHOLDS))
    return world


def test_an_invented_household_stays_attributed_to_the_clerk_who_entered_it(registered,
                                                                             engine):
    with transaction(registered.factory) as s:
        household = s.get(Household, "H-100")
        entry = decode_entry(entry_bytes(s, household.log_index))
    assert (entry["actor"], entry["kind"]) == ("k_clerk", "household.register")
    for sql in ("DELETE FROM households WHERE code = 'H-100'",
                "DELETE FROM payees WHERE code = 'H-100'",
                "UPDATE households SET head_name = '某某' WHERE code = 'H-100'",
                "DELETE FROM household_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))


def test_a_bank_card_swapped_in_the_database_is_found(registered, engine):
    """A DBA cannot read card numbers, but could copy an accomplice's encrypted card onto
    another household so that its money goes to the accomplice. Row binding names it."""
    tamper(engine, "UPDATE households SET bank_card = (SELECT bank_card FROM households "
                   "WHERE code = 'H-101') WHERE code = 'H-100'")
    with transaction(registered.factory) as s:
        report = verify(s)
    assert not report.intact
    named = [f for f in report.findings if f.table == "households" and f.key == ["H-100"]]
    assert named and "bank_card" in named[0].fields, [f.message for f in report.findings]
