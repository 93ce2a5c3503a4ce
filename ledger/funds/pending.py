"""Transfers and their state, for the approver's list (`fundtrail transfer list --pending`).

Reading is scoped like balances: an actor sees the transfers of their region and below (a
transfer belongs to the region that recorded it: the paying county, the allocating unit).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.funds.balances import descendants
from ledger.models import Approval, Transfer, User
from ledger.store.access import Action, require


@dataclass(frozen=True)
class TransferRow:
    id: int
    kind: str
    lot_id: int
    amount_fen: int
    effective_date: dt.date
    region_code: str
    key: str
    memo: str
    recorded_by: str          # username of who recorded it
    recorded_at: dt.datetime
    state: str                # pending, approved or rejected
    decided_by: str | None


def list_transfers(session: Session, actor: User | None = None, *, region: str | None = None,
                   pending_only: bool = False, key_prefix: str | None = None,
                   limit: int | None = None) -> list[TransferRow]:
    """Transfers in scope, oldest first: those recorded in `region` (default: the actor's
    region; without an actor, the whole ledger) and below."""
    if actor is not None:
        require(session, actor, Action.READ, region or actor.region_code)
    scope = region or (actor.region_code if actor is not None else None)
    recorder, decider = aliased(User), aliased(User)
    stmt = (select(Transfer, recorder.username, Approval.decision, decider.username)
            .join(recorder, recorder.id == Transfer.recorded_by)
            .outerjoin(Approval, Approval.transfer_id == Transfer.id)
            .outerjoin(decider, decider.id == Approval.decided_by)
            .order_by(Transfer.id))
    if scope is not None:
        stmt = stmt.where(Transfer.region_code.in_(descendants(session, scope)))
    if pending_only:
        stmt = stmt.where(Approval.id.is_(None))
    if key_prefix:
        stmt = stmt.where(Transfer.idempotency_key.startswith(key_prefix, autoescape=True))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [TransferRow(t.id, t.kind.value, t.lot_id, t.amount_fen, t.effective_date,
                        t.region_code, t.idempotency_key, t.memo or "", made_by, t.recorded_at,
                        decision.value if decision is not None else "pending", decided_by)
            for t, made_by, decision, decided_by in session.execute(stmt)]
