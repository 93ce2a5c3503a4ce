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

from ledger.audit.entries import EntryFormatError, decode_body
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
        body = signature_body(bytes(data))
        if body is not None:
            audit.feed(index, body)
    return audit


def signature_body(data: bytes) -> list | None:
    """The entry's fields as the signature audit reads them, or None (not an entry: reported by
    the entry checks).

    A well-formed entry is decoded by cbor2's C decoder (`entries.decode_body`, which checks
    canonical form too): the pure-Python `cbormin` decoder cost three quarters of a full
    verification. Anything it refuses is decoded as before with `cbormin`, which the offline
    verifier shares, so that a malformed entry feeds the audit exactly as it did. One
    difference, on the closed side: an entry holding an integer beyond 64 bits (a CBOR bignum,
    which cbor2 reads and `cbormin` refuses) used to be passed over by the signature audit; it
    is now checked like any other."""
    try:
        return decode_body(data)
    except EntryFormatError:
        pass
    try:
        body = cbormin.decode(data)
    except cbormin.CborError:
        return None
    return body if isinstance(body, list) and len(body) in (9, 10) else None


def requires_signatures(policy) -> bool:
    return bool(policy is not None and policy.signatures_required)


def check_signatures(session: Session, report, policy=None, since: int = 0,
                     audit: SignatureAudit | None = None) -> SignatureAudit:
    """Add a "signature" finding to `report` (a `verify.Report`) for each problem found (in
    entries from `since` on: the keys need the whole log, an incremental run reports only
    what it has not reported before). `audit`: one already fed every entry of the log (the
    full verification feeds it while it replays the log, decoding each entry once)."""
    if audit is None:
        audit = audit_signatures(session, report.origin, report.log_id,
                                 requires_signatures(policy))
    for finding in audit.findings:
        if finding.index < since:
            continue
        report.add("signature", str(finding), log_index=finding.index)
    report.signatures = audit.summary()
    return audit
