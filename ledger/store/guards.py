"""Database-level guards: triggers that make recorded history append-only (invariant 6).

The application never updates or deletes these rows; the triggers make sure nobody else does
through SQL either (a DBA can still drop a trigger, which `fundtrail verify` then finds through
row binding). Used by the Alembic migrations; the SQL lives here so tests and migrations share it.
"""
from __future__ import annotations

from ledger.models import APPEND_ONLY_TABLES

# Account identity columns may not change; only the balance cache may.
ACCOUNT_IDENTITY = ("id", "lot_id", "kind", "holder_code", "region_code", "log_index")


def _sqlite_table(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only: {op} on {table} is not allowed'); END"
            for op in ("UPDATE", "DELETE")]


_SQLITE_ACCOUNTS = [
    f"CREATE TRIGGER accounts_identity_fixed BEFORE UPDATE OF {', '.join(ACCOUNT_IDENTITY)} "
    "ON accounts BEGIN SELECT RAISE(ABORT, 'append-only: account identity cannot change'); END",
    "CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts "
    "BEGIN SELECT RAISE(ABORT, 'append-only: DELETE on accounts is not allowed'); END",
]

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION fundtrail_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'append-only: %% on %% is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql
"""

_PG_ACCOUNT_FUNCTION = """
CREATE OR REPLACE FUNCTION fundtrail_account_identity() RETURNS trigger AS $$
BEGIN
  IF (NEW.id, NEW.lot_id, NEW.kind, NEW.holder_code, NEW.region_code, NEW.log_index)
     IS DISTINCT FROM
     (OLD.id, OLD.lot_id, OLD.kind, OLD.holder_code, OLD.region_code, OLD.log_index) THEN
    RAISE EXCEPTION 'append-only: account identity cannot change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def _pg_table(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION fundtrail_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION fundtrail_refuse_change()",
    ]


_PG_ACCOUNTS = [
    "CREATE TRIGGER accounts_identity_fixed BEFORE UPDATE ON accounts "
    "FOR EACH ROW EXECUTE FUNCTION fundtrail_account_identity()",
    "CREATE TRIGGER accounts_no_delete BEFORE DELETE OR TRUNCATE ON accounts "
    "FOR EACH STATEMENT EXECUTE FUNCTION fundtrail_refuse_change()",
]


def _is_pg(connection) -> bool:
    return connection.dialect.name == "postgresql"


def _run(connection, statements) -> None:
    for stmt in statements:
        connection.exec_driver_sql(stmt)


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    """Create the trigger functions, the account guards and the guards of `tables`.

    Migrations pass their own frozen table list.
    """
    if _is_pg(connection):
        _run(connection, [_PG_FUNCTION, _PG_ACCOUNT_FUNCTION, *_PG_ACCOUNTS])
    else:
        _run(connection, _SQLITE_ACCOUNTS)
    install_tables(connection, tables)


def install_tables(connection, tables) -> None:
    """Guard more tables (the functions exist already): used by later migrations."""
    make = _pg_table if _is_pg(connection) else _sqlite_table
    _run(connection, [stmt for table in tables for stmt in make(table)])


def uninstall_tables(connection, tables) -> None:
    if _is_pg(connection):
        stmts = [f"DROP TRIGGER IF EXISTS {t}_{suffix} ON {t}"
                 for t in tables for suffix in ("append_only", "no_truncate")]
    else:
        stmts = [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in tables
                 for op in ("update", "delete")]
    _run(connection, stmts)


def uninstall(connection, tables=APPEND_ONLY_TABLES) -> None:
    uninstall_tables(connection, tables)
    if _is_pg(connection):
        _run(connection, [
            "DROP TRIGGER IF EXISTS accounts_identity_fixed ON accounts",
            "DROP TRIGGER IF EXISTS accounts_no_delete ON accounts",
            "DROP FUNCTION IF EXISTS fundtrail_account_identity()",
            "DROP FUNCTION IF EXISTS fundtrail_refuse_change()"])
    else:
        _run(connection, ["DROP TRIGGER IF EXISTS accounts_identity_fixed",
                          "DROP TRIGGER IF EXISTS accounts_no_delete"])


# Which log binds an account (migration 0014) may not change either. A trigger of its own, so
# that the earlier migrations' account guard stays what it was when they ran.
_SQLITE_ACCOUNT_LOG = [
    "CREATE TRIGGER accounts_log_fixed BEFORE UPDATE OF log_id ON accounts "
    "BEGIN SELECT RAISE(ABORT, 'append-only: account identity cannot change'); END"]
_PG_ACCOUNT_LOG = [
    """CREATE OR REPLACE FUNCTION fundtrail_account_log() RETURNS trigger AS $$
BEGIN
  IF NEW.log_id IS DISTINCT FROM OLD.log_id THEN
    RAISE EXCEPTION 'append-only: account identity cannot change'
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER accounts_log_fixed BEFORE UPDATE OF log_id ON accounts "
    "FOR EACH ROW EXECUTE FUNCTION fundtrail_account_log()"]


def install_account_log_guard(connection) -> None:
    _run(connection, _PG_ACCOUNT_LOG if _is_pg(connection) else _SQLITE_ACCOUNT_LOG)


def uninstall_account_log_guard(connection) -> None:
    _run(connection, ["DROP TRIGGER IF EXISTS accounts_log_fixed ON accounts",
                      "DROP FUNCTION IF EXISTS fundtrail_account_log()"]
         if _is_pg(connection) else ["DROP TRIGGER IF EXISTS accounts_log_fixed"])
