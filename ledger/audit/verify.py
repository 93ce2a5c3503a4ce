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

import hashlib
from dataclasses import dataclass, field

import cbor2
from sqlalchemy import JSON, Boolean, and_, case, func, select
from sqlalchemy.orm import Session

from ledger.audit.county_heads import KIND as COUNTY_HEADS
from ledger.audit.county_heads import check_recorded_heads
from ledger.audit.entries import (
    ENTRY_FIELDS,
    FORMAT_VERSION,
    EntryFormatError,
    decode_body,
    decode_entry,
    image_hash,
    plainly_canonical,
    row_imager,
    table_image,
)
from ledger.audit.log import log_origin, reading_log_id
from ledger.audit.signatures import check_signatures, requires_signatures, signature_body
from ledger.audit.tlog import merkle
from ledger.audit.tlog.checkpoint import CheckpointError
from ledger.audit.tlog.personal import SignatureAudit
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
# The row binding streams every bound table (≈ 40) side by side: a smaller batch each keeps
# what they buffer together to ≈ 40,000 rows (at 5,000 each a worker of a parallel run held
# ≈ 300 MB at 833,000 entries; two run at once).
ROW_BATCH = 1_000


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
    # Sealing (with a policy): entries covered by the newest checkpoint meeting the quorum,
    # and the newest checkpoint still waiting for its cosignatures within the interval.
    sealed_size: int | None = None
    awaiting_quorum: int | None = None
    witnesses_checked: int = 0
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


# Seconds within which every entry must be sealed: covered by a checkpoint that meets the
# policy's quorum ([audit] seal_interval_seconds; docs/operations.md, "Sealing").
DEFAULT_SEAL_INTERVAL = 300


def seal_interval_setting(settings) -> int:
    """[audit] seal_interval_seconds of the settings file (a feature reads its own keys from the
    file's sections), or the default; ValueError for anything but whole seconds ≥ 1."""
    value = settings.extra.get("audit", {}).get("seal_interval_seconds", DEFAULT_SEAL_INTERVAL)
    if type(value) is not int or value < 1:
        raise ValueError(f"{settings.source}: [audit] seal_interval_seconds must be a whole "
                         f"number of seconds ≥ 1, got {value!r}")
    return value


