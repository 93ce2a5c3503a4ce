"""BEN-02 and BEN-03 read stored keyed digests (migration 0015) instead of decrypting every ID
number and card. Rows from before the digests existed hold none: the rules must find exactly
the same there, and those rows must still verify against the images logged without them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.audit.entries import decode_entry
from ledger.audit.log import entry_bytes
from ledger.audit.verify import verify
from ledger.core.pii import PiiVault
from ledger.demo.province import build_demo
from ledger.households import registry as hh
from ledger.models import Household, HouseholdStatus, Member
from ledger.org.regions import get_user
from ledger.store import guards
from ledger.store.db import transaction
from tests.world import DAY, VILLAGE

AS_OF = dt.date(2024, 12, 31)


def _found(factory, vault, rule):
    with transaction(factory) as s:
        ctx = ScanContext(s, AlertSettings(), AS_OF, vault)
        return sorted((f.fingerprint, f.content_hash()) for f in CHECKS[rule](ctx))


def _forget_digests(engine):
    """The rows as migration 0015 finds them: no digest stored."""
    with engine.begin() as conn:
        guards.uninstall_tables(conn, ("households", "members"))
        conn.execute(text("UPDATE households SET card_digest = NULL"))
        conn.execute(text("UPDATE members SET birth_digest = NULL"))


def test_the_rules_find_the_same_with_and_without_stored_digests(factory, engine):
    vault = PiiVault.from_env()
    build_demo(factory, seed=5, households=60, vault=vault)
    with transaction(factory) as s:
        assert s.execute(select(Member.birth_digest)).scalars().first()
        assert s.execute(select(Household.card_digest).where(
            Household.bank_card.is_not(None))).scalars().first()
    stored = {rule: _found(factory, vault, rule) for rule in ("BEN-02", "BEN-03")}
    assert stored["BEN-02"] and stored["BEN-03"]    # the demo plants both
    _forget_digests(engine)
    assert {rule: _found(factory, vault, rule) for rule in ("BEN-02", "BEN-03")} == stored


def test_a_row_without_the_late_column_still_equals_its_image(world):
    """A household registered without a card has no card digest: its image leaves the column
    out, as the images logged before migration 0015 do; one with a card has it in the image,
    and clearing it afterwards is a change verification names."""
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for code, card in (("H-500", None), ("H-501", "6222021234567890999")):
            hh.register_household(s, clerk, vault, code=code, village_code=VILLAGE,
                                  head_name="周五", status=HouseholdStatus.REGISTERED,
                                  registered_on=DAY, bank_card=card)
    with transaction(world.factory) as s:
        images = {}
        for h in s.execute(select(Household)).scalars():
            for table, key, _v, _p, image in decode_entry(entry_bytes(s, h.log_index))["rows"]:
                if table == "households":
                    images[key[0]] = image
        assert "card_digest" not in images["H-500"]
        assert isinstance(images["H-501"]["card_digest"], dict)   # a commitment, not the digest
        report = verify(s)
        assert report.intact, [f.message for f in report.findings]


def test_clearing_a_stored_digest_is_found(world, engine):
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        hh.register_household(s, get_user(s, "k_clerk"), vault, code="H-501",
                              village_code=VILLAGE, head_name="周五",
                              status=HouseholdStatus.REGISTERED, registered_on=DAY,
                              bank_card="6222021234567890999")
    _forget_digests(engine)
    with transaction(world.factory) as s:
        report = verify(s)
    assert any("households ['H-501']" in f.message and "card_digest" in f.message
               for f in report.findings), [f.message for f in report.findings]
