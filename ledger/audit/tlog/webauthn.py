"""Database-free verification of a WebAuthn assertion that signs a fundtrail intent.

A person who approves or records in the web app confirms an *intent* (a small canonical map
naming who, what and on which target) with their passkey; the browser cannot see the log
entry's final bytes, so the passkey signs the intent and the entry carries the assertion
(docs/passkeys.md, docs/audit-format.md). This module checks such an assertion with the
standard library, `cryptography` and the project's `cbormin` only, so that `fundtrail verify`
and the offline bundle verifier run exactly the same code.

What is checked, following W3C Web Authentication Level 2 (https://www.w3.org/TR/webauthn-2/;
the same steps are in Level 3):

* §7.2 "Verifying an Authentication Assertion" (#sctn-verifying-assertion), steps 6–17:
  clientDataJSON is UTF-8 (a leading BOM stripped) and JSON (step 6–7); its `type` is
  "webauthn.get" (8); its `challenge` is the base64url encoding of the expected challenge (9);
  its `origin` is an expected origin (10); `rpIdHash` of the authenticator data is SHA-256 of the
  RP ID (12); the User Present flag is set (13), and User Verified when required (14); the
  signature, with the credential public key, is valid over authenticatorData ||
  SHA-256(clientDataJSON) (16–17). Token binding (11) is obsolete in Level 3 and not used here;
  extensions (15) are not requested, so any are ignored once their CBOR is well formed. The
  signature counter (18) needs stored state: the web server keeps it (py_webauthn), a verifier
  reading only the log cannot.
* §5.8.1 "Client Data Used in WebAuthn Signatures" (#dictionary-client-data): `crossOrigin`
  true is refused (fundtrail never runs in a frame of another site).
* §6.1 "Authenticator Data" (#sctn-authenticator-data): 32 bytes rpIdHash, one byte flags (bit
  0 UP, bit 2 UV, bit 6 AT, bit 7 ED), 4 bytes signCount big-endian, then extensions when ED.
  An assertion carries no attested credential data, so AT set is refused.
* §6.5.1.1 (#sctn-encoded-credPubKey-examples) and RFC 9053 §2.1, §7.1–7.2 (COSE): the
  credential public key is a COSE_Key, EC2 P-256 with alg -7 (ES256: kty 2, crv 1, x, y) or
  OKP Ed25519 with alg -8 (EdDSA: kty 1, crv 6, x). Nothing else is accepted.
* §6.5.5 "Signature Formats for Packed Attestation, FIDO U2F Attestation, and Assertion
  Signatures" (#sctn-signature-attestation-types): ES256 signatures are ASN.1 DER
  Ecdsa-Sig-Value; EdDSA signatures are the raw 64 bytes.

Without a list of expected origins (the offline verifier knows only the key's RP ID), the
origin must be one a browser could have used for that RP ID (§5.1.4.1 and §5.1.4.3: the RP ID
is the origin's effective domain or a registrable suffix of it): https on the RP ID or one of
its subdomains, or http on localhost (a secure context, for tests and a single machine).

The intent and how an entry binds it (`check_intent`): docs/audit-format.md, "auth".
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.audit.tlog import cbormin

INTENT_PREFIX = b"fundtrail intent v1\n"
INTENT_VERSION = 1
# How long before its entry an intent may have been confirmed (the spec: 10 minutes).
INTENT_MAX_AGE_US = 10 * 60 * 1_000_000
# A confirmation page may be answered a little after the server's clock read the intent
# time, never before it; clocks of one server do not run backwards by more than this.
INTENT_CLOCK_SLACK_US = 5 * 1_000_000

ALG_ES256 = -7
ALG_EDDSA = -8

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
FLAG_ED = 0x80


class AssertionInvalid(ValueError):
    """An assertion that does not verify; `reason` is a short stable code, the message says
    what was found."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CredentialKey:
    alg: int                # COSE algorithm: ALG_ES256 or ALG_EDDSA
    key: Any                # cryptography public key object


@dataclass(frozen=True)
class CheckedAssertion:
    """What a verified assertion said."""
    user_present: bool
    user_verified: bool
    sign_count: int
    origin: str
    challenge: bytes


