"""The common payment on a short path: `flows.pay` from a county's own share to a payee inside
the county, in about ten statements and without the ORM's unit of work (issue 21).

Through the general path (`flows._pay` → `posting.record` → `audit.log.record_change`) one
payment took 23 statements — the lot, the county, the payee, its region chain, the actor's
standing, each account found and then locked again, both period closures, the death check —
and ORM flushes for five rows, ≈ 5 ms of CPU against ≈ 0.3 ms for the two-row transaction
the database itself needs. Here, under the same log-head lock:

1. one SELECT reads everything the checks need: the key (already used?), the lot, the county,
   the payee and its region chain (joined level by level: regions are at most six deep), both
   accounts, the actor's newest disable/enable decision, the period's closures, any record of
   the household head's death, and the ids the new rows will take;
2. every check of the general path is made on what it read, in the same order — and wherever
   one would refuse, or the payment needs more than the common path (a project's money, an
   account to open at the source, a closed month that moves the date, a death that raises
   BEN-01, a region chain deeper than the joins), nothing has been written and the general
   path runs instead, so it raises exactly the refusal it always raised (or does its extra
   work). This path never refuses anything itself, except the blacklist refusal, which it
   makes through the same function at the same point (after every other check passed);
3. the source account's pending credit is added by a conditional UPDATE that is itself the
   overdraft check (no row updated — a writer of another log took the money since the read —
   and the general path runs, and decides under its own lock); then the payee's account
   (inserted with its pending debit when new), the transfer, its two postings and, where
   cited, its documents go in as tuples (through the driver itself), and the entry, encoded
   and signed by `audit.log.encode_entries`, with its nodes and the head. On PostgreSQL, where each
   statement is a round trip, all of that is one statement (data-modifying CTEs, each gated
   on the hold), with the entry encoded first.

The rows and the entry are the ones the general path writes, column for column and byte for
byte (tests/ledger/test_fastpay.py compares the two); `verify` cannot tell them apart.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from enum import Enum
from types import SimpleNamespace

from sqlalchemy import (
    LargeBinary,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached

from ledger.audit.entries import canonical_key_order, canonical_value, unimaged_columns
from ledger.audit.log import (
    PendingEntry,
    encode_entries,
    head_moved,
    lock_head,
)
from ledger.core import clock
from ledger.core.classification import check_spending
from ledger.core.errors import LedgerError
from ledger.funds.posting import canonical_request, check_amount, period_of
from ledger.models import (
    Account,
    AccountKind,
    AuditEntry,
    AuditNode,
    CountyPeriodClosure,
    FundLot,
    Member,
    Payee,
    PaymentDocument,
    PeriodClosure,
    Posting,
    Region,
    RegionLevel,
    Transfer,
    TransferKind,
    User,
)
from ledger.models.admin import AdminDecision, AdminRequest
from ledger.screening.at_posting import head_deaths, refuse_blacklisted
from ledger.store.access import DISABLE, ENABLE, ROLE_ACTIONS, Action
from ledger.store.db import check_text

ACCOUNTS = Account.__table__
TRANSFERS = Transfer.__table__
POSTINGS = Posting.__table__
DOCUMENTS = PaymentDocument.__table__
REGIONS = Region.__table__

# Levels of the payee's region chain read by joins: village, township, county, city, province
# and one more. A deeper chain (no ledger has one) takes the general path.
DEPTH = 6


class Fallback(Exception):
    """Not the common case: nothing is written, and the general path takes the payment."""


def pay(session: Session, actor: User | None, attempt, *, lot_id, payee_code, amount_fen,
        function_code, use_code, key, effective_date, county_code, memo, voucher_date,
        value_date, request: dict, invoice_number, contract_number) -> Transfer | None:
    """The payment recorded on the short path, or None when it is not the common case (then
    nothing was written: the caller takes the general path, which refuses or records it)."""
    try:
        return _pay(session, actor, attempt, lot_id, payee_code, amount_fen, function_code,
                    use_code, key, effective_date, county_code, memo, voucher_date, value_date,
                    request, invoice_number, contract_number)
    except Fallback:
        return None


def _pay(session, actor, attempt, lot_id, payee_code, amount_fen, function_code, use_code, key,
         effective_date, county_code, memo, voucher_date, value_date, request, invoice_number,
         contract_number):
    # What the general path refuses before it reads anything.
    if actor is None or not key or Action.RECORD not in ROLE_ACTIONS.get(actor.role, ()) \
            or type(lot_id) is not int or not _plain_text(key, payee_code, county_code,
                                                         function_code, use_code):
        raise Fallback
    attempt.source_kind, attempt.source_holder = AccountKind.UNIT.value, county_code
    day = _posting_day(effective_date, voucher_date, value_date)
    _quietly(check_amount, amount_fen)
    text = canonical_request(request)
    if len(text) > _LONG_REQUEST:   # its entry might need parts (`log.PART_BUDGET`)
        raise Fallback
    # Unflushed ORM changes (a payee or a balance changed earlier in this transaction) reach
    # the database before it is read, and the conditional UPDATE below works on stored values.
    session.flush()
    head = lock_head(session)
    dialect = session.get_bind().dialect.name
    row = session.connection().execute(_read_statement(dialect), {
        "lot": lot_id, "county": county_code, "payee": payee_code, "key": key,
        "actor": actor.username, "period": period_of(day), "src_kind": AccountKind.UNIT,
        "payee_kind": AccountKind.PAYEE}).first()
    if row is None or row.taken is not None:   # no such lot; a key to replay or refuse
        raise Fallback
    lot = SimpleNamespace(id=lot_id, function_codes=row.function_codes,
                          allowed_uses=row.allowed_uses, label="")
    _quietly(check_spending, lot, function_code, use_code)
    if row.county_level is not RegionLevel.COUNTY:
        raise Fallback
    if row.payee_region is None:
        raise Fallback
    chain = [row.payee_region] + [row._mapping[f"up{i}"] for i in range(DEPTH)]
    if chain[-1] is not None:  # deeper than the joins reach
        raise Fallback
    chain = chain[:chain.index(None)]
    if county_code not in chain:
        raise Fallback
    if row.disabled == DISABLE or actor.region_code not in chain[chain.index(county_code):]:
        raise Fallback
    if row.closed or row.dead or row.src_id is None:
        raise Fallback
    attempt.region_code = county_code
    now = clock.now()
    index, log_id = head.size, head.log_id
    transfer = {
        "idempotency_key": key, "content_hash": hashlib.sha256(text.encode()).hexdigest(),
        "request": text, "kind": TransferKind.PAY, "lot_id": lot_id, "amount_fen": amount_fen,
        "effective_date": day, "function_code": function_code, "use_code": use_code,
        "memo": memo, "region_code": county_code, "recorded_by": actor.id,
        "recorded_at": now, "reverses_id": None, "log_index": index, "log_id": log_id,
        "voucher_date": voucher_date, "value_date": value_date}
    _quietly(check_text, TRANSFERS, transfer)
    documents = invoice_number is not None or contract_number is not None
    if row.src_available is None or row.src_available < amount_fen:
        raise Fallback   # an overdraft: the general path refuses it (before the blacklist)
    # Checks done; the blacklist refusal comes where the general path makes it: after them
    # and after the overdraft check, so a payment that is both is refused as an overdraft.
    refuse_blacklisted(session, [payee_code], day)
    ids = _new_ids(session, dialect, row)
    transfer_id, out_id, in_id = ids["transfer"], ids["posting"], ids["posting"] + 1
    if dialect == "postgresql":
        out_id, in_id = ids["posting"], ids["posting2"]
    opening = row.dst_id is None
    payee_account = ids["account"] if opening else row.dst_id
    account = {"id": payee_account, "lot_id": lot_id, "kind": AccountKind.PAYEE,
               "holder_code": payee_code, "region_code": row.payee_region,
               "debits_posted": 0, "credits_posted": 0, "debits_pending": amount_fen,
               "credits_pending": 0, "log_index": index, "log_id": log_id} if opening else None
    transfer["id"] = transfer_id
    postings = [{"id": out_id, "transfer_id": transfer_id, "account_id": row.src_id,
                 "lot_id": lot_id, "amount_fen": -amount_fen, "log_index": index,
                 "log_id": log_id},
                {"id": in_id, "transfer_id": transfer_id, "account_id": payee_account,
                 "lot_id": lot_id, "amount_fen": amount_fen, "log_index": index,
                 "log_id": log_id}]
    document = {"transfer_id": transfer_id, "invoice_number": invoice_number,
                "contract_number": contract_number, "log_index": index,
                "log_id": log_id} if documents else None
    # The rows in the order the general path adds them to its change.
    records = [_record(ACCOUNTS, account)] if opening else []
    records += [_record(TRANSFERS, transfer), *(_record(POSTINGS, p) for p in postings)]
    if documents:
        records.append(_record(DOCUMENTS, document))
    pending = [PendingEntry(actor.username, "transfer.record", now, records, ordered=True)]
    if dialect == "postgresql":
        _write_postgresql(session, head, pending, amount_fen, row.src_id, account,
                          payee_account, transfer, postings, document)
    else:
        _write(session, head, pending, amount_fen, row.src_id, account, payee_account,
               transfer, postings, document)
    _expire_accounts(session, (row.src_id, payee_account))
    return _attached(session, transfer)


def _write(session, head, pending, amount_fen, source, account, payee_account, transfer,
           postings, document) -> None:
    """The rows one statement each, the hold first (SQLite: no round trips to save), sent to
    the driver directly: SQLAlchemy's execution of a statement costs ten times the driver's,
    and these are most of what a payment executes (`_Driver` keeps its error handling)."""
    run = _Driver(session)
    dialect = session.get_bind().dialect
    # The overdraft check and the hold in one statement: no row updated, no money moved (a
    # writer of another log took the money since the read), and the general path decides.
    if run(_HOLD.format(m="?"), (amount_fen, source, amount_fen)).rowcount != 1:
        raise Fallback
    if account is not None:
        run(*_insert_values(dialect, ACCOUNTS, account))
    else:
        run(_RECEIVE.format(m="?"), (amount_fen, payee_account))
    run(*_insert_values(dialect, TRANSFERS, transfer))
    run(*_insert_values(dialect, POSTINGS, *postings), many=True)
    if document is not None:
        run(*_insert_values(dialect, DOCUMENTS, document))
    appended = encode_entries(session, head, pending)
    run(_INSERT_ENTRY, appended.entries, many=True)
    if appended.nodes:
        run(_INSERT_NODE, appended.nodes, many=True)
    run(_MOVE_HEAD, (appended.size, appended.root, appended.frontier, head.origin))
    head_moved(head, appended.size, appended.root, appended.frontier)


_INSERT_ENTRY = "INSERT INTO audit_entries (log_id, idx, entry, leaf_hash) VALUES (?, ?, ?, ?)"
_INSERT_NODE = "INSERT INTO audit_nodes (log_id, level, idx, hash, leaf_end) VALUES (?, ?, ?, ?, ?)"
_MOVE_HEAD = "UPDATE audit_head SET size = ?, root = ?, frontier = ? WHERE origin = ?"


class _Driver:
    """Statements on the session's connection through the DBAPI driver itself, in the
    transaction SQLAlchemy began; a driver error is raised as SQLAlchemy raises it (so that
    `db.transaction` still turns a full disk or a lock timeout into a StorageError)."""

    def __init__(self, session):
        self.connection = session.connection()
        self.driver = self.connection.connection.driver_connection

    def __call__(self, sql, params, many: bool = False):
        try:
            if many:
                return self.driver.executemany(sql, params)
            return self.driver.execute(sql, params)
        except self.connection.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, self.connection.dialect.loaded_dbapi.Error,
                                      dialect=self.connection.dialect) from exc


def _write_postgresql(session, head, pending, amount_fen, source, account, payee_account,
                      transfer, postings, document) -> None:
    """Every write of the payment in one statement (data-modifying CTEs), each gated on the
    hold: PostgreSQL is a round trip away, and the round trips were most of a payment's
    time. The entry is encoded (and signed) first: its bytes go in with the rows."""
    appended = encode_entries(session, head, pending)
    params = {"amount": amount_fen, "src": source, "dst": payee_account,
              "h_size": appended.size, "h_root": appended.root,
              "h_frontier": appended.frontier, "h_origin": head.origin}
    rows = [("a", ACCOUNTS, account)] if account is not None else []
    rows += [("t", TRANSFERS, transfer), ("p0", POSTINGS, postings[0]),
             ("p1", POSTINGS, postings[1])]
    if document is not None:
        rows.append(("d", DOCUMENTS, document))
    for name, table, values in rows:
        for column in table.columns:
            value = values[column.key]
            params[f"{name}_{column.key}"] = value.value if isinstance(value, Enum) else value
    for n, entry in enumerate(appended.entries):
        params.update(zip((f"e{n}_log_id", f"e{n}_idx", f"e{n}_entry", f"e{n}_leaf"), entry))
    for n, node in enumerate(appended.nodes):
        params.update(zip((f"n{n}_log_id", f"n{n}_level", f"n{n}_idx", f"n{n}_hash",
                           f"n{n}_leaf_end"), node))
    sql = _postgresql_write(account is not None, document is not None,
                            len(appended.entries), len(appended.nodes))
    if session.connection().exec_driver_sql(sql, params).scalar() != 1:
        raise Fallback
    head_moved(head, appended.size, appended.root, appended.frontier)


@functools.cache
def _postgresql_write(opening: bool, documents: bool, entries: int, nodes: int) -> str:
    dialect = postgresql.dialect()

    def cast(column) -> str:
        if isinstance(column.type, String):   # text: the column's own length is checked on
            return "text"                     # assignment, where varchar(n) would truncate
        return column.type.compile(dialect=dialect)

    def insert(cte, table, names) -> str:
        columns = list(table.columns)
        selects = " UNION ALL ".join(
            "SELECT " + ", ".join(f"%({name}_{c.key})s::{cast(c)}" for c in columns)
            + " FROM hold" for name in names)
        return (f"{cte} AS (INSERT INTO {table.name} ({', '.join(c.key for c in columns)}) "
                f"{selects} RETURNING 1)")

    parts = ["hold AS (UPDATE accounts SET credits_pending = credits_pending + "
             "%(amount)s::bigint WHERE id = %(src)s::bigint AND debits_posted - "
             "credits_posted - credits_pending >= %(amount)s::bigint RETURNING id)"]
    if opening:
        parts.append(insert("opened", ACCOUNTS, ["a"]))
    else:
        parts.append("received AS (UPDATE accounts SET debits_pending = debits_pending + "
                     "%(amount)s::bigint WHERE id = %(dst)s::bigint AND EXISTS "
                     "(SELECT FROM hold) RETURNING 1)")
    parts.append(insert("transfer", TRANSFERS, ["t"]))
    parts.append(insert("postings", POSTINGS, ["p0", "p1"]))
    if documents:
        parts.append(insert("documents", DOCUMENTS, ["d"]))
    log = [AuditEntry.__table__, AuditNode.__table__]
    if entries:
        parts.append(_log_insert("entries", log[0], "e", entries,
                                 ("log_id", "idx", "entry", "leaf_hash"),
                                 ("_log_id", "_idx", "_entry", "_leaf")))
    if nodes:
        parts.append(_log_insert("nodes", log[1], "n", nodes,
                                 ("log_id", "level", "idx", "hash", "leaf_end"),
                                 ("_log_id", "_level", "_idx", "_hash", "_leaf_end")))
    parts.append("head AS (UPDATE audit_head SET size = %(h_size)s::bigint, root = "
                 "%(h_root)s::bytea, frontier = %(h_frontier)s::bytea WHERE origin = "
                 "%(h_origin)s AND EXISTS (SELECT FROM hold) RETURNING 1)")
    return "WITH " + ",\n".join(parts) + "\nSELECT count(*) FROM hold"


def _log_insert(cte, table, prefix, count, columns, suffixes) -> str:
    types = {c.key: c.type.compile(dialect=postgresql.dialect()) for c in table.columns}
    selects = " UNION ALL ".join(
        "SELECT " + ", ".join(f"%({prefix}{n}{suffix})s::{types[column]}"
                              for column, suffix in zip(columns, suffixes)) + " FROM hold"
        for n in range(count))
    return f"{cte} AS (INSERT INTO {table.name} ({', '.join(columns)}) {selects} RETURNING 1)"


def _plain_text(*values) -> bool:
    """Text the read may send as it is: a value of another type, or with a NUL character
    (which PostgreSQL refuses in a parameter), is left to the general path, which refuses it
    where it always did."""
    return all(type(v) is str and "\x00" not in v for v in values)


# Characters of request text (the memo is most of it) beyond which the short path leaves the
# payment to the general one: an entry of rows larger than `log.PART_BUDGET` is written in
# parts there. Chinese text is 3 bytes a character and the memo is in the image twice.
_LONG_REQUEST = 4_000


def _posting_day(effective_date, voucher_date, value_date) -> dt.date:
    """The posting date `posting.posting_date` gives when the voucher's month is open (a
    closed month is found in the read, and then the general path decides)."""
    for day in (effective_date, voucher_date, value_date):
        if day is not None and (type(day) is not dt.date):
            raise Fallback   # the general path's refusal of a date that is not one
    if effective_date is None:
        effective_date = dt.date.today() if voucher_date is None else voucher_date
    if voucher_date is not None and voucher_date > effective_date:
        raise Fallback
    return effective_date


def _quietly(check, *args) -> None:
    try:
        check(*args)
    except LedgerError:
        raise Fallback from None


_HOLD = ("UPDATE accounts SET credits_pending = credits_pending + {m} WHERE id = {m} "
         "AND debits_posted - credits_posted - credits_pending >= {m}")
_RECEIVE = "UPDATE accounts SET debits_pending = debits_pending + {m} WHERE id = {m}"


@functools.cache
def _read_statement(dialect: str):
    """The one SELECT of the checks (built once per dialect: constructing it costs more than
    running it)."""
    lots, payees = FundLot.__table__, Payee.__table__
    county = REGIONS.alias("county")
    src, dst = ACCOUNTS.alias("src"), ACCOUNTS.alias("dst")
    levels = [REGIONS.alias(f"r{i}") for i in range(DEPTH)]
    period = bindparam("period")
    deaths = head_deaths(Member.household_code == bindparam("payee"))
    columns = [
        lots.c.function_codes, lots.c.allowed_uses,
        county.c.level.label("county_level"),
        payees.c.region_code.label("payee_region"),
        *[level.c.parent_code.label(f"up{i}") for i, level in enumerate(levels)],
        src.c.id.label("src_id"), dst.c.id.label("dst_id"),
        (src.c.debits_posted - src.c.credits_posted - src.c.credits_pending)
        .label("src_available"),
        select(TRANSFERS.c.id).where(TRANSFERS.c.idempotency_key == bindparam("key"))
        .scalar_subquery().label("taken"),
        # `access.is_disabled`'s question, asked here (the general path asks it again)
        select(AdminRequest.kind).join(AdminDecision,
                                       AdminDecision.request_id == AdminRequest.id)
        .where(AdminRequest.target == bindparam("actor"),
               AdminRequest.kind.in_((DISABLE, ENABLE)), AdminDecision.approved.is_(True))
        .order_by(AdminDecision.id.desc()).limit(1).scalar_subquery().label("disabled"),
        # the month closed for the ledger, or for any region on the payee's chain (a county's
        # closure is the one that can apply: `posting.closure_of`)
        (exists().where(PeriodClosure.period == period)
         | exists().where(CountyPeriodClosure.period == period,
                          CountyPeriodClosure.county_code.in_(
                              [payees.c.region_code] + [lv.c.parent_code for lv in levels])))
        .label("closed"),
        exists(select(literal(1)).select_from(deaths)).label("dead"),
    ]
    if dialect == "postgresql":   # ids from the tables' sequences, as an INSERT draws them
        def draw(table):
            return func.nextval(func.pg_get_serial_sequence(table, "id"))
        columns += [draw("transfers").label("transfer_id"), draw("postings").label("posting_id"),
                    draw("postings").label("posting2_id"), draw("accounts").label("account_id")]
    else:   # SQLite: the write lock is held and rows are never deleted (`db.new_ids`)
        columns += [select(func.max(t.c.id)).scalar_subquery().label(f"{name}_max")
                    for name, t in (("transfer", TRANSFERS), ("posting", POSTINGS),
                                    ("account", ACCOUNTS))]
    joined = lots.outerjoin(county, county.c.code == bindparam("county")) \
        .outerjoin(payees, payees.c.code == bindparam("payee"))
    above = payees.c.region_code
    for level in levels:
        joined = joined.outerjoin(level, level.c.code == above)
        above = level.c.parent_code
    joined = joined.outerjoin(src, and_(src.c.lot_id == lots.c.id,
                                        src.c.kind == bindparam("src_kind"),
                                        src.c.holder_code == bindparam("county"))) \
        .outerjoin(dst, and_(dst.c.lot_id == lots.c.id, dst.c.kind == bindparam("payee_kind"),
                             dst.c.holder_code == bindparam("payee")))
    return select(*columns).select_from(joined).where(lots.c.id == bindparam("lot"), true())


def _new_ids(session, dialect, row) -> dict:
    if dialect == "postgresql":
        return {"transfer": row.transfer_id, "posting": row.posting_id,
                "posting2": row.posting2_id, "account": row.account_id}
    return {"transfer": (row.transfer_max or 0) + 1, "posting": (row.posting_max or 0) + 1,
            "account": (row.account_max or 0) + 1}


def _insert_values(dialect, table, *rows: dict) -> tuple[str, list | tuple]:
    """The INSERT of rows holding every column of `table`, and its parameters as
    `db.insert_tuples` sends them (through each column type's bind processor)."""
    sql, convert = _inserter(dialect, table)
    values = [tuple(f(r[c]) if f is not None else r[c] for c, f in convert) for r in rows]
    return sql, values if len(values) > 1 else values[0]


_INSERTERS: dict = {}


def _inserter(dialect, table):
    key = (dialect.name, table.name)
    found = _INSERTERS.get(key)
    if found is None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        names = [c.key for c in table.columns]
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
               f"VALUES ({', '.join([mark] * len(names))})")
        convert = []
        for column in table.columns:
            processor = None if isinstance(column.type, LargeBinary) \
                else column.type._cached_bind_processor(dialect)
            convert.append((column.key, processor))
        found = _INSERTERS[key] = (sql, convert)
    return found


