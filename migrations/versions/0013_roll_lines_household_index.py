"""index roll_lines.household_code: the public village page reads a village's lines through
its households (ledger.reading.scoped.village_rolls) instead of scanning every roll line

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('roll_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roll_lines_household_code'), ['household_code'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('roll_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roll_lines_household_code'))