def b64url_decode(text: str) -> bytes:
    """base64url without padding (WebAuthn's encoding, §3 "base64url encoding")."""
    if not isinstance(text, str) or not text.isascii() or "=" in text:
        raise AssertionInvalid("encoding", "not base64url text without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise AssertionInvalid("encoding", "not base64url text") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def key_id_for_credential(credential_id: bytes) -> str:
    """The registry's key id of a WebAuthn credential (signing-spec: "webauthn:" + base64url
    of the credential id)."""
    return "webauthn:" + b64url_encode(credential_id)


def intent_challenge(intent: dict) -> bytes:
    """The challenge a passkey signs for `intent`: SHA-256 of a fixed prefix and the intent's
    canonical CBOR, so an assertion for one intent never verifies for another."""
    return hashlib.sha256(INTENT_PREFIX + cbormin.encode(intent)).digest()


# --------------------------------------------------------------------------- COSE keys

def parse_cose_key(data: bytes) -> CredentialKey:
    """The credential public key of a COSE_Key: ES256 on P-256, or EdDSA on Ed25519."""
    try:
        cose = cbormin.decode(bytes(data))
    except cbormin.CborError as exc:
        raise AssertionInvalid("cose_key", f"the credential key is not CBOR: {exc}") from None
    if not isinstance(cose, dict):
        raise AssertionInvalid("cose_key", "the credential key is not a COSE_Key map")
    kty, alg, crv = cose.get(1), cose.get(3), cose.get(-1)
    x = cose.get(-2)
    if kty == 2 and alg == ALG_ES256 and crv == 1:
        y = cose.get(-3)
        if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) == 32):
            raise AssertionInvalid("cose_key", "EC2 key coordinates must be 32 bytes each")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        except ValueError:
            raise AssertionInvalid("cose_key", "EC2 key is not a point on P-256") from None
        return CredentialKey(ALG_ES256, key)
    if kty == 1 and alg == ALG_EDDSA and crv == 6:
        if not (isinstance(x, bytes) and len(x) == 32):
            raise AssertionInvalid("cose_key", "Ed25519 key must be 32 bytes")
        return CredentialKey(ALG_EDDSA, Ed25519PublicKey.from_public_bytes(x))
    raise AssertionInvalid("cose_key", f"unsupported COSE key (kty {kty!r}, alg {alg!r}, "
                                       f"crv {crv!r}): only ES256/P-256 and EdDSA/Ed25519")


# --------------------------------------------------------------------------- the assertion

def _client_data(client_data_json: bytes) -> dict:
    raw = bytes(client_data_json)
    if raw.startswith(b"\xef\xbb\xbf"):  # §7.2 step 6: a leading BOM is stripped
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AssertionInvalid("client_data", "clientDataJSON is not UTF-8") from None

    def no_duplicates(pairs):
        # Two parsers must not read two different challenges out of one signed text.
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise AssertionInvalid("client_data", "clientDataJSON repeats a member")
        return dict(pairs)
    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError as exc:
        if isinstance(exc, AssertionInvalid):
            raise
        raise AssertionInvalid("client_data", "clientDataJSON is not JSON") from None
    if not isinstance(data, dict):
        raise AssertionInvalid("client_data", "clientDataJSON is not a JSON object")
    return data


def origin_fits_rp_id(origin: str, rp_id: str) -> bool:
    """Whether a browser could have produced an assertion for `rp_id` on `origin`."""
    try:
        parts = urlsplit(origin)
        host, port = parts.hostname, parts.port
    except ValueError:
        return False
    if not host or parts.path or parts.query or parts.fragment or parts.username \
            or port == 0:
        return False
    rp_id = rp_id.lower()
    if parts.scheme == "http":
        return host == "localhost" == rp_id
    return parts.scheme == "https" and (host == rp_id or host.endswith("." + rp_id))


def verify_assertion(cose_key: bytes, authenticator_data: bytes, client_data_json: bytes,
                     signature: bytes, *, challenge: bytes, rp_id: str,
                     origins: Iterable[str] | None = None,
                     require_user_verification: bool = False) -> CheckedAssertion:
    """Check an assertion (see the module's docstring); raise AssertionInvalid if it fails."""
    key = parse_cose_key(cose_key)
    auth_data = bytes(authenticator_data)
    client = _client_data(client_data_json)
    if client.get("type") != "webauthn.get":                      # step 8
        raise AssertionInvalid("type", f"clientData type is {client.get('type')!r}, "
                                       "not 'webauthn.get'")
    signed_challenge = b64url_decode(client.get("challenge"))     # step 9
    if signed_challenge != bytes(challenge):
        raise AssertionInvalid("challenge", "the assertion signs another challenge")
    origin = client.get("origin")                                  # step 10
    if not isinstance(origin, str):
        raise AssertionInvalid("origin", "clientData has no origin")
    allowed = list(origins) if origins is not None else None
    if (allowed is not None and origin not in allowed) or not origin_fits_rp_id(origin, rp_id):
        raise AssertionInvalid("origin", f"origin {origin!r} is not expected for RP ID "
                                         f"{rp_id!r}")
    if client.get("crossOrigin") is True:                          # §5.8.1
        raise AssertionInvalid("origin", "the assertion was made in a cross-origin frame")
    flags, sign_count = _authenticator_data(auth_data)
    if auth_data[:32] != hashlib.sha256(rp_id.encode("utf-8")).digest():   # step 12
        raise AssertionInvalid("rp_id", f"authenticator data is for another RP ID than "
                                        f"{rp_id!r}")
    if not flags & FLAG_UP:                                        # step 13
        raise AssertionInvalid("user_present", "the User Present flag is not set")
    if require_user_verification and not flags & FLAG_UV:         # step 14
        raise AssertionInvalid("user_verified", "the User Verified flag is not set")
    signed = auth_data + hashlib.sha256(bytes(client_data_json)).digest()   # steps 16–17
    try:
        if key.alg == ALG_ES256:
            key.key.verify(bytes(signature), signed, ec.ECDSA(hashes.SHA256()))
        else:
            key.key.verify(bytes(signature), signed)
    except (InvalidSignature, ValueError):
        raise AssertionInvalid("signature", "the signature does not verify with the "
                                            "credential key") from None
    return CheckedAssertion(bool(flags & FLAG_UP), bool(flags & FLAG_UV), sign_count, origin,
                            signed_challenge)


