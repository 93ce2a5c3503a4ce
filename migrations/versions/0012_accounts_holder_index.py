"""index accounts.holder_code: the alert rules reach a payee's (a household's) payments from
the household (BEN-01's deaths list, a member's household); without it SQLite builds an
automatic index or scans every payment per person on the list

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_accounts_holder_code'), 'accounts', ['holder_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_accounts_holder_code'), table_name='accounts')
