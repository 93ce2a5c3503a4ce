"""payee kinds business, person and unit with their identity and home county; relatives declared
by name and birth date, vehicle status and industry codes on the external lists; the property
register (不动产登记) as a list kind

Every new column is a late column (ledger.audit.entries.LATE_COLUMNS): rows written before this
revision keep null there and still equal their logged images. The enum additions widen CHECK
constraints in place (ledger.store.schema_ops: no table copy, so the append-only triggers and
foreign keys stay); no existing row changes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store.schema_ops import set_enum_check

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# Frozen here: the migration must not change when the models' enums do.
PAYEE_KINDS_0019 = ("household", "contractor")
PAYEE_KINDS = PAYEE_KINDS_0019 + ("business", "person", "unit")
LIST_KINDS_0019 = ("deaths", "payroll", "vehicles", "businesses", "officials", "blacklist")
LIST_KINDS = LIST_KINDS_0019 + ("properties",)


def upgrade() -> None:
    bind = op.get_bind()
    # Plain ALTER TABLE … ADD COLUMN: no table copy, so the append-only triggers stay.
    op.add_column('payees', sa.Column('credit_code', sa.String(length=18), nullable=True))
    op.add_column('payees', sa.Column('id_number', sa.Text(), nullable=True))
    op.add_column('payees', sa.Column('id_digest', sa.String(length=64), nullable=True))
    op.add_column('payees', sa.Column('home_county', sa.String(length=12), nullable=True))
    op.create_index('ix_payees_credit_code', 'payees', ['credit_code'], unique=False)
    op.create_index('ix_payees_id_digest', 'payees', ['id_digest'], unique=False)
    set_enum_check(bind, "payees", "payee_kind", "kind", PAYEE_KINDS)
    op.add_column('external_records', sa.Column('birth_date', sa.Date(), nullable=True))
    op.add_column('external_records', sa.Column('status', sa.String(length=20), nullable=True))
    op.add_column('external_records',
                  sa.Column('industry_code', sa.String(length=5), nullable=True))
    set_enum_check(bind, "external_lists", "list_kind", "kind", LIST_KINDS)


def downgrade() -> None:
    bind = op.get_bind()
    # Refused (PostgreSQL) while a row holds a new kind: history is not deleted to make room
    # for the older schema.
    set_enum_check(bind, "external_lists", "list_kind", "kind", LIST_KINDS_0019)
    set_enum_check(bind, "payees", "payee_kind", "kind", PAYEE_KINDS_0019)
    # Plain DROP COLUMN, as 0017: a batch copy would drop the append-only triggers.
    for name in ('industry_code', 'status', 'birth_date'):
        op.execute(f"ALTER TABLE external_records DROP COLUMN {name}")
    op.drop_index('ix_payees_id_digest', table_name='payees')
    op.drop_index('ix_payees_credit_code', table_name='payees')
    for name in ('home_county', 'id_digest', 'id_number', 'credit_code'):
        op.execute(f"ALTER TABLE payees DROP COLUMN {name}")
