"""Personal signing keys (issue 19): the public keys with which people sign the entries written
in their name, enrolled and revoked four-eyes, every step bound in the audit log.

A request (`PersonalKeyRequest`, action "enrol" or "revoke") is one entry; its approval — a
`PersonalKey` row (the key becomes valid) or a `PersonalKeyRevocation` row — is another entry by
a different person. The log's row images of these three tables are the key registry that
`fundtrail verify` and the offline verifier rebuild (ledger.audit.tlog.personal). Nothing is
updated in place: a pending request is one without a decision row.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id, log_id_column


class PersonalKeyRequest(Base):
    """A request to enrol a key for a person (with the new key's proof of possession: its
    signature over `tlog.personal.enrolment_statement`), or to revoke one of their keys."""
    __tablename__ = "personal_key_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(10))          # "enrol" | "revoke"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))        # whose key
    key_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))            # "ed25519" | "webauthn"
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    rp_id: Mapped[str | None] = mapped_column(String(200))
    proof: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class PersonalKey(Base):
    """An enrolled key: valid from the entry that wrote this row (its approval) until a
    revocation. `request_id` is None only for the first administrator's key, enrolled at
    `fundtrail init` (entry kind "key.genesis"), whose `proof` is then kept here."""
    __tablename__ = "personal_keys"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("personal_key_requests.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    rp_id: Mapped[str | None] = mapped_column(String(200))
    proof: Mapped[bytes | None] = mapped_column(LargeBinary)
    requested_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


class PersonalKeyRevocation(Base):
    """A key revoked: by its holder alone (`request_id` None), or by an administrator's
    approval of another administrator's request. Signatures after this entry are findings."""
    __tablename__ = "personal_key_revocations"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("personal_key_requests.id"))
    key_id: Mapped[str] = mapped_column(String(200), unique=True)
    revoked_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(500))
    log_index: Mapped[int] = mapped_column(BigInteger)
    log_id: Mapped[int] = log_id_column()


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("personal_key_requests", "personal_keys", "personal_key_revocations")