def verify(session: Session, *, policy: Policy | None = None,
           trusted_notes: list[str] = (), witness_notes: list[tuple[str, str]] = (),
           seal_interval: int | None = DEFAULT_SEAL_INTERVAL,
           now: float | None = None, jobs: int | None = None) -> Report:
    """`witness_notes`: (where from, note) of the checkpoints witnesses cosigned last, read
    from their own state (ledger.audit.witness); `seal_interval` None skips the sealing
    deadline (the checks of a log as of some past time). `jobs`: processes replaying the log
    (ledger.audit.verify_parallel); None: one per core for a large log, when the session has
    no transaction open yet (workers could not see its uncommitted writes)."""
    from ledger.audit import verify_parallel
    url = verify_parallel.worker_url(session) if jobs != 1 else None
    report = _new_report(session)
    checkpoints = session.execute(select(Checkpoint).where(
        Checkpoint.origin == report.origin).order_by(Checkpoint.id)).scalars().all()
    wanted_sizes = {c.size for c in checkpoints} | {_note_size(n) for n in trusted_notes} \
        | {_note_size(n) for _w, n in witness_notes}
    # The signature audit reads every entry in log order, as the replay does: it is fed the
    # entries the replay decodes (one decoding, one read of the log, instead of two).
    signatures = SignatureAudit(report.origin, requires_signatures(policy))
    parallel = None
    head = session.get(AuditHead, report.origin) if url is not None else None
    if head is not None and verify_parallel.jobs_for(jobs, head.size) > 1:
        parallel = verify_parallel.replay(url, report, wanted_sizes, signatures,
                                          verify_parallel.jobs_for(jobs, head.size), head.size,
                                          _PARTS)
        if parallel is None:   # something is not as in an intact log: one process words it
            signatures = SignatureAudit(report.origin, requires_signatures(policy))
    balance_findings = None
    if parallel is None:
        roots_at = {}
        binder = _StreamingBinder(session, report)
        frontier = _replay(session, report, binder, roots_at, wanted_sizes,
                           signatures=signatures)
        binder.finish()
        irregular, rows_checked = binder.irregular, binder.rows_checked
    else:
        frontier, roots_at, rows_checked, balance_findings = parallel
        irregular = False
    entry_findings_end = len(report.findings)
    report.size, report.root = frontier.size, frontier.root()
    _check_head(session, report, frontier)
    _check_checkpoints(session, report, checkpoints, roots_at, policy)
    _check_trusted(report, trusted_notes, roots_at)
    _check_witnesses(report, witness_notes, roots_at, checkpoints, policy)
    _check_sealing(session, report, checkpoints, policy, seal_interval, now)
    if irregular:
        _bind_rows_exactly(session, report, entry_findings_end)
    else:
        report.rows_checked = rows_checked
    _check_stray_log_ids(session, report)
    check_recorded_heads(session, report.county_heads, report)
    if balance_findings is None:
        _check_balances(session, report)
    else:   # checked by a worker while the others replayed the log
        report.findings.extend(balance_findings)
    check_signatures(session, report, policy, audit=signatures)
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
            frontier: merkle.Frontier | None = None,
            signatures: SignatureAudit | None = None, until: int | None = None,
            leftover: list | None = None) -> merkle.Frontier:
    """Check entries and tree from `frontier` (the empty tree unless resuming) onwards, up to
    entry `until` (excluded; None: to the end); feed `signatures` every entry it can read, as
    `signatures.audit_signatures` would. `leftover` (a range of a parallel run) is told
    whether stored nodes of the range were left over, not met by the recomputed tree."""
    frontier = frontier or merkle.Frontier()
    since = frontier.size
    if since in wanted_sizes:
        roots_at[since] = frontier.root()
    log_id = report.log_id
    node_stmt = select(AuditNode.level, AuditNode.idx, AuditNode.hash, AuditNode.leaf_end) \
        .where(AuditNode.log_id == log_id, AuditNode.leaf_end >= since)
    entry_stmt = select(AuditEntry.idx, AuditEntry.entry, AuditEntry.leaf_hash) \
        .where(AuditEntry.log_id == log_id, AuditEntry.idx >= since)
    if until is not None:
        node_stmt = node_stmt.where(AuditNode.leaf_end < until)
        entry_stmt = entry_stmt.where(AuditEntry.idx < until)
    nodes = _raw_stream(session, node_stmt.order_by(AuditNode.leaf_end, AuditNode.level))
    pending_node = next(nodes, None)
    entries = _raw_stream(session, entry_stmt.order_by(AuditEntry.idx))
    origin = report.origin
    fast = getattr(binder, "fast", None)   # the exact binder (_MapBinder) has none
    loads, sha256 = cbor2.loads, hashlib.sha256
    for idx, data, stored_leaf in entries:
        if idx != frontier.size:
            report.add("entry", f"entries {frontier.size}..{idx - 1} are missing "
                       "(deleted from the log)" if idx > frontier.size
                       else f"entry {idx} appears twice", log_index=frontier.size)
            if idx < frontier.size:
                continue
        if type(data) is not bytes:
            data = bytes(data)
        leaf = sha256(b"\x00" + data).digest()
        root = frontier.root()
        # The quick way for an entry as the ledger writes it: its bytes are compared whole with
        # the encoding of what it should hold (its own header and details, and the images of
        # the live rows it wrote), which proves canonical form and the row binding at once.
        # Anything else is checked the exact way, which words the findings.
        body = None
        if fast is not None and stored_leaf == leaf:
            try:
                body = loads(data)
            except Exception:  # noqa: BLE001 - cbor2 raises several types; the exact way words it
                body = None
            if not (_plain_header(body, origin, idx, root) and fast(idx, body, data)):
                body = None
        bound = body is not None
        if not bound:
            body = _check_entry(report, idx, stored_leaf, data, leaf, root)
        if signatures is not None:
            fed = body if body is not None else signature_body(data)
            if fed is not None:
                signatures.feed(idx, fed)
        for node in frontier.append(leaf)[1:]:
            while pending_node is not None and (pending_node[3], pending_node[0]) < \
                    (frontier.size - 1, node.level):
                report.add("tree", f"stored node ({pending_node[0]}, {pending_node[1]}) "
                           "is not part of the log's tree", log_index=pending_node[3])
                pending_node = next(nodes, None)
            if pending_node is None or (pending_node[0], pending_node[1]) != \
                    (node.level, node.index):
                report.add("tree", f"tree node ({node.level}, {node.index}) is missing",
                           log_index=idx)
                continue
            if bytes(pending_node[2]) != node.hash:
                report.add("tree", f"tree node ({node.level}, {node.index}) hash differs "
                           "from the recomputed one", log_index=idx)
            pending_node = next(nodes, None)
        if frontier.size in wanted_sizes:
            roots_at[frontier.size] = frontier.root()
        if body is not None:
            if not bound:
                binder.entry(idx, dict(zip(ENTRY_FIELDS, body)))
            if body[6] == COUNTY_HEADS:
                report.county_heads.append((idx, body[8]))
        elif fast is not None:
            binder.unread(idx)
    if leftover is not None:
        leftover.append(pending_node is not None)
    return frontier


