"""Personal signing keys: enrolment and revocation, four-eyes, recorded in the log
(docs/signatures.md).

A person signs every entry written in their name with a key the server never holds (the
command line: an Ed25519 key file; the web: a passkey). This module keeps the registry of the
public halves:

- `request_enrolment`: an administrator asks for a key to be enrolled for a person, carrying
  the key's proof of possession (its signature over `tlog.personal.enrolment_statement`); or a
  person holding a valid key asks for an extra key of their own (the request entry is then
  signed with the key they hold).
- `approve_enrolment`: a different administrator than the requester approves; the key is
  valid from that entry on.
- `revoke`: the holder revokes their own key at once; an administrator's revocation is a
  request that another administrator approves (`approve_revocation`).
- `enrol_genesis`: the first administrator's key, written by `fundtrail init` right after the
  bootstrap entry: the one key without an approval. The log's first checkpoints, which the
  cosigners seal, fix it for everyone.

The same rules are checked again, from the log alone, by `ledger.audit.tlog.personal`.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.audit.log import lock_head, log_origin, record_change
from ledger.audit.tlog import personal
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import Role, User
from ledger.models.personal_keys import PersonalKey, PersonalKeyRequest, PersonalKeyRevocation
from ledger.store.access import Action, require

ENROL = "enrol"
REVOKE = "revoke"
REQUEST_KIND = "key.request"


@dataclass(frozen=True)
class KeyInfo:
    """A key of a person, as `keys_of` lists it."""
    key_id: str
    kind: str
    public_key: bytes
    rp_id: str | None
    requested_by: str
    approved_by: str
    valid_from: dt.datetime
    valid_from_index: int
    revoked_at: dt.datetime | None
    revoked_by: str | None

    @property
    def valid(self) -> bool:
        return self.revoked_at is None


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise LedgerError(f"user {username!r} does not exist", code="not_found", what="user",
                          key=username)
    return user


def key_id_for(kind: str, public_key: bytes, credential_id: str | None = None) -> str:
    """The key id of a new key: from the Ed25519 public key, or the WebAuthn credential id
    ("webauthn:" + base64url, which the caller gives)."""
    if kind == personal.ED25519:
        if len(public_key) != 32:
            raise LedgerError("an Ed25519 public key is 32 bytes", code="personal_key_invalid",
                              detail=f"{len(public_key)} bytes")
        return personal.ed25519_key_id(public_key)
    if kind == personal.WEBAUTHN and credential_id:
        return credential_id if credential_id.startswith("webauthn:") else \
            "webauthn:" + credential_id
    raise LedgerError(f"unknown key kind {kind!r}", code="personal_key_kind", kind=kind)


def keys_of(session: Session, username: str) -> list[KeyInfo]:
    """Every key ever enrolled for `username`, oldest first, with its validity."""
    revoked = {r.key_id: r for r in session.execute(
        select(PersonalKeyRevocation).join(
            PersonalKey, PersonalKey.key_id == PersonalKeyRevocation.key_id)
        .where(PersonalKey.username == username)).scalars()}
    out = []
    for key in session.execute(select(PersonalKey).where(PersonalKey.username == username)
                               .order_by(PersonalKey.id)).scalars():
        revocation = revoked.get(key.key_id)
        out.append(KeyInfo(key.key_id, key.kind, bytes(key.public_key), key.rp_id,
                           key.requested_by, key.approved_by, key.valid_from, key.log_index,
                           revocation.at if revocation else None,
                           revocation.revoked_by if revocation else None))
    return out


def valid_key(session: Session, username: str, key_id: str) -> KeyInfo | None:
    """The key `key_id` if it is a valid (enrolled, unrevoked) key of `username`."""
    for key in keys_of(session, username):
        if key.key_id == key_id and key.valid:
            return key
    return None


def holds_key(session: Session, username: str) -> bool:
    """Whether `username` holds at least one valid key."""
    return any(k.valid for k in keys_of(session, username))


def key_holders(session: Session) -> set[str]:
    """The usernames holding at least one valid key."""
    revoked = select(PersonalKeyRevocation.key_id)
    return set(session.execute(select(PersonalKey.username).where(
        PersonalKey.key_id.not_in(revoked))).scalars())


def _taken(session: Session, key_id: str) -> bool:
    enrolled = session.execute(select(func.count()).select_from(PersonalKey)
                               .where(PersonalKey.key_id == key_id)).scalar_one()
    pending = [r for r in pending_requests(session) if r.key_id == key_id and r.action == ENROL]
    return bool(enrolled or pending)


def _check_proof(session: Session, kind: str, username: str, key_id: str, public_key: bytes,
                 proof: bytes | None, rp_id: str | None) -> None:
    if not personal.check_proof(kind, log_origin(session), username, key_id, public_key,
                                proof, rp_id):
        raise LedgerError(f"the proof of possession of {key_id} for {username} does not "
                          "verify", code="personal_key_proof_invalid", key_id=key_id,
                          username=username)


def request_enrolment(session: Session, actor: User, username: str, kind: str,
                      public_key: bytes, proof: bytes | None, rp_id: str | None = None,
                      credential_id: str | None = None) -> int:
    """Ask for `public_key` to be enrolled for `username`; returns the request's id.

    `actor` is an administrator over the person's region, or the person themselves holding a
    valid key (an extra key: the entry is then signed with the key they hold). `proof` is the
    new key's signature over `tlog.personal.enrolment_statement(origin, username, key_id)`."""
    lock_head(session)
    owner = _user(session, username)
    key_id = key_id_for(kind, bytes(public_key), credential_id)
    if actor.username == username and actor.role != Role.ADMIN:
        if not holds_key(session, username):
            raise LedgerError(f"{username} holds no valid key, so an administrator must "
                              "request their key", code="personal_key_self_request",
                              username=username)
    elif actor.username != username or not holds_key(session, username):
        require(session, actor, Action.ADMINISTER, owner.region_code)
    _check_proof(session, kind, username, key_id, bytes(public_key), proof, rp_id)
    if _taken(session, key_id):
        raise LedgerError(f"key {key_id} is already enrolled or requested",
                          code="personal_key_exists", key_id=key_id)
    with record_change(session, actor.username, REQUEST_KIND, username=username,
                       key_id=key_id) as change:
        request = PersonalKeyRequest(
            action=ENROL, user_id=owner.id, username=username, key_id=key_id, kind=kind,
            public_key=bytes(public_key), rp_id=rp_id, proof=proof, reason=None,
            requested_by=actor.username, requested_at=change.time)
        change.add(request)
    return request.id


