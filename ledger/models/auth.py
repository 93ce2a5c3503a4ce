"""Tables of staff sign-in: passwords (append-only, in the audit log) and login attempts.

A password is never updated in place: setting one appends a `UserCredential` and the newest
one counts, so the audit log holds every change (as a commitment to the hash, never the hash
itself). Login attempts are operational data for rate limiting and lockout; they are not
history and carry no log index (the log records each login and each lockout instead).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, log_id_column


class UserCredential(Base):
    """One password set for a user; the one with the highest id is current."""
    __tablename__ = "user_credentials"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # scrypt parameters, salt and hash; the audit log keeps only a SHA-256 commitment.
    password_hash: Mapped[str] = mapped_column(Text, info={"pii": True})
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class LoginAttempt(Base):
    """A sign-in attempt, kept to rate-limit by username and by client address."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_client_at", "client", "at"))
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("user_credentials",)