def _authenticator_data(auth_data: bytes) -> tuple[int, int]:
    """(flags, signCount) of assertion authenticator data (§6.1)."""
    if len(auth_data) < 37:
        raise AssertionInvalid("authenticator_data", "authenticator data is shorter than "
                                                     "37 bytes")
    flags = auth_data[32]
    if flags & FLAG_AT:
        raise AssertionInvalid("authenticator_data", "an assertion carries no attested "
                                                     "credential data")
    rest = auth_data[37:]
    if flags & FLAG_ED:
        try:
            if not isinstance(cbormin.decode(rest), dict):
                raise cbormin.CborError("not a map")
        except cbormin.CborError:
            raise AssertionInvalid("authenticator_data", "extensions are not one CBOR "
                                                         "map") from None
    elif rest:
        raise AssertionInvalid("authenticator_data", "trailing bytes after signCount")
    return flags, int.from_bytes(auth_data[33:37], "big")


# --------------------------------------------------------------------------- the intent

def check_intent(intent: Any, *, actor: str, kind: str, time_us: int, details: dict,
                 rows: list) -> list[str]:
    """What in `intent` does not bind to the entry (actor, kind, time, details, rows); an
    empty list when it binds. The nonce's uniqueness across entries is the caller's check
    (it needs every entry). The shape:

        {"v": 1, "actor": username, "kind": entry kind, "time": µs since the epoch,
         "nonce": text, "text": what the person read (Chinese),
         "bind": {details key: value, ...},
         "rows": {table: {column: value | {json field: value}}, ...}}

    `bind`: every pair equals the entry's details. `rows`: for every table named, some row of
    the entry in that table has every column as given; a map as the value of a column means
    the column holds JSON text (a transfer's `request`) whose fields include those given —
    so the payee, the amount and the voucher a person confirmed are bound, not only the kind.
    """
    problems: list[str] = []
    if not isinstance(intent, dict) or intent.get("v") != INTENT_VERSION:
        return ["the intent is not a version-1 map"]
    if intent.get("actor") != actor:
        problems.append(f"the intent names actor {intent.get('actor')!r}, the entry {actor!r}")
    if intent.get("kind") != kind:
        problems.append(f"the intent names kind {intent.get('kind')!r}, the entry {kind!r}")
    when = intent.get("time")
    if not isinstance(when, int) or isinstance(when, bool) \
            or not time_us - INTENT_MAX_AGE_US <= when <= time_us + INTENT_CLOCK_SLACK_US:
        problems.append("the intent's time is not within 10 minutes before the entry")
    if not isinstance(intent.get("nonce"), str) or len(intent["nonce"]) < 16:
        problems.append("the intent has no nonce")
    bind = intent.get("bind", {})
    if not isinstance(bind, dict):
        problems.append("the intent's bind is not a map")
    else:
        for key, value in sorted(bind.items()):
            if key not in details or details[key] != value:
                problems.append(f"details[{key!r}] is not {value!r} as confirmed")
    wanted = intent.get("rows", {})
    if not isinstance(wanted, dict):
        problems.append("the intent's rows is not a map")
        return problems
    for table, columns in sorted(wanted.items()):
        images = [r[4] for r in rows if isinstance(r, (list, tuple)) and len(r) == 5
                  and r[0] == table and isinstance(r[4], dict)]
        if not isinstance(columns, dict) or not any(_row_has(image, columns)
                                                    for image in images):
            problems.append(f"no row of {table} in the entry is as confirmed")
    return problems


def _row_has(image: dict, columns: dict) -> bool:
    for column, value in columns.items():
        if column not in image:
            return False
        if isinstance(value, dict):
            try:
                held = json.loads(image[column]) if isinstance(image[column], str) else None
            except ValueError:
                return False
            if not isinstance(held, dict) or any(held.get(k, _MISSING) != v
                                                 for k, v in value.items()):
                return False
        elif image[column] != value:
            return False
    return True


