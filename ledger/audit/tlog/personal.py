"""Personal signatures on log entries, checked without a database (docs/signatures.md).

An entry written in a person's name may carry a 10th element, `auth`: a map saying which of
that person's keys signed the entry and how. What is signed is the entry without `auth`:

    TBS = SHA-256(canonical CBOR of the entry's first 9 fields)
    {"t": "ed25519", "key": key_id, "sig": Ed25519(b"fundtrail entry v1\\n" + TBS)}

so a signature cannot be moved to another entry, index or log (the origin, index and
previous root are in the TBS). WebAuthn assertions ({"t": "webauthn", …}) are checked by
`ledger.audit.tlog.webauthn`, when that module is present.

Keys come from the log itself: the row images of `personal_key_requests`, `personal_keys` and
`personal_key_revocations` in the entries say who asked for which key, who approved it and when
it was revoked. `SignatureAudit` reads the entries in order, keeps that registry, and reports
every entry in someone's name without a valid signature by a key they held at that moment,
and every enrolment or revocation that broke the four-eyes rules. The online `fundtrail verify`
and the offline bundle verifier feed it the same entries, so they report the same findings.

Only the standard library and `cryptography` are used (the offline verifier imports this).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import cbormin

ENTRY_CONTEXT = b"fundtrail entry v1\n"
ENROLMENT_CONTEXT = b"fundtrail key enrolment v1\n"
ED25519 = "ed25519"
WEBAUTHN = "webauthn"
KINDS = (ED25519, WEBAUTHN)

# The tables whose row images make the key registry (ledger.models.personal_keys).
REQUESTS = "personal_key_requests"
KEYS = "personal_keys"
REVOCATIONS = "personal_key_revocations"

# Entry kinds of the registry (ledger.org.personal_keys writes them).
GENESIS_KIND = "key.genesis"
# Entries recorded ABOUT a person rather than authorised BY them: sign-in events the server
# records (a failed sign-in is written under the name that was tried, by whoever tried it), and
# a password the operator set at the server's command line (details say by="command line").
# A refused attempt ("refusal.record") is written after the refused change rolled back, in the
# name of who tried it: on the web nothing the person confirmed covers it (their passkey signed
# the change that was refused, not the record of its refusal), so it is recorded about them.
# Unsigned, they are counted apart and are never findings; a signature on one is still checked.
# Each such kind with the only tables its rows may be in: an entry of that kind carrying any
# other row (a transfer, a key, a user) is judged as what it writes, never let through as an
# event (a red-team review forged a payment by naming its entry "auth.login").
EVENT_KINDS = {"auth.login_failed": frozenset(), "auth.locked": frozenset(),
               "auth.login": frozenset(), "auth.logout": frozenset(),
               "auth.login_disabled": frozenset(),
               "refusal.record": frozenset({"refused_attempts"})}
OPERATOR_KINDS = {"auth.password": frozenset({"user_credentials"})}
BOOTSTRAP_KIND = "bootstrap"
ADMIN_ROLE = "admin"


def ed25519_key_id(raw_public_key: bytes) -> str:
    """"ed25519:" and the first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    return "ed25519:" + hashlib.sha256(raw_public_key).hexdigest()[:16]


def tbs_of_body(body: list) -> bytes:
    """The to-be-signed digest of a decoded entry (its first 9 fields, canonical CBOR)."""
    return hashlib.sha256(cbormin.encode(list(body[:9]))).digest()


def tbs_of_encoded(unsigned_entry: bytes) -> bytes:
    """The to-be-signed digest of an entry encoded without `auth` (as the log writes it)."""
    return hashlib.sha256(unsigned_entry).digest()


def entry_message(tbs: bytes) -> bytes:
    """What an Ed25519 key signs for an entry."""
    return ENTRY_CONTEXT + tbs


def enrolment_statement(origin: str, username: str, key_id: str) -> bytes:
    """What a new key signs to prove its holder has it (proof of possession): the log, the
    person and the key, so that the proof cannot enrol the key for someone else or elsewhere."""
    return ENROLMENT_CONTEXT + f"{origin}\n{username}\n{key_id}\n".encode("utf-8")


def check_ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


