"""keyed digests for the alert rules' blocking keys: households.card_digest (BEN-03 groups
households by card) and members.birth_digest (BEN-02 compares names of people born the same
day), so a scan no longer decrypts every card and ID number

Rows written before this revision keep null there (computing them needs the PII index key,
which migrations do not hold); the rules decrypt those rows, and row images leave a null late
column out (ledger.audit.entries.LATE_COLUMNS), so those rows still equal their logged images.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on both databases: no table copy, so the append-only
    # triggers stay, and no UPDATE fires them.
    op.add_column('households', sa.Column('card_digest', sa.String(length=100), nullable=True))
    op.add_column('members', sa.Column('birth_digest', sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE members DROP COLUMN birth_digest")
    op.execute("ALTER TABLE households DROP COLUMN card_digest")
