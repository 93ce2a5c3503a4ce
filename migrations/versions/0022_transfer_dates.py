"""dates of issue 17: a transfer's voucher date (凭证日期) and the bank's value date (起息日) beside
its posting date (transfers.voucher_date, value_date: late columns, null on every transfer
written before, whose one date was all the voucher said), the receiving level's receipt of a
transfer between levels (transfer_receipts: one row per transfer, by the receiving unit), and
months closed by one county (county_period_closures; period_closures stays the whole ledger's)

No existing row changes. Both new columns are plain ALTER TABLE … ADD COLUMN without a default
or a reference, on SQLite too: no table copy, so transfers keeps its append-only triggers.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

NEW_TABLES = ("county_period_closures", "transfer_receipts")
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _log_id() -> sa.Column:
    return sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column('transfers', sa.Column('voucher_date', sa.Date(), nullable=True))
    op.add_column('transfers', sa.Column('value_date', sa.Date(), nullable=True))
    op.create_table(
        'county_period_closures',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('county_code', sa.String(length=12), nullable=False),
        sa.Column('closed_by', _ID, nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        _log_id(),
        sa.ForeignKeyConstraint(['county_code'], ['regions.code'],
                                name=op.f('fk_county_period_closures_county_code_regions')),
        sa.ForeignKeyConstraint(['closed_by'], ['users.id'],
                                name=op.f('fk_county_period_closures_closed_by_users')),
        sa.PrimaryKeyConstraint('period', 'county_code', name=op.f('pk_county_period_closures')),
    )
    op.create_table(
        'transfer_receipts',
        sa.Column('transfer_id', _ID, nullable=False),
        sa.Column('received_date', sa.Date(), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('memo', sa.Text(), nullable=False),
        sa.Column('recorded_by', _ID, nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        _log_id(),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'],
                                name=op.f('fk_transfer_receipts_transfer_id_transfers')),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name=op.f('fk_transfer_receipts_region_code_regions')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_transfer_receipts_recorded_by_users')),
        sa.PrimaryKeyConstraint('transfer_id', name=op.f('pk_transfer_receipts')),
    )
    op.create_index(op.f('ix_transfer_receipts_region_code'), 'transfer_receipts',
                    ['region_code'], unique=False)
    guards.install_tables(bind, NEW_TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    guards.uninstall_tables(bind, NEW_TABLES)
    op.drop_index(op.f('ix_transfer_receipts_region_code'), table_name='transfer_receipts')
    op.drop_table('transfer_receipts')
    op.drop_table('county_period_closures')
    # Plain columns without an index or a reference: SQLite drops them in place too.
    op.execute("ALTER TABLE transfers DROP COLUMN value_date")
    op.execute("ALTER TABLE transfers DROP COLUMN voucher_date")
