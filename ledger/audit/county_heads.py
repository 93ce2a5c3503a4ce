"""The province's log commits to every county log at once (docs/scaling.md).

With one log per county and year, a villager's proof is short (their county's log), but an
auditor of the province wants one signature that covers all the counties. On a schedule (and
at every month end) the province bureau records in the province's log one entry
`county.heads` listing each other log's newest signed checkpoint: origin, size and root.
Signing the province's next checkpoint then signs those heads too.

`verify` of the province's log checks each recorded head against the county log in the same
database: the county's tree at that size must still have that root. A county log rewritten
after the province recorded its head is found from the province's side, even by an auditor
who never held that county's checkpoints.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.log import log_origin, record_change
from ledger.audit.tlog import merkle
from ledger.core.errors import LedgerError
from ledger.models import AuditHead, Checkpoint, User
from ledger.store.access import Action, require, root_code

KIND = "county.heads"


def record_county_heads(session: Session, actor: User) -> tuple[int, list[dict]]:
    """Append a `county.heads` entry to this session's log (the province's) naming the newest
    signed checkpoint of every other log of the database. Returns (entry index, heads).

    Only signed checkpoints are named: an unsigned size is one nobody has vouched for. Logs
    with none yet are listed apart, so the entry says which counties it does not cover.
    """
    require(session, actor, Action.RECORD, root_code(session))
    own = log_origin(session)
    heads, unsigned = [], []
    for origin in session.execute(select(AuditHead.origin).where(AuditHead.origin != own)
                                  .order_by(AuditHead.log_id)).scalars():
        newest = session.execute(select(Checkpoint).where(Checkpoint.origin == origin)
                                 .order_by(Checkpoint.id.desc()).limit(1)).scalar_one_or_none()
        if newest is None:
            unsigned.append(origin)
        else:
            heads.append({"origin": origin, "size": newest.size,
                          "root": bytes(newest.root).hex()})
    if not heads:
        raise LedgerError("no other log of this database has a signed checkpoint to record "
                          f"(logs without one: {', '.join(unsigned) or 'none'})",
                          code="no_other_log_checkpoint", unsigned=unsigned)
    with record_change(session, actor.username, KIND, heads=heads,
                       not_yet_signed=unsigned) as change:
        index = change.index
    return index, heads


def check_recorded_heads(session: Session, recorded: list[tuple[int, dict]], report) -> None:
    """For verification: each head a `county.heads` entry of this log named (entry index,
    details) must still be in its log, with the same root at the same size."""
    from ledger.audit.checkpoints import node_reader
    for index, details in recorded:
        for head in details.get("heads", []):
            origin, size, root = head.get("origin"), head.get("size"), head.get("root")
            try:
                reader = node_reader(session, origin)
                now = merkle.root_at(size, reader).hex()
            except (LedgerError, ValueError, TypeError) as exc:
                report.add("checkpoint", f"entry {index} recorded log {origin!r} at size "
                           f"{size}, which that log no longer holds: {exc}", log_index=index)
                continue
            if now != root:
                report.add("checkpoint", f"entry {index} recorded log {origin!r} at size "
                           f"{size} with root {str(root)[:16]}…; that log now gives "
                           f"{now[:16]}…: it was rewritten after the province recorded it",
                           log_index=index)
