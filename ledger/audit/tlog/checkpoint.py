"""C2SP tlog-checkpoint bodies and C2SP tlog-cosignature ``cosignature/v1`` (Ed25519, type 0x04).

Checkpoint body (https://c2sp.org/tlog-checkpoint)::

    <origin>\\n<decimal size, no leading zeros>\\n<base64 32-byte root>\\n[<extension line>\\n ...]

It is signed as a C2SP signed note by the log key (type 0x01, key name = origin).

A cosignature (https://c2sp.org/tlog-cosignature) is one more note signature line whose
payload after the key ID is ``timestamp (uint64 big-endian) || Ed25519 signature (64 bytes)``,
the signature being over::

    cosignature/v1\\ntime <timestamp>\\n<checkpoint body>

and whose key ID is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``. The message does not
name the cosigner, so one Ed25519 key must not serve two cosigner roles (policy.py refuses
duplicate keys).

Only the standard library and ``cryptography`` are used, so the offline verifier can import this.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import ClassVar, Iterable, NamedTuple, Sequence

from . import merkle
from .note import (
    SIG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    NoteSignature,
    b64decode_strict,
    ed25519_verify,
    format_note,
    open_note,
    parse_note,
    sign_note,
    vkey_signature_type,
)

SIG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint body is malformed or its signatures do not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("checkpoint origin must be a non-empty string")
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise CheckpointError("checkpoint size must be an int")
        if not 0 <= self.size <= merkle.MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint size {self.size} is outside 0..2**64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != merkle.HASH_SIZE:
            raise CheckpointError("checkpoint root hash must be 32 bytes")
        # tlog-witness: an empty tree has exactly one root, and a log claiming another is lying.
        if self.size == 0 and self.root_hash != merkle.EMPTY_ROOT:
            raise CheckpointError("a checkpoint of size 0 must carry the empty-tree root")
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or any(ch < " " for ch in line):
                raise CheckpointError(f"checkpoint line {line!r} is empty or has a control char")

    def to_text(self) -> str:
        """The note text (body) of the checkpoint, ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = (self.origin, str(self.size), root, *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly; ``to_text`` of the result gives back ``text``."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise CheckpointError("checkpoint body must be a str ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint body has {len(lines)} lines; it needs at least 3")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise CheckpointError(
                f"checkpoint size {size_text!r} is not a decimal without leading zeros"
            )
        try:
            root = b64decode_strict(root_text, "checkpoint root hash")
        except NoteError as exc:
            raise CheckpointError(str(exc)) from None
        return cls(origin, int(size_text), root, tuple(extensions))


class Cosignature(NamedTuple):
    """A verified cosignature: who, the key ID, and the time it attests."""

    name: str
    key_id: bytes
    timestamp: int


class VerifiedCheckpoint(NamedTuple):
    checkpoint: Checkpoint
    note: str
    log_signatures: list[NoteSignature]
    cosignatures: list[Cosignature]
    unknown: list[NoteSignature]


# --------------------------------------------------------------------------- cosigner keys


def cosignature_message(body: str, timestamp: int) -> bytes:
    _check_timestamp(timestamp)
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{body}".encode("utf-8")


@dataclass(frozen=True)
class CosignatureVerifier(Ed25519Verifier):
    """Verifies cosignature/v1 lines: the signature field is timestamp[8] || ed25519sig[64]."""

    SIG_TYPE: ClassVar[int] = SIG_COSIGNATURE_V1

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        signed = cosignature_message(message.decode("utf-8"), timestamp)
        return ed25519_verify(self.public_key, signed, signature[8:])


@dataclass(frozen=True)
class CosignatureSigner(Ed25519Signer):
    """A cosigner key. ``sign`` uses the current time; use ``cosign`` for a chosen timestamp."""

    SIG_TYPE: ClassVar[int] = SIG_COSIGNATURE_V1
    VERIFIER: ClassVar[type[Ed25519Verifier]] = CosignatureVerifier

    def sign(self, message: bytes, timestamp: int | None = None) -> bytes:
        if timestamp is None:
            timestamp = int(time.time())
        signed = cosignature_message(message.decode("utf-8"), timestamp)
        return timestamp.to_bytes(8, "big") + self._private().sign(signed)


def generate_cosigner(name: str) -> CosignatureSigner:
    return CosignatureSigner.generate(name)


def parse_cosigner_key(skey: str) -> CosignatureSigner:
    return CosignatureSigner.from_skey(skey)


def parse_cosigner_verifier_key(vkey: str) -> CosignatureVerifier:
    return CosignatureVerifier.from_vkey(vkey)


