"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite: WAL, foreign keys on, and every transaction opened with BEGIN IMMEDIATE so that two
writers never both read a balance and then both pay out of it (invariant 5). pysqlite's own
transaction handling is switched off so that SQLAlchemy's begin is the real BEGIN.
PostgreSQL: READ COMMITTED with explicit row locks (SELECT … FOR UPDATE) in a fixed order.

When the database cannot take a change (disk full, locked beyond the busy timeout, server
gone), `transaction` rolls back and raises `StorageError`, which the CLI prints as a one-line
error with exit status 2 (docs/reliability.md). Text that a column cannot hold (too long for
its VARCHAR, a NUL character PostgreSQL refuses) is refused before it reaches the database, so
SQLite and PostgreSQL accept exactly the same input.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Enum as SqlEnum
from sqlalchemy import LargeBinary, String, create_engine, event, func, insert, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ledger.core.config import ConfigError, missing_database_message
from ledger.core.errors import LedgerError, StorageError
from ledger.store import bulk
from ledger.store.context import LedgerContext

DEFAULT_SQLITE_TIMEOUT = 30.0  # seconds a writer waits for another's lock (busy timeout)


def make_engine(url: str, **kwargs) -> Engine:
    if not url:
        # An empty URL is "not configured" (ledger.core.config): refused, never a default file.
        raise ConfigError(missing_database_message())
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        # `?timeout=SECONDS` in the URL sets the busy timeout (pysqlite's own parameter).
        timeout = make_url(url).query.get("timeout", DEFAULT_SQLITE_TIMEOUT)
        try:
            connect_args = {"timeout": float(timeout)} | kwargs.pop("connect_args", {})
        except ValueError:
            raise LedgerError(f"database URL: timeout={timeout!r} is not a number of "
                              "seconds", code="database_timeout_invalid",
                              value=str(timeout)) from None
        read_only = read_only_sqlite_url(url)
        engine = create_engine(read_only or url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, read_only=read_only is not None)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def read_only_sqlite_url(url: str) -> str | None:
    """A read-only URL for a SQLite file this process cannot write (a copy kept for audit, a
    read-only mount or directory), or None when it can.

    Opened for writing, such a file fails on its first statement ("attempt to write a readonly
    database": WAL mode needs its -shm file, and BEGIN IMMEDIATE a write lock), so that even
    `verify` could not read it. Read-only, every reading command works and a change is refused
    by SQLite. Without a -wal file holding changes there is nothing SQLite would need to write
    to read it, and `immutable` lets it skip the -shm file it cannot create; a -wal with
    changes is read through its -shm (SQLite refuses, with a clear line, if there is none)."""
    parsed = make_url(url)
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:") or not os.path.exists(path):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    wal, shm = path + "-wal", path + "-shm"
    if os.access(path, os.W_OK) and (os.access(folder, os.W_OK)
                                      or (os.path.exists(wal) and os.path.exists(shm))):
        return None
    pending = os.path.exists(wal) and os.path.getsize(wal) > 0
    query = {k: v for k, v in parsed.query.items() if k != "timeout"}
    query |= {"mode": "ro", "uri": "true"} | ({} if pending else {"immutable": "1"})
    return str(parsed.set(database="file:" + os.path.abspath(path), query=query))


def _configure_sqlite(engine: Engine, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if read_only:  # both pragmas write the file; a reader needs neither
            cur.execute("PRAGMA query_only = ON")
            cur.close()
            return
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a committed change survives power loss
        # A 64 MB page cache (default 2 MB), memory only: a payment roll's transaction touches
        # tens of MB of table and index pages, and with the default cache SQLite spills hot
        # pages to the WAL and writes them again and again before the commit (≈ 10 % of a
        # 50,000-line roll's send and settle time here). Durability is unchanged.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A transaction that only reads (a page view: `reading_engine`) takes no lock; every
        # other takes the write lock at once, so that two writers never both read a balance
        # and then fail to upgrade (invariant 8).
        if read_only:   # a file this process cannot write: no write lock to take
            conn.exec_driver_sql("BEGIN")
        elif conn.get_execution_options().get(READ_ONLY):
            # query_only: SQLite itself refuses any write, to a logged table or not.
            conn.exec_driver_sql("PRAGMA query_only = ON")
            conn.info["query_only"] = True   # the DBAPI connection's: it outlives checkout
            conn.exec_driver_sql("BEGIN")
        else:
            if conn.info.pop("query_only", False):
                conn.exec_driver_sql("PRAGMA query_only = OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "fundtrail_read_only"


def reading_engine(engine: Engine) -> Engine:
    """The same database, for transactions that only read: on SQLite they begin DEFERRED and
    wait for no writer (WAL gives each its snapshot); with BEGIN IMMEDIATE every page view
    queued on the write lock behind the others and behind every writer (the staff dashboard's
    p99, docs/performance.md figure 6). Writing through it is refused: by `audit.log.lock_head`
    (every change goes through the log) and by the database (SQLite `query_only`; PostgreSQL
    READ ONLY transactions, where readers never waited anyway)."""
    options = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def is_read_only(session: Session) -> bool:
    return bool(session.get_bind().get_execution_options().get(READ_ONLY))


# What a refusal calls a row of each model when the class name is not the word (NotFound's
# `what` parameter); every other model is its class name in lower case.
THING_NAMES = {"FundLot": "lot", "SampleCommitment": "sample"}


def fetch(session: Session, model, key, what: str):
    """The row of `model` with primary key `key`, or NotFound naming `what`."""
    from ledger.core.errors import NotFound
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} does not exist",
                       what=THING_NAMES.get(model.__name__, model.__name__.lower()), key=key)
    return row


