"""External lists the alerts match against (DOMAIN.md §4): deaths, public payroll, vehicles,
businesses, officials and their relatives, and the violations blacklist.

Each import is one `ExternalList` with its source and snapshot date — an alert built on it
names both, because a match is only as good as the list's date and coverage. Records share one
table with generic columns (what each column means per kind: docs/formats.md). ID numbers are
personal data: stored encrypted, with the same keyed digest as household members
(`ledger.core.pii`), so matching joins digests and never decrypts a whole list.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, fields

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from ledger.core.errors import IdempotencyConflict, LedgerError
from ledger.core.pii import PiiVault
from ledger.models import User
from ledger.models.registers import ExternalList, ExternalRecord, ListKind


@dataclass(frozen=True)
class ListRecord:
    """A parsed line, ID numbers still in clear (normalised 18-character form)."""
    line_no: int
    name: str
    id_number: str | None = None
    region_code: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str = ""
    org: str = ""
    org_code: str = ""
    related_id_number: str | None = None
    degree: int | None = None
    # Late fields (migration 0020): a relative's birth date when no ID number was declared, a
    # vehicle's status, a business's industry code.
    birth_date: dt.date | None = None
    status: str | None = None
    industry_code: str | None = None

    def __repr__(self) -> str:
        # The snapshot's digest is made of these reprs: a late field is written only when it
        # has a value, so a file imported before migration 0020 still has the digest it was
        # stored under and imports again as unchanged (not as a reused snapshot).
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name not in LATE_FIELDS or getattr(self, f.name) is not None)
        return f"ListRecord({shown})"


LATE_FIELDS = ("birth_date", "status", "industry_code")


@dataclass
class ListImport:
    list_id: int
    added: int
    unchanged: bool


def content_digest(records: list[ListRecord]) -> str:
    text = "\n".join(repr(r) for r in records)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def earlier_snapshot(session: Session, model, what: str, kind, source: str,
                     snapshot_date: dt.date, digest: str):
    """The snapshot of `kind` from `source` on `snapshot_date` already stored (the same file
    again: nothing to do), or None; the same source and date with other content is refused.
    Shared by the external lists and the payee registers (ledger.registers.payees), whose
    snapshots are dated and sourced alike."""
    existing = session.execute(select(model).where(
        model.kind == kind, model.source == source.strip(),
        model.snapshot_date == snapshot_date)).scalar_one_or_none()
    if existing is not None and existing.file_sha256 != digest:
        raise IdempotencyConflict(
            f"{kind.value} {what} from {source!r} dated {snapshot_date} was imported before "
            f"(log entry {existing.log_index}) with other content; give the new snapshot its "
            "own date", code="snapshot_reused", kind=kind, source=source,
            date=snapshot_date, log_index=existing.log_index)
    return existing


def record_list(session: Session, actor: User, vault: PiiVault, *, kind: ListKind,
                source: str, snapshot_date: dt.date, records: list[ListRecord]) -> ListImport:
    """Store one snapshot of a list. The same snapshot again changes nothing; the same source
    and date with other content is refused (a new snapshot needs its own date)."""
    # Imported here: ledger.models imports this module for its tables, and these import models.
    from ledger.audit.log import record_change
    from ledger.store.access import Action, require
    require(session, actor, Action.RECORD, actor.region_code)
    if not source or not source.strip():
        raise LedgerError("an external list needs its source (e.g. 县民政局)",
                          code="required", field="source")
    if not records:
        raise LedgerError("the list is empty", code="list_empty", kind=kind)
    digest = content_digest(records)
    existing = earlier_snapshot(session, ExternalList, "list", kind, source, snapshot_date,
                                digest)
    if existing is not None:
        return ListImport(existing.id, 0, True)
    with record_change(session, actor.username, "external_list.import", list_kind=kind.value,
                       source=source, snapshot=snapshot_date.isoformat()) as change:
        lst = ExternalList(kind=kind, source=source.strip(), snapshot_date=snapshot_date,
                           file_sha256=digest, imported_by=actor.id, imported_at=change.time)
        change.add(lst)
        session.flush()
        for r in records:
            change.add(ExternalRecord(
                list_id=lst.id, line_no=r.line_no, name=r.name,
                id_number=vault.encrypt(r.id_number) if r.id_number else None,
                id_digest=vault.digest(r.id_number) if r.id_number else None,
                region_code=r.region_code, date_from=r.date_from, date_to=r.date_to,
                category=r.category or "", org=r.org or "", org_code=r.org_code or "",
                related_digest=vault.digest(r.related_id_number) if r.related_id_number
                else None, degree=r.degree, birth_date=r.birth_date, status=r.status,
                industry_code=r.industry_code))
    return ListImport(lst.id, len(records), False)
