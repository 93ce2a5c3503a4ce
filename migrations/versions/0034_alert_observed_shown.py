"""alert_observed_shown: an alert's observed and threshold as people read them (issue 20)

The rules write `observed` and `threshold` in English, and the finding's content hash covers
that English: changing it would mark every open alert as updated and reopen dismissed ones. So
the English stays in `alert_events` as it is, and each scan refreshes a Chinese template and
its parameters here, without an event. A new mutable table, not a column of `alerts`: `alerts`
is append-only and bound in the log (tests/test_architecture.py, MUTABLE_TABLES). An alert
with no row here (scanned before) shows the English. No existing row changes.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'alert_observed_shown',
        sa.Column('alert_id', _ID, nullable=False),
        sa.Column('observed_shown', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'],
                                name=op.f('fk_alert_observed_shown_alert_id_alerts')),
        sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_alert_observed_shown')),
    )


def downgrade() -> None:
    op.drop_table('alert_observed_shown')