@dataclass
class KeyRecord:
    """One key of the registry, as the log tells it."""
    key_id: str
    username: str
    kind: str
    public_key: bytes
    rp_id: str | None = None
    valid_from: int | None = None      # index of the approval entry
    revoked_at: int | None = None      # index of the revocation entry

    def valid_at(self, index: int) -> bool:
        """Valid for entries after its approval and up to (and including) its revocation entry
        (a person revoking their own key signs that entry with it)."""
        return (self.valid_from is not None and self.valid_from < index
                and (self.revoked_at is None or index <= self.revoked_at))


# A checker for one kind of `auth`: (key, auth map, decoded entry, tbs, audit) → problem or None.
AuthChecker = Callable[["KeyRecord", dict, list, bytes, "SignatureAudit"], "str | None"]


def _check_ed25519_auth(key: KeyRecord, auth: dict, _body: list, tbs: bytes,
                        _audit: "SignatureAudit") -> str | None:
    if key.kind != ED25519:
        return f"auth type ed25519 with a {key.kind} key"
    sig = auth.get("sig")
    if not isinstance(sig, bytes) or not check_ed25519(key.public_key, sig, entry_message(tbs)):
        return "the Ed25519 signature does not verify over this entry"
    return None


def _check_webauthn_auth(key: KeyRecord, auth: dict, body: list, tbs: bytes,
                         audit: "SignatureAudit") -> str | None:
    try:  # written by the web's passkey flow; absent in a deployment without it
        from . import webauthn
    except ImportError:
        return "a WebAuthn signature, and this verifier cannot check WebAuthn"
    return webauthn.check_entry_auth(key, auth, body, tbs, audit)


CHECKERS: dict[str, AuthChecker] = {ED25519: _check_ed25519_auth, WEBAUTHN: _check_webauthn_auth}


def check_proof(kind: str, origin: str, username: str, key_id: str, public_key: bytes,
                proof: bytes | None, rp_id: str | None = None) -> bool:
    """Whether `proof` shows possession of the key being enrolled for `username` in `origin`."""
    statement = enrolment_statement(origin, username, key_id)
    if kind == ED25519:
        return (isinstance(proof, bytes) and key_id == ed25519_key_id(public_key)
                and check_ed25519(public_key, proof, statement))
    if kind == WEBAUTHN:
        try:
            from . import webauthn
        except ImportError:
            return False
        return webauthn.check_proof(public_key, proof, statement, rp_id, key_id)
    return False


def _recorded_about(kind: str, details, rows) -> bool:
    """Whether an unsigned entry is one recorded about a person (above): of such a kind, and
    writing rows of that kind's own tables only."""
    allowed = EVENT_KINDS.get(kind)
    if allowed is None and kind in OPERATOR_KINDS and isinstance(details, dict) and \
            details.get("by") == "command line":
        allowed = OPERATOR_KINDS[kind]
    if allowed is None or not isinstance(rows, list):
        return False
    return all(isinstance(r, list) and r and r[0] in allowed for r in rows)


@dataclass
class SignatureFinding:
    index: int
    actor: str
    kind: str
    problem: str

    def to_json(self) -> dict:
        return {"entry": self.index, "actor": self.actor, "kind": self.kind,
                "problem": self.problem}

    def __str__(self) -> str:
        return f"entry {self.index} ({self.kind}) in the name of {self.actor}: {self.problem}"