def _check_entry(report, idx: int, stored_leaf, data: bytes, leaf: bytes,
                 root: bytes) -> list | None:
    """Check one entry against the log before it (whose root is `root`); return its fields
    (`entries.ENTRY_FIELDS`), or None if it cannot be read."""
    if bytes(stored_leaf) != leaf:
        report.add("entry", f"entry {idx}: stored leaf hash does not match its bytes",
                   log_index=idx)
    try:
        body = decode_body(data)
    except EntryFormatError as exc:
        report.add("entry", f"entry {idx}: {exc}", log_index=idx)
        return None
    if body[1] != report.origin:
        report.add("entry", f"entry {idx} names log {body[1]!r}", log_index=idx)
    if body[2] != idx:
        report.add("entry", f"entry stored at {idx} says it is entry {body[2]} "
                   "(reordered)", log_index=idx)
    if body[3] != root:
        report.add("entry", f"entry {idx}: prev_root does not match the log before it "
                   "(hash chain broken)", log_index=idx)
    return body


def _plain_header(body, origin: str, idx: int, root: bytes) -> bool:
    """Whether a decoded entry is, but for its rows, what `_check_entry` accepts, with fields
    of exactly the types the ledger writes (so that cbor2's plain encoding of them is their
    canonical one): version 1, this log, this index, the root before it, a time, an actor, a
    kind, a list of rows, and details (and auth) that `plainly_canonical` accepts."""
    if type(body) is not list:
        return False
    n = len(body)
    if n != 9 and n != 10:
        return False
    version, name, index, prev_root, time_us, actor, kind, rows, details = body[:9]
    return (type(version) is int and version == FORMAT_VERSION and name == origin
            and type(name) is str and type(index) is int and index == idx
            and type(prev_root) is bytes and prev_root == root and type(time_us) is int
            and type(actor) is str and type(kind) is str and type(rows) is list
            and type(details) is dict and plainly_canonical(details)
            and (n == 9 or (type(body[9]) is dict and plainly_canonical(body[9]))))


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

    def __init__(self, session, report, since: int = 0, until: int | None = None):
        self.irregular = False
        self.rows_checked = 0
        self.tables = {}
        dialect = session.get_bind().dialect
        self.restore = _sort_memory(session)
        # With one log every row is read, so a row under another log id is seen (and makes
        # the binding irregular); with several, each log reads its own.
        for mapper in bound_models():
            table = mapper.class_.__table__
            stmt = select(table).order_by(table.c.log_index, *table.primary_key.columns)
            if report.several_logs:
                stmt = stmt.where(table.c.log_id == report.log_id)
            if since:
                stmt = stmt.where(table.c.log_index >= since)
            if until is not None:
                stmt = stmt.where(table.c.log_index < until)
            self.tables[table.name] = _TableCursor(
                table, _raw_stream(session, stmt, ROW_BATCH), report.log_id, dialect)
        self.at = None       # the entry whose live rows `written` holds, by table
        self.written: dict[str, dict] = {}

    def _live(self, index: int, table: str) -> dict | None:
        """{key: (key, image)} of `table`'s live rows written by entry `index` (read once);
        None if there is no such bound table or rows were skipped."""
        if index != self.at:
            self.at, self.written = index, {}
        live = self.written.get(table)
        if live is None:
            cursor = self.tables.get(table)
            try:
                live = cursor.written_by(index) if cursor is not None else None
            except Exception:  # noqa: BLE001 - a row the imager cannot read (a tampered enum…)
                # The cursor has moved past rows it did not hand out: nothing read from it is
                # trusted again; the exact binding reads every row afresh and words the finding.
                self.irregular = True
                return None
            if live is not None:
                self.written[table] = live
        return live

    def fast(self, index: int, body: list, data: bytes) -> bool:
        """Whether entry `index`'s bytes are exactly the canonical encoding of its decoded
        header and details (`_plain_header` checked them) with, as its rows, version 1 of the
        live rows it wrote, in its order: then the entry is canonical and every row it wrote is
        live and unchanged, in one encoding and one comparison, and the rows are bound.
        False says nothing: the entry is then checked field by field (`entry`)."""
        if self.irregular:
            return False
        rebuilt, seen = [], set()
        try:
            for record in body[7]:
                table, key = record[0], tuple(record[1])
                live = self._live(index, table)
                have = live.get(key) if live is not None else None
                if have is None or (table, key) in seen:
                    return False
                seen.add((table, key))
                key, image = have   # the live row's key: the logged one may be 1.0 for 1
                if self.tables[table].strict and not plainly_canonical(image):
                    return False   # a JSON value the plain encoder may not write canonically
                # lists, not tuples: cbor2 encodes both as arrays, lists without a type test
                rebuilt.append([table, key, 1, None, image])
        except (TypeError, LookupError):   # not rows as the ledger writes them
            return False
        if len(seen) != sum(map(len, self.written.values())):
            return False   # rows claiming this entry that it did not write
        if cbor2.dumps([*body[:7], rebuilt, *body[8:]]) != data:
            return False
        self.rows_checked += len(rebuilt)
        self.written = {}
        return True

    def entry(self, index: int, entry: dict) -> None:
        if self.irregular:
            return
        for table, key, version, _prev, image in entry["rows"]:
            live = self._live(index, table) if version == 1 else None
            if live is None:
                self.irregular = True
                return
            have = live.pop(tuple(key), None)
            if have is None or version != 1 or not self.tables[table].same(have[1], image):
                self.irregular = True
                return
            self.rows_checked += 1
        if index == self.at and any(self.written.values()):
            self.irregular = True  # rows claiming this entry that it did not write
        self.written = {}

    def unread(self, index: int) -> None:
        """Entry `index` cannot be read: live rows of it that `fast` took from their cursors
        are bound by nothing, as those left in the cursors would be."""
        if index == self.at and any(self.written.values()):
            self.irregular = True
        self.written = {}

    def finish(self) -> None:
        if not self.irregular and any(not c.exhausted() for c in self.tables.values()):
            self.irregular = True  # live rows that no entry (or a later index) wrote
        self.restore()


