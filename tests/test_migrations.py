"""Migrations: the migrated schema equals the models, and upgrade → downgrade → upgrade works."""
from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.models import Base
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("empty_pg_url")


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_migrated_schema_equals_the_models(empty_url):
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    assert _diff(engine) == []
    engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url):
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    migrate.upgrade(engine)
    assert _diff(engine) == []
    # the append-only guards came back with the schema
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (code, name, level, log_index) "
                              "VALUES ('43', 'x', 'province', 0)"))
            conn.execute(text("DELETE FROM regions"))
    engine.dispose()


def test_enum_checks_allow_exactly_the_model_values(empty_url):
    """Adding an enum member needs a migration that widens its CHECK constraint; the schema
    comparison above does not look at CHECK constraints, so this test does."""
    import re

    from sqlalchemy import Enum
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for column in table.columns:
            if not isinstance(column.type, Enum):
                continue
            name = f"ck_{table.name}_{column.type.name}"
            assert name in checks, f"{table.name}.{column.name}: no CHECK constraint {name}"
            allowed = set(re.findall(r"'([^']*)'", checks[name]))
            assert allowed == set(column.type.enums), f"{name} allows {sorted(allowed)}"
    engine.dispose()


def test_log_ids_come_to_a_ledger_with_history(empty_url):
    """0014 on a database with books: every row, entry and node joins the first log (id 1),
    and the log still verifies (downgrade to 0013 and upgrade again, with the books in it)."""
    from ledger.audit.verify import verify
    from ledger.models import AuditHead
    from ledger.store.db import make_sessionmaker, transaction
    from tests.world import build_world
    engine = make_engine(empty_url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine, TEST_CONTEXT)
    build_world(factory)
    with transaction(factory) as s:
        size = s.execute(select(AuditHead.size)).scalar_one()
    migrate.downgrade(engine, "0013")
    assert "log_id" not in {c["name"] for c in inspect(engine).get_columns("transfers")}
    migrate.upgrade(engine)
    assert _diff(engine) == []
    with transaction(factory) as s:
        assert s.execute(select(AuditHead.log_id, AuditHead.size)).one() == (1, size)
        report = verify(s)
        assert report.intact, [f.message for f in report.findings]
        assert report.size == size and report.rows_checked > 0
    engine.dispose()


def test_0016_relaxes_roll_lines_of_a_sqlite_database_that_holds_lines(tmp_path):
    """A SQLite database made at 0015 keeps `CONSTRAINT household_once UNIQUE` in roll_lines'
    CREATE statement (migration 0005); 0016 rewrites that statement instead of copying the
    table (docs in the migration). Run on a table holding lines: the lines stay, the index
    that was the constraint's is a plain index, (roll_id, line_no) stays unique, the
    append-only triggers still fire, and the database's integrity holds."""
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, "0015")
    engine.dispose()
    raw = sqlite3.connect(path)   # foreign keys off: the lines need no parents for this test
    assert "CONSTRAINT household_once UNIQUE" in raw.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'roll_lines'").fetchone()[0]
    raw.executemany("INSERT INTO roll_lines (roll_id, line_no, household_code, quantity, "
                    "amount_fen, log_index) VALUES (?, ?, ?, ?, ?, ?)",
                    [(1, n, f"H-{n}", 1, 500_00, n) for n in range(1, 201)])
    raw.commit()
    raw.close()

    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert conn.exec_driver_sql("SELECT count(*), sum(amount_fen) FROM roll_lines") \
            .one() == (200, 200 * 500_00)
        indexes = {name: unique for _seq, name, unique, _origin, _partial
                   in conn.exec_driver_sql("PRAGMA index_list(roll_lines)")}
        assert indexes["ix_roll_lines_roll_household"] == 0
        # the index that was the constraint's finds the lines it held
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM roll_lines INDEXED BY ix_roll_lines_roll_household "
            "WHERE roll_id = 1 AND household_code = 'H-7'").scalar_one() == 1
    engine.dispose()
    raw = sqlite3.connect(path)   # foreign keys off again: no parents here
    with raw:   # a household twice on a roll is allowed now
        raw.execute("INSERT INTO roll_lines (roll_id, line_no, household_code, quantity, "
                    "amount_fen, log_index) VALUES (1, 201, 'H-7', 1, 1, 1)")
    for statement in ("INSERT INTO roll_lines (roll_id, line_no, household_code, quantity, "
                      "amount_fen, log_index) VALUES (1, 5, 'H-9', 1, 1, 1)",   # line 5 again
                      "UPDATE roll_lines SET amount_fen = 1 WHERE line_no = 1",
                      "DELETE FROM roll_lines WHERE line_no = 2"):
        with pytest.raises(sqlite3.DatabaseError):
            with raw:
                raw.execute(statement)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()
