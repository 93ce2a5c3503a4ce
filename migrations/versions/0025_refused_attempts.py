"""refused attempts: a movement of money the ledger refused as a control against misuse, kept
for auditors (who tried what, when, why refused; issue 18)

A new append-only table; no existing row changes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

NEW_TABLES = ("refused_attempts",)

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'refused_attempts',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', _ID, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('region_code', sa.String(length=40), nullable=False),
        sa.Column('lot_id', sa.BigInteger(), nullable=True),
        sa.Column('source_kind', sa.String(length=20), nullable=True),
        sa.Column('source_holder', sa.String(length=40), nullable=True),
        sa.Column('target', sa.String(length=100), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=True),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('idempotency_key', sa.String(length=200), nullable=True),
        sa.Column('transfer_id', sa.BigInteger(), nullable=True),
        sa.Column('roll_code', sa.String(length=40), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=True),
        sa.Column('file_line', sa.Integer(), nullable=True),
        sa.Column('file_column', sa.String(length=40), nullable=True),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_refused_attempts_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_attempts')),
    )
    op.create_index('ix_refused_attempts_region_at', 'refused_attempts',
                    ['region_code', 'attempted_at'], unique=False)
    op.create_index(op.f('ix_refused_attempts_code'), 'refused_attempts', ['code'],
                    unique=False)
    guards.install_tables(op.get_bind(), NEW_TABLES)


def downgrade() -> None:
    count = op.get_bind().exec_driver_sql("SELECT count(*) FROM refused_attempts").scalar_one()
    if count:  # history is not deleted to make room for the older schema
        raise RuntimeError(f"{count} refused attempts are recorded; the schema before 0025 "
                           "cannot hold them")
    guards.uninstall_tables(op.get_bind(), NEW_TABLES)
    op.drop_index(op.f('ix_refused_attempts_code'), table_name='refused_attempts')
    op.drop_index('ix_refused_attempts_region_at', table_name='refused_attempts')
    op.drop_table('refused_attempts')