_MISSING = object()


def verify_entry_auth(auth: dict, *, cose_key: bytes, rp_id: str, actor: str, kind: str,
                      time_us: int, details: dict, rows: list,
                      require_user_verification: bool = False) -> list[str]:
    """Every problem of an entry's `auth` of kind "webauthn" against the entry's fields and
    the key's registered COSE_Key and RP ID; empty when it holds. The nonce is checked for
    presence only (uniqueness: the caller, over all entries)."""
    problems = []
    intent = auth.get("intent")
    parts = [auth.get(k) for k in ("authenticator_data", "client_data_json", "signature")]
    if not all(isinstance(p, bytes) for p in parts):
        return ["the webauthn auth lacks authenticator_data, client_data_json or signature"]
    try:
        verify_assertion(cose_key, *parts, challenge=intent_challenge(intent), rp_id=rp_id,
                         require_user_verification=require_user_verification)
    except (AssertionInvalid, cbormin.CborError) as exc:
        problems.append(f"assertion: {exc}")
    problems += check_intent(intent, actor=actor, kind=kind, time_us=time_us, details=details,
                             rows=rows)
    return problems


# --------------------------------------------------------------------------- the log's hooks
# ledger.audit.tlog.personal dispatches here for auth "t": "webauthn" and for the proof of
# possession of a WebAuthn key being enrolled.

def check_entry_auth(key, auth: dict, body: list, tbs: bytes, audit) -> str | None:
    """The problem with a decoded entry's (`body`, 9+1 fields) WebAuthn `auth` under registry
    key `key` (a `personal.KeyRecord`), or None. The passkey signed the intent, not `tbs`: the
    intent binds the entry instead (`check_intent`). A nonce already used by an earlier entry
    of the log (`audit.seen_nonces`) is a replay."""
    del tbs  # the browser never sees the entry's bytes (docs/passkeys.md)
    if key.kind != "webauthn" or not key.rp_id:
        return f"auth type webauthn with a {key.kind} key"
    problems = verify_entry_auth(auth, cose_key=key.public_key, rp_id=key.rp_id,
                                 actor=body[5], kind=body[6], time_us=body[4],
                                 details=body[8] if isinstance(body[8], dict) else {},
                                 rows=body[7] if isinstance(body[7], list) else [],
                                 require_user_verification=True)
    intent = auth.get("intent")
    nonce = intent.get("nonce") if isinstance(intent, dict) else None
    if isinstance(nonce, str):
        seen = getattr(audit, "seen_nonces", None)
        if seen is not None:
            if nonce in seen:
                problems.append(f"the intent's nonce {nonce} was used by an earlier entry")
            seen.add(nonce)
    return "; ".join(problems) or None


def proof_challenge(statement: bytes) -> bytes:
    """The challenge of the assertion that proves possession of a new key: SHA-256 of the
    enrolment statement (the log, the person, the key id)."""
    return hashlib.sha256(statement).digest()


def encode_proof(authenticator_data: bytes, client_data_json: bytes, signature: bytes) -> bytes:
    """A proof of possession as the key request keeps it: one canonical CBOR map."""
    return cbormin.encode({"authenticator_data": bytes(authenticator_data),
                           "client_data_json": bytes(client_data_json),
                           "signature": bytes(signature)})


def check_proof(public_key: bytes, proof: bytes | None, statement: bytes, rp_id: str | None,
                key_id: str) -> bool:
    """Whether `proof` (`encode_proof`) is an assertion by the credential `key_id` with
    COSE_Key `public_key`, for `rp_id`, over the enrolment `statement`, with the user
    verified."""
    if not isinstance(proof, bytes) or not isinstance(public_key, bytes) or not rp_id:
        return False
    try:
        parts = cbormin.decode(proof)
        if not isinstance(parts, dict) or not key_id.startswith("webauthn:"):
            return False
        b64url_decode(key_id.removeprefix("webauthn:"))
        verify_assertion(public_key, parts.get("authenticator_data", b""),
                         parts.get("client_data_json", b""), parts.get("signature", b""),
                         challenge=proof_challenge(statement), rp_id=rp_id,
                         require_user_verification=True)
    except (AssertionInvalid, cbormin.CborError, TypeError):
        return False
    return True


__all__ = [
    "ALG_EDDSA", "ALG_ES256", "AssertionInvalid", "CheckedAssertion", "CredentialKey",
    "INTENT_PREFIX", "b64url_decode", "b64url_encode", "check_entry_auth", "check_intent",
    "check_proof", "encode_proof", "intent_challenge", "proof_challenge",
    "key_id_for_credential", "origin_fits_rp_id", "parse_cose_key", "verify_assertion",
    "verify_entry_auth",
]