# Kilobytes of SQLite page cache while the bound tables are read: each of them is sorted by
# log_index (no index holds that order), and SQLite's sorter keeps up to the page cache's size
# in memory before it spills to a temporary file. At the ledger's 64 MB (ledger.store.db) the
# ≈ 40 sorts held ≈ 270 MB at 10⁶ entries, growing with the log; at 8 MB ≈ 50 MB, flat.
SORT_CACHE_KB = 8_192


def _sort_memory(session):
    """Lower SQLite's page cache on the session's connection for the row binding; return
    what puts it back."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return lambda: None
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SORT_CACHE_KB}")
    return lambda: connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


class _TableCursor:
    """One bound table's live rows in log order, handed out an entry at a time."""

    def __init__(self, table, rows, log_id: int, dialect):
        self.rows = rows   # the driver's tuples: row_imager applies SQLAlchemy's processors
        self.image_of = row_imager(table, dialect)
        self.log_index_at = list(table.columns).index(table.c.log_index)
        self.log_id_at = list(table.columns).index(table.c.log_id)
        self.log_id = log_id
        # JSON and boolean columns could hold true where the entry holds 1 (equal in Python,
        # not in CBOR): compare such images by canonical hash; for the others == suffices.
        self.strict = any(isinstance(c.type, (JSON, Boolean)) for c in table.columns)
        self.ahead = next(self.rows, None)

    def written_by(self, index: int) -> dict | None:
        """{key: (key as a list, image)} of the rows whose log_index is `index`; None if
        rows were skipped."""
        found = {}
        ahead, at_index, at_log = self.ahead, self.log_index_at, self.log_id_at
        image_of, rows, log_id = self.image_of, self.rows, self.log_id
        while ahead is not None:
            at = ahead[at_index]
            if at != index:
                if at is None or at < index:
                    self.ahead = ahead
                    return None
                break
            if ahead[at_log] != log_id:
                self.ahead = ahead
                return None
            _t, key, image = image_of(ahead)
            found[tuple(key)] = key, image
            ahead = next(rows, None)
        self.ahead = ahead
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


