"""Appending to the audit log, in the caller's database transaction (invariant 10).

Every service wraps its writes in `record_change`: it locks the head of the session's log
(serialising appends to that log: BEGIN IMMEDIATE on SQLite, SELECT … FOR UPDATE of the one
head row on PostgreSQL, so other logs in the database do not wait), hands out the index the
entry will have so that rows can carry it as `log_index` with the log's `log_id`, and on exit
writes the entry and moves the head. If anything fails the whole transaction rolls back, rows
and entry together, so a change without its entry, or an entry without its change, cannot be
committed.

Personal signatures (docs/signatures.md): a session may carry a signer
(`session.info[SIGNER]`, see `Signer`). Each entry whose actor the signer speaks for is
encoded without `auth`, its digest (TBS) handed to the signer, and the `auth` map it returns
appended as the entry's 10th element. A signer may refuse (raise a `LedgerError`): the
transaction then rolls back, so nothing of the change is written.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Protocol

import cbor2
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ledger.audit.entries import (
    canonical_value,
    encode_entry,
    encode_ordered_entry,
    row_image,
    row_record,
    with_auth,
)
from ledger.audit.tlog import merkle
from ledger.audit.tlog.personal import tbs_of_encoded
from ledger.audit.tlog.tiles import MAX_ENTRY_SIZE
from ledger.core import clock
from ledger.core.errors import LedgerError
from ledger.models import FIRST_LOG_ID, LOG_ID_SEQUENCE, AuditEntry, AuditHead
from ledger.store.context import context_of
from ledger.store.db import is_read_only, marker

# Where a session keeps its signer (`session.info[SIGNER]`).
SIGNER = "personal_signer"


class Signer(Protocol):
    """Signs the entries of one person (the command line's key file, the web's passkey).

    `speaks_for(actor)` says whether entries by `actor` are this signer's to sign; for those,
    `authorise(actor, kind, details, tbs)` returns the entry's `auth` map (or None to leave it
    unsigned), or raises a `LedgerError` to refuse the whole change. `tbs` is SHA-256 of the
    entry encoded without `auth` (`tlog.personal.tbs_of_encoded`)."""

    def speaks_for(self, actor: str) -> bool: ...

    def authorise(self, actor: str, kind: str, details: dict, tbs: bytes) -> dict | None: ...


def install_signer(session: Session, signer: Signer | None) -> None:
    """Make `signer` sign this session's entries from now on (None removes it)."""
    if signer is None:
        session.info.pop(SIGNER, None)
    else:
        session.info[SIGNER] = signer


def signer_of(session: Session) -> Signer | None:
    return session.info.get(SIGNER)


def log_origin(session: Session) -> str:
    """The origin of the log this session writes to: its LedgerContext's, never a default."""
    return context_of(session).log_origin


def _now() -> dt.datetime:
    return clock.now()   # the server's clock, which the rules that count from it also read


# Row bytes one entry of a change may carry before the change goes on in a next entry. The
# format's hard limit is MAX_ENTRY_SIZE (a tlog-tiles entry bundle prefixes each entry with a
# uint16 length); the margin leaves room for the entry's own fields, its details, a signature,
# and for row images estimated before their keys and defaults are assigned.
PART_BUDGET = 48_000


