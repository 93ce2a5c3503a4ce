"""Writing the offline bundle straight from the database (used by `fundtrail export-bundle`
and the auditors' download in the web app)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import checkpoints as cps
from ledger.audit.log import reading_log_id
from ledger.audit.tlog.bundle import BundleError, write_bundle
from ledger.audit.tlog.policy import Policy
from ledger.audit.tlog.tiles import EntryTooLargeError
from ledger.core.errors import LedgerError
from ledger.models import AuditEntry, Checkpoint


def export_bundle(session: Session, out_dir, *, origin: str, policy: Policy,
                  policy_path) -> tuple[Path, int, int]:
    """Bundle the log up to the newest checkpoint that meets the policy's quorum.
    Returns (directory, entries, checkpoints)."""
    keys = {v.name: v.vkey for v in policy.logs}
    keys.update({name: w.verifier.vkey for name, w in policy.witnesses.items()})
    rows = session.execute(select(Checkpoint).where(Checkpoint.origin == origin)
                           .order_by(Checkpoint.id)).scalars().all()
    if not rows:
        raise LedgerError("no checkpoint has been signed yet (fundtrail checkpoint sign)",
                          code="no_checkpoint")
    # Only checkpoints that count under the policy go into the bundle: one still waiting
    # for its cosignatures would make the auditor's copy report a missing quorum.
    notes, sizes = [], []
    for row in rows:
        note = cps.with_cosignatures(session, row)
        try:
            policy.verify_checkpoint(note)
        except ValueError:
            continue
        notes.append(note)
        sizes.append(row.size)
    if not notes:
        raise LedgerError("no checkpoint has met the policy's quorum yet; gather "
                          "cosignatures first (fundtrail checkpoint cosign)",
                          code="no_quorum_checkpoint")
    size = sizes[-1]
    entries = (bytes(e) for e in session.execute(
        select(AuditEntry.entry).where(AuditEntry.log_id == reading_log_id(session, origin),
                                       AuditEntry.idx < size).order_by(AuditEntry.idx)
        .execution_options(yield_per=5000)).scalars())
    try:
        out = write_bundle(out_dir, origin=origin, entries=entries, size=size,
                           node_reader=cps.node_reader(session), checkpoints=notes,
                           policy_text=Path(policy_path).read_text(encoding="utf-8"), keys=keys)
    except BundleError as exc:
        raise LedgerError(str(exc), code="bundle_not_written", detail=str(exc)) from None
    except EntryTooLargeError as exc:
        # Only a log written before entries were checked at write time (ledger.audit.log)
        # can hold one: say so in one line rather than fail with a traceback (or a 500).
        detail = (f"{exc}; it was written before fundtrail checked entry sizes, so this log "
                  "cannot be bundled in the tlog-tiles format")
        raise LedgerError(f"the audit bundle cannot be written: {detail}",
                          code="bundle_not_written", detail=detail) from None
    return out, size, len(notes)
