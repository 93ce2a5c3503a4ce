"""A full disk and a locked database: one clear line, exit status 2, nothing half-written.

The full disk is real as far as SQLite can tell: a page limit (`PRAGMA max_page_count`, SQLite's
own "database or disk is full") in-process, and a file-size limit (RLIMIT_FSIZE, so every
write past it fails with EFBIG like a full volume) on the real CLI in a subprocess. The lock
is another connection holding the write lock longer than the command is prepared to wait.
"""
from __future__ import annotations

import os
import resource
import subprocess

import pytest
from sqlalchemy import create_engine, event, func, select, text

from ledger.audit.verify import verify
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.errors import LedgerError, StorageError
from ledger.core.pii import PiiVault
from ledger.funds.balances import trial_balance
from ledger.imports.households import import_households
from ledger.models import AuditEntry, Household
from ledger.org.regions import get_user
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.conftest import enrol_test_keys
from tests.reliability.crash import fundtrail_exe, households_csv

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

LINES = 200


def _state(factory):
    """Counts that must not move when a command fails, and the books' health."""
    with transaction(factory) as s:
        report = verify(s)
        assert report.intact, [f.message for f in report.findings]
        assert trial_balance(s).balanced
        return (s.execute(select(func.count()).select_from(Household)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _cli(db_url, tmp_path, *args, limit_bytes=None):
    def preexec():
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([fundtrail_exe(), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec,
                          env={**os.environ, "FUNDTRAIL_DATABASE_URL": db_url})


def _households_file(tmp_path):
    path = tmp_path / "households.csv"
    path.write_text(households_csv(1000, LINES), encoding="utf-8")
    return path


def _assert_clear_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: "), \
        result.stderr
    assert all(w in result.stderr for w in words), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- disk full

# A page or file-size limit is a SQLite file's; PostgreSQL's disk-full error takes the same
# path (docs/reliability.md). These tests run on SQLite only, rather than skip on PostgreSQL.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_only(db_url):
    return db_url


@SQLITE_ONLY
def test_a_full_database_refuses_the_whole_import_and_says_so(sqlite_only, world, tmp_path):
    before = _state(world.factory)
    engine = make_engine(sqlite_only)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_conn, _record):  # room for a few pages, not for 200 households
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 8}")
    engine.dispose()

    factory = make_sessionmaker(engine, TEST_CONTEXT)
    with pytest.raises(StorageError, match="database or disk is full.*nothing was written"):
        with transaction(factory) as s:
            import_households(s, get_user(s, "k_clerk"), PiiVault.from_env(),
                              _households_file(tmp_path))
    engine.dispose()
    assert _state(world.factory) == before


@SQLITE_ONLY
def test_the_cli_on_a_full_disk_exits_2_with_one_line_then_reruns(sqlite_only, world,
                                                                   tmp_path, personal_key_dir):
    enrol_test_keys(world.factory, ["k_clerk"], personal_key_dir)  # the subprocess signs
    before = _state(world.factory)
    path = _households_file(tmp_path)
    full = _cli(sqlite_only, tmp_path, "--as", "k_clerk", "import", "households", path,
                limit_bytes=64 * 1024)
    _assert_clear_error(full, "disk I/O error", "nothing was written", "free space")
    assert _state(world.factory) == before
    again = _cli(sqlite_only, tmp_path, "--as", "k_clerk", "import", "households", path)
    assert again.returncode == 0, again.stderr
    assert _state(world.factory)[0] == before[0] + LINES


# ----------------------------------------------------------------------------- locked

def _hold_write_lock(db_url):
    """Another writer: SQLite BEGIN IMMEDIATE; PostgreSQL the log head row locked."""
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
        conn = engine.connect()
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        engine = make_engine(db_url)
        conn = engine.connect()
        conn.execute(text("SELECT size FROM audit_head FOR UPDATE")).all()
    return engine, conn


def _impatient(db_url):
    """The same database, with a short wait for locks (1 s rather than the default 30 s)."""
    if db_url.startswith("sqlite"):
        return db_url + "?timeout=1"
    return db_url + "?options=-c%20lock_timeout%3D1000"


def test_a_locked_database_is_a_clear_error_and_the_command_can_be_rerun(db_url, world,
                                                                        tmp_path,
                                                                        personal_key_dir):
    enrol_test_keys(world.factory, ["k_clerk"], personal_key_dir)  # the subprocess signs
    before = _state(world.factory)
    path = _households_file(tmp_path)
    engine, holder = _hold_write_lock(db_url)
    try:
        locked = _cli(_impatient(db_url), tmp_path, "--as", "k_clerk", "import",
                      "households", path)
    finally:
        holder.rollback() if not db_url.startswith("sqlite") else \
            holder.exec_driver_sql("ROLLBACK")
        holder.close()
        engine.dispose()
    _assert_clear_error(locked, "nothing was written", "another process is writing")
    assert "locked" in locked.stderr or "lock timeout" in locked.stderr
    assert _state(world.factory) == before
    again = _cli(db_url, tmp_path, "--as", "k_clerk", "import", "households", path)
    assert again.returncode == 0, again.stderr
    assert _state(world.factory)[0] == before[0] + LINES


def test_a_bad_busy_timeout_in_the_url_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="timeout='soon' is not a number"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}?timeout=soon")


def test_db_upgrade_on_a_locked_database_is_a_clear_error(tmp_path):
    """A migration waiting on another writer says so in one line (exit 2), no traceback."""
    url = f"sqlite:///{tmp_path / 'ledger.store.db'}"
    engine, holder = _hold_write_lock(url)
    try:
        result = _cli(url + "?timeout=1", tmp_path, "db", "upgrade")
    finally:
        holder.exec_driver_sql("ROLLBACK")
        holder.close()
        engine.dispose()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "locked" in result.stderr
