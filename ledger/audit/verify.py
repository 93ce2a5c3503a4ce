"""Full verification of the database's audit log and of every row bound to it.

1. The log: entries are contiguous from 0, canonical, name this log and their own index, each
   commits to the root before it (hash chain), stored leaf hashes and tree nodes match the
   recomputed tree, and the head agrees.
2. Checkpoints: each stored checkpoint's root equals the tree at its size; with a policy, its
   log signature and cosignature quorum are checked; checkpoints an auditor kept elsewhere
   (`trusted_notes`) must be consistent with the log now.
3. Row binding: every live row equals the image its log index says it has; rows missing from
   the log, rows the log wrote that are gone, and changed fields are named.
4. Balance caches equal the postings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import merkle
from ledger.audit.checkpoint import CheckpointError
from ledger.audit.entries import EntryFormatError, decode_entry, image_hash, table_image
from ledger.audit.log import log_origin
from ledger.audit.policy import Policy, QuorumError
from ledger.balances import cache_mismatches
from ledger.models import AuditEntry, AuditHead, AuditNode, Base, Checkpoint, Cosignature

BATCH = 5_000


@dataclass
class Finding:
    kind: str                 # entry | tree | head | checkpoint | row | balance
    message: str
    table: str | None = None
    key: list | None = None
    log_index: int | None = None
    fields: list[str] = field(default_factory=list)


@dataclass
class Report:
    origin: str
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    rows_checked: int = 0
    checkpoints_checked: int = 0
    quorum: dict = field(default_factory=dict)   # checkpoint size -> True/False/None
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    def add(self, *args, **kwargs) -> None:
        self.findings.append(Finding(*args, **kwargs))


def bound_models():
    """Models whose rows are written through the log (they carry `log_index`)."""
    return [m for m in Base.registry.mappers if "log_index" in m.class_.__table__.c]


def verify(session: Session, *, policy: Policy | None = None,
           trusted_notes: list[str] = ()) -> Report:
    report = Report(origin=log_origin(session))
    expected: dict[tuple, tuple[int, bytes]] = {}
    checkpoints = session.execute(select(Checkpoint).where(
        Checkpoint.origin == report.origin).order_by(Checkpoint.id)).scalars().all()
    roots_at = {}
    wanted_sizes = {c.size for c in checkpoints} | {_note_size(n) for n in trusted_notes}
    frontier = _replay(session, report, expected, roots_at, wanted_sizes)
    report.size, report.root = frontier.size, frontier.root()
    _check_head(session, report, frontier)
    _check_checkpoints(session, report, checkpoints, roots_at, policy)
    _check_trusted(report, trusted_notes, roots_at)
    _check_rows(session, report, expected)
    for problem in cache_mismatches(session):
        report.add("balance", f"balance cache differs from postings: {problem}")
    return report


def _replay(session, report, expected, roots_at, wanted_sizes) -> merkle.Frontier:
    frontier = merkle.Frontier()
    if 0 in wanted_sizes:
        roots_at[0] = merkle.EMPTY_ROOT
    nodes = _stream(session, select(AuditNode.level, AuditNode.idx, AuditNode.hash,
                                    AuditNode.leaf_end)
                    .order_by(AuditNode.leaf_end, AuditNode.level))
    pending_node = next(nodes, None)
    entries = _stream(session, select(AuditEntry.idx, AuditEntry.entry, AuditEntry.leaf_hash)
                      .order_by(AuditEntry.idx))
    for row in entries:
        if row.idx != frontier.size:
            report.add("entry", f"entries {frontier.size}..{row.idx - 1} are missing "
                       "(deleted from the log)" if row.idx > frontier.size
                       else f"entry {row.idx} appears twice", log_index=frontier.size)
            if row.idx < frontier.size:
                continue
        entry = _check_entry(report, row, frontier)
        leaf = merkle.leaf_hash(bytes(row.entry))
        for node in frontier.append(leaf)[1:]:
            while pending_node is not None and (pending_node.leaf_end, pending_node.level) < \
                    (frontier.size - 1, node.level):
                report.add("tree", f"stored node ({pending_node.level}, {pending_node.idx}) "
                           "is not part of the log's tree", log_index=pending_node.leaf_end)
                pending_node = next(nodes, None)
            if pending_node is None or (pending_node.level, pending_node.idx) != \
                    (node.level, node.index):
                report.add("tree", f"tree node ({node.level}, {node.index}) is missing",
                           log_index=row.idx)
                continue
            if bytes(pending_node.hash) != node.hash:
                report.add("tree", f"tree node ({node.level}, {node.index}) hash differs "
                           "from the recomputed one", log_index=row.idx)
            pending_node = next(nodes, None)
        if frontier.size in wanted_sizes:
            roots_at[frontier.size] = frontier.root()
        if entry is not None:
            _remember_rows(report, row.idx, entry, expected)
    return frontier


def _check_entry(report, row, frontier) -> dict | None:
    """Check one entry against the log before it; return it decoded (None if it is not)."""
    data = bytes(row.entry)
    if bytes(row.leaf_hash) != merkle.leaf_hash(data):
        report.add("entry", f"entry {row.idx}: stored leaf hash does not match its bytes",
                   log_index=row.idx)
    try:
        entry = decode_entry(data)
    except EntryFormatError as exc:
        report.add("entry", f"entry {row.idx}: {exc}", log_index=row.idx)
        return None
    if entry["origin"] != report.origin:
        report.add("entry", f"entry {row.idx} names log {entry['origin']!r}", log_index=row.idx)
    if entry["index"] != row.idx:
        report.add("entry", f"entry stored at {row.idx} says it is entry {entry['index']} "
                   "(reordered)", log_index=row.idx)
    if entry["prev_root"] != frontier.root():
        report.add("entry", f"entry {row.idx}: prev_root does not match the log before it "
                   "(hash chain broken)", log_index=row.idx)
    return entry


def _remember_rows(report, index: int, entry: dict, expected) -> None:
    for table, key, version, prev_hash, image in entry["rows"]:
        ident = (table, tuple(key))
        previous = expected.get(ident)
        if version > 1 and (previous is None or previous[1] != prev_hash):
            report.add("entry", f"entry {index}: {table} {key} version {version} does not "
                       "follow the version before it", table=table, key=key, log_index=index)
        expected[ident] = (index, image_hash(image))


def _check_head(session, report, frontier) -> None:
    head = session.get(AuditHead, report.origin)
    if head is None:
        if frontier.size:
            report.add("head", "the log has entries but no head row")
        return
    if (head.size, bytes(head.root)) != (frontier.size, frontier.root()):
        report.add("head", f"head says size {head.size} root {bytes(head.root).hex()[:16]}…, "
                   f"recomputed size {frontier.size} root {frontier.root().hex()[:16]}…")


def _check_checkpoints(session, report, checkpoints, roots_at, policy) -> None:
    for cp in checkpoints:
        report.checkpoints_checked += 1
        root = roots_at.get(cp.size)
        if root is None:
            report.add("checkpoint", f"checkpoint of size {cp.size} is beyond the log "
                       f"({report.size} entries): the log was truncated", log_index=cp.size)
        elif bytes(cp.root) != root:
            report.add("checkpoint", f"checkpoint of size {cp.size} has a root that the log "
                       "no longer produces: history was rewritten", log_index=cp.size)
        if policy is None:
            report.quorum[cp.size] = None
            continue
        lines = session.execute(select(Cosignature.line).where(
            Cosignature.checkpoint_id == cp.id)).scalars().all()
        from ledger.audit.checkpoint import add_signatures
        try:
            note = add_signatures(cp.note, lines)
            result = policy.verify_checkpoint(note)
            report.quorum[cp.size] = True
            if result.verified.checkpoint.root_hash != bytes(cp.root):
                report.add("checkpoint", f"checkpoint {cp.size}: signed root differs from "
                           "the stored root column", log_index=cp.size)
        except QuorumError as exc:
            report.quorum[cp.size] = False
            report.quorum.setdefault("detail", {})[cp.size] = str(exc)
        except CheckpointError as exc:
            report.quorum[cp.size] = False
            report.add("checkpoint", f"checkpoint {cp.size}: signature does not verify: {exc}",
                       log_index=cp.size)


def _note_size(note: str) -> int:
    try:
        return int(note.split("\n")[1])
    except (IndexError, ValueError):
        return -1


def _check_trusted(report, notes, roots_at) -> None:
    from ledger.audit.checkpoint import Checkpoint as Body
    for note in notes:
        try:
            body = Body.from_text(note.split("\n\n", 1)[0] + "\n")
        except CheckpointError as exc:
            report.add("checkpoint", f"trusted checkpoint is malformed: {exc}")
            continue
        root = roots_at.get(body.size)
        if root is None:
            report.add("checkpoint", f"the log has {report.size} entries, fewer than the "
                       f"{body.size} of a checkpoint you hold: it was truncated")
        elif root != body.root_hash:
            report.add("checkpoint", f"the log is not consistent with the checkpoint of size "
                       f"{body.size} you hold: history before it was rewritten")


def _check_rows(session, report, expected) -> None:
    for mapper in bound_models():
        model = mapper.class_
        table = model.__tablename__
        for row in _stream(session, select(model.__table__)):
            report.rows_checked += 1
            t, key, image = table_image(model.__table__, row._mapping.__getitem__)
            ident = (t, tuple(key))
            want = expected.pop(ident, None)
            if want is None:
                report.add("row", f"{table} {key} is not in the audit log (inserted behind "
                           "the ledger's back)", table=table, key=key, log_index=row.log_index)
                continue
            index, digest = want
            if row.log_index != index:
                report.add("row", f"{table} {key} claims log index {row.log_index}, but entry "
                           f"{index} wrote it", table=table, key=key, log_index=index)
            if image_hash(image) != digest:
                fields = _changed_fields(session, index, t, key, image)
                report.add("row", f"{table} {key} differs from what entry {index} recorded: "
                           f"{', '.join(fields)}", table=table, key=key, log_index=index,
                           fields=fields)
    for (table, key), (index, _digest) in sorted(expected.items(), key=lambda kv: kv[1][0]):
        report.add("row", f"{table} {list(key)} written by entry {index} is gone (deleted)",
                   table=table, key=list(key), log_index=index)


def _changed_fields(session, index, table, key, image) -> list[str]:
    entry = decode_entry(bytes(session.get(AuditEntry, index).entry))
    for t, k, _v, _p, logged in entry["rows"]:
        if t == table and k == list(key):
            return sorted(f for f in set(logged) | set(image) if logged.get(f) != image.get(f))
    return ["(row not found in its entry)"]


def _stream(session, stmt):
    """Yield Core rows in batches (no ORM identity map), so memory stays flat."""
    return iter(session.execute(stmt.execution_options(yield_per=BATCH)))
