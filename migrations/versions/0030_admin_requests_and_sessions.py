"""four eyes on administration and server-side web sessions (issue 19): administrative
requests and their decisions (append-only, in the audit log) and staff sessions

New tables only; no existing row changes.

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

revision = '0030'
down_revision = '0027'
branch_labels = None
depends_on = None

NEW_TABLES = ("admin_requests", "admin_decisions")

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'admin_requests',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=64), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name=op.f('fk_admin_requests_region_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_requests')),
    )
    op.create_index('ix_admin_requests_target', 'admin_requests', ['target'], unique=False)
    op.create_table(
        'admin_decisions',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=False),
        sa.Column('approved', sa.Boolean(), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['admin_requests.id'],
                                name=op.f('fk_admin_decisions_request_id_admin_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_decisions')),
        sa.UniqueConstraint('request_id', name=op.f('uq_admin_decisions_request_id')),
    )
    op.create_table(
        'staff_sessions',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('credential_id', sa.BigInteger(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_why', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_staff_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_staff_sessions_token_digest')),
    )
    op.create_index('ix_staff_sessions_user', 'staff_sessions', ['user_id', 'ended_at'],
                    unique=False)
    guards.install_tables(op.get_bind(), NEW_TABLES)


def downgrade() -> None:
    guards.uninstall_tables(op.get_bind(), NEW_TABLES)
    op.drop_table('staff_sessions')
    op.drop_table('admin_decisions')
    op.drop_index('ix_admin_requests_target', table_name='admin_requests')
    op.drop_table('admin_requests')
