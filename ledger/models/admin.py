"""Tables of administration under four eyes, and of staff sign-in sessions.

- `AdminRequest`: a change to who may act (a new user, a password reset, a user disabled) as
  one administrator asked for it. It takes effect only through an `AdminDecision` by a second
  administrator. Both are append-only and each is an audit-log entry of its own, so the log
  names who asked and who agreed. A request's `kind` is open-ended text (user.create,
  user.password_reset, user.disable, user.enable; later key enrolment), not an enum, so a new
  kind needs no migration.
- `StaffSession`: one signed-in browser. The cookie carries only a random token; the table
  keeps its SHA-256, so a copied table gives no usable cookie. A session ends when its owner
  signs out, when the password changes, when the user is disabled, when the owner or an
  administrator ends it, or after `LIFETIME`. Operational data, not history (the log records
  each sign-in and sign-out), so it carries no log index and rows are updated when they end.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, log_id_column


class AdminRequest(Base):
    """One administrator's request for a change that a second administrator must approve."""
    __tablename__ = "admin_requests"
    __table_args__ = (Index("ix_admin_requests_target", "target"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(64))        # the username the change is about
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))  # whose admins decide
    details: Mapped[dict] = mapped_column(JSON)            # e.g. display_name and role of a user
    # A new password's scrypt hash (never the password): set on approval, seen by nobody.
    password_hash: Mapped[str | None] = mapped_column(Text, info={"pii": True})
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class AdminDecision(Base):
    """A second administrator's approval or refusal of a request (at most one per request)."""
    __tablename__ = "admin_decisions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("admin_requests.id"), unique=True)
    approved: Mapped[bool] = mapped_column()
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class StaffSession(Base):
    """One signed-in browser session (web)."""
    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user", "user_id", "ended_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    credential_id: Mapped[int] = mapped_column(BigInteger)  # the password it was opened with
    client: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_why: Mapped[str | None] = mapped_column(String(40))


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("admin_requests", "admin_decisions")
