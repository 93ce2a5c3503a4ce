"""Database fixtures: each test gets a fresh, migrated database on SQLite and on PostgreSQL.

SQLite: a migrated template file is copied per test. PostgreSQL: a template database is
migrated once per test process and cloned (CREATE DATABASE … TEMPLATE) per test, then dropped.
PostgreSQL tests skip only when no server is reachable and CI is unset; in CI they fail.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

PG_ADMIN_URL = os.environ.get(
    "FUNDTRAIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin_engine():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_reachable() -> str | None:
    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(text("select 1"))
        return None
    except Exception as exc:  # any connection failure means: no server here
        return str(exc).splitlines()[0]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(autouse=True)
def pii_keys(monkeypatch):
    """Test keys for personal data (real deployments set their own in the environment)."""
    from ledger.core.pii import new_key
    monkeypatch.setenv("FUNDTRAIL_PII_KEYS", new_key())
    monkeypatch.setenv("FUNDTRAIL_PII_INDEX_KEY", "test-index-key-" + "x" * 32)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template():
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"ft_tmpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _throwaway_pg(prefix: str, template: str | None = None):
    """Create a PostgreSQL database for one test, yield its URL, drop it afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_pg_url(pg_template):
    """A new, migrated PostgreSQL database for one test (dropped afterwards)."""
    yield from _throwaway_pg("ft", pg_template)


@pytest.fixture
def empty_pg_url(pg_template):
    """A new PostgreSQL database with no schema at all (for migration tests)."""
    yield from _throwaway_pg("ft_empty")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh migrated database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.store.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine):
    return make_sessionmaker(engine, TEST_CONTEXT)


@pytest.fixture
def cli(db_url, monkeypatch, capsys, tmp_path):
    """The command line on this test's database, run in tmp_path: cli(*args) → (code, out, err).

    Fixtures that prepare books for a command-line test build on this one."""
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        argv = [str(a) for a in args]
        with on_its_date(argv):
            code = main(argv)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def on_its_date(argv: list[str]):
    """A roll step of these tests' world is recorded on the day it names (`--date`), as a
    county using the ledger records it: the server's clock (ledger.core.clock) is set to that
    day, so the publicity window counts as it would have. Other commands run on the real
    clock; tests/reliability/test_backdating.py runs roll steps on the real clock too."""
    from contextlib import nullcontext

    from ledger.core import clock
    if "roll" not in argv or "--date" not in argv:
        return nullcontext()
    day = dt.date.fromisoformat(argv[argv.index("--date") + 1])
    # a date after today is one somebody typed, not a day the world has reached
    return clock.at(day) if day <= dt.date.today() else nullcontext()


@pytest.fixture
def world(factory):
    """A small province with users at each level (see tests/world.py)."""
    from tests.world import build_world
    return build_world(factory)