def _check_witnesses(report, notes, roots_at, checkpoints, policy) -> None:
    """The log against what each witness cosigned last (its own state, outside this database):
    a witness's checkpoint beyond the log is a truncated tail, a different root at its size a
    rewrite, and a checkpoint the witness holds that the database no longer has was deleted."""
    from ledger.audit.tlog.checkpoint import open_checkpoint
    witnesses = [w.verifier for w in policy.witnesses.values()] if policy else []
    stored = {(c.size, bytes(c.root)) for c in checkpoints}
    for where, note in notes:
        report.witnesses_checked += 1
        try:
            opened = open_checkpoint(note, list(policy.logs) if policy else [], witnesses)
            if policy is not None and not opened.cosignatures:
                raise CheckpointError("it carries no cosignature of a witness of the policy")
        except (CheckpointError, ValueError) as exc:
            report.add("witness", f"见证人检查点无法验证 / the witness checkpoint from {where} "
                       f"does not verify: {exc}")
            continue
        body = opened.checkpoint
        if body.origin != report.origin:
            report.add("witness", f"见证人检查点属于另一日志 / the witness checkpoint from "
                       f"{where} is of log {body.origin!r}, not {report.origin!r}")
            continue
        root = roots_at.get(body.size)
        if root is None:
            report.add("witness", f"日志尾部被截断 / the log has {report.size} entries, but the "
                       f"witness at {where} cosigned a checkpoint of {body.size}: the tail "
                       "was truncated", log_index=body.size)
        elif root != body.root_hash:
            report.add("witness", f"日志已被改写 / the log is not consistent with the "
                       f"checkpoint of size {body.size} the witness at {where} cosigned: "
                       "history before it was rewritten", log_index=body.size)
        elif (body.size, body.root_hash) not in stored:
            report.add("witness", f"检查点被删除 / the checkpoint of size {body.size} that the "
                       f"witness at {where} cosigned is missing from the database",
                       log_index=body.size)