def pending_requests(session: Session) -> list[PersonalKeyRequest]:
    """Requests (enrolments and revocations) not yet approved, oldest first."""
    decided = select(PersonalKey.request_id).where(PersonalKey.request_id.is_not(None)) \
        .union(select(PersonalKeyRevocation.request_id)
               .where(PersonalKeyRevocation.request_id.is_not(None)))
    return list(session.execute(select(PersonalKeyRequest)
                                .where(PersonalKeyRequest.id.not_in(decided))
                                .order_by(PersonalKeyRequest.id)).scalars())


def _pending(session: Session, request_id: int, action: str) -> PersonalKeyRequest:
    for request in pending_requests(session):
        if request.id == request_id and request.action == action:
            return request
    raise LedgerError(f"no pending {action} request #{request_id}",
                      code="personal_key_request_missing", request=request_id, action=action)


def _second_pair_of_eyes(actor: User, request: PersonalKeyRequest) -> None:
    # The approver is an administrator other than the requester. The key's holder may be that
    # administrator (the second administrator's own key, requested by the first): two people
    # still act, and the key's proof shows the holder has it.
    if actor.username == request.requested_by:
        raise PermissionDenied(
            f"{actor.username} may not approve key request #{request.id}: another "
            "administrator must (four eyes)", code="personal_key_four_eyes",
            request=request.id, user=actor.username)


def approve_enrolment(session: Session, actor: User, request_id: int) -> str:
    """A second administrator approves an enrolment request; the key is valid from this
    entry on. Returns the key id."""
    lock_head(session)
    request = _pending(session, request_id, ENROL)
    owner = session.get(User, request.user_id)
    require(session, actor, Action.ADMINISTER, owner.region_code)
    _second_pair_of_eyes(actor, request)
    with record_change(session, actor.username, "key.approve", username=request.username,
                       key_id=request.key_id, request=request.id) as change:
        change.add(PersonalKey(
            request_id=request.id, user_id=request.user_id, username=request.username,
            key_id=request.key_id, kind=request.kind, public_key=request.public_key,
            rp_id=request.rp_id, proof=None, requested_by=request.requested_by,
            approved_by=actor.username, valid_from=change.time))
    return request.key_id