def make_sessionmaker(engine: Engine, context: LedgerContext) -> sessionmaker[Session]:
    """Sessions on `engine`, each carrying `context` (which log it writes to, which refusals
    the deployment turns on): there is no session without one (ledger.store.context)."""
    factory = sessionmaker(engine, expire_on_commit=False, info=context.as_info())
    event.listen(factory, "before_flush", _check_text_columns)
    return factory


def _check_text_columns(session: Session, _context, _instances) -> None:
    """Refuse text a column cannot hold, naming table and column, before the database sees it.

    SQLite would store a 300-character name in VARCHAR(100) and PostgreSQL would refuse it with
    a driver error; NUL characters likewise. Checking here keeps both databases alike and turns
    a crash into an error the importer can pin to a file line.
    """
    for obj in list(session.new) + list(session.dirty):
        state = inspect(obj)
        mapper = state.mapper
        columns = _MAPPER_TEXT.get(mapper)
        if columns is None:
            columns = _MAPPER_TEXT[mapper] = [
                (prop.key, prop.columns[0]) for prop in mapper.column_attrs
                if isinstance(prop.columns[0].type, String)
                and not isinstance(prop.columns[0].type, SqlEnum)]
        values = state.dict  # loaded values only: never a query mid-flush
        for key, column in columns:
            value = values.get(key)
            if value.__class__ is str and (
                    (column.type.length and len(value) > column.type.length)
                    or not value.isprintable()):
                _check_text(mapper.local_table.name, column, value)  # the reason, or none


_MAPPER_TEXT: dict = {}  # mapper → its text columns (checked on every flush)


def check_text(table, values: dict) -> None:
    """The same refusal for a row about to be inserted with Core (bulk services)."""
    for column in _text_columns(table):
        _check_text(table.name, column, values.get(column.key))


def _text_columns(table) -> list:
    return [c for c in table.columns
            if isinstance(c.type, String) and not isinstance(c.type, SqlEnum)]


def _check_text(table_name: str, column, value) -> None:
    if not isinstance(value, str):
        return
    where = f"{table_name}.{column.name}"
    if column.type.length and len(value) > column.type.length:
        raise LedgerError(f"{where} holds at most {column.type.length} characters; "
                          f"got {len(value)}", code="text_too_long", table=table_name,
                          column=column.name, limit=column.type.length, length=len(value))
    if "\x00" in value:
        raise LedgerError(f"{where} contains a NUL character", code="text_nul",
                          table=table_name, column=column.name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LedgerError(f"{where} is not valid Unicode text", code="text_not_unicode",
                          table=table_name, column=column.name) from None


def storage_error(exc: OperationalError, uncertain: bool) -> StorageError:
    """A one-line explanation of why the database refused, and what to do."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    low = reason.lower()
    if ("readonly database" in low or "read-only" in low or "query_only" in low
            or "permission denied" in low):
        cause, hint = "read_only", ("this database is read-only here (file or folder "
                                    "permissions, or a read-only role): reading commands and "
                                    "verify work; a change needs write access")
    elif "locked" in low or "lock timeout" in low or "lock_timeout" in low:
        cause, hint = "locked", ("another process is writing; run the command again when it "
                                 "has finished")
    elif "full" in low or "disk i/o" in low or "no space" in low:
        cause, hint = "disk", "the disk is full or failing; free space, then run the command again"
    else:
        cause, hint = "unreachable", ("check that the database is reachable, then run the "
                                      "command again")
    outcome = ("the commit may not have completed; run the command again: a change already "
               "made is recognised, not made twice") if uncertain else "nothing was written"
    return StorageError(f"the database refused the change ({reason}): {outcome}; {hint}",
                        cause=cause, uncertain=uncertain, reason=reason)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    A database that cannot take the change (OperationalError: disk full, lock timeout,
    connection lost) becomes a `StorageError` after the rollback.
    """
    session = factory()
    committing = False
    try:
        yield session
        committing = True
        session.commit()
    except OperationalError as exc:
        _rollback_quietly(session)
        # A failed SQLite commit is never half-done (the commit record is not in the WAL); a
        # PostgreSQL connection lost during COMMIT leaves the outcome unknown to the client.
        uncertain = committing and session.get_bind().dialect.name != "sqlite"
        raise storage_error(exc, uncertain) from None
    except DBAPIError as exc:
        _rollback_quietly(session)
        # A read-only PostgreSQL (default_transaction_read_only, a standby) or a role allowed
        # to read only: one line saying so, not a traceback; any other error is a bug.
        if getattr(getattr(exc, "orig", None), "sqlstate", None) not in _READ_ONLY_STATES:
            raise
        raise storage_error(exc, False) from None
    except BaseException:
        _rollback_quietly(session)
        raise
    finally:
        session.close()


# read_only_sql_transaction, insufficient_privilege
_READ_ONLY_STATES = {"25006", "42501"}


def _rollback_quietly(session: Session) -> None:
    # After a lost connection the rollback itself can fail; the first error is the one to show.
    try:
        session.rollback()
    except OperationalError:
        pass


def insert_with_ids(session: Session, table, rows: list[dict]) -> list[int]:
    """Insert `rows` (dicts, changed in place to carry their "id") with one executemany and
    return their ids in order: bulk services log each row's image, primary key included."""
    if not rows:
        return []  # an empty executemany would insert one row of defaults
    _check_rows(table, rows)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite gives RETURNING rows in no promised order, so SQLAlchemy would fall back to
        # one INSERT per row. Every transaction holds SQLite's write lock (BEGIN IMMEDIATE,
        # above) and rows are never deleted, so the ids are simply the next ones.
        last = session.execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(last + 1, last + 1 + len(rows)))
        for row, new_id in zip(rows, ids):
            row["id"] = new_id
        session.execute(insert(table), rows)
        return ids
    # PostgreSQL: one INSERT … RETURNING per page of rows, in parameter order (SQLAlchemy's
    # insertmanyvalues with a sentinel); ids come from the table's sequence as usual.
    result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                             rows)
    ids = list(result.scalars())
    for row, new_id in zip(rows, ids):
        row["id"] = new_id
    return ids


