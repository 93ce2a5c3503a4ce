"""member event kind `joined` (加入): the date a member joined the household, imported from a
county's registry (import kind `member_history`)

Only the CHECK constraint of `member_events.kind` widens (ledger.store.schema_ops: no table
copy, so the append-only triggers and the foreign keys stay); no row changes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09
"""
from alembic import op

from ledger.store.schema_ops import set_enum_check

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# Frozen here: the migration must not change when the model's enum does.
MEMBER_EVENT_KINDS_0017 = ("died", "moved_out")
MEMBER_EVENT_KINDS = MEMBER_EVENT_KINDS_0017 + ("joined",)


def upgrade() -> None:
    set_enum_check(op.get_bind(), "member_events", "member_event_kind", "kind",
                   MEMBER_EVENT_KINDS)


def downgrade() -> None:
    # Refused (PostgreSQL) while a joined event exists: it cannot be written in the older
    # schema, and history is not deleted to make room.
    set_enum_check(op.get_bind(), "member_events", "member_event_kind", "kind",
                   MEMBER_EVENT_KINDS_0017)