def _check_sealing(session, report, checkpoints, policy, interval, now) -> None:
    """Fail closed on a log that is not sealed in time: every entry older than the interval
    must be covered by a checkpoint that meets the quorum, and the newest checkpoint must have
    gathered the quorum within the interval of being signed."""
    if policy is None or interval is None:
        return
    import time as _time
    now = _time.time() if now is None else now
    met = [c for c in checkpoints if report.quorum.get(c.size) is True
           and c.size <= report.size]
    sealed = max((c.size for c in met), default=0)
    report.sealed_size = sealed
    newest = checkpoints[-1] if checkpoints else None
    if newest is not None and report.quorum.get(newest.size) is not True:
        age = now - _timestamp(newest.signed_at)
        if age > interval:
            detail = report.quorum.get("detail", {}).get(newest.size, "")
            report.add("seal", f"最新检查点未达到联署法定数 / the newest checkpoint (size "
                       f"{newest.size}) has not met the quorum {int(age)} s after it was "
                       f"signed (sealing interval {interval} s){': ' + detail if detail else ''}",
                       log_index=newest.size)
        else:
            report.awaiting_quorum = newest.size
    if sealed >= report.size:
        return
    first = session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == report.log_id, AuditEntry.idx == sealed)).scalar_one_or_none()
    try:
        written = decode_entry(bytes(first))["time_us"] / 1e6 if first is not None else now
    except EntryFormatError:
        written = 0  # an unreadable entry is already a finding; it is not sealed either
    if now - written > interval:
        report.add("seal", f"日志未按时封存 / entries {sealed}..{report.size - 1} are not "
                   f"covered by a checkpoint that meets the quorum, and entry {sealed} was "
                   f"written {int(now - written)} s ago (sealing interval {interval} s)"
                   + ("; the log has no checkpoint at all" if not checkpoints else ""),
                   log_index=sealed)


def _timestamp(value) -> float:
    import datetime as _dt
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.timestamp()


def _check_rows(session, report, expected, since: int = 0) -> None:
    for mapper in bound_models():
        model = mapper.class_
        table = model.__tablename__
        stmt = select(model.__table__)
        if report.several_logs:
            stmt = stmt.where(model.__table__.c.log_id == report.log_id)
        if since:
            stmt = stmt.where(model.__table__.c.log_index >= since)
        try:
            _check_table_rows(session, report, expected, model, table, stmt)
        except (LookupError, ValueError, TypeError) as exc:
            # A stored value SQLAlchemy cannot even convert (an enum's text no enum holds, with
            # the CHECK switched off; a date that is no date): the table's rows cannot be read
            # past it. A finding, not a crash; its rows not yet read are named as unchecked
            # rather than as deleted.
            unchecked = [ident for ident in expected if ident[0] == table]
            for ident in unchecked:
                del expected[ident]
            report.add("row", f"{table} holds a value the ledger cannot read ({exc}); "
                       f"{len(unchecked)} of its rows could not be checked", table=table)
    for (table, key), (index, _digest) in sorted(expected.items(), key=lambda kv: kv[1][0]):
        report.add("row", f"{table} {list(key)} written by entry {index} is gone (deleted)",
                   table=table, key=list(key), log_index=index)


def _check_table_rows(session, report, expected, model, table, stmt) -> None:
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


def _changed_fields(session, report, index, table, key, image) -> list[str]:
    entry = decode_entry(bytes(session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == report.log_id, AuditEntry.idx == index)).scalar_one()))
    for t, k, _v, _p, logged in entry["rows"]:
        if t == table and k == list(key):
            return sorted(f for f in set(logged) | set(image) if logged.get(f) != image.get(f))
    return ["(row not found in its entry)"]


def _stream(session, stmt, batch: int = BATCH):
    """Yield Core rows in batches (no ORM identity map), so memory stays flat."""
    return iter(session.execute(stmt.execution_options(yield_per=batch)))


def _raw_stream(session, stmt, batch: int = BATCH):
    """Yield the driver's own tuples of `stmt` in batches, for columns whose values need no
    conversion (integers and bytes: the log's entries and nodes): a SQLAlchemy row costs more
    than reading it. On PostgreSQL a named (server-side) cursor, as `yield_per` uses, so that
    memory stays flat; on SQLite the connection's own cursor."""
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect)
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    dbapi = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        global _CURSORS
        _CURSORS += 1
        cursor = dbapi.cursor(name=f"verify_{_CURSORS}")
    else:
        cursor = dbapi.cursor()
    cursor.execute(str(compiled), params)
    return _batches(cursor, batch)


_CURSORS = 0


def _batches(cursor, batch: int):
    try:
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


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


# What the parallel replay's workers run (ledger.audit.verify_parallel): the same code as one
# process, handed over instead of imported back (no import cycle).
_PARTS = {"Report": Report, "StreamingBinder": _StreamingBinder, "replay": _replay,
          "check_balances": _check_balances, "bound_models": bound_models}
