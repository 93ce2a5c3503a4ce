"""Appending to the audit log, in the caller's database transaction (invariant 10).

Every service wraps its writes in `record_change`: it locks the head of the session's log
(serialising appends to that log: BEGIN IMMEDIATE on SQLite, SELECT … FOR UPDATE of the one
head row on PostgreSQL, so other logs in the database do not wait), hands out the index the
entry will have so that rows can carry it as `log_index` with the log's `log_id`, and on exit
writes the entry and moves the head. If anything fails the whole transaction rolls back, rows
and entry together, so a change without its entry, or an entry without its change, cannot be
committed.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.audit.entries import (
    canonical_value,
    encode_entry,
    encode_ordered_entry,
    row_record,
)
from ledger.audit.tlog import merkle
from ledger.core import clock
from ledger.models import FIRST_LOG_ID, LOG_ID_SEQUENCE, AuditEntry, AuditHead, AuditNode
from ledger.store.context import context_of
from ledger.store.db import insert_tuples, is_read_only


def log_origin(session: Session) -> str:
    """The origin of the log this session writes to: its LedgerContext's, never a default."""
    return context_of(session).log_origin


def _now() -> dt.datetime:
    return clock.now()   # the server's clock, which the rules that count from it also read


@dataclass
class Change:
    """One state change under way: rows it wrote and context to log with them."""
    session: Session
    head: AuditHead
    actor: str
    kind: str
    time: dt.datetime
    rows: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def index(self) -> int:
        return self.head.size

    @property
    def log_id(self) -> int:
        return self.head.log_id

    def add(self, row) -> None:
        """Insert a row created by this change; it carries this change's log and index."""
        row.log_index = self.index
        row.log_id = self.head.log_id
        self.session.add(row)
        self.rows.append(row)

    def add_written(self, record: tuple) -> None:
        """Log a row the caller inserted with Core (`entries.table_record` of it), for bulk
        writes where the ORM's unit of work would cost more than the row."""
        self.rows.append(record)


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
    stmt = select(AuditHead).where(AuditHead.origin == origin)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()


@contextmanager
def record_change(session: Session, actor: str, kind: str, **details) -> Iterator[Change]:
    head = lock_head(session)
    change = Change(session, head, actor, kind, _now(), details=dict(details))
    yield change
    session.flush()  # assigns primary keys, so row images are complete
    _append(change)


def _append(change: Change) -> None:
    append_entries(change.session, change.head,
                   [PendingEntry(change.actor, change.kind, change.time,
                                 [r if isinstance(r, tuple) else row_record(r)
                                  for r in change.rows], change.details)])
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
    frontier = merkle.Frontier.from_bytes(head.frontier) if head.frontier else merkle.Frontier()
    if frontier.size != head.size:
        raise RuntimeError(f"audit head of {head.origin} is corrupt: size {head.size}, "
                           f"frontier {frontier.size}")
    entries, nodes = [], []
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
        leaf = merkle.leaf_hash(entry)
        finished = frontier.append(leaf)
        root = frontier.root()
        entries.append((log_id, index, entry, leaf))
        # level 0 is the leaf hash, already in audit_entries
        nodes.extend((log_id, n.level, n.index, n.hash, index) for n in finished[1:])
    if not entries:
        return
    # Entry and nodes go in with the driver's executemany: they are written once and never read
    # back through the ORM in this transaction, so the unit of work would only add its
    # bookkeeping (≈ a third of a disbursement's flush time), and Core its per-row parameter
    # building (a roll appends tens of thousands). The head stays an ORM object, so that a
    # rolled-back savepoint expires it and the next change reads the size the database has.
    insert_tuples(session, AuditEntry.__table__, ["log_id", "idx", "entry", "leaf_hash"],
                  entries)
    insert_tuples(session, AuditNode.__table__, ["log_id", "level", "idx", "hash", "leaf_end"],
                  nodes)
    head.size = frontier.size
    head.root = root
    head.frontier = frontier.to_bytes()


def _micros(t: dt.datetime) -> int:
    return canonical_value(t)


def entry_bytes(session: Session, index: int, origin: str | None = None) -> bytes | None:
    """The stored bytes of entry `index` of log `origin` (this session's by default)."""
    value = session.execute(select(AuditEntry.entry).where(
        AuditEntry.log_id == reading_log_id(session, origin),
        AuditEntry.idx == index)).scalar_one_or_none()
    return None if value is None else bytes(value)
