"""Database-level guards: triggers that make recorded history append-only (invariant 6).

The application never updates or deletes these rows; the triggers make sure nobody else does
through SQL either (a DBA can still drop a trigger, which `fundtrail verify` then finds through
row binding). Used by the Alembic migrations; the SQL lives here so tests and migrations share it.
"""
from __future__ import annotations

from ledger.models import APPEND_ONLY_TABLES

# Account identity columns may not change; only the balance cache may.
ACCOUNT_IDENTITY = ("id", "lot_id", "kind", "holder_code", "region_code", "log_index")


def sqlite_statements(tables=APPEND_ONLY_TABLES) -> list[str]:
    out = []
    for table in tables:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {op} on {table} is not allowed'); END"
            )
    cols = ", ".join(ACCOUNT_IDENTITY)
    out.append(
        f"CREATE TRIGGER accounts_identity_fixed BEFORE UPDATE OF {cols} ON accounts "
        "BEGIN SELECT RAISE(ABORT, 'append-only: account identity cannot change'); END")
    out.append(
        "CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts "
        "BEGIN SELECT RAISE(ABORT, 'append-only: DELETE on accounts is not allowed'); END")
    return out


def sqlite_drop_statements(tables=APPEND_ONLY_TABLES) -> list[str]:
    names = [f"{t}_no_{op}" for t in tables for op in ("update", "delete")]
    names += ["accounts_identity_fixed", "accounts_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]


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


def postgresql_statements(tables=APPEND_ONLY_TABLES) -> list[str]:
    out = [_PG_FUNCTION, _PG_ACCOUNT_FUNCTION]
    for table in tables:
        out.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fundtrail_refuse_change()")
        out.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fundtrail_refuse_change()")
    out.append(
        "CREATE TRIGGER accounts_identity_fixed BEFORE UPDATE ON accounts "
        "FOR EACH ROW EXECUTE FUNCTION fundtrail_account_identity()")
    out.append(
        "CREATE TRIGGER accounts_no_delete BEFORE DELETE OR TRUNCATE ON accounts "
        "FOR EACH STATEMENT EXECUTE FUNCTION fundtrail_refuse_change()")
    return out


def postgresql_drop_statements(tables=APPEND_ONLY_TABLES) -> list[str]:
    out = []
    for table in tables:
        out.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        out.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    out.append("DROP TRIGGER IF EXISTS accounts_identity_fixed ON accounts")
    out.append("DROP TRIGGER IF EXISTS accounts_no_delete ON accounts")
    out.append("DROP FUNCTION IF EXISTS fundtrail_account_identity()")
    out.append("DROP FUNCTION IF EXISTS fundtrail_refuse_change()")
    return out


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    """Create the triggers. Migrations pass their own frozen table list."""
    stmts = (postgresql_statements(tables) if connection.dialect.name == "postgresql"
             else sqlite_statements(tables))
    for stmt in stmts:
        connection.exec_driver_sql(stmt)


def uninstall(connection, tables=APPEND_ONLY_TABLES) -> None:
    stmts = (postgresql_drop_statements(tables) if connection.dialect.name == "postgresql"
             else sqlite_drop_statements(tables))
    for stmt in stmts:
        connection.exec_driver_sql(stmt)