@dataclass
class SignatureAudit:
    """Reads a log's entries in order; reports entries without their actor's valid signature
    and enrolments or revocations that broke the rules (docs/signatures.md, "What verify
    checks")."""
    origin: str
    require_signatures: bool = False
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    requests: dict[int, dict] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)        # username → role, as logged
    usernames: dict[int, str] = field(default_factory=dict)    # user id → username
    bootstrap_actor: str | None = None
    findings: list[SignatureFinding] = field(default_factory=list)
    signed: int = 0
    unsigned: int = 0            # entries by persons holding no key at that time
    unsigned_actors: dict[str, int] = field(default_factory=dict)
    events: int = 0              # unsigned sign-in events and operator records (EVENT_KINDS)
    seen_nonces: set = field(default_factory=set)  # for WebAuthn intents

    def keys_of(self, username: str, index: int) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.username == username and k.valid_at(index)]

    def _find(self, index: int, actor: str, kind: str, problem: str) -> None:
        self.findings.append(SignatureFinding(index, actor, kind, problem))

    def feed(self, index: int, body: list) -> None:
        """One decoded entry (9 or 10 fields), in log order."""
        actor, kind, rows = body[5], body[6], body[7]
        accepted = self._check_auth(index, body, actor, kind)
        bootstrap = kind == BOOTSTRAP_KIND and self.bootstrap_actor is None
        if bootstrap:
            self.bootstrap_actor = actor
        if not accepted:
            # Already a finding; what it wrote grants no role and enrols no key, so that a
            # forged entry cannot make the entries after it look signed.
            return
        for record in rows if isinstance(rows, list) else ():
            if not isinstance(record, list) or len(record) != 5 or not isinstance(record[4], dict):
                continue
            table, image = record[0], record[4]
            if table == "users":
                # Roles as administrators gave them: a user row counts only when written by
                # an administrator (or the bootstrap), not whoever's name an entry carries.
                if bootstrap or self._is_admin(actor):
                    self._user(image)
                elif image.get("role") == ADMIN_ROLE:
                    self._find(index, actor, kind, f"makes {image.get('username')} an "
                               f"administrator, but {actor} is not one")
            elif table == REQUESTS:
                self._request(index, actor, kind, image)
            elif table == KEYS:
                self._approval(index, actor, kind, image)
            elif table == REVOCATIONS:
                self._revocation(index, actor, kind, image)

    # ------------------------------------------------------------------ the entry's signature

    def _check_auth(self, index: int, body: list, actor: str, kind: str) -> bool:
        """Check the entry's signature; True when it is accepted (validly signed, recorded
        about a person, or unsigned by someone holding no key where the policy allows it)."""
        held = self.keys_of(actor, index)
        auth = body[9] if len(body) > 9 else None
        if auth is None and _recorded_about(kind, body[8], body[7]):
            self.events += 1
            return True
        if auth is None:
            if held:
                self._find(index, actor, kind,
                           f"not signed, though {actor} holds key "
                           f"{', '.join(k.key_id for k in held)}")
                return False
            self.unsigned += 1
            self.unsigned_actors[actor] = self.unsigned_actors.get(actor, 0) + 1
            if self.require_signatures:
                self._find(index, actor, kind,
                           f"not signed, and the policy requires signatures ({actor} "
                           "holds no key)")
                return False
            return True
        if not isinstance(auth, dict) or not isinstance(auth.get("key"), str):
            self._find(index, actor, kind, "auth is not a map naming a key")
            return False
        key = self.keys.get(auth["key"])
        if key is None:
            self._find(index, actor, kind, f"signed with {auth['key']}, which is not an "
                       "enrolled key at this point of the log")
            return False
        if key.username != actor:
            self._find(index, actor, kind, f"signed with {key.key_id}, a key of "
                       f"{key.username}, not of {actor}")
            return False
        if key.valid_from is None or key.valid_from >= index:
            self._find(index, actor, kind, f"signed with {key.key_id} before it was approved")
            return False
        if key.revoked_at is not None and index > key.revoked_at:
            self._find(index, actor, kind, f"signed with {key.key_id}, revoked at entry "
                       f"{key.revoked_at}")
            return False
        checker = CHECKERS.get(auth.get("t"))
        if checker is None:
            self._find(index, actor, kind, f"unknown auth type {auth.get('t')!r}")
            return False
        problem = checker(key, auth, body, tbs_of_body(body), self)
        if problem:
            self._find(index, actor, kind, f"{key.key_id}: {problem}")
            return False
        self.signed += 1
        return True

    # ------------------------------------------------------------------ the key registry

    def _user(self, image: dict) -> None:
        if isinstance(image.get("id"), int) and isinstance(image.get("username"), str):
            self.usernames[image["id"]] = image["username"]
            self.roles[image["username"]] = image.get("role")

    def _is_admin(self, username: str) -> bool:
        return self.roles.get(username) == ADMIN_ROLE

    def _request(self, index: int, actor: str, kind: str, image: dict) -> None:
        request_id = image.get("id")
        self.requests[request_id] = dict(image, _index=index, _actor=actor)
        if image.get("requested_by") != actor:
            self._find(index, actor, kind, f"key request {request_id} names "
                       f"{image.get('requested_by')} as requester, but {actor} wrote it")
        owner = image.get("username")
        if image.get("action") == "enrol":
            if not check_proof(image.get("kind"), self.origin, owner, image.get("key_id"),
                               image.get("public_key"), image.get("proof"), image.get("rp_id")):
                self._find(index, actor, kind, f"key request {request_id}: the proof of "
                           f"possession of {image.get('key_id')} for {owner} does not verify")
            if actor != owner and not self._is_admin(actor):
                self._find(index, actor, kind, f"key request {request_id}: {actor} is neither "
                           f"an administrator nor {owner}")
            if actor == owner and not self._is_admin(actor) and not self.keys_of(owner, index):
                self._find(index, actor, kind, f"key request {request_id}: {owner} asked for "
                           "a key of their own without holding one")

    def _approval(self, index: int, actor: str, kind: str, image: dict) -> None:
        key_id, owner = image.get("key_id"), image.get("username")
        record = KeyRecord(key_id, owner, image.get("kind"), image.get("public_key") or b"",
                           image.get("rp_id"), valid_from=index)
        if key_id in self.keys:
            self._find(index, actor, kind, f"key {key_id} enrolled twice")
            return
        self.keys[key_id] = record
        if kind == GENESIS_KIND:
            if self.bootstrap_actor != owner or actor != owner or \
                    any(k.key_id != key_id for k in self.keys.values()):
                self._find(index, actor, kind, f"genesis key {key_id}: only the first "
                           "administrator's first key may be enrolled without approval")
            if not check_proof(record.kind, self.origin, owner, key_id, record.public_key,
                               image.get("proof"), record.rp_id):
                self._find(index, actor, kind, f"genesis key {key_id}: the proof of "
                           "possession does not verify")
            return
        request = self.requests.get(image.get("request_id"))
        if request is None or request.get("action") != "enrol" or \
                request.get("key_id") != key_id or request.get("username") != owner or \
                request.get("public_key") != record.public_key:
            self._find(index, actor, kind, f"key {key_id} of {owner} approved without a "
                       "matching request in the log")
            return
        if image.get("approved_by") != actor:
            self._find(index, actor, kind, f"key {key_id}: approval names "
                       f"{image.get('approved_by')}, but {actor} wrote it")
        if actor == request["_actor"]:
            self._find(index, actor, kind, f"key {key_id} of {owner}: approved by "
                       f"{actor}, who may not approve it (four eyes)")
        if not self._is_admin(actor):
            self._find(index, actor, kind, f"key {key_id}: approved by {actor}, who is not an "
                       "administrator")

    def _revocation(self, index: int, actor: str, kind: str, image: dict) -> None:
        key_id = image.get("key_id")
        key = self.keys.get(key_id)
        if key is None:
            self._find(index, actor, kind, f"revocation of {key_id}, which is not enrolled")
            return
        if key.revoked_at is None:
            key.revoked_at = index
        if actor == key.username:
            return      # anyone may revoke their own key, alone
        request = self.requests.get(image.get("request_id"))
        if request is None or request.get("action") != "revoke" or \
                request.get("key_id") != key_id:
            self._find(index, actor, kind, f"key {key_id} of {key.username} revoked by "
                       f"{actor} without a request in the log")
            return
        if actor == request["_actor"] or not self._is_admin(actor) or \
                not self._is_admin(request["_actor"]):
            self._find(index, actor, kind, f"key {key_id} of {key.username}: revocation "
                       f"requested by {request['_actor']} and approved by {actor} is not "
                       "two administrators (four eyes)")

    def summary(self) -> dict:
        return {"signed": self.signed, "unsigned": self.unsigned, "events": self.events,
                "unsigned_by": dict(sorted(self.unsigned_actors.items())),
                "signatures_required": self.require_signatures,
                "keys": len(self.keys),
                "findings": [f.to_json() for f in self.findings]}