@functools.cache
def _image_columns(table) -> tuple[list[str], frozenset]:
    skip = unimaged_columns(table)
    from ledger.audit.entries import LATE_COLUMNS
    columns = canonical_key_order([c.key for c in table.columns if c.key not in skip])
    return columns, frozenset(LATE_COLUMNS.get(table.name, ()))


def _record(table, values: dict) -> tuple:
    """(table, key, 1, None, image) with the image's keys in canonical order (the entry is
    then encoded by `encode_ordered_entry`); the same image as `entries.table_record`."""
    columns, late = _image_columns(table)
    image = {}
    for column in columns:
        value = values[column]
        if value is None and column in late:
            continue
        image[column] = canonical_value(value)
    key = [canonical_value(values[c.key]) for c in table.primary_key.columns]
    return table.name, key, 1, None, image


def _expire_accounts(session, ids) -> None:
    """Balances moved in the database: an Account the session holds is re-read when used."""
    mapper = Account.__mapper__
    for account_id in ids:
        held = session.identity_map.get(mapper.identity_key_from_primary_key((account_id,)))
        if held is not None:
            session.expire(held)


def _attached(session, values: dict) -> Transfer:
    """The recorded transfer as a persistent ORM object, as the general path returns it (no
    query: the session adopts it as if it had just been loaded)."""
    # Filled in directly rather than through the declarative constructor (a fifth of this
    # path's CPU): make_transient_to_detached then marks every column loaded and unchanged.
    transfer = Transfer.__mapper__.class_manager.new_instance()
    transfer.__dict__.update({c.key: values[c.key] for c in TRANSFERS.columns})
    make_transient_to_detached(transfer)
    key = Transfer.__mapper__.identity_key_from_primary_key((values["id"],))
    stale = session.identity_map.get(key)   # a transfer of a rolled-back savepoint
    if stale is not None:
        session.expunge(stale)
    session.add(transfer)
    return transfer
