"""payment rolls as counties keep them: the policy standards table (policy_standards), and roll
lines with their item, tier, year, member, decimal quantity (hundredths), the standard applied
and the amount it gives; a household may now be on a roll more than once (several members,
several items), so the unique (roll_id, household_code) becomes a plain index, and `quantity`
(whole units, the first form of a line) may be null

Rows written before this revision keep null in the new columns, and row images leave a null
late column out (ledger.audit.entries.LATE_COLUMNS), so those rows still equal their logged
images.

On SQLite nothing is copied: the new columns are plain ALTER TABLE … ADD COLUMN, and dropping
the unique constraint and the NOT NULL of `quantity` is a rewrite of the table's CREATE
statement under `PRAGMA writable_schema` (https://www.sqlite.org/lang_altertable.html, "Making
Other Kinds Of Table Schema Changes", as ledger.store.schema_ops does for CHECK constraints):
the unique constraint's automatic index becomes the plain index ix_roll_lines_roll_household
with the same pages (an index's entries are the same whether it is unique or not), and the
remaining automatic index is renamed to the number SQLite gives it when it reads the new CREATE
statement. A copy of the table (Alembic's batch mode) would drop its append-only triggers, and
dropping the old table would break roll_events' foreign key under PRAGMA foreign_keys, which
cannot be turned off inside the migration's transaction.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import re

import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

NEW_TABLES = ("policy_standards",)
_PLAIN_COLUMNS = (("item", "VARCHAR(100)", sa.String(length=100)),
                  ("tier", "VARCHAR(24)", sa.String(length=24)),
                  ("year", "INTEGER", sa.Integer()),
                  ("quantity_centi", "BIGINT", sa.BigInteger()),
                  ("standard_fen", "BIGINT", sa.BigInteger()),
                  ("computed_fen", "BIGINT", sa.BigInteger()))
_FK_COLUMNS = (("member_id", "members"), ("standard_id", "policy_standards"))
_SAME_ROLL_HOUSEHOLD = "ix_roll_lines_roll_household"


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        'policy_standards',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('county_code', sa.String(length=12), nullable=False),
        sa.Column('item', sa.String(length=100), nullable=False),
        sa.Column('tier', sa.Enum('basic', 'monitored', name='standard_tier', native_enum=False,
                                  create_constraint=True, length=24), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('standard_fen', sa.BigInteger(), nullable=False),
        sa.Column('basis', sa.String(length=20), nullable=False),
        sa.Column('per', sa.Enum('household', 'person', name='standard_per', native_enum=False,
                                 create_constraint=True, length=24), nullable=False),
        sa.Column('function_code', sa.String(length=10), nullable=False),
        sa.Column('effective_date', sa.Date(), nullable=True),
        sa.Column('doc_number', sa.String(length=100), nullable=False),
        sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['county_code'], ['regions.code'],
                                name=op.f('fk_policy_standards_county_code_regions')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_policy_standards_recorded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_standards')),
    )
    op.create_index('ix_policy_standards_key', 'policy_standards',
                    ['county_code', 'item', 'tier', 'year'], unique=False)
    guards.install_tables(bind, NEW_TABLES)

    if sqlite:
        _sqlite_relax(bind)
        for name, ddl, _type in _PLAIN_COLUMNS:
            op.execute(f"ALTER TABLE roll_lines ADD COLUMN {name} {ddl}")
        for name, parent in _FK_COLUMNS:
            op.execute(f"ALTER TABLE roll_lines ADD COLUMN {name} INTEGER CONSTRAINT "
                       f"fk_roll_lines_{name}_{parent} REFERENCES {parent} (id)")
    else:
        op.drop_constraint('household_once', 'roll_lines', type_='unique')
        op.create_index(_SAME_ROLL_HOUSEHOLD, 'roll_lines', ['roll_id', 'household_code'],
                        unique=False)
        op.alter_column('roll_lines', 'quantity', existing_type=sa.Integer(), nullable=True)
        # Plain ADD COLUMN without a default: no rewrite, no UPDATE, the guards stay.
        for name, _ddl, type_ in _PLAIN_COLUMNS:
            op.add_column('roll_lines', sa.Column(name, type_, nullable=True))
        for name, parent in _FK_COLUMNS:
            op.add_column('roll_lines', sa.Column(name, sa.BigInteger(), nullable=True))
            op.create_foreign_key(f"fk_roll_lines_{name}_{parent}", 'roll_lines', parent,
                                  [name], ['id'])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot drop a column that is in a foreign key: the two REFERENCES clauses
        # are taken off first (removing a foreign key is a change that needs no rewrite).
        _rewrite_table(bind, "roll_lines", lambda sql: re.sub(
            r" CONSTRAINT fk_roll_lines_\w+ REFERENCES \w+ \(id\)", "", sql), {})
        for name, _parent in _FK_COLUMNS:
            op.execute(f"ALTER TABLE roll_lines DROP COLUMN {name}")
        for name, _ddl, _type in reversed(_PLAIN_COLUMNS):
            op.execute(f"ALTER TABLE roll_lines DROP COLUMN {name}")
        # The uniqueness comes back as a unique index (it fails if a household is on a roll
        # twice: such a roll cannot be kept by the older schema), and so does NOT NULL.
        op.execute(f"DROP INDEX {_SAME_ROLL_HOUSEHOLD}")
        op.execute("CREATE UNIQUE INDEX household_once ON roll_lines (roll_id, household_code)")
        _refuse_null_quantity(bind)
        _rewrite_table(bind, "roll_lines", lambda sql: sql.replace(
            "quantity INTEGER,", "quantity INTEGER NOT NULL,", 1), {})
    else:
        for name, parent in _FK_COLUMNS:
            op.drop_constraint(f"fk_roll_lines_{name}_{parent}", 'roll_lines',
                               type_='foreignkey')
            op.drop_column('roll_lines', name)
        for name, _ddl, _type in reversed(_PLAIN_COLUMNS):
            op.drop_column('roll_lines', name)
        _refuse_null_quantity(bind)
        op.alter_column('roll_lines', 'quantity', existing_type=sa.Integer(), nullable=False)
        op.drop_index(_SAME_ROLL_HOUSEHOLD, table_name='roll_lines')
        op.create_unique_constraint('household_once', 'roll_lines',
                                    ['roll_id', 'household_code'])
    guards.uninstall_tables(bind, NEW_TABLES)
    op.drop_index('ix_policy_standards_key', table_name='policy_standards')
    op.drop_table('policy_standards')


def _refuse_null_quantity(bind) -> None:
    count = bind.exec_driver_sql(
        "SELECT count(*) FROM roll_lines WHERE quantity IS NULL").scalar_one()
    if count:
        raise RuntimeError(f"{count} roll lines have a decimal quantity; the schema before 0016 "
                           "cannot hold them")


def _sqlite_relax(bind) -> None:
    """Drop the unique (roll_id, household_code) and quantity's NOT NULL on SQLite."""
    indexes = {}
    for _seq, name, unique, _origin, _partial in bind.exec_driver_sql(
            "PRAGMA index_list(roll_lines)").all():
        columns = tuple(row[2] for row in bind.exec_driver_sql(
            f"PRAGMA index_info('{name}')").all())
        indexes[columns] = (name, unique)
    same_household = indexes.get(("roll_id", "household_code"))
    if same_household is None:
        raise RuntimeError("roll_lines has no index on (roll_id, household_code)")
    old_name = same_household[0]
    renames = {}
    if old_name.startswith("sqlite_autoindex_"):
        # The constraint of migration 0005, in the table's CREATE statement.
        renames[old_name] = (_SAME_ROLL_HOUSEHOLD, f"CREATE INDEX {_SAME_ROLL_HOUSEHOLD} ON "
                             "roll_lines (roll_id, household_code)")
        line_name = indexes[("roll_id", "line_no")][0]
        # SQLite numbers a table's automatic indexes in the order of its UNIQUE constraints;
        # with one constraint left, the one of (roll_id, line_no) is number 1.
        if line_name != "sqlite_autoindex_roll_lines_1":
            renames[line_name] = ("sqlite_autoindex_roll_lines_1", None)

        def relax(sql: str) -> str:
            sql, count = re.subn(r",\s*CONSTRAINT household_once UNIQUE \(roll_id, "
                                 r"household_code\)", "", sql)
            if count != 1:
                raise RuntimeError("cannot find the constraint household_once in roll_lines")
            return sql
    else:
        # A unique index left by a downgrade of this revision.
        op.execute(f"DROP INDEX {old_name}")
        op.execute(f"CREATE INDEX {_SAME_ROLL_HOUSEHOLD} ON roll_lines (roll_id, household_code)")

        def relax(sql: str) -> str:
            return sql

    def rewrite(sql: str) -> str:
        sql = relax(sql)
        sql, count = re.subn(r"\bquantity INTEGER NOT NULL\b", "quantity INTEGER", sql)
        if count != 1:
            raise RuntimeError("cannot find the column quantity in roll_lines")
        return sql
    _rewrite_table(bind, "roll_lines", rewrite, renames)


def _rewrite_table(bind, table: str, rewrite, renames: dict) -> None:
    """Rewrite `table`'s CREATE statement (and rename indexes: old → (new name, new sql or
    None to keep it)) in SQLite's schema table, then check the database's integrity."""
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar_one()
    new_sql = rewrite(sql)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                             (new_sql, table))
        for old, (new, index_sql) in renames.items():
            bind.exec_driver_sql("UPDATE sqlite_master SET name = ?, sql = ? "
                                 "WHERE type = 'index' AND name = ?", (new, index_sql, old))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"schema rewrite of {table} failed the integrity check: {problems}")
