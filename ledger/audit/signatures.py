"""`fundtrail verify`'s check of personal signatures (docs/signatures.md, "What verify checks").

Reads the log's entries in order and hands them to `tlog.personal.SignatureAudit`, the same
database-free code the offline bundle verifier runs: the key registry is rebuilt from the log's
own enrolment entries, never read from the `personal_keys` table (whose rows are checked against
the log like every bound row). Each finding becomes a verify finding of kind "signature",
naming the entry and the person in whose name it was written.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.tlog import cbormin
from ledger.audit.tlog.personal import SignatureAudit
from ledger.models import AuditEntry

BATCH = 5_000


def audit_signatures(session: Session, origin: str, log_id: int,
                     require_signatures: bool = False) -> SignatureAudit:
    """The signature audit of log `origin` (stored under `log_id`), every entry read once."""
    audit = SignatureAudit(origin, require_signatures)
    rows = session.execute(select(AuditEntry.idx, AuditEntry.entry)
                           .where(AuditEntry.log_id == log_id).order_by(AuditEntry.idx)
                           .execution_options(yield_per=BATCH))
    for index, data in rows:
        try:
            body = cbormin.decode(bytes(data))
        except cbormin.CborError:
            continue    # reported by the entry checks
        if isinstance(body, list) and len(body) in (9, 10):
            audit.feed(index, body)
    return audit


def check_signatures(session: Session, report, policy=None, since: int = 0) -> SignatureAudit:
    """Add a "signature" finding to `report` (a `verify.Report`) for each problem found (in
    entries from `since` on: the keys need the whole log, an incremental run reports only
    what it has not reported before)."""
    audit = audit_signatures(session, report.origin, report.log_id,
                             bool(policy is not None and policy.signatures_required))
    for finding in audit.findings:
        if finding.index < since:
            continue
        report.add("signature", str(finding), log_index=finding.index)
    report.signatures = audit.summary()
    return audit