def _enrolled(session: Session, key_id: str) -> PersonalKey:
    key = session.execute(select(PersonalKey).where(PersonalKey.key_id == key_id)) \
        .scalar_one_or_none()
    if key is None:
        raise LedgerError(f"no key {key_id} is enrolled", code="personal_key_unknown",
                          key_id=key_id)
    revoked = session.execute(select(func.count()).select_from(PersonalKeyRevocation)
                              .where(PersonalKeyRevocation.key_id == key_id)).scalar_one()
    if revoked:
        raise LedgerError(f"key {key_id} is already revoked",
                          code="personal_key_already_revoked", key_id=key_id)
    return key


def revoke(session: Session, actor: User, key_id: str, reason: str) -> int | None:
    """Revoke a key. Its holder revokes it at once (returns None); an administrator asks,
    and another administrator approves with `approve_revocation` (returns the request id)."""
    lock_head(session)
    key = _enrolled(session, key_id)
    if actor.username == key.username:
        with record_change(session, actor.username, "key.revoke", key_id=key_id,
                           username=key.username) as change:
            change.add(PersonalKeyRevocation(
                request_id=None, key_id=key_id, revoked_by=actor.username, approved_by=None,
                at=change.time, reason=reason))
        return None
    owner = session.get(User, key.user_id)
    require(session, actor, Action.ADMINISTER, owner.region_code)
    if any(r.key_id == key_id and r.action == REVOKE for r in pending_requests(session)):
        raise LedgerError(f"the revocation of {key_id} is already requested",
                          code="personal_key_exists", key_id=key_id)
    with record_change(session, actor.username, "key.revoke_request", key_id=key_id,
                       username=key.username) as change:
        request = PersonalKeyRequest(
            action=REVOKE, user_id=key.user_id, username=key.username, key_id=key_id,
            kind=key.kind, public_key=None, rp_id=None, proof=None, reason=reason,
            requested_by=actor.username, requested_at=change.time)
        change.add(request)
    return request.id


def approve_revocation(session: Session, actor: User, request_id: int) -> str:
    """A second administrator approves an administrator's revocation request."""
    lock_head(session)
    request = _pending(session, request_id, REVOKE)
    key = _enrolled(session, request.key_id)
    owner = session.get(User, key.user_id)
    require(session, actor, Action.ADMINISTER, owner.region_code)
    if actor.username == request.requested_by:
        raise PermissionDenied(
            f"{actor.username} may not approve key request #{request.id}: another "
            "administrator must (four eyes)", code="personal_key_four_eyes",
            request=request.id, user=actor.username)
    with record_change(session, actor.username, "key.revoke", key_id=key.key_id,
                       username=key.username, request=request.id) as change:
        change.add(PersonalKeyRevocation(
            request_id=request.id, key_id=key.key_id, revoked_by=request.requested_by,
            approved_by=actor.username, at=change.time, reason=request.reason or ""))
    return key.key_id


def enrol_genesis(session: Session, admin_username: str, public_key: bytes,
                  proof: bytes) -> str:
    """The first administrator's key, in the entry right after the bootstrap entry (same
    transaction, `fundtrail init`). Refused once any key exists or the log holds anything but
    the bootstrap entry: every later key needs two administrators."""
    head = lock_head(session)
    admin = _user(session, admin_username)
    users = session.execute(select(func.count()).select_from(User)).scalar_one()
    keys = session.execute(select(func.count()).select_from(PersonalKey)).scalar_one()
    if head.size != 1 or users != 1 or keys or admin.role != Role.ADMIN:
        raise LedgerError("the first administrator's key is enrolled only by fundtrail init, "
                          "right after the first entry", code="personal_key_genesis")
    key_id = key_id_for(personal.ED25519, bytes(public_key))
    _check_proof(session, personal.ED25519, admin_username, key_id, bytes(public_key), proof,
                 None)
    with record_change(session, admin_username, personal.GENESIS_KIND, key_id=key_id,
                       username=admin_username) as change:
        change.add(PersonalKey(
            request_id=None, user_id=admin.id, username=admin_username, key_id=key_id,
            kind=personal.ED25519, public_key=bytes(public_key), rp_id=None, proof=proof,
            requested_by=admin_username, approved_by=admin_username, valid_from=change.time))
    return key_id



