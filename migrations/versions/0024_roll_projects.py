"""rolls paid from the county's household-programme project: payment_rolls.project_code

A nullable column with a foreign key to projects (a late column: rolls logged before it hold
null, the county's own share, and their images leave it out). On SQLite a plain ADD COLUMN with
a REFERENCES clause (no table copy, so the append-only triggers stay).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store.schema_ops import drop_sqlite_reference

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE payment_rolls ADD COLUMN project_code VARCHAR(40) CONSTRAINT "
                   "fk_payment_rolls_project_code_projects REFERENCES projects (code)")
    else:
        op.add_column('payment_rolls', sa.Column('project_code', sa.String(length=40),
                                                 nullable=True))
        op.create_foreign_key('fk_payment_rolls_project_code_projects', 'payment_rolls',
                              'projects', ['project_code'], ['code'])


def downgrade() -> None:
    bind = op.get_bind()
    count = bind.exec_driver_sql(
        "SELECT count(*) FROM payment_rolls WHERE project_code IS NOT NULL").scalar_one()
    if count:
        raise RuntimeError(f"{count} rolls pay from a project; the schema before 0024 cannot "
                           "hold them")
    if bind.dialect.name == "sqlite":
        # The REFERENCES clause goes first: SQLite cannot drop a column in a foreign key.
        drop_sqlite_reference(bind, "payment_rolls", " CONSTRAINT "
                              "fk_payment_rolls_project_code_projects REFERENCES projects (code)")
        op.execute("ALTER TABLE payment_rolls DROP COLUMN project_code")
    else:
        op.drop_constraint('fk_payment_rolls_project_code_projects', 'payment_rolls',
                           type_='foreignkey')
        op.drop_column('payment_rolls', 'project_code')
