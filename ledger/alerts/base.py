"""The set-based queries the alert rules share. What a rule returns, a Finding, is
ledger.screening.finding."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import Boolean, Column, Index, MetaData, Table, and_, exists, select
from sqlalchemy.orm import Session, aliased

from ledger.core.money import format_yuan
from ledger.models import Account, AccountKind, Approval, Decision, Posting, Transfer, TransferKind


@dataclass
class ScanContext:
    session: Session
    # An AlertSettings (ledger.alerts.settings). Not imported for the annotation: it is made
    # from the settings the rule modules declare, and the rule modules import this module.
    settings: object
    as_of: dt.date
    vault: object = None  # PiiVault, for rules that must read personal data
    cache: dict = field(default_factory=dict)


# Rows a whole-table read fetches at a time (`stream`).
STREAM_ROWS = 10_000


def stream(session, statement):
    """The rows of a read over a whole table (every member, every payment), through the
    session's connection: SQLAlchemy Core, not the ORM — for plain columns the ORM's result
    costs two to three times as much a row (72,000 members: 0.3 s against 0.1 s). SQLite
    steps its cursor as the rows are read; on PostgreSQL `yield_per` reads STREAM_ROWS at a
    time through a server-side cursor, so a province's members are never all in memory at
    once (on SQLite the option only adds buffering)."""
    connection = session.connection() if isinstance(session, Session) else session
    options = {"yield_per": STREAM_ROWS} if connection.dialect.name == "postgresql" else {}
    return connection.execute(statement, execution_options=options)


def payments(*, include_pending: bool = True):
    """PAY transfers that stand: approved (or still pending), not rejected, not reversed.

    Columns: id, date, amount, lot_id, county (paying region), memo, function_code, use_code,
    key, recorded_at, payee (holder code), src_kind, src_holder.

    Inside `shared_payments` (a scan), the rows come from the scan's temporary copy.
    """
    table = _SHARED.get()
    if table is not None:
        columns = [c for c in table.c if c.key != "approved"]
        query = select(*columns)
        if not include_pending:
            query = query.where(table.c.approved)
        return query.subquery("payments")
    return _payments_query(include_pending)


# The scan's copy of the payments (see `shared_payments`), while one is running.
_SHARED: ContextVar[Table | None] = ContextVar("shared_payments", default=None)


@contextmanager
def shared_payments(session: Session) -> Iterator[None]:
    """Evaluate the payments once for a whole scan: a temporary table of `payments()` with an
    `approved` flag, which every rule's `payments()` then reads.

    About twenty rules join the payments; as a subquery each had the database work out the
    joins of transfers, postings, accounts and approvals again (≈ 0.3 s a time at 20,000
    payments). The copy lives in the scan's transaction and connection only, and is dropped
    when the scan ends.
    """
    if _SHARED.get() is not None:  # a scan inside a scan reads the copy already made
        yield
        return
    source = _payments_query(include_pending=True)
    approved = _approved(source.c.id)
    table = Table("scan_payments", MetaData(),
                  *(Column(c.key, c.type) for c in source.c),
                  Column("approved", Boolean), prefixes=["TEMPORARY"])
    connection = session.connection()
    table.create(connection)
    try:
        connection.execute(table.insert().from_select(
            [c.key for c in source.c] + ["approved"], select(source, approved)))
        for name, columns in (("id", ["id"]), ("payee", ["payee", "date"])):
            Index(f"scan_payments_{name}", *(table.c[c] for c in columns)).create(connection)
        if connection.dialect.name == "postgresql":
            # Temporary tables get no statistics from autovacuum: without them the planner
            # guesses, and guesses nested loops (docs/operations.md, "After a bulk load").
            connection.exec_driver_sql("ANALYZE scan_payments")
        token = _SHARED.set(table)
        try:
            yield
        finally:
            _SHARED.reset(token)
    finally:
        table.drop(connection)


def _approved(transfer_id):
    """The transfer was approved: what `payments(include_pending=False)` asks of each row."""
    return exists(select(Approval.id).where(Approval.transfer_id == transfer_id,
                                            Approval.decision == Decision.APPROVED))


def _payments_query(include_pending: bool):
    payee_post, src_post = aliased(Posting), aliased(Posting)
    payee_acc, src_acc = aliased(Account), aliased(Account)
    reversal = aliased(Transfer)
    rev_ok = aliased(Approval)
    rejected = select(Approval.id).where(Approval.transfer_id == Transfer.id,
                                         Approval.decision == Decision.REJECTED)
    reversed_ = select(reversal.id).join(rev_ok, and_(rev_ok.transfer_id == reversal.id,
                                                      rev_ok.decision == Decision.APPROVED)) \
        .where(reversal.reverses_id == Transfer.id)
    conditions = [Transfer.kind == TransferKind.PAY, ~exists(rejected), ~exists(reversed_)]
    if not include_pending:
        conditions.append(_approved(Transfer.id))
    return (select(Transfer.id.label("id"), Transfer.effective_date.label("date"),
                   Transfer.amount_fen.label("amount"), Transfer.lot_id.label("lot_id"),
                   Transfer.region_code.label("county"), Transfer.memo.label("memo"),
                   Transfer.function_code.label("function_code"),
                   Transfer.use_code.label("use_code"),
                   Transfer.idempotency_key.label("key"),
                   Transfer.recorded_at.label("recorded_at"),
                   payee_acc.holder_code.label("payee"),
                   payee_acc.region_code.label("payee_region"),
                   src_acc.kind.label("src_kind"), src_acc.holder_code.label("src_holder"))
            .join(payee_post, and_(payee_post.transfer_id == Transfer.id,
                                   payee_post.amount_fen > 0))
            .join(payee_acc, and_(payee_acc.id == payee_post.account_id,
                                  payee_acc.kind == AccountKind.PAYEE))
            .join(src_post, and_(src_post.transfer_id == Transfer.id, src_post.amount_fen < 0))
            .join(src_acc, src_acc.id == src_post.account_id)
            .where(*conditions)).subquery("payments")


def transfer_evidence(row) -> dict:
    """One payment as evidence: what a finance officer looks up (voucher key, date, amount)."""
    return {"transfer_id": row.id, "date": row.date.isoformat(), "amount_fen": row.amount,
            "amount": format_yuan(row.amount), "key": row.key, "memo": row.memo or "",
            "payee": row.payee, "lot_id": row.lot_id}


def yuan(fen: int) -> str:
    return "¥" + format_yuan(fen)
