"""Schema changes Alembic cannot make portably, used by the migrations.

Enum columns are stored as VARCHAR with a named CHECK constraint (`ck_<table>_<enum>`, see
`ledger.models._enum`), so adding a member means widening that constraint. PostgreSQL does it
with DROP/ADD CONSTRAINT. SQLite cannot alter a constraint; Alembic's batch mode would copy the
table, which breaks here because history tables are referenced by foreign keys and guarded by
append-only triggers. Widening an IN-list changes nothing on disk — every stored row still
satisfies it — so we use SQLite's documented procedure for such changes: rewrite the table's
CREATE statement in the schema table under `PRAGMA writable_schema` and bump `schema_version`
(https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
"""
from __future__ import annotations

import re


def _in_list(column: str, values) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def set_enum_check(connection, table: str, enum_name: str, column: str, values) -> None:
    """Make the CHECK constraint of an enum column allow exactly `values`."""
    name = f"ck_{table}_{enum_name}"
    clause = _in_list(column, values)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        connection.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({clause})")
        return
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    pattern = re.compile(rf"CONSTRAINT {name} CHECK \({re.escape(column)} IN \([^)]*\)\)")
    if len(pattern.findall(sql)) != 1:
        raise RuntimeError(f"cannot find the CHECK constraint {name} in table {table}")
    new_sql = pattern.sub(lambda _m: f"CONSTRAINT {name} CHECK ({clause})", sql)
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (new_sql, table))
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    if problems != "ok":
        raise RuntimeError(f"schema rewrite of {table} failed the integrity check: {problems}")


def drop_sqlite_reference(connection, table: str, clause: str) -> None:
    """Take one column's REFERENCES clause (`clause`, exactly as in the CREATE statement) out
    of a SQLite table's CREATE statement, so that the column can be dropped (SQLite refuses to
    drop a column in a foreign key). Removing a foreign key needs no rewrite of the rows
    (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
    Changes"); the database's integrity is checked after."""
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    if sql.count(clause) != 1:
        raise RuntimeError(f"cannot find {clause!r} in {table}'s CREATE statement")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(clause, ""), table))
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"schema rewrite of {table} failed the integrity check: {problems}")
