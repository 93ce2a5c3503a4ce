"""passkeys: the web's WebAuthn bookkeeping — registrations waiting for an administrator,
signature counters, single-use challenges (issue 19, docs/passkeys.md)

Three new tables, none bound in the log: `passkey_registrations` is append-only; the counters
and challenges are mutable (tests/test_architecture.py, MUTABLE_TABLES). No existing row
changes.

Revision ID: 0033
Revises: 0027
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0033'
down_revision = '0030'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'passkey_registrations',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=200), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('rp_id', sa.String(length=200), nullable=False),
        sa.Column('proof', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_passkey_registrations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_passkey_registrations')),
        sa.UniqueConstraint('key_id', name=op.f('uq_passkey_registrations_key_id')),
    )
    op.create_index(op.f('ix_passkey_registrations_user_id'), 'passkey_registrations',
                    ['user_id'], unique=False)
    op.create_table(
        'passkey_counters',
        sa.Column('key_id', sa.String(length=200), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_passkey_counters')),
    )
    op.create_table(
        'passkey_challenges',
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('nonce', name=op.f('pk_passkey_challenges')),
    )
    op.create_index(op.f('ix_passkey_challenges_username'), 'passkey_challenges',
                    ['username'], unique=False)
    guards.install_tables(op.get_bind(), ("passkey_registrations",))


def downgrade() -> None:
    guards.uninstall_tables(op.get_bind(), ("passkey_registrations",))
    op.drop_index(op.f('ix_passkey_challenges_username'), table_name='passkey_challenges')
    op.drop_table('passkey_challenges')
    op.drop_table('passkey_counters')
    op.drop_index(op.f('ix_passkey_registrations_user_id'), table_name='passkey_registrations')
    op.drop_table('passkey_registrations')
