"""bank results as banks send them: every line of every result file kept (bank_results), and the
transfer kind `bank_difference` that accounts for money the bank moved otherwise than the
posted roll said (credited short, to another account, for a line never posted, returned after
it was reported paid)

A new table and a wider CHECK constraint on `transfers.kind` (ledger.store.schema_ops: no table
copy, so the append-only triggers and foreign keys stay); no existing row changes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards
from ledger.store.schema_ops import set_enum_check

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

NEW_TABLES = ("bank_results",)
# Frozen here: the migration must not change when the model's enum does.
TRANSFER_KINDS_0018 = ("appropriate", "allocate", "fund_project", "pay", "reverse", "integrate",
                       "recovery_claim", "recovery_collect", "reclaim")
TRANSFER_KINDS = TRANSFER_KINDS_0018 + ("bank_difference",)

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    bind = op.get_bind()
    set_enum_check(bind, "transfers", "transfer_kind", "kind", TRANSFER_KINDS)
    op.create_table(
        'bank_results',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('roll_id', _ID, nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('line_id', _ID, nullable=True),
        sa.Column('transfer_id', _ID, nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('file_digest', sa.String(length=64), nullable=False),
        sa.Column('file_line', sa.Integer(), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=True),
        sa.Column('sent_fen', sa.BigInteger(), nullable=False),
        sa.Column('credited_fen', sa.BigInteger(), nullable=False),
        sa.Column('paid', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('voucher', sa.String(length=100), nullable=False),
        sa.Column('household_code', sa.String(length=40), nullable=True),
        sa.Column('payee_name', sa.String(length=200), nullable=True),
        sa.Column('account', sa.Text(), nullable=True),
        sa.Column('account_digest', sa.String(length=100), nullable=True),
        sa.Column('account_last4', sa.String(length=4), nullable=True),
        sa.Column('differences', sa.String(length=200), nullable=False),
        sa.Column('difference_fen', sa.BigInteger(), nullable=False),
        sa.Column('difference_transfer_id', _ID, nullable=True),
        sa.Column('recorded_by', _ID, nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['roll_id'], ['payment_rolls.id'],
                                name=op.f('fk_bank_results_roll_id_payment_rolls')),
        sa.ForeignKeyConstraint(['line_id'], ['roll_lines.id'],
                                name=op.f('fk_bank_results_line_id_roll_lines')),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'],
                                name=op.f('fk_bank_results_transfer_id_transfers')),
        sa.ForeignKeyConstraint(['difference_transfer_id'], ['transfers.id'],
                                name=op.f('fk_bank_results_difference_transfer_id_transfers')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_bank_results_recorded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_results')),
    )
    op.create_index('ix_bank_results_roll_line', 'bank_results', ['roll_id', 'line_no'],
                    unique=False)
    guards.install_tables(bind, NEW_TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    guards.uninstall_tables(bind, NEW_TABLES)
    op.drop_index('ix_bank_results_roll_line', table_name='bank_results')
    op.drop_table('bank_results')
    # Refused (PostgreSQL) while a bank_difference transfer exists: history is not deleted to
    # make room for the older schema.
    set_enum_check(bind, "transfers", "transfer_kind", "kind", TRANSFER_KINDS_0018)
