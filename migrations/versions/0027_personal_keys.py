"""personal keys: the public keys people sign their entries with, their four-eyes requests and
their revocations (issue 19, docs/signatures.md)

Three new append-only tables; no existing row changes. Entries keep format version 1: a signed
entry has a 10th element (`auth`), unsigned entries are as before.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

NEW_TABLES = ("personal_key_requests", "personal_keys", "personal_key_revocations")

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _log_columns():
    return [sa.Column('log_index', sa.BigInteger(), nullable=False),
            sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'personal_key_requests',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=True),
        sa.Column('rp_id', sa.String(length=200), nullable=True),
        sa.Column('proof', sa.LargeBinary(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        *_log_columns(),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_personal_key_requests_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_key_requests')),
    )
    op.create_index(op.f('ix_personal_key_requests_user_id'), 'personal_key_requests',
                    ['user_id'], unique=False)
    op.create_index(op.f('ix_personal_key_requests_key_id'), 'personal_key_requests',
                    ['key_id'], unique=False)
    op.create_table(
        'personal_keys',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=True),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('rp_id', sa.String(length=200), nullable=True),
        sa.Column('proof', sa.LargeBinary(), nullable=True),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=False),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        *_log_columns(),
        sa.ForeignKeyConstraint(['request_id'], ['personal_key_requests.id'],
                                name=op.f('fk_personal_keys_request_id_personal_key_requests')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_personal_keys_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_keys')),
        sa.UniqueConstraint('key_id', name=op.f('uq_personal_keys_key_id')),
    )
    op.create_index(op.f('ix_personal_keys_user_id'), 'personal_keys', ['user_id'],
                    unique=False)
    op.create_table(
        'personal_key_revocations',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=True),
        sa.Column('key_id', sa.String(length=200), nullable=False),
        sa.Column('revoked_by', sa.String(length=64), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        *_log_columns(),
        sa.ForeignKeyConstraint(
            ['request_id'], ['personal_key_requests.id'],
            name=op.f('fk_personal_key_revocations_request_id_personal_key_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_key_revocations')),
        sa.UniqueConstraint('key_id', name=op.f('uq_personal_key_revocations_key_id')),
    )
    guards.install_tables(op.get_bind(), NEW_TABLES)


def downgrade() -> None:
    count = op.get_bind().exec_driver_sql("SELECT count(*) FROM personal_key_requests") \
        .scalar_one()
    if count:  # history is not deleted to make room for the older schema
        raise RuntimeError(f"{count} key requests are recorded; the schema before 0027 "
                           "cannot hold them")
    guards.uninstall_tables(op.get_bind(), NEW_TABLES)
    op.drop_table('personal_key_revocations')
    op.drop_index(op.f('ix_personal_keys_user_id'), table_name='personal_keys')
    op.drop_table('personal_keys')
    op.drop_index(op.f('ix_personal_key_requests_key_id'), table_name='personal_key_requests')
    op.drop_index(op.f('ix_personal_key_requests_user_id'), table_name='personal_key_requests')
    op.drop_table('personal_key_requests')
