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
5. Other logs' heads that this log recorded (`county.heads`, the province's log over the
   counties') are still in those logs with the recorded roots.
6. Personal signatures: every entry in the name of someone holding a key is signed by a key
   of theirs valid at that entry (ledger.audit.signatures, docs/signatures.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import JSON, Boolean, and_, case, func, select
from sqlalchemy.orm import Session

from ledger.audit.county_heads import KIND as COUNTY_HEADS
from ledger.audit.county_heads import check_recorded_heads
from ledger.audit.entries import (
    EntryFormatError,
    decode_entry,
    image_hash,
    row_imager,
    table_image,
)
from ledger.audit.log import log_origin, reading_log_id
from ledger.audit.signatures import check_signatures
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import CheckpointError
from ledger.audit.tlog.policy import Policy, QuorumError
from ledger.models import (
    FIRST_LOG_ID,
    SOURCE_KINDS,
    Account,
    Approval,
    AuditEntry,
    AuditHead,
    AuditNode,
    Base,
    Checkpoint,
    Cosignature,
    Decision,
    Posting,
)

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
    log_id: int = FIRST_LOG_ID  # which rows, entries and nodes of the database are this log's
    several_logs: bool = False  # the database holds other logs too (their rows are not ours)
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    rows_checked: int = 0
    checkpoints_checked: int = 0
    quorum: dict = field(default_factory=dict)   # checkpoint size -> True/False/None
    findings: list[Finding] = field(default_factory=list)
    # (entry index, details) of this log's `county.heads` entries (ledger.audit.county_heads)
    county_heads: list = field(default_factory=list)
    # signed and unsigned entries, keys (ledger.audit.signatures)
    signatures: dict = field(default_factory=dict)

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
    report = _new_report(session)
    checkpoints = session.execute(select(Checkpoint).where(
        Checkpoint.origin == report.origin).order_by(Checkpoint.id)).scalars().all()
    roots_at = {}
    wanted_sizes = {c.size for c in checkpoints} | {_note_size(n) for n in trusted_notes}
    binder = _StreamingBinder(session, report)
    frontier = _replay(session, report, binder, roots_at, wanted_sizes)
    binder.finish()
    entry_findings_end = len(report.findings)
    report.size, report.root = frontier.size, frontier.root()
    _check_head(session, report, frontier)
    _check_checkpoints(session, report, checkpoints, roots_at, policy)
    _check_trusted(report, trusted_notes, roots_at)
    if binder.irregular:
        _bind_rows_exactly(session, report, entry_findings_end)
    else:
        report.rows_checked = binder.rows_checked
    _check_stray_log_ids(session, report)
    check_recorded_heads(session, report.county_heads, report)
    _check_balances(session, report)
    check_signatures(session, report, policy)
    return report


def log_origins(session: Session) -> list[str]:
    """The origins of every log in the database, in the order they were opened."""
    return list(session.execute(select(AuditHead.origin).order_by(AuditHead.log_id)).scalars())


def _new_report(session) -> Report:
    origin = log_origin(session)
    several = session.execute(select(func.count()).select_from(AuditHead)).scalar_one() > 1
    return Report(origin=origin, log_id=reading_log_id(session, origin), several_logs=several)


def _check_stray_log_ids(session, report) -> None:
    """Rows, entries and nodes under a log id that no log of this database has: each log's
    verification reads only its own, so these would otherwise be read by none. (With one log,
    the row binding reads every bound row whatever its log id: only the log's own two tables
    are left to look at, through their primary keys.)"""
    known = select(AuditHead.log_id)
    tables = [AuditEntry.__table__, AuditNode.__table__]
    if report.several_logs:
        tables += [m.class_.__table__ for m in bound_models()]
    for table in tables:
        for log_id, count in session.execute(
                select(table.c.log_id, func.count()).where(table.c.log_id.not_in(known))
                .group_by(table.c.log_id)):
            report.add("row", f"{table.name}: {count} row(s) under log id {log_id}, which is "
                       "no log of this database (inserted behind the ledger's back, or their "
                       "log's head was removed)", table=table.name)


def verify_since(session: Session, size: int, root: bytes, *,
                 policy: Policy | None = None) -> Report:
    """Incremental verification: only what was appended after a checkpoint verified before.

    `size` and `root` are those of a checkpoint that a full `verify` found intact (keep them
    with the checkpoint note). The stored tree must still give that root at that size; from the
    frontier there, the new entries, their chain and tree nodes, the checkpoints signed since,
    and the rows the new entries wrote are checked as `verify` checks them. Time and memory
    follow the new entries, not the log. Not re-read: rows written before `size` (a raw UPDATE
    of an old row is found by the next full run) and the balance caches (a sum over all
    postings); run the full `verify` on a schedule as well.
    """
    report = _new_report(session)
    from ledger.audit.checkpoints import node_reader
    from ledger.core.errors import LedgerError
    try:
        start = merkle.Frontier.from_reader(size, node_reader(session))
    except (LedgerError, ValueError) as exc:
        report.add("checkpoint", f"the log no longer holds the tree of size {size} verified "
                   f"before: {exc}", log_index=size)
        return report
    if start.root() != root:
        report.add("checkpoint", f"the log's tree of size {size} no longer has the root "
                   "verified before: history before it was rewritten", log_index=size)
        return report
    checkpoints = session.execute(select(Checkpoint).where(
        Checkpoint.origin == report.origin, Checkpoint.size >= size)
        .order_by(Checkpoint.id)).scalars().all()
    roots_at = {}
    binder = _StreamingBinder(session, report, since=size)
    frontier = _replay(session, report, binder, roots_at, {c.size for c in checkpoints},
                       merkle.Frontier.from_bytes(start.to_bytes()))  # _replay appends to it
    binder.finish()
    entry_findings_end = len(report.findings)
    report.size, report.root = frontier.size, frontier.root()
    _check_head(session, report, frontier)
    _check_checkpoints(session, report, checkpoints, roots_at, policy)
    check_recorded_heads(session, report.county_heads, report)
    check_signatures(session, report, policy, since=size)
    if binder.irregular:
        _bind_rows_exactly(session, report, entry_findings_end, start)
    else:
        report.rows_checked = binder.rows_checked
    return report


def _replay(session, report, binder, roots_at, wanted_sizes,
            frontier: merkle.Frontier | None = None) -> merkle.Frontier:
    """Check entries and tree from `frontier` (the empty tree unless resuming) onwards."""
    frontier = frontier or merkle.Frontier()
    since = frontier.size
    if since in wanted_sizes:
        roots_at[since] = frontier.root()
    log_id = report.log_id
    nodes = _stream(session, select(AuditNode.level, AuditNode.idx, AuditNode.hash,
                                    AuditNode.leaf_end)
                    .where(AuditNode.log_id == log_id, AuditNode.leaf_end >= since)
                    .order_by(AuditNode.leaf_end, AuditNode.level))
    pending_node = next(nodes, None)
    entries = _stream(session, select(AuditEntry.idx, AuditEntry.entry, AuditEntry.leaf_hash)
                      .where(AuditEntry.log_id == log_id, AuditEntry.idx >= since)
                      .order_by(AuditEntry.idx))
    for row in entries:
        if row.idx != frontier.size:
            report.add("entry", f"entries {frontier.size}..{row.idx - 1} are missing "
                       "(deleted from the log)" if row.idx > frontier.size
                       else f"entry {row.idx} appears twice", log_index=frontier.size)
            if row.idx < frontier.size:
                continue
        data = bytes(row.entry)
        leaf = merkle.leaf_hash(data)
        entry = _check_entry(report, row, data, leaf, frontier)
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
            binder.entry(row.idx, entry)
            if entry["kind"] == COUNTY_HEADS:
                report.county_heads.append((row.idx, entry["details"]))
    return frontier


def _check_entry(report, row, data: bytes, leaf: bytes, frontier) -> dict | None:
    """Check one entry against the log before it; return it decoded (None if it is not)."""
    if bytes(row.leaf_hash) != leaf:
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


class _StreamingBinder:
    """Row binding in one pass beside the entries, in memory that does not grow with the log.

    Each bound table is read ordered by `log_index`, so the live rows an entry wrote arrive
    while that entry is being checked, and are compared there and forgotten. This settles the
    intact case, which is what a large ledger almost always is: every row written once
    (version 1) by the entry its `log_index` names, with the image that entry recorded, and no
    row the log does not know. Anything else — a changed, missing or extra row, a rewritten
    version — only marks the binding irregular; `verify` then binds rows again with the exact
    map of every row (`_bind_rows_exactly`), so findings are worded and ordered the same
    whichever path found them.
    """

    def __init__(self, session, report, since: int = 0):
        self.irregular = False
        self.rows_checked = 0
        self.tables = {}
        # With one log every row is read, so a row under another log id is seen (and makes
        # the binding irregular); with several, each log reads its own.
        for mapper in bound_models():
            table = mapper.class_.__table__
            stmt = select(table).order_by(table.c.log_index, *table.primary_key.columns)
            if report.several_logs:
                stmt = stmt.where(table.c.log_id == report.log_id)
            if since:
                stmt = stmt.where(table.c.log_index >= since)
            self.tables[table.name] = _TableCursor(table, _stream(session, stmt), report.log_id)

    def entry(self, index: int, entry: dict) -> None:
        if self.irregular:
            return
        written: dict[str, dict] = {}
        for table, key, version, _prev, image in entry["rows"]:
            live = written.get(table)
            if live is None:
                cursor = self.tables.get(table)
                live = cursor.written_by(index) if cursor is not None and version == 1 else None
                if live is None:
                    self.irregular = True
                    return
                written[table] = live
            have = live.pop(tuple(key), None)
            if have is None or version != 1 or not self.tables[table].same(have, image):
                self.irregular = True
                return
            self.rows_checked += 1
        if any(written.values()):
            self.irregular = True  # rows claiming this entry that it did not write

    def finish(self) -> None:
        if not self.irregular and any(not c.exhausted() for c in self.tables.values()):
            self.irregular = True  # live rows that no entry (or a later index) wrote


class _TableCursor:
    """One bound table's live rows in log order, handed out an entry at a time."""

    def __init__(self, table, rows, log_id: int):
        self.rows = rows
        self.image_of = row_imager(table)
        self.log_index_at = list(table.columns).index(table.c.log_index)
        self.log_id_at = list(table.columns).index(table.c.log_id)
        self.log_id = log_id
        # JSON and boolean columns could hold true where the entry holds 1 (equal in Python,
        # not in CBOR): compare such images by canonical hash; for the others == suffices.
        self.strict = any(isinstance(c.type, (JSON, Boolean)) for c in table.columns)
        self.ahead = next(self.rows, None)

    def written_by(self, index: int) -> dict | None:
        """{key: image} of the rows whose log_index is `index`; None if rows were skipped."""
        found = {}
        while self.ahead is not None:
            at = self.ahead[self.log_index_at]
            if at is None or at < index:
                return None
            if at > index:
                break
            if self.ahead[self.log_id_at] != self.log_id:
                return None
            _t, key, image = self.image_of(self.ahead)
            found[tuple(key)] = image
            self.ahead = next(self.rows, None)
        return found

    def same(self, live: dict, logged: dict) -> bool:
        if live != logged:
            return False
        return not self.strict or image_hash(live) == image_hash(logged)

    def exhausted(self) -> bool:
        return self.ahead is None


class _MapBinder:
    """The exact binding: remembers every (table, key) the log wrote, with its image hash.

    Resuming after a checkpoint (`partial`), a row's earlier version may be before the
    checkpoint, out of sight: its version is then taken on trust.
    """

    def __init__(self, report, partial: bool = False):
        self.report = report
        self.partial = partial
        self.expected: dict[tuple, tuple[int, bytes]] = {}

    def entry(self, index: int, entry: dict) -> None:
        if self.partial:
            for table, key, version, prev_hash, _image in entry["rows"]:
                if version > 1 and (table, tuple(key)) not in self.expected:
                    self.expected[(table, tuple(key))] = (index, prev_hash)
        _remember_rows(self.report, index, entry, self.expected)


def _bind_rows_exactly(session, report, entry_findings_end: int,
                       start: merkle.Frontier | None = None) -> None:
    """Replay the log once more into the exact map, then compare every live row with it.

    Version findings belong with the entry findings, so they are put where those end.
    """
    versions = Report(origin=report.origin, log_id=report.log_id,
                      several_logs=report.several_logs)
    since = start.size if start is not None else 0
    binder = _MapBinder(versions, partial=since > 0)
    resume = merkle.Frontier.from_bytes(start.to_bytes()) if start is not None else None
    _replay(session, Report(origin=report.origin, log_id=report.log_id), binder, {}, set(),
            resume)
    report.findings[entry_findings_end:entry_findings_end] = versions.findings
    report.rows_checked = 0
    _check_rows(session, report, binder.expected, since)


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
        from ledger.audit.tlog.checkpoint import add_signatures
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
    from ledger.audit.tlog.checkpoint import Checkpoint as Body
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


def _check_rows(session, report, expected, since: int = 0) -> None:
    for mapper in bound_models():
        model = mapper.class_
        table = model.__tablename__
        stmt = select(model.__table__)
        if report.several_logs:
            stmt = stmt.where(model.__table__.c.log_id == report.log_id)
        if since:
            stmt = stmt.where(model.__table__.c.log_index >= since)
        for row in _stream(session, stmt):
            report.rows_checked += 1
            if row.log_id != report.log_id:  # one log: every row must be its
                key = [row._mapping[c.key] for c in model.__table__.primary_key.columns]
                report.add("row", f"{table} {key} names log id {row.log_id}, but this "
                           f"database has one log, id {report.log_id}", table=table, key=key,
                           log_index=row.log_index)
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
                fields = _changed_fields(session, report, index, t, key, image)
                report.add("row", f"{table} {key} differs from what entry {index} recorded: "
                           f"{', '.join(fields)}", table=table, key=key, log_index=index,
                           fields=fields)
    for (table, key), (index, _digest) in sorted(expected.items(), key=lambda kv: kv[1][0]):
        report.add("row", f"{table} {list(key)} written by entry {index} is gone (deleted)",
                   table=table, key=list(key), log_index=index)


def _changed_fields(session, report, index, table, key, image) -> list[str]:
    entry = decode_entry(bytes(session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == report.log_id, AuditEntry.idx == index)).scalar_one()))
    for t, k, _v, _p, logged in entry["rows"]:
        if t == table and k == list(key):
            return sorted(f for f in set(logged) | set(image) if logged.get(f) != image.get(f))
    return ["(row not found in its entry)"]


