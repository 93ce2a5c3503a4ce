"""Secrets and personal data at rest: keys come from the environment or files, never the
database; personal data is stored encrypted; PII keys rotate without re-writing any row.

Rotation (docs/reliability.md): put a new key first in FUNDTRAIL_PII_KEYS and keep the old ones
after it. MultiFernet encrypts with the first key and decrypts with any, so values written under
an old key stay readable and nothing append-only has to be re-written (a re-encryption would be
an UPDATE of rows the audit log commits to).
"""
from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select, text

from ledger.audit import keys as keyfiles
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiKeyError, PiiVault, new_key
from ledger.households import registry as household_service
from ledger.imports.households import import_households, import_members
from ledger.models import Base, Household, HouseholdStatus, Member
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, MEMBERS, idn, write
from tests.world import VILLAGE

INDEX_KEY = "test-index-key-" + "x" * 32
CARDS = ["6222021234567890123", "6222021234567890456"]
IDS = [idn(11), idn(12, "20050303")]


def _vault(*keys):
    return PiiVault(list(keys), INDEX_KEY)


def _import(world, vault, tmp_path):
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        h = import_households(s, clerk, vault, write(tmp_path, "h.csv", HOUSEHOLDS))
        m = import_members(s, clerk, vault, write(tmp_path, "m.csv", MEMBERS))
    return h, m


def test_values_under_an_old_key_still_read_after_rotation(world, tmp_path):
    old, new = new_key(), new_key()
    _import(world, _vault(old), tmp_path)
    rotated = _vault(new, old)
    with transaction(world.factory) as s:  # a household registered after the rotation
        household_service.register_household(
            s, get_user(s, "k_clerk"), rotated, code="H-200", village_code=VILLAGE,
            head_name="周六", status=HouseholdStatus.REGISTERED, registered_on=dt.date(2024, 1, 2),
            bank_card="6222029999999999999")
    with transaction(world.factory) as s:
        before = s.get(Household, "H-100")
        after = s.get(Household, "H-200")
        assert rotated.decrypt(before.bank_card) == CARDS[0]          # old key, still read
        assert _vault(new).decrypt(after.bank_card) == "6222029999999999999"  # new key writes
        with pytest.raises(PiiKeyError):
            _vault(new).decrypt(before.bank_card)                      # …so the old one stays
        members = {rotated.decrypt(m.id_number) for m in s.execute(select(Member)).scalars()}
        assert set(IDS) <= members
    # the same files again are 'unchanged' under the rotated keys: nothing is re-written
    h, m = _import(world, rotated, tmp_path)
    assert (h.added, m.added) == (0, 0) and (h.unchanged, m.unchanged) == (3, 3)


def test_dropping_a_key_too_early_is_a_clear_error(world, tmp_path):
    _import(world, _vault(new_key()), tmp_path)
    with pytest.raises(LedgerError, match="cannot be decrypted with the configured keys"):
        _import(world, _vault(new_key()), tmp_path)


def test_missing_or_malformed_keys_are_refused_up_front():
    with pytest.raises(PiiKeyError, match="FUNDTRAIL_PII_KEYS"):
        PiiVault.from_env({"FUNDTRAIL_PII_INDEX_KEY": INDEX_KEY})
    with pytest.raises(PiiKeyError, match="at least 32"):
        PiiVault.from_env({"FUNDTRAIL_PII_KEYS": new_key(), "FUNDTRAIL_PII_INDEX_KEY": "short"})
    with pytest.raises(PiiKeyError, match="not a valid Fernet key"):
        PiiVault(["not-a-key"], INDEX_KEY)


def _everything_stored(engine, db_url) -> bytes:
    """Every value of every table, as text; for SQLite also the raw file and its WAL."""
    chunks = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks.append(repr(tuple(row)).encode())
        if engine.dialect.name == "postgresql":
            chunks.append(repr(conn.execute(text("SELECT * FROM alembic_version")).all()).encode())
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        for suffix in ("", "-wal"):
            if os.path.exists(path + suffix):
                chunks.append(open(path + suffix, "rb").read())
    return b"\n".join(chunks)


def test_no_secret_or_personal_number_is_stored_in_clear(world, engine, db_url, tmp_path,
                                                         monkeypatch):
    """What a database administrator (or a stolen backup) sees: no card, ID or phone number,
    no PII key, no signing key or passphrase."""
    pii_key = os.environ["FUNDTRAIL_PII_KEYS"]
    _import(world, PiiVault.from_env(), tmp_path)
    passphrase = "a passphrase for the log key"
    signer = keyfiles.generate_key(tmp_path / "log.key", name="fundtrail.example/demo-province",
                                   kind="log", passphrase=passphrase)
    from ledger.audit import checkpoints
    with transaction(world.factory) as s:
        checkpoints.sign(s, signer)
    stored = _everything_stored(engine, db_url)
    secrets = CARDS + IDS + ["13800001111", pii_key, INDEX_KEY, passphrase, signer.seed.hex()]
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret[:4]}… is stored in clear"
    assert signer.seed not in stored
    key_file = (tmp_path / "log.key").read_bytes()
    assert signer.seed not in key_file and b"ENCRYPTED PRIVATE KEY" in key_file
    assert oct((tmp_path / "log.key").stat().st_mode)[-3:] == "600"
