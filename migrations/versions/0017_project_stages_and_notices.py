"""project stages rejected (不予立项) and adjusted (项目调整), a document number on every stage
event, and the project notices as displayed (公示/公告, display window, place, issuer)

`project_events.doc_number` is a late column: rows written before this revision keep null there,
and a row image leaves a null late column out (ledger.audit.entries.LATE_COLUMNS), so those rows
still equal their logged images. `project_notices` is a new append-only table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards
from ledger.store.schema_ops import set_enum_check

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# Frozen here: the migration must not change when the model's enum does.
PROJECT_STATUSES_0016 = ("proposed", "in_library", "approved", "implementing", "accepted",
                         "closed", "filed")
PROJECT_STATUSES = PROJECT_STATUSES_0016 + ("rejected", "adjusted")
APPEND_ONLY = ("project_notices",)


def _id():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    bind = op.get_bind()
    # Plain ALTER TABLE … ADD COLUMN: no table copy, so the append-only triggers stay.
    op.add_column('project_events',
                  sa.Column('doc_number', sa.String(length=100), nullable=True))
    set_enum_check(bind, "project_events", "project_status", "status", PROJECT_STATUSES)
    op.create_table(
        'project_notices',
        sa.Column('id', _id(), autoincrement=True, nullable=False),
        sa.Column('project_code', sa.String(length=40), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.Enum('publicity', 'announcement', name='project_notice_kind',
                                  native_enum=False, create_constraint=True, length=24),
                  nullable=False),
        sa.Column('display_from', sa.Date(), nullable=False),
        sa.Column('display_to', sa.Date(), nullable=False),
        sa.Column('place', sa.Text(), nullable=False),
        sa.Column('issuer', sa.String(length=200), nullable=False),
        sa.Column('doc_number', sa.String(length=100), nullable=True),
        sa.Column('title', sa.Text(), nullable=True),
        sa.Column('notice_id', _id(), nullable=True),
        sa.Column('recorded_by', _id(), nullable=False),
        sa.Column('log_index', sa.BigInteger(), nullable=False),
        sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'],
                                name=op.f('fk_project_notices_notice_id_notices')),
        sa.ForeignKeyConstraint(['project_code'], ['projects.code'],
                                name=op.f('fk_project_notices_project_code_projects')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_project_notices_recorded_by_users')),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name=op.f('fk_project_notices_region_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_project_notices')),
    )
    op.create_index('ix_project_notices_project_region', 'project_notices',
                    ['project_code', 'region_code', 'kind', 'display_from'], unique=False)
    guards.install_tables(bind, APPEND_ONLY)


def downgrade() -> None:
    bind = op.get_bind()
    guards.uninstall_tables(bind, APPEND_ONLY)
    op.drop_index('ix_project_notices_project_region', table_name='project_notices')
    op.drop_table('project_notices')
    # Refused (PostgreSQL) while a rejected or adjusted event exists: those steps cannot be
    # written in the older schema, and history is not deleted to make room.
    set_enum_check(bind, "project_events", "project_status", "status", PROJECT_STATUSES_0016)
    op.execute("ALTER TABLE project_events DROP COLUMN doc_number")
