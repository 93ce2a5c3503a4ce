"""documents of issue 18 for the flow rules: the invoice and contract a payment cites
(payment_documents: one row per payment that cites one, written in the payment's own entry),
a contract's number, amount and instalments on the approved-payee register
(approved_payees.contract_number, contract_amount_fen, instalments) and a project's
implementing unit (projects.implementing_unit): late columns, null on every row written before

No existing row changes. The new columns are plain ALTER TABLE … ADD COLUMN without a default
or a reference, on SQLite too: no table copy, so projects and approved_payees keep their
append-only triggers.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

NEW_TABLES = ("payment_documents",)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column('projects', sa.Column('implementing_unit', sa.String(length=200),
                                        nullable=True))
    op.add_column('approved_payees', sa.Column('contract_number', sa.String(length=100),
                                               nullable=True))
    op.add_column('approved_payees', sa.Column('contract_amount_fen', sa.BigInteger(),
                                               nullable=True))
    op.add_column('approved_payees', sa.Column('instalments', sa.Integer(), nullable=True))
    op.create_table(
        'payment_documents',
        sa.Column('transfer_id', _ID, nullable=False),
        sa.Column('invoice_number', sa.String(length=60), nullable=True),
        sa.Column('contract_number', sa.String(length=100), nullable=True),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'],
                                name=op.f('fk_payment_documents_transfer_id_transfers')),
        sa.PrimaryKeyConstraint('transfer_id', name=op.f('pk_payment_documents')),
    )
    op.create_index(op.f('ix_payment_documents_invoice_number'), 'payment_documents',
                    ['invoice_number'], unique=False)
    guards.install_tables(bind, NEW_TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    count = bind.exec_driver_sql(
        "SELECT (SELECT count(*) FROM payment_documents) + (SELECT count(*) FROM projects "
        "WHERE implementing_unit IS NOT NULL) + (SELECT count(*) FROM approved_payees WHERE "
        "contract_number IS NOT NULL OR contract_amount_fen IS NOT NULL OR instalments IS NOT "
        "NULL)").scalar_one()
    if count:
        raise RuntimeError(f"{count} rows hold invoices, contracts or implementing units; the "
                           "schema before 0026 cannot hold them")
    guards.uninstall_tables(bind, NEW_TABLES)
    op.drop_index(op.f('ix_payment_documents_invoice_number'), table_name='payment_documents')
    op.drop_table('payment_documents')
    # Plain columns without an index or a reference: SQLite drops them in place too.
    op.execute("ALTER TABLE approved_payees DROP COLUMN instalments")
    op.execute("ALTER TABLE approved_payees DROP COLUMN contract_amount_fen")
    op.execute("ALTER TABLE approved_payees DROP COLUMN contract_number")
    op.execute("ALTER TABLE projects DROP COLUMN implementing_unit")