@dataclass
class Change:
    """One state change under way: rows it wrote and context to log with them.

    A change whose rows would not fit in one entry is logged as several consecutive entries in
    the same transaction (docs/audit-format.md, "Size limit, and large changes in parts"):
    each part's details are the change's plus `part` (1, 2, …), and every part but the last
    says `continued: true`."""
    session: Session
    head: AuditHead
    actor: str
    kind: str
    time: dt.datetime
    rows: list = field(default_factory=list)
    details: dict = field(default_factory=dict)
    part: int = 0            # 0 while the change fits one entry
    row_bytes: int = 0       # estimated size of `rows` in the entry

    @property
    def index(self) -> int:
        return self.head.size

    @property
    def log_id(self) -> int:
        return self.head.log_id

    def add(self, row) -> None:
        """Insert a row created by this change; it carries this change's log and index.

        When the entry would outgrow PART_BUDGET, the rows so far are logged as one part and
        this row starts the next (its index is then the next part's)."""
        size = _row_size(row_image(row))
        if self.rows and self.row_bytes + size > PART_BUDGET:
            self.next_part()
        self.row_bytes += size
        row.log_index = self.index
        row.log_id = self.head.log_id
        self.session.add(row)
        self.rows.append(row)

    def add_written(self, record: tuple) -> None:
        """Log a row the caller inserted with Core (`entries.table_record` of it), for bulk
        writes where the ORM's unit of work would cost more than the row. Such a caller sets
        `log_index` itself, so it asks `full` before each row and calls `next_part` (after
        inserting the rows it holds) when it is."""
        self.row_bytes += _row_size(record)
        self.rows.append(record)

    @property
    def full(self) -> bool:
        """True when this part's rows fill its entry: the next row belongs in the next part."""
        return self.row_bytes >= PART_BUDGET - _LARGEST_ROW

    def next_part(self) -> None:
        """Log the rows so far as one entry and go on with the change in the next index."""
        self.part += 1
        self.session.flush()
        _append(self, {"part": self.part, "continued": True})
        self.rows, self.row_bytes = [], 0


def lock_head(session: Session) -> AuditHead:
    """The head of this session's log, locked for the rest of the transaction.

    The lock lasts until commit or rollback, so a second call in the same transaction (the
    idempotency look-up, then the change itself) returns the head it already holds instead
    of asking the database again.
    """
    if is_read_only(session):
        raise RuntimeError("a read-only session (a page view) cannot change the books")
    origin = log_origin(session)
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and transaction is not None and held[0] is transaction \
            and held[1] == origin:
        return held[2]
    head = _select_head(session, origin)
    if head is None:
        head = _open_log(session, origin)
    session.info[_HELD] = (session.get_transaction(), origin, head)
    return head


def _open_log(session: Session, origin: str) -> AuditHead:
    """Create the head of a new log, with a log id of its own.

    On PostgreSQL the id comes from a sequence, which never waits: two counties opening their
    logs at the same moment do not queue behind each other (as `max + 1` would make them, on
    the unique id). A writer opening the same origin at the same moment is waited for, and its
    head then found. SQLite holds the whole database for each writer, so `max + 1` is safe.
    """
    if session.get_bind().dialect.name == "postgresql":
        log_id = func.nextval(LOG_ID_SEQUENCE)
        upsert = postgresql.insert
    else:
        log_id = select(func.coalesce(func.max(AuditHead.log_id), FIRST_LOG_ID - 1) + 1) \
            .scalar_subquery()
        upsert = sqlite.insert
    session.execute(upsert(AuditHead).values(origin=origin, log_id=log_id, size=0,
                                             root=merkle.EMPTY_ROOT, frontier=b"")
                    .on_conflict_do_nothing(index_elements=["origin"]))
    return _select_head(session, origin)


def reading_log_id(session: Session, origin: str | None = None) -> int:
    """The log id under which log `origin` (this session's by default) has its entries, nodes
    and rows, for reading them.

    A log without a head has written nothing, except in a database whose only log lost its
    head row (verification then still reads the entries, as the first log's, and reports the
    head missing). In a database with other logs it is an id no row has.
    """
    origin = origin or log_origin(session)
    heads = dict(session.execute(select(AuditHead.origin, AuditHead.log_id)).all())
    if origin in heads:
        return heads[origin]
    return FIRST_LOG_ID if not heads else -1


_HELD = "audit_head_held"


def _select_head(session: Session, origin: str) -> AuditHead | None:
    """The head row, read with Core (and locked on PostgreSQL) into the session's AuditHead
    object for it, as a query with populate_existing would, at a third of the cost: every
    change starts here."""
    if session.autoflush:   # what the ORM query did first
        session.flush()
    stmt = _HEAD_FOR_UPDATE if session.get_bind().dialect.name == "postgresql" else _HEAD
    row = session.connection().execute(stmt, {"origin": origin}).first()
    if row is None:
        return None
    values = row._asdict()
    head = session.identity_map.get(AuditHead.__mapper__.identity_key_from_primary_key((origin,)))
    if head is not None:
        for name, value in values.items():
            set_committed_value(head, name, value)
        return head
    # In a new process this may be the first ORM object made: its class must be instrumented
    # (the mappers configured) before an object is built by hand — a query would have done it.
    configure_mappers()
    head = AuditHead.__mapper__.class_manager.new_instance()
    head.__dict__.update(values)
    make_transient_to_detached(head)   # loaded and unchanged, as a query leaves it
    session.add(head)
    return head


