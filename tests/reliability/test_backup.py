"""Backup and restore: a restored ledger verifies and carries the original's checkpoint.

SQLite through `fundtrail backup` / `fundtrail restore`; PostgreSQL through the pg_dump /
pg_restore commands docs/reliability.md gives, run here exactly as written there.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from sqlalchemy import create_engine, text

from ledger.audit import checkpoints as cps
from ledger.audit import keys as keyfiles
from ledger.audit.tlog.policy import parse_policy
from ledger.audit.verify import verify
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.ledger.test_invariants import down_to_county, pay_household
from tests.reliability.crash import ORIGIN, PASSPHRASE

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

pytestmark = pytest.mark.usefixtures("pii_keys")


@pytest.fixture
def ledger(cli, db_url, world, tmp_path, monkeypatch):
    """Books with payments and a signed checkpoint; the CLI configured for them."""
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", PASSPHRASE)
    signer = keyfiles.generate_key(tmp_path / "keys/log.key", name=ORIGIN, kind="log",
                                   passphrase=PASSPHRASE)
    (tmp_path / "keys/policy.txt").write_text(f"log {signer.vkey}\nquorum none\n")
    down_to_county(world, 100_000_00)
    with transaction(world.factory) as s:
        pay_household(s, world, 1_000_00, "voucher-1")
        cps.sign(s, signer)

    run = cli
    run.signer, run.world = signer, world
    return run


def _state(url, tmp_path):
    """(log size, root, newest checkpoint note) of the ledger at `url`, verified with the policy."""
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine, TEST_CONTEXT)) as s:
            report = verify(s, policy=parse_policy((tmp_path / "keys/policy.txt").read_bytes()))
            assert report.intact, [f.message for f in report.findings]
            return report.size, report.root, cps.latest(s).note
    finally:
        engine.dispose()


def _more_business(run):
    with transaction(run.world.factory) as s:
        pay_household(s, run.world, 2_000_00, "voucher-2")
        return cps.sign(s, run.signer).note


# `fundtrail backup` copies SQLite files; PostgreSQL is backed up with pg_dump
# (test_pg_dump_and_pg_restore_as_documented). Each test runs on the database it is about,
# rather than being skipped on the other.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@SQLITE_ONLY
def test_a_restored_database_verifies_and_matches_the_checkpoint(ledger, db_url, tmp_path,
                                                                 monkeypatch):
    original = _state(db_url, tmp_path)
    code, out, err = ledger("backup", "backup.db")
    assert code == 0 and "verified intact" in out, err
    assert oct((tmp_path / "backup.db").stat().st_mode)[-3:] == "600"
    assert not list(tmp_path.glob(".backup.db*"))  # no temporary copy left behind
    _more_business(ledger)                          # the live ledger moves on

    restored_url = f"sqlite:///{tmp_path / 'restored' / 'ledger.store.db'}"
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", restored_url)
    code, out, err = ledger("restore", "backup.db", "--json")
    assert code == 0, err
    assert _state(restored_url, tmp_path) == original
    assert ledger("verify")[0] == 0 and ledger("trial-balance")[0] == 0


@SQLITE_ONLY
def test_restoring_over_a_newer_ledger_needs_replace_and_is_then_detected(ledger, db_url,
                                                                         tmp_path):
    """An operator 'restoring' yesterday's backup to make today's entries disappear."""
    assert ledger("backup", "old.db")[0] == 0
    kept = _more_business(ledger)                   # an auditor keeps this checkpoint
    (tmp_path / "kept.txt").write_text(kept)
    newer = _state(db_url, tmp_path)
    code, _, err = ledger("restore", "old.db")
    assert code == 2 and "already holds a ledger" in err and "--replace" in err
    assert _state(db_url, tmp_path) == newer        # refused: nothing changed
    cosigner = keyfiles.generate_key(tmp_path / "keys/county.key", name="county.example",
                                     kind="cosigner", passphrase=PASSPHRASE)
    with transaction(ledger.world.factory) as s:    # a county official cosigned the newer one
        cps.cosign_latest(s, cosigner, [ledger.signer.verifier()], tmp_path / "county.state",
                          fresh=True)
    assert ledger("restore", "old.db", "--replace")[0] == 0
    code, out, _ = ledger("verify", "--trusted", "kept.txt")
    assert code == 1 and "TAMPERING OR DAMAGE FOUND" in out
    code, _, err = ledger("checkpoint", "cosign", "--key", "keys/county.key", "--state",
                          "county.state")
    assert code == 2 and "the log shrank" in err    # the official will not sign the rollback


@SQLITE_ONLY
@pytest.mark.parametrize("damage", ["bytes", "row"])
def test_a_damaged_backup_is_refused_and_nothing_is_restored(ledger, db_url, tmp_path,
                                                             monkeypatch, damage):
    assert ledger("backup", "backup.db")[0] == 0
    path = tmp_path / "backup.db"
    if damage == "bytes":
        data = bytearray(path.read_bytes())  # a bad sector in every page after the first
        for page in range(4096, len(data), 4096):
            data[page + 8: page + 24] = b"\xff" * 16
        path.write_bytes(bytes(data))
    else:  # someone edits a payment in the backup file, triggers and all
        conn = sqlite3.connect(path)
        conn.execute("DROP TRIGGER postings_no_update")
        conn.execute("UPDATE postings SET amount_fen = amount_fen * 10 WHERE id = "
                     "(SELECT max(id) FROM postings)")
        conn.commit()
        conn.close()
    target = tmp_path / "fresh.db"
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", f"sqlite:///{target}")
    code, _, err = ledger("restore", "backup.db")
    assert code == 2 and ("integrity check failed" in err or "does not verify" in err
                          or "not a SQLite database" in err), err
    assert not target.exists()


@POSTGRESQL_ONLY
def test_backup_of_a_postgresql_ledger_points_to_pg_dump(ledger, db_url):
    code, _, err = ledger("backup", "b.db")
    assert code == 2 and "pg_dump" in err


@POSTGRESQL_ONLY
def test_pg_dump_and_pg_restore_as_documented(ledger, db_url, tmp_path):
    if not shutil.which("pg_dump"):
        pytest.fail("pg_dump is missing: install postgresql-client (scripts/setup-env.sh)")
    original = _state(db_url, tmp_path)
    libpq_url = db_url.replace("postgresql+psycopg://", "postgresql://")
    dump = tmp_path / "ledger.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), libpq_url], check=True)
    name = libpq_url.rsplit("/", 1)[1] + "_restored"
    admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        restored = libpq_url.rsplit("/", 1)[0] + "/" + name
        subprocess.run(["pg_restore", "--exit-on-error", "--no-owner", "--dbname", restored,
                        str(dump)], check=True)
        assert _state(restored, tmp_path) == original
        engine = make_engine(restored)  # and the restored copy still refuses edits
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE postings SET amount_fen = 1"))
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
