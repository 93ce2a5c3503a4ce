"""Public pages kept rendered, per process, until the ledger they were drawn from changes.

A village's public page is drawn only from rows the ledger's services write through the audit
log (regions, households, rolls and their events, lots, notices, projects) and from the newest
signed checkpoint. So the log head (size and root) and the newest checkpoint name the state the
page was drawn from: while they are unchanged, the page drawn again would be the same bytes.
Each request asks the database for them (`ledger_state`, one query) and redraws the page only
when they moved. The decision, and what several server processes see, is in docs/web.md.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, func, select

from ledger.models import AuditHead, Checkpoint, Cosignature


@dataclass(frozen=True)
class LedgerState:
    """What a public page is drawn from, as one comparable value.

    `log_size` and `log_root`: every logged change moves the size; the root names the log's
    whole content, so a database restored to an earlier state and grown again to the same
    size is still a different state. `checkpoint_id`: the newest signed checkpoint, whose size
    the page's verification links name. `cosignature_id`: the newest cosignature; today's page
    does not print who cosigned, but a cosignature is what makes a checkpoint count for the
    villager, and keying on it costs nothing (the largest primary key).
    """
    log_size: int | None
    log_root: bytes | None
    checkpoint_id: int | None
    cosignature_id: int | None


def _state_query():
    head, cp, cosig = AuditHead.__table__, Checkpoint.__table__, Cosignature.__table__
    origin = bindparam("origin")
    return select(
        select(head.c.size).where(head.c.origin == origin).scalar_subquery(),
        select(head.c.root).where(head.c.origin == origin).scalar_subquery(),
        select(func.max(cp.c.id)).where(cp.c.origin == origin).scalar_subquery(),
        select(func.max(cosig.c.id)).scalar_subquery())


_STATE = _state_query()
# (SQL text, parameter names if positional) per driver: compiling costs more than running it
_COMPILED: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}


def _compiled(dialect) -> tuple[str, tuple[str, ...] | None]:
    key = (dialect.name, dialect.driver)
    if key not in _COMPILED:
        compiled = _STATE.compile(dialect=dialect)
        _COMPILED[key] = (str(compiled),
                          tuple(compiled.positiontup) if compiled.positional else None)
    return _COMPILED[key]


def ledger_state(engine: Engine, origin: str) -> LedgerState:
    """The state of log `origin` now, read on a connection of its own, outside any session.

    Not through the request's session: when the page is kept, that session would be opened
    only for this one SELECT, and a session transaction costs more than the query (on SQLite
    a `query_only` PRAGMA, BEGIN and ROLLBACK around it, ledger.store.db.reading_engine). Measured
    in-process on the 2,000-household demo: ≈ 1,100 req/s through the session against
    ≈ 1,700–2,000 this way. (Written when every session began IMMEDIATE and took the write
    lock even to read: then this way also gave half the p99; docs/performance.md, figure 6.)
    A single SELECT in autocommit (SQLite) or in a transaction that the pool rolls back
    (PostgreSQL) waits for no writer.
    """
    sql, positions = _compiled(engine.dialect)
    params = {"origin": origin} if positions is None else tuple(origin for _ in positions)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        size, root, checkpoint_id, cosignature_id = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()   # back to the pool, which rolls back
    return LedgerState(size, None if root is None else bytes(root), checkpoint_id,
                       cosignature_id)


@dataclass(frozen=True)
class RenderedPage:
    state: LedgerState
    body: bytes
    etag: str   # of the bytes, so that every process gives the same page the same tag


class RenderedPages:
    """The newest rendering of each page (village, language, …), least recently used first.

    Holds at most `capacity` pages; a page whose state is not the ledger's now is never
    returned, only replaced. Shared by the server's threads, hence the lock.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._pages: OrderedDict[tuple, RenderedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, state: LedgerState) -> RenderedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.state != state:
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, state: LedgerState, body: bytes) -> RenderedPage:
        page = RenderedPage(state, body, hashlib.sha256(body).hexdigest()[:32])
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)
        return page

    def kept(self, key: tuple) -> RenderedPage | None:
        """The page kept under `key`, whatever state it was drawn at (for inspection)."""
        with self._lock:
            return self._pages.get(key)

    def __len__(self) -> int:
        return len(self._pages)