def insert_rows(session: Session, table, rows: list[dict]) -> None:
    """Insert rows with one executemany, after the text checks the ORM path makes."""
    if rows:
        _check_rows(table, rows)
        session.execute(insert(table), rows)


def _check_rows(table, rows: list[dict]) -> None:
    columns = _text_columns(table)
    for row in rows:
        for column in columns:
            value = row.get(column.key)
            if value.__class__ is str and (
                    (column.type.length and len(value) > column.type.length)
                    or "\x00" in value or not value.isprintable()):
                _check_text(table.name, column, value)  # the exact reason, or none


def new_ids(session: Session, table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, ascending, for rows the caller inserts itself.

    SQLite: the next ones after the largest (as `insert_with_ids`: the transaction holds the
    write lock and rows are never deleted, so they are what autoincrement would give).
    PostgreSQL: drawn from the column's sequence, as a plain INSERT would draw them."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "sqlite":
        last = session.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(last + 1, last + 1 + count))
    ids = session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table.name, count)).scalars().all()
    return sorted(ids)


def bind_value(session: Session, column, value):
    """`value` as `column`'s type sends it to this database's driver (for plain SQL)."""
    processor = column.type._cached_bind_processor(session.get_bind().dialect)
    return processor(value) if processor is not None else value


def marker(session: Session) -> str:
    """The driver's positional parameter marker: `?` (sqlite3) or `%s` (psycopg)."""
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def insert_tuples(session: Session, table, columns: list[str], rows) -> None:
    """Insert `rows` (tuples of values for `columns`, in that order) with one DBAPI
    executemany.

    For bulk services writing tens of thousands of rows: SQLAlchemy's Core executemany spends
    more CPU building each row's parameters than the driver spends inserting it. Values go to
    the driver as the column types would send them: a column whose type converts values for
    this dialect (enums to their text, and on SQLite dates and date-times to text) has each
    distinct value converted once through that type's own bind processor, so what is stored,
    and read back through the ORM, is exactly what an ORM or Core insert stores. Bytes go to
    both drivers as they are (BLOB, bytea)."""
    dialect = session.get_bind().dialect
    if not isinstance(rows, list):
        rows = list(rows)
    # The text checks the ORM path makes before a flush (_check_text_columns): this path
    # skips the ORM, not the rules.
    text_at = [(position, table.c[name]) for position, name in enumerate(columns)
               if table.c[name] in _text_columns(table)]
    for row in rows:
        for position, column in text_at:
            value = row[position]
            if value.__class__ is str and (
                    (column.type.length and len(value) > column.type.length)
                    or not value.isprintable()):
                _check_text(table.name, column, value)
    convert = []
    for position, name in enumerate(columns):
        column = table.c[name]
        if isinstance(column.type, LargeBinary):
            continue
        processor = column.type._cached_bind_processor(dialect)
        if processor is not None:
            convert.append((position, processor, {}))
    if convert:
        converted = []
        for row in rows:
            row = list(row)
            for position, processor, seen in convert:
                value = row[position]
                try:
                    row[position] = seen[value]
                except KeyError:
                    row[position] = seen[value] = processor(value)
            converted.append(tuple(row))
        rows = converted
    elif not isinstance(rows, list):
        rows = list(rows)
    if not rows:
        return
    if dialect.name == "postgresql" and len(rows) >= bulk.COPY_FROM_ROWS:
        bulk.copy_rows(session.connection(), table.name, columns, rows)
        return
    mark = marker(session)
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    session.connection().exec_driver_sql(sql, rows)