def verifier_from_vkey(vkey: str) -> Ed25519Verifier:
    """A log (0x01) or cosigner (0x04) verifier, chosen by the vkey's signature type."""
    kind = vkey_signature_type(vkey)
    if kind == SIG_ED25519:
        return Ed25519Verifier.from_vkey(vkey)
    if kind == SIG_COSIGNATURE_V1:
        return CosignatureVerifier.from_vkey(vkey)
    raise NoteError(f"unsupported signature type {kind:#04x} in verifier key")


# --------------------------------------------------------------------------- signing


def sign_checkpoint(checkpoint: Checkpoint, log_signer: Ed25519Signer) -> str:
    """The log's signed note for ``checkpoint``. The key name must be the origin."""
    if log_signer.name != checkpoint.origin:
        raise CheckpointError(
            f"log key name {log_signer.name!r} differs from origin {checkpoint.origin!r}"
        )
    return sign_note(checkpoint.to_text(), [log_signer])


def cosign(note_or_body: str, cosigner: CosignatureSigner, timestamp: int) -> str:
    """One cosignature line (ending in a newline) over a checkpoint note or body.

    The caller (the cosigner process) must already have checked the log signature and a
    consistency proof from the last checkpoint it cosigned; this only produces the line.
    """
    body = _body_of(note_or_body)
    Checkpoint.from_text(body)  # never cosign something that is not a checkpoint
    sig = cosigner.sign(body.encode("utf-8"), timestamp)
    return NoteSignature(cosigner.name, cosigner.key_id, sig).line()


def add_signatures(note: str, lines: Iterable[str]) -> str:
    """Append signature lines (e.g. returned by cosigners) to a signed note.

    A line whose key name and ID are already on the note replaces nothing and is dropped, so
    re-running a cosigner cannot duplicate its signature.
    """
    text, existing = parse_note(note)
    seen = {(s.name, s.key_id) for s in existing}
    merged = list(existing)
    for line in lines:
        if "\n" in line.rstrip("\n"):
            raise CheckpointError("each item must be a single signature line")
        (sig,) = parse_note("x\n\n" + line.rstrip("\n") + "\n").signatures
        if (sig.name, sig.key_id) not in seen:
            seen.add((sig.name, sig.key_id))
            merged.append(sig)
    return format_note(text, merged)


# --------------------------------------------------------------------------- verification


def open_checkpoint(
    note: str | bytes,
    log_verifiers: Sequence[Ed25519Verifier],
    cosigner_verifiers: Sequence[CosignatureVerifier] = (),
) -> VerifiedCheckpoint:
    """Verify a checkpoint note: a log signature whose key name is the origin is required.

    Cosignatures from the given cosigners are verified and returned with their timestamps;
    a bad signature from any known key rejects the note; unknown signatures are returned.
    """
    for v in log_verifiers:
        if v.SIG_TYPE != SIG_ED25519:
            raise CheckpointError(f"log key {v.name!r} must be an Ed25519 (0x01) note key")
    for v in cosigner_verifiers:
        if v.SIG_TYPE != SIG_COSIGNATURE_V1:
            raise CheckpointError(f"cosigner key {v.name!r} must be a cosignature/v1 (0x04) key")
    try:
        opened = open_note(note, [*log_verifiers, *cosigner_verifiers])
    except NoteError as exc:
        raise CheckpointError(f"checkpoint note rejected: {exc}") from None
    checkpoint = Checkpoint.from_text(opened.text)
    log_ids = {(v.name, v.key_id) for v in log_verifiers if v.name == checkpoint.origin}
    log_sigs = [s for s in opened.verified if (s.name, s.key_id) in log_ids]
    if not log_sigs:
        raise CheckpointError(
            f"no valid signature from a known log key for origin {checkpoint.origin!r}"
        )
    cosigner_ids = {(v.name, v.key_id) for v in cosigner_verifiers}
    cosigs = [
        Cosignature(s.name, s.key_id, int.from_bytes(s.signature[:8], "big"))
        for s in opened.verified
        if (s.name, s.key_id) in cosigner_ids
    ]
    text = note if isinstance(note, str) else note.decode("utf-8")
    return VerifiedCheckpoint(checkpoint, text, log_sigs, cosigs, opened.unknown)


def _body_of(note_or_body: str) -> str:
    # A signed note contains a blank line before its signatures; a bare body never does.
    if "\n\n" in note_or_body:
        return parse_note(note_or_body).text
    return note_or_body


def _check_timestamp(timestamp: int) -> None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise CheckpointError("cosignature timestamp must be an int")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CheckpointError(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
