"""Refused attempts (issue 18): a movement of money the ledger refused because it would break a
control against misuse (an overdraft, the purpose lock, a prohibited use, a blacklisted payee,
a closed period, the recorder approving their own entry…), kept so that auditors see what was
prevented, by whom, when and why.

One row per refused attempt, written through the audit log in a transaction of its own after
the refused one rolled back (`ledger.funds.refusals_log`): the refused write leaves nothing, its
record stays. Which refusal codes count, and which alert rule each one prevents, is one table
in `ledger.funds.refusals_log` (PREVENTED).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, log_id_column


class RefusedAttempt(Base):
    """Who tried what, when, and why the ledger refused it.

    `kind` is what was tried (pay, allocate, fund_project, approve, reverse, roll_send, and for
    a file its import kind); `source_kind`/`source_holder` the account the money would have
    left (unit or project, as accounts name them), `target` where it would have gone (a payee,
    a region, a project); `code` and `params` the refusal as `ledger.core.refusals` lists it,
    with long numbers in its text masked. Codes and names only: no ID or card number is kept.
    A file refused whole names its file, line and column."""
    __tablename__ = "refused_attempts"
    __table_args__ = (Index("ix_refused_attempts_region_at", "region_code", "attempted_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # server time
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40), index=True)
    params: Mapped[dict] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(String(40))     # the region that would have paid
    lot_id: Mapped[int | None] = mapped_column(BigInteger)
    source_kind: Mapped[str | None] = mapped_column(String(20))
    source_holder: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(100))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    day: Mapped[dt.date | None] = mapped_column(Date)          # the date the entry asked for
    idempotency_key: Mapped[str | None] = mapped_column(String(200))   # voucher number
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)  # an approval's or reversal's
    roll_code: Mapped[str | None] = mapped_column(String(40))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_line: Mapped[int | None] = mapped_column(Integer)
    file_column: Mapped[str | None] = mapped_column(String(40))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("refused_attempts",)