# Built once: every change asks for the head, and building the statement cost as much as the
# database's answer.
_HEAD = select(*AuditHead.__table__.columns).where(AuditHead.origin == bindparam("origin"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()


@contextmanager
def record_change(session: Session, actor: str, kind: str, **details) -> Iterator[Change]:
    head = lock_head(session)
    change = Change(session, head, actor, kind, _now(), details=dict(details))
    yield change
    session.flush()  # assigns primary keys, so row images are complete
    _append(change, {"part": change.part + 1} if change.part else {})


# What `full` keeps free for the next row of a bulk writer (a bank result's row is ≈ 450 bytes).
_LARGEST_ROW = 2_000


def _row_size(record) -> int:
    """Bytes a row record takes in an entry, near enough to split changes by (an ORM row not
    yet flushed lacks its key and defaults: a few bytes, inside PART_BUDGET's margin)."""
    return len(cbor2.dumps(list(record), default=_as_text)) + 8


def _as_text(encoder, value) -> None:
    encoder.encode(str(value))


def _append(change: Change, part: dict) -> None:
    append_entries(change.session, change.head,
                   [PendingEntry(change.actor, change.kind, change.time,
                                 [r if isinstance(r, tuple) else row_record(r)
                                  for r in change.rows], change.details | part)])
    change.session.flush()


@dataclass
class PendingEntry:
    """An entry to append whose rows are already written (see `append_entries`)."""
    actor: str
    kind: str
    time: dt.datetime
    rows: list          # row records, as `entries.row_record` / `table_record` make them
    details: dict = field(default_factory=dict)
    # True when every map in rows and details already has its keys in canonical order
    # (`entries.image_template`), so the cheaper `encode_ordered_entry` gives the same bytes.
    ordered: bool = False


def append_entries(session: Session, head: AuditHead, pending: list[PendingEntry]) -> None:
    """Append entries `head.size`, `head.size + 1`, … in order, and move the head past them.

    The caller holds the head lock and has written each entry's rows with `log_index` set to
    the index the entry gets here. Bulk services (a payment roll sent or settled) hand over
    thousands at once; one statement then inserts all entries and one all finished nodes.
    """
    appended = encode_entries(session, head, pending)
    if appended is None:
        return
    entries, nodes = appended.entries, appended.nodes
    # Entry and nodes go in with the driver's executemany: they are written once and never read
    # back through the ORM in this transaction, so the unit of work would only add its
    # bookkeeping (≈ a third of a disbursement's flush time), and Core its per-row parameter
    # building (a roll appends tens of thousands). Their values are integers and bytes, which
    # both drivers take as they are (`db.insert_tuples` would convert none of them, and only
    # spend its checks of text columns these tables do not have).
    connection, mark = session.connection(), marker(session)
    connection.exec_driver_sql(_INSERT_ENTRY.format(m=mark),
                               entries[0] if len(entries) == 1 else entries)
    if nodes:
        connection.exec_driver_sql(_INSERT_NODE.format(m=mark),
                                   nodes[0] if len(nodes) == 1 else nodes)
    move_head(session, head, appended.size, appended.root, appended.frontier)


@dataclass
class Appended:
    """Entries encoded (and signed) for the head, not yet written: the rows of audit_entries
    and audit_nodes, and the head as it is once they are."""
    entries: list   # (log_id, idx, entry, leaf_hash)
    nodes: list     # (log_id, level, idx, hash, leaf_end)
    size: int
    root: bytes
    frontier: bytes


def encode_entries(session: Session, head: AuditHead,
                   pending: list[PendingEntry]) -> Appended | None:
    """`append_entries` up to the writing: for a caller that writes them in a statement of its
    own (`ledger.funds.fastpay` on PostgreSQL) and then calls `head_moved`."""
    frontier = merkle.Frontier.from_bytes(head.frontier) if head.frontier else merkle.Frontier()
    if frontier.size != head.size:
        raise RuntimeError(f"audit head of {head.origin} is corrupt: size {head.size}, "
                           f"frontier {frontier.size}")
    entries, nodes = [], []
    signer = signer_of(session)
    log_id = head.log_id
    root = head.root
    time, time_us = None, None
    for item in pending:
        index = frontier.size
        if item.time is not time:  # a bulk service gives all its entries one time
            time, time_us = item.time, _micros(item.time)
        encode = encode_ordered_entry if item.ordered else encode_entry
        entry = encode(
            origin=head.origin, index=index, prev_root=root, time_us=time_us,
            actor=item.actor, kind=item.kind, rows=item.rows, details=item.details)
        if signer is not None and signer.speaks_for(item.actor):
            auth = signer.authorise(item.actor, item.kind, item.details, tbs_of_encoded(entry))
            if auth is not None:
                entry = with_auth(entry, auth)
        # checked after signing: the signature is part of the entry's bytes
        check_entry_size(entry, item.kind)
        leaf = merkle.leaf_hash(entry)
        finished = frontier.append(leaf)
        root = frontier.root()
        entries.append((log_id, index, entry, leaf))
        # level 0 is the leaf hash, already in audit_entries
        nodes.extend((log_id, n.level, n.index, n.hash, index) for n in finished[1:])
    if not entries:
        return None
    return Appended(entries, nodes, frontier.size, root, frontier.to_bytes())


_INSERT_ENTRY = ("INSERT INTO audit_entries (log_id, idx, entry, leaf_hash) "
                 "VALUES ({m}, {m}, {m}, {m})")
_INSERT_NODE = ("INSERT INTO audit_nodes (log_id, level, idx, hash, leaf_end) "
                "VALUES ({m}, {m}, {m}, {m}, {m})")


def move_head(session: Session, head: AuditHead, size: int, root: bytes,
              frontier: bytes) -> None:
    """Write the head's new size, root and frontier at once, with one UPDATE.

    Not as a dirty ORM object flushed later: the unit of work for that one row cost a sixth of
    a payment's CPU. The ORM object takes the values as if loaded (`set_committed_value`), so
    it holds what the database holds; a savepoint that ends forgets it (`_forget_head`), so
    the next change reads the head again rather than trust one a rollback has undone."""
    session.connection().exec_driver_sql(_MOVE_HEAD.format(m=marker(session)),
                                         (size, root, frontier, head.origin))
    head_moved(head, size, root, frontier)


def head_moved(head: AuditHead, size: int, root: bytes, frontier: bytes) -> None:
    """The head object holds what its row now holds (written by `move_head`, or by a caller's
    own statement)."""
    set_committed_value(head, "size", size)
    set_committed_value(head, "root", root)
    set_committed_value(head, "frontier", frontier)


_MOVE_HEAD = "UPDATE audit_head SET size = {m}, root = {m}, frontier = {m} WHERE origin = {m}"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction) -> None:
    """A savepoint ended (released or rolled back): the head it may have moved is read again
    by the next change (`lock_head`), from the database, which a rollback has restored."""
    if not transaction.nested:
        return
    held = session.info.pop(_HELD, None)
    if held is not None and held[2] in session:
        session.expire(held[2])


def check_entry_size(entry: bytes, kind: str) -> None:
    """Refuse an entry the log's format cannot hold (a tlog-tiles entry bundle prefixes each
    entry with a uint16 length): the transaction rolls back and nothing is recorded, instead of
    a log that can no longer be exported. A service that can write more splits its change
    (`Change.next_part`)."""
    if len(entry) > MAX_ENTRY_SIZE:
        raise LedgerError(f"the change {kind} would write an audit entry of {len(entry):,} "
                          f"bytes; the log holds at most {MAX_ENTRY_SIZE:,} per entry "
                          "(nothing was recorded)", code="entry_too_large", kind=kind,
                          size=len(entry), limit=MAX_ENTRY_SIZE)


def _micros(t: dt.datetime) -> int:
    return canonical_value(t)


def entry_bytes(session: Session, index: int, origin: str | None = None) -> bytes | None:
    """The stored bytes of entry `index` of log `origin` (this session's by default)."""
    value = session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == reading_log_id(session, origin),
        AuditEntry.idx == index)).scalar_one_or_none()
    return None if value is None else bytes(value)
