"""The web's passkey bookkeeping (docs/passkeys.md): what the WebAuthn ceremonies need between
two requests. None of it is part of the books, and none of it is trusted by verification —
the key registry is `personal_keys` (bound in the log), and every signature is checked there.

- `passkey_registrations`: a passkey a person created while signed in, with its proof of
  possession, waiting for an administrator to file the enrolment request (the signing rules
  let only an administrator ask for a person's first key; ledger.org.personal_keys).
  Append-only: a registration is filed when a request with its key id exists.
- `passkey_counters`: each passkey's signature counter, moved forward at every use (W3C
  WebAuthn §7.2 step 18: a counter that does not grow is a cloned authenticator).
- `passkey_challenges`: the single-use challenges of the ceremonies — a registration's random
  challenge, or the intent a confirmation page asked the person to sign — deleted when used.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.ledger import Base, Id


class PasskeyRegistration(Base):
    __tablename__ = "passkey_registrations"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(200), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)      # the COSE_Key
    rp_id: Mapped[str] = mapped_column(String(200))
    proof: Mapped[bytes] = mapped_column(LargeBinary)           # tlog.webauthn.encode_proof
    sign_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PasskeyCounter(Base):
    __tablename__ = "passkey_counters"
    key_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PasskeyChallenge(Base):
    __tablename__ = "passkey_challenges"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(16))            # "register" | "intent"
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# Tables of this module that are append-only (collected in ledger.models.APPEND_ONLY_TABLES).
APPEND_ONLY = ("passkey_registrations",)