# --------------------------------------------------------------------------- key files

def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)


def write_key_file(path: str | Path, private_key: Ed25519PrivateKey, passphrase: str) -> None:
    """Write `private_key` as PEM PKCS#8, encrypted with `passphrase`, readable by its owner
    only. An existing file is never overwritten (it may be someone's only copy of a key)."""
    if not passphrase:
        raise LedgerError("a key file needs a passphrase", code="personal_key_file",
                          path=str(path), detail="empty passphrase")
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise LedgerError(f"cannot write the key file {path}: {exc.strerror}",
                          code="personal_key_file", path=str(path), detail=exc.strerror) \
            from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def read_key_file(path: str | Path, passphrase: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PKCS#8 PEM file `path`, decrypted with `passphrase`."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read the key file {path}: {exc.strerror}",
                          code="personal_key_file", path=str(path), detail=exc.strerror) \
            from None
    try:
        key = serialization.load_pem_private_key(data, (passphrase or "").encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise LedgerError(f"cannot read the key file {path}: {exc}", code="personal_key_file",
                          path=str(path), detail="wrong passphrase or not a PKCS#8 key") \
            from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(f"cannot read the key file {path}: not an Ed25519 key",
                          code="personal_key_file", path=str(path),
                          detail="not an Ed25519 key")
    return key


def proof_of_possession(session: Session, private_key: Ed25519PrivateKey,
                        username: str) -> tuple[bytes, str, bytes]:
    """(public key, key id, proof) for enrolling `private_key` for `username` in this
    session's log: the key's signature over the enrolment statement."""
    public = raw_public_key(private_key)
    key_id = personal.ed25519_key_id(public)
    statement = personal.enrolment_statement(log_origin(session), username, key_id)
    return public, key_id, private_key.sign(statement)


# --------------------------------------------------------------------------- signers

class KeyFileSigner:
    """Signs the entries of one person with their Ed25519 key (decrypted once, in this
    process; the server's database never sees it). Signing an entry costs ~0.1 ms (measured
    with its digest): a roll of ten thousand lines pays a second or two."""

    def __init__(self, username: str, private_key: Ed25519PrivateKey):
        self.username = username
        self._key = private_key
        self.key_id = personal.ed25519_key_id(raw_public_key(private_key))

    def speaks_for(self, actor: str) -> bool:
        return actor == self.username

    def authorise(self, actor: str, kind: str, details: dict, tbs: bytes) -> dict:
        return {"t": personal.ED25519, "key": self.key_id,
                "sig": self._key.sign(personal.entry_message(tbs))}


class RefusingSigner:
    """Stands for a person who cannot sign (no key file, or a key that is not theirs): any
    change in their name is refused, and rolled back with everything else of its command.
    Reading needs no signature, so it is only asked when an entry is written."""

    def __init__(self, person: str, refusal: LedgerError):
        self.username = person
        self.refusal = refusal

    def speaks_for(self, actor: str) -> bool:
        return actor == self.username

    def authorise(self, actor: str, kind: str, details: dict, tbs: bytes) -> dict | None:
        if kind == REQUEST_KIND and details.get("username") == actor:
            # The one change a person without a valid key makes: asking for their own first
            # key (an administrator, for themselves). Another administrator approves it, signed.
            return None
        raise self.refusal


def signer_for(session: Session, username: str, private_key: Ed25519PrivateKey | None):
    """The signer of a person acting through the command line: their key if it is one of
    their valid keys, else a signer that refuses every change in their name."""
    if private_key is None:
        return RefusingSigner(username, LedgerError(
            f"{username} gave no signing key (--key-file FILE, FUNDTRAIL_KEY or "
            "FUNDTRAIL_KEY_DIR): changes in their name must be signed",
            code="personal_key_required", username=username))
    signer = KeyFileSigner(username, private_key)
    if valid_key(session, username, signer.key_id) is None:
        return RefusingSigner(username, LedgerError(
            f"key {signer.key_id} is not a valid key of {username}",
            code="personal_key_not_theirs", username=username, key_id=signer.key_id))
    return signer
