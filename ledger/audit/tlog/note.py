"""C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 keys (signature type 0x01).

A note is UTF-8 text ending in a newline, a blank line, then one or more lines
``— <key name> base64(key ID[4] || signature)``. The key ID is
``SHA-256(key name || 0x0A || signature type || public key)[:4]``.

Key strings (the Go ``golang.org/x/mod/sumdb/note`` forms):

* verifier key (vkey): ``<name>+<hex key ID>+base64(type || 32-byte public key)``
* signer key (skey):   ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || 32-byte seed)``

Signers and verifiers are duck-typed (``name``, ``key_id``, ``sign``/``verify``) so that
``checkpoint.py`` can add the cosignature/v1 type (0x04) without this module knowing about it.

Only the standard library and ``cryptography`` are used, so the offline verifier can import this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import ClassVar, Iterable, NamedTuple, Protocol, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash + space
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
# The spec says verifiers MUST accept at least 16 signatures; a bound keeps parsing cheap.
MAX_SIGNATURES = 64

_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note or key string is malformed, or a signature from a known key is wrong."""


class Signer(Protocol):
    name: str
    key_id: bytes

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    name: str
    key_id: bytes

    def verify(self, message: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key ID and the signature after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        payload = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {payload}\n"


class ParsedNote(NamedTuple):
    text: str
    signatures: list[NoteSignature]


class OpenedNote(NamedTuple):
    text: str
    verified: list[NoteSignature]
    unknown: list[NoteSignature]


# --------------------------------------------------------------------------- keys


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The RECOMMENDED 4-byte key ID: SHA-256(name || "\\n" || type || public key)[:4]."""
    data = name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


def check_key_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise NoteError("key name must be a non-empty string")
    if "+" in name or any(ch.isspace() or ch < " " for ch in name):
        raise NoteError(f"key name {name!r} must not contain '+', spaces or control characters")
    _check_utf8(name, "key name")


@dataclass(frozen=True)
class Ed25519Verifier:
    """An Ed25519 note verifier; subclasses change SIG_TYPE and the signed message."""

    SIG_TYPE: ClassVar[int] = SIG_ED25519

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "key_id", key_id(self.name, self.SIG_TYPE, self.public_key))

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.SIG_TYPE]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        return ed25519_verify(self.public_key, message, signature)

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        name, kid, material = _split_key(vkey, "verifier key")
        verifier = cls(name, _key_material(material, cls.SIG_TYPE, "verifier key"))
        _check_key_id(verifier.key_id, kid, name)
        return verifier


@dataclass(frozen=True)
class Ed25519Signer:
    """An Ed25519 note signer. The seed is the 32-byte RFC 8032 private key."""

    SIG_TYPE: ClassVar[int] = SIG_ED25519
    VERIFIER: ClassVar[type[Ed25519Verifier]] = Ed25519Verifier

    name: str
    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        public = self._private().public_key().public_bytes_raw()
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "key_id", key_id(self.name, self.SIG_TYPE, public))

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def verifier(self) -> Ed25519Verifier:
        return self.VERIFIER(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        return self.verifier().vkey

    @property
    def skey(self) -> str:
        material = base64.b64encode(bytes([self.SIG_TYPE]) + self.seed).decode("ascii")
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, os.urandom(32))

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        if not isinstance(skey, str) or not skey.startswith(PRIVATE_KEY_PREFIX):
            raise NoteError(f"signer key must start with {PRIVATE_KEY_PREFIX!r}")
        name, kid, material = _split_key(skey[len(PRIVATE_KEY_PREFIX) :], "signer key")
        signer = cls(name, _key_material(material, cls.SIG_TYPE, "signer key"))
        _check_key_id(signer.key_id, kid, name)
        return signer


def generate_signer(name: str) -> Ed25519Signer:
    return Ed25519Signer.generate(name)


def parse_signer_key(skey: str) -> Ed25519Signer:
    return Ed25519Signer.from_skey(skey)


def parse_verifier_key(vkey: str) -> Ed25519Verifier:
    return Ed25519Verifier.from_vkey(vkey)


def vkey_signature_type(vkey: str) -> int:
    """The signature type byte of a vkey, to pick the class that parses it fully."""
    _, _, material = _split_key(vkey, "verifier key")
    return b64decode_strict(material, "verifier key material")[0]


# --------------------------------------------------------------------------- notes


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign ``text`` (which must end in a newline) with every signer, in the given order."""
    check_note_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    message = text.encode("utf-8")
    sigs = [NoteSignature(s.name, s.key_id, s.sign(message)) for s in signers]
    return format_note(text, sigs)


def format_note(text: str, signatures: Sequence[NoteSignature]) -> str:
    check_note_text(text)
    if not 1 <= len(signatures) <= MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures, got {len(signatures)}")
    for sig in signatures:
        check_key_name(sig.name)
        if len(sig.key_id) != 4 or not sig.signature:
            raise NoteError(f"signature by {sig.name!r} needs a 4-byte key ID and a signature")
    return text + "\n" + "".join(sig.line() for sig in signatures)


def parse_note(note: str | bytes) -> ParsedNote:
    """Split a note into text and signature lines, checking syntax only (nothing is verified)."""
    note = _as_text(note)
    if not note.endswith("\n"):
        raise NoteError("note must end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between text and signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines after the blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} are accepted")
    return ParsedNote(text, [_parse_signature_line(line) for line in lines])


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse and verify a note.

    Signatures whose (name, key ID) match no verifier are returned as unknown. A signature
    from a known key that fails, or the same known key signing twice, rejects the whole note,
    and so does a note that no known key signed.
    """
    text, signatures = parse_note(note)
    known = _index_verifiers(verifiers)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unknown: list[NoteSignature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unknown.append(sig)
            continue
        if any((v.name, v.key_id) == (sig.name, sig.key_id) for v in verified):
            raise NoteError(f"key {sig.name}+{sig.key_id.hex()} signed the note twice")
        if not verifier.verify(message, sig.signature):
            raise NoteError(f"invalid signature by known key {sig.name}+{sig.key_id.hex()}")
        verified.append(sig)
    if not verified:
        raise NoteError("note has no valid signature from a known key")
    return OpenedNote(text, verified, unknown)


def check_note_text(text: str) -> None:
    if not isinstance(text, str):
        raise NoteError("note text must be a str")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_utf8(text, "note text")
    _check_controls(text)


# --------------------------------------------------------------------------- helpers


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line {line[:40]!r} does not start with an em dash and a space")
    parts = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise NoteError(f"signature line {line[:40]!r} is not '— <name> <base64>'")
    name, payload = parts
    check_key_name(name)
    raw = b64decode_strict(payload, f"signature by {name!r}")
    if len(raw) < 5:
        raise NoteError(f"signature by {name!r} is shorter than a key ID plus one byte")
    return NoteSignature(name, raw[:4], raw[4:])


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known:
            raise NoteError(f"two verifier keys share name {v.name!r} and ID {v.key_id.hex()}")
        known[(v.name, v.key_id)] = v
    return known


def _split_key(key: str, what: str) -> tuple[str, str, str]:
    # The name holds no '+', so the first two '+' delimit it; base64 may contain '+'.
    if not isinstance(key, str):
        raise NoteError(f"{what} must be a str")
    parts = key.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} {key[:40]!r} is not <name>+<hex id>+<base64>")
    name, kid, material = parts
    check_key_name(name)
    if not _HEX_KEY_ID.fullmatch(kid):
        raise NoteError(f"{what} for {name!r}: key ID {kid!r} is not 8 lowercase hex digits")
    return name, kid, material


def _key_material(material: str, sig_type: int, what: str) -> bytes:
    raw = b64decode_strict(material, what)
    if raw[:1] != bytes([sig_type]):
        got = raw[0] if raw else None
        raise NoteError(f"{what} has signature type {got}, expected {sig_type:#04x}")
    if len(raw) != 33:
        raise NoteError(f"{what} must hold 32 bytes of Ed25519 key material, got {len(raw) - 1}")
    return raw[1:]


def _check_key_id(actual: bytes, declared_hex: str, name: str) -> None:
    if actual.hex() != declared_hex:
        raise NoteError(
            f"key ID {declared_hex} for {name!r} does not match its key ({actual.hex()})"
        )


def b64decode_strict(data: str, what: str) -> bytes:
    """Strict standard base64: only the canonical encoding of some bytes is accepted."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what}: invalid base64 ({exc})") from None
    # Non-zero padding bits would let one signature have several spellings.
    if base64.b64encode(raw).decode("ascii") != data or not raw:
        raise NoteError(f"{what}: base64 is empty or not canonical")
    return raw


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"note is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    elif not isinstance(note, str):
        raise NoteError("note must be str or bytes")
    _check_utf8(note, "note")
    _check_controls(note)
    return note


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} contains characters that are not valid UTF-8") from None


def _check_controls(text: str) -> None:
    for i, ch in enumerate(text):
        if ch < " " and ch != "\n":
            raise NoteError(f"control character U+{ord(ch):04X} at position {i}")
