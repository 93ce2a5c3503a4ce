"""cards over time: the card register (cards: household, personal and guardian cards with their
bank, encrypted number, keyed digest, last four and opening date; a replacement names the card it
replaces), card closings (card_closings: a card closes once, by a new row), and the card each
roll line pays (roll_lines.card_id, a late column: null on every line written before, which
paid the household's card of registration, as new lines without a register card still do)

No existing row changes. On SQLite the new column is a plain ALTER TABLE … ADD COLUMN (no table
copy: that would drop roll_lines' append-only triggers, see 0016); the downgrade takes its
REFERENCES clause off by rewriting the CREATE statement, as 0016's downgrade does, since SQLite
cannot drop a column that is in a foreign key.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards
from ledger.store.schema_ops import drop_sqlite_reference

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

NEW_TABLES = ("cards", "card_closings")
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_CARD_FK = "fk_roll_lines_card_id_cards"


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        'cards',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('household_code', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.Enum('household', 'personal', 'guardian', name='card_kind',
                                  native_enum=False, create_constraint=True, length=24),
                  nullable=False),
        sa.Column('member_id', _ID, nullable=True),
        sa.Column('holder_name', sa.String(length=100), nullable=False),
        sa.Column('holder_member_id', _ID, nullable=True),
        sa.Column('bank', sa.String(length=100), nullable=False),
        sa.Column('account', sa.Text(), nullable=False),
        sa.Column('account_digest', sa.String(length=100), nullable=False),
        sa.Column('account_last4', sa.String(length=4), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('replaces_card_id', _ID, nullable=True),
        sa.Column('recorded_by', _ID, nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.CheckConstraint("(kind = 'household' AND member_id IS NULL) OR "
                           "(kind <> 'household' AND member_id IS NOT NULL)",
                           name=op.f('ck_cards_member_by_kind')),
        sa.ForeignKeyConstraint(['household_code'], ['households.code'],
                                name=op.f('fk_cards_household_code_households')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_cards_member_id_members')),
        sa.ForeignKeyConstraint(['holder_member_id'], ['members.id'],
                                name=op.f('fk_cards_holder_member_id_members')),
        sa.ForeignKeyConstraint(['replaces_card_id'], ['cards.id'],
                                name=op.f('fk_cards_replaces_card_id_cards')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_cards_recorded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    )
    op.create_index(op.f('ix_cards_household_code'), 'cards', ['household_code'], unique=False)
    op.create_table(
        'card_closings',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('card_id', _ID, nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recorded_by', _ID, nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['card_id'], ['cards.id'],
                                name=op.f('fk_card_closings_card_id_cards')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_card_closings_recorded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_closings')),
        sa.UniqueConstraint('card_id', name=op.f('uq_card_closings_card_id')),
    )
    guards.install_tables(bind, NEW_TABLES)
    if bind.dialect.name == "sqlite":
        op.execute(f"ALTER TABLE roll_lines ADD COLUMN card_id INTEGER CONSTRAINT {_CARD_FK} "
                   "REFERENCES cards (id)")
    else:
        # Plain ADD COLUMN without a default: no rewrite, no UPDATE, the guards stay.
        op.add_column('roll_lines', sa.Column('card_id', sa.BigInteger(), nullable=True))
        op.create_foreign_key(_CARD_FK, 'roll_lines', 'cards', ['card_id'], ['id'])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        drop_sqlite_reference(bind, "roll_lines", f" CONSTRAINT {_CARD_FK} REFERENCES cards (id)")
        op.execute("ALTER TABLE roll_lines DROP COLUMN card_id")
    else:
        op.drop_constraint(_CARD_FK, 'roll_lines', type_='foreignkey')
        op.drop_column('roll_lines', 'card_id')
    guards.uninstall_tables(bind, NEW_TABLES)
    op.drop_table('card_closings')
    op.drop_index(op.f('ix_cards_household_code'), table_name='cards')
    op.drop_table('cards')
