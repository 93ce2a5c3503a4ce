"""a document number (文号) on household status events, for the status history a county's
registry keeps (import kind `household_status`)

`household_events.doc_number` is a late column: rows written before this revision keep null
there, and a row image leaves a null late column out (ledger.audit.entries.LATE_COLUMNS), so
those rows still equal their logged images. Plain ALTER TABLE … ADD COLUMN: no table copy, so
the append-only triggers and the foreign keys stay. A split's creation and enrolment dates need
no column: the split link's date is the creation, the "registration" event the enrolment.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('household_events',
                  sa.Column('doc_number', sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE household_events DROP COLUMN doc_number")
