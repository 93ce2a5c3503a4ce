"""Approving what a file recorded: `fundtrail approve --file FILE --kind KIND`.

A county moving in loads hundreds of vouchers a file; each line's transfer waits for a
colleague's approval (maker–checker). The approver names the file the clerk imported: its lines
give the idempotency keys of the transfers it recorded (`ImportKind.transfer_keys`), and each
is approved in file order through `ledger.funds.posting.approve`, so each approval is its own
approval row and audit entry, refused if the approver recorded the transfer, outside their
region, or in a closed period. The file must still say what was recorded: a line whose amount
or date differs from its transfer's (the file was changed after the import) is refused. All or
nothing, like an import: the first refusal names the file's line and nothing is approved.
Transfers approved before are counted, not approved again, so the same command run twice
changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core.errors import LedgerError
from ledger.funds import posting
from ledger.imports.csvfile import ImportProblems, Problem
from ledger.imports.kinds import KINDS
from ledger.models import Approval, Decision, Transfer, User


@dataclass
class ApprovedFile:
    kind: str
    approved: list[int] = field(default_factory=list)   # transfer ids approved now
    unchanged: list[int] = field(default_factory=list)  # approved before


def transfer_kinds() -> list[str]:
    """The import kinds whose lines record transfers."""
    return [name for name, spec in KINDS.items() if spec.transfer_keys is not None]


def approve_file(session: Session, actor: User, kind: str, path, comment: str = "") \
        -> ApprovedFile:
    spec = KINDS.get(kind)
    if spec is None or spec.transfer_keys is None:
        raise LedgerError(f"a file of kind {kind} records no transfers to approve (kinds that "
                          f"do: {', '.join(transfer_kinds())})", code="import_records_no_transfers",
                          kind=kind, kinds=transfer_kinds())
    name = Path(path).name
    lines = spec.transfer_keys(path)
    keys = [key for _, key, _, _ in lines]
    found: dict[str, tuple] = {}
    for start in range(0, len(keys), 500):
        found.update((row[0], row[1:]) for row in session.execute(
            select(Transfer.idempotency_key, Transfer.id, Approval.decision,
                   Transfer.amount_fen, Transfer.effective_date)
            .outerjoin(Approval, Approval.transfer_id == Transfer.id)
            .where(Transfer.idempotency_key.in_(keys[start:start + 500]))))
    problems = []
    for line, key, amount_fen, day in lines:
        if key not in found:
            problems.append(Problem(name, line, "", f"no transfer is recorded under {key}: "
                                    "import the file first", "not_found",
                                    {"what": "transfer", "key": key}))
            continue
        transfer_id, _, recorded_fen, recorded_day = found[key]
        for field_name, recorded, given in (("amount_fen", recorded_fen, amount_fen),
                                            ("date", recorded_day, day)):
            if recorded != given:
                problems.append(Problem(
                    name, line, "", f"transfer #{transfer_id} ({key}) was recorded with "
                    f"{field_name} {recorded}; the file now says {given}",
                    "file_differs_from_transfer",
                    {"transfer_id": transfer_id, "key": key, "field": field_name,
                     "recorded": str(recorded), "given": str(given)}))
    if problems:
        raise ImportProblems(problems)
    result = ApprovedFile(kind)
    done: set[int] = set()
    for line, key, _, _ in lines:
        transfer_id, decision, _, _ = found[key]
        if transfer_id in done:
            continue
        done.add(transfer_id)
        if decision is Decision.APPROVED:
            result.unchanged.append(transfer_id)
            continue
        try:
            posting.approve(session, actor, transfer_id, comment)
        except LedgerError as exc:
            raise ImportProblems([Problem(name, line, "", str(exc), exc.code, exc.params)]) \
                from None
        result.approved.append(transfer_id)
    return result