def _stream(session, stmt):
    """Yield Core rows in batches (no ORM identity map), so memory stays flat."""
    return iter(session.execute(stmt.execution_options(yield_per=BATCH)))


def _check_balances(session, report) -> None:
    """Balance caches against postings, with the findings of `balances.cache_mismatches`.

    The same checks, streamed: one grouped query joined to the accounts in id order, Core
    rows rather than ORM objects, so a province's million payee accounts cost seconds and
    flat memory.
    """
    amount = Posting.amount_fen
    undecided = Posting.transfer_id.not_in(select(Approval.transfer_id))
    approved = Approval.decision == Decision.APPROVED
    sums = (select(Posting.account_id.label("account_id"),
                   func.sum(case((and_(amount > 0, approved), amount), else_=0)).label("dp"),
                   func.sum(case((and_(amount < 0, approved), -amount), else_=0)).label("cp"),
                   func.sum(case((and_(amount > 0, undecided), amount), else_=0)).label("dq"),
                   func.sum(case((and_(amount < 0, undecided), -amount), else_=0)).label("cq"))
            .outerjoin(Approval, Approval.transfer_id == Posting.transfer_id)
            .group_by(Posting.account_id).subquery())
    stmt = (select(Account.id, Account.kind, Account.holder_code, Account.lot_id,
                   Account.debits_posted, Account.credits_posted, Account.debits_pending,
                   Account.credits_pending, sums.c.dp, sums.c.cp, sums.c.dq, sums.c.cq)
            .outerjoin(sums, sums.c.account_id == Account.id).order_by(Account.id))
    for row in _stream(session, stmt):
        label = f"{row.kind.value}:{row.holder_code}@lot{row.lot_id}"
        want = tuple(int(v or 0) for v in (row.dp, row.cp, row.dq, row.cq))
        have = (row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending)
        if have != want:
            report.add("balance", "balance cache differs from postings: "
                       f"{label}: cached posted {have[0]}/{have[1]} pending "
                       f"{have[2]}/{have[3]}, postings say posted {want[0]}/{want[1]} "
                       f"pending {want[2]}/{want[3]}")
        if row.kind not in SOURCE_KINDS and want[0] - want[1] - want[3] < 0:
            report.add("balance", f"balance cache differs from postings: {label}: holds "
                       f"{want[0] - want[1]} fen with {want[3]} pending out: overdrawn")
    for lot_id, total in session.execute(select(Posting.lot_id, func.sum(Posting.amount_fen))
                                         .group_by(Posting.lot_id)):
        if total != 0:
            report.add("balance", "balance cache differs from postings: "
                       f"lot #{lot_id}: its postings sum to {total} fen, not zero")
