"""several audit logs in one database (one per county and year, docs/scaling.md): each log has
a small id (audit_head.log_id); entries and tree nodes are keyed by (log_id, …), and every row
bound to a log says which one (log_id), so two logs' appends share no key and no lock

Existing rows, entries and nodes belong to the database's first log, id 1: the column default,
and the id given to the largest existing head.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from ledger.store import guards

# Frozen copy: every table with a log_index column at this revision.
BOUND_TABLES = (
    'accounts', 'alert_events', 'alerts', 'approvals', 'approved_payees', 'complaint_events',
    'complaints', 'external_lists', 'external_records', 'fund_lots', 'household_events',
    'household_links', 'household_support', 'households', 'integration_lineage', 'loan_events',
    'loan_subsidies', 'loans', 'member_events', 'members', 'notices', 'payee_accounts',
    'payee_registers', 'payees', 'payment_rolls', 'period_closures', 'postings',
    'project_details', 'project_events', 'projects', 'recoveries', 'regions', 'roll_events',
    'roll_lines', 'sample_commitments', 'sample_draws', 'sample_visits', 'supervision_contacts',
    'transfers', 'unit_receipts', 'user_credentials', 'users',
)
LOG_TABLES = ('audit_entries', 'audit_nodes')

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _log_id_column() -> sa.Column:
    return sa.Column('log_id', sa.SmallInteger(), server_default=sa.text('1'), nullable=False)


def upgrade() -> None:
    bind = op.get_bind()
    # Adding a column with a constant default rewrites nothing on either database (SQLite
    # ALTER TABLE ADD COLUMN; PostgreSQL ≥ 11 keeps the default in the catalogue), and fires
    # no UPDATE trigger: the append-only guards stay in place.
    for table in BOUND_TABLES:
        op.add_column(table, _log_id_column())
    guards.install_account_log_guard(bind)

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('log_id', sa.SmallInteger(), nullable=True))
    # The largest existing log is the one whose rows now say 1.
    heads = bind.execute(sa.text(
        "SELECT origin FROM audit_head ORDER BY size DESC, origin")).scalars().all()
    for number, origin in enumerate(heads, start=1):
        bind.execute(sa.text("UPDATE audit_head SET log_id = :id WHERE origin = :origin"),
                     {"id": number, "origin": origin})
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.alter_column('log_id', existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_head_log_id'), ['log_id'])
    if bind.dialect.name == "postgresql":
        # New logs take their ids from a sequence, so that opening one never waits on another
        # being opened (ledger.audit.log._open_log).
        op.execute(f"CREATE SEQUENCE audit_head_log_ids AS smallint START WITH {len(heads) + 1}")

    # New primary keys. On SQLite the batch copies each table, which drops its triggers: the
    # guards are taken off first and put back after.
    guards.uninstall_tables(bind, LOG_TABLES)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(_log_id_column())
        batch_op.drop_constraint('pk_audit_entries', type_='primary')
        batch_op.create_primary_key('pk_audit_entries', ['log_id', 'idx'])
    with op.batch_alter_table('audit_nodes', schema=None) as batch_op:
        batch_op.add_column(_log_id_column())
        batch_op.drop_index('ix_audit_nodes_leaf_end')
        batch_op.drop_constraint('pk_audit_nodes', type_='primary')
        batch_op.create_primary_key('pk_audit_nodes', ['log_id', 'level', 'idx'])
        batch_op.create_index('ix_audit_nodes_log_leaf_end', ['log_id', 'leaf_end'],
                              unique=False)
    guards.install_tables(bind, LOG_TABLES)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_head_log_ids")
    guards.uninstall_tables(bind, LOG_TABLES)
    with op.batch_alter_table('audit_nodes', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_nodes_log_leaf_end')
        batch_op.drop_constraint('pk_audit_nodes', type_='primary')
        batch_op.create_primary_key('pk_audit_nodes', ['level', 'idx'])
        batch_op.drop_column('log_id')
        batch_op.create_index('ix_audit_nodes_leaf_end', ['leaf_end'], unique=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('pk_audit_entries', type_='primary')
        batch_op.create_primary_key('pk_audit_entries', ['idx'])
        batch_op.drop_column('log_id')
    guards.install_tables(bind, LOG_TABLES)
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_head_log_id'), type_='unique')
        batch_op.drop_column('log_id')
    guards.uninstall_account_log_guard(bind)
    for table in BOUND_TABLES:
        # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy would drop the
        # table's append-only triggers.
        op.execute(f"ALTER TABLE {table} DROP COLUMN log_id")
