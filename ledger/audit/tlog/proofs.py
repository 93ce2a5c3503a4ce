"""Offline inclusion proofs: C2SP tlog-proof text, a compact binary form for QR codes, Base45.

Text form (https://c2sp.org/tlog-proof)::

    c2sp.org/tlog-proof@v1
    extra <base64>            (optional, unauthenticated: here, the entry bytes themselves)
    index <decimal>
    <base64 hash>             (zero or more, leaf sibling first, RFC 9162 audit path)
    <empty line>
    <checkpoint note with log signature and cosignatures, verbatim>

Compact binary form, version 1. It carries exactly the same information, so
``decode_compact(encode_compact(p)) == p`` and the text form rebuilt from it is byte-identical
(signature lines are re-emitted in order; canonical base64 is enforced when parsing notes).
``uvarint`` is unsigned LEB128, minimal length, at most 2**64 - 1::

    magic       3 bytes   b"tlp"
    version     1 byte    0x01
    flags       1 byte    bit 0: extra present; other bits must be 0
    index       uvarint
    path count  uvarint   k <= 64
    path        k x 32 bytes, leaf sibling first
    extra       uvarint length + bytes          (only if flag bit 0)
    origin      uvarint length + UTF-8 bytes
    size        uvarint
    root        32 bytes
    extensions  uvarint count, then each: uvarint length + UTF-8 bytes
    signatures  uvarint count (1..64), then each:
                  name     uvarint length + UTF-8 bytes; length 0 means "same as origin"
                           (the log's key name is its origin, so this saves a copy)
                  key ID   4 bytes
                  sig      uvarint length + bytes (64 for the log, 8 + 64 for a cosignature)

At 10**6 entries (20 path hashes), a 33-character origin and three cosigners with 35-character
names this is about 1,130 bytes, without extra. ``base45_encode`` (RFC 9285) turns it into
QR alphanumeric-mode text at 1.5 characters per byte.

Only the standard library and ``cryptography`` are used, so the offline verifier can import this.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, unquote

from . import merkle
from .checkpoint import Checkpoint, CheckpointError, Cosignature
from .note import (
    MAX_SIGNATURES,
    NoteError,
    NoteSignature,
    b64decode_strict,
    format_note,
    parse_note,
)
from .policy import Policy

HEADER = "c2sp.org/tlog-proof@v1"
COMPACT_MAGIC = b"tlp\x01"
MAX_PATH = 64
MAX_EXTENSIONS = 16  # extension lines are NOT RECOMMENDED; a bound keeps decoding cheap
# Entries are at most 65,535 bytes (tlog-tiles bundles); base64 of that plus a checkpoint fits.
MAX_TEXT_CHARS = 256 * 1024

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_FLAG_EXTRA = 0x01


class ProofFormatError(ValueError):
    """A tlog-proof (text or compact) is malformed."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or isinstance(self.index, bool) or self.index < 0:
            raise ProofFormatError("index must be a non-negative int")
        if self.index > merkle.MAX_TREE_SIZE:
            raise ProofFormatError("index does not fit in 64 bits")
        if len(self.path) > MAX_PATH or any(
            not isinstance(h, bytes) or len(h) != merkle.HASH_SIZE for h in self.path
        ):
            raise ProofFormatError(f"path must be at most {MAX_PATH} hashes of 32 bytes")
        if self.extra is not None and not isinstance(self.extra, bytes):
            raise ProofFormatError("extra must be bytes or None")
        _parse_checkpoint(self.checkpoint_note)  # a bad note fails at construction

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint body, parsed but NOT verified (see verify_proof)."""
        return _parse_checkpoint(self.checkpoint_note)


class VerifiedProof(NamedTuple):
    checkpoint: Checkpoint
    index: int
    leaf_hash: bytes
    witnesses: frozenset[str]
    cosignatures: list[Cosignature]


# --------------------------------------------------------------------------- build and verify


def build_proof(
    index: int, checkpoint_note: str, node_reader: merkle.NodeReader, extra: bytes | None = None
) -> TlogProof:
    """A proof for leaf ``index`` against the tree size named in ``checkpoint_note``."""
    size = _parse_checkpoint(checkpoint_note).size
    path = merkle.inclusion_proof(index, size, node_reader)
    return TlogProof(index, tuple(path), checkpoint_note, extra)


def verify_proof(proof: TlogProof, policy: Policy, leaf_hash: bytes) -> VerifiedProof:
    """tlog-proof verification: log signature and quorum under ``policy``, then inclusion.

    Raises CheckpointError / QuorumError for signatures, merkle.ProofError for the path.
    """
    result = policy.verify_checkpoint(proof.checkpoint_note)
    cp = result.verified.checkpoint
    merkle.verify_inclusion(leaf_hash, proof.index, cp.size, proof.path, cp.root_hash)
    return VerifiedProof(cp, proof.index, leaf_hash, result.witnesses, result.verified.cosignatures)


def verify_entry_proof(proof: TlogProof, policy: Policy) -> VerifiedProof:
    """Verify a proof whose ``extra`` holds the entry bytes; the leaf hash binds them."""
    if proof.extra is None:
        raise ProofFormatError("proof carries no extra data to take the entry from")
    return verify_proof(proof, policy, merkle.leaf_hash(proof.extra))


# --------------------------------------------------------------------------- text form


def encode_text(proof: TlogProof) -> str:
    lines = [HEADER]
    if proof.extra is not None:
        lines.append("extra " + base64.b64encode(proof.extra).decode("ascii"))
    lines.append(f"index {proof.index}")
    lines.extend(base64.b64encode(h).decode("ascii") for h in proof.path)
    return "\n".join(lines) + "\n\n" + proof.checkpoint_note


def decode_text(data: str | bytes) -> TlogProof:
    text = _as_text(data)
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ProofFormatError("no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofFormatError(f"first line must be {HEADER!r}")
    pos = 1
    extra = None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = _b64(lines[pos][len("extra ") :], "extra")
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise ProofFormatError(f"line {pos + 1} must be 'index <n>'")
    index_text = lines[pos][len("index ") :]
    if not _DECIMAL.fullmatch(index_text):
        raise ProofFormatError(f"index {index_text!r} is not a decimal without leading zeros")
    hashes = lines[pos + 1 :]
    if len(hashes) > MAX_PATH:
        raise ProofFormatError(f"{len(hashes)} proof hashes; at most {MAX_PATH} are possible")
    path = tuple(_hash(h, f"proof hash on line {pos + 2 + i}") for i, h in enumerate(hashes))
    return TlogProof(int(index_text), path, note, extra)


# --------------------------------------------------------------------------- compact form


def encode_compact(proof: TlogProof) -> bytes:
    cp = proof.checkpoint
    _, signatures = parse_note(proof.checkpoint_note)
    out = bytearray(COMPACT_MAGIC)
    out.append(_FLAG_EXTRA if proof.extra is not None else 0)
    out += _uvarint(proof.index) + _uvarint(len(proof.path)) + b"".join(proof.path)
    if proof.extra is not None:
        out += _blob(proof.extra)
    out += _blob(cp.origin.encode("utf-8")) + _uvarint(cp.size) + cp.root_hash
    out += _uvarint(len(cp.extensions)) + b"".join(_blob(e.encode("utf-8")) for e in cp.extensions)
    out += _uvarint(len(signatures))
    for sig in signatures:
        name = b"" if sig.name == cp.origin else sig.name.encode("utf-8")
        out += _blob(name) + sig.key_id + _blob(sig.signature)
    return bytes(out)


def decode_compact(data: bytes) -> TlogProof:
    r = _Reader(data)
    if r.take(len(COMPACT_MAGIC)) != COMPACT_MAGIC:
        raise ProofFormatError("not a compact tlog proof (bad magic or version)")
    flags = r.take(1)[0]
    if flags & ~_FLAG_EXTRA:
        raise ProofFormatError(f"unknown flag bits {flags:#04x}")
    index = r.uvarint()
    path = tuple(r.take(merkle.HASH_SIZE) for _ in range(r.count(MAX_PATH, "proof hashes")))
    extra = r.blob() if flags & _FLAG_EXTRA else None
    origin = r.text()
    size = r.uvarint()
    root = r.take(merkle.HASH_SIZE)
    extensions = tuple(r.text() for _ in range(r.count(MAX_EXTENSIONS, "extension lines")))
    checkpoint = _checkpoint(origin, size, root, extensions)
    signature_count = r.count(MAX_SIGNATURES, "signatures")
    signatures = [_compact_signature(r, origin) for _ in range(signature_count)]
    r.finish()
    try:
        note = format_note(checkpoint.to_text(), signatures)
    except NoteError as exc:
        raise ProofFormatError(f"checkpoint signatures: {exc}") from None
    return TlogProof(index, path, note, extra)


def _compact_signature(r: _Reader, origin: str) -> NoteSignature:
    name = r.text() or origin
    key_id = r.take(4)
    return NoteSignature(name, key_id, r.blob())


def _checkpoint(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> Checkpoint:
    try:
        return Checkpoint(origin, size, root, extensions)
    except CheckpointError as exc:
        raise ProofFormatError(f"checkpoint: {exc}") from None


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _blob(data: bytes) -> bytes:
    return _uvarint(len(data)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray)):
            raise ProofFormatError("compact proof must be bytes")
        self.data = bytes(data)
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProofFormatError(f"truncated at byte {self.pos} (needed {n} more)")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uvarint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift >= 70:
                raise ProofFormatError(f"varint too long at byte {self.pos}")
        # Only the minimal encoding is accepted, so each proof has exactly one compact form.
        if value > merkle.MAX_TREE_SIZE or (shift > 7 and byte == 0):
            raise ProofFormatError(f"varint out of range or not minimal at byte {self.pos}")
        return value

    def count(self, limit: int, what: str) -> int:
        n = self.uvarint()
        if n > limit:
            raise ProofFormatError(f"{n} {what}; at most {limit} are allowed")
        return n

    def blob(self) -> bytes:
        return self.take(self.uvarint())

    def text(self) -> str:
        raw = self.blob()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofFormatError(f"invalid UTF-8 before byte {self.pos}") from None

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise ProofFormatError(f"{len(self.data) - self.pos} trailing bytes")


# --------------------------------------------------------------------------- Base45 (RFC 9285)

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_VALUE = {ch: i for i, ch in enumerate(BASE45_ALPHABET)}


def base45_encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out.append(_base45_digits(n, 3))
    if len(data) % 2:
        out.append(_base45_digits(data[-1], 2))
    return "".join(out)


def base45_decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise ProofFormatError("Base45 text length leaves a single dangling character")
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = text[i : i + 3]
        try:
            digits = [_BASE45_VALUE[ch] for ch in chunk]
        except KeyError as exc:
            raise ProofFormatError(f"{exc.args[0]!r} is not a Base45 character") from None
        n = sum(d * 45**k for k, d in enumerate(digits))
        if n > (0xFFFF if len(chunk) == 3 else 0xFF):
            raise ProofFormatError(f"Base45 group {chunk!r} is out of range")
        out += n.to_bytes(len(chunk) - 1, "big")
    return bytes(out)


def _base45_digits(n: int, count: int) -> str:
    digits = []
    for _ in range(count):
        n, d = divmod(n, 45)
        digits.append(BASE45_ALPHABET[d])
    return "".join(digits)


# --------------------------------------------------------------------------- the QR's link

# A notice's QR is a link to the public verify page that carries the whole proof in its
# fragment: ``<public URL>/v#<Base45 of the compact proof, percent-encoded>``. A browser never
# sends the fragment to the server, so the page checks the proof in the phone; and the link
# holds everything, so a photo of the board stays checkable without the server.
#
# Base45 is QR alphanumeric mode (5.5 bits a character), but two of its characters, space and
# '%', cannot stand in a URL as they are: they are percent-encoded (%20, %25), which is
# alphanumeric too, so the payload stays one alphanumeric segment (reports.layout splits the
# symbol at '#': the address in byte mode, the payload in alphanumeric mode). Any tool
# decodes it: RFC 3986 percent-decoding, then RFC 9285 Base45.
LINK_PATH = "/v"
LINK_SAFE = "$*+-./:"   # Base45's other punctuation, left as it is in a fragment


def proof_link(base_url: str, compact: bytes) -> str:
    """The QR's link: `base_url` (the public address of the web app) + /v# + the proof."""
    return (base_url.rstrip("/") + LINK_PATH + "#"
            + quote(base45_encode(compact), safe=LINK_SAFE))


def link_payload(text: str) -> str:
    """The Base45 text a QR carries: the fragment of a link (percent-decoded), a link of the
    older form `/verify?p=…`, or the text itself when it is no link."""
    text = text.strip()
    if "#" in text:
        return unquote(text.split("#", 1)[1].strip())
    if "?p=" in text or "&p=" in text:
        from urllib.parse import parse_qs, urlsplit
        values = parse_qs(urlsplit(text).query).get("p")
        if values:
            return values[0].strip()
    return text


def decode_link(text: str) -> TlogProof:
    """The proof a QR's text carries (a link or bare Base45)."""
    return decode_compact(base45_decode(link_payload(text)))


# --------------------------------------------------------------------------- helpers


def _as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofFormatError("proof is not valid UTF-8") from None
    if not isinstance(data, str):
        raise ProofFormatError("proof must be str or bytes")
    if len(data) > MAX_TEXT_CHARS:
        raise ProofFormatError(f"proof is longer than {MAX_TEXT_CHARS} characters")
    return data


def _parse_checkpoint(note: str) -> Checkpoint:
    if not isinstance(note, str):
        raise ProofFormatError("checkpoint note must be a str")
    try:
        return Checkpoint.from_text(parse_note(note).text)
    except (NoteError, CheckpointError) as exc:
        raise ProofFormatError(f"checkpoint: {exc}") from None


def _b64(text: str, what: str) -> bytes:
    if text == "":
        return b""  # empty extra data is still extra data
    try:
        return b64decode_strict(text, what)
    except NoteError as exc:
        raise ProofFormatError(str(exc)) from None


def _hash(text: str, what: str) -> bytes:
    raw = _b64(text, what)
    if len(raw) != merkle.HASH_SIZE:
        raise ProofFormatError(f"{what} is {len(raw)} bytes, not {merkle.HASH_SIZE}")
    return raw
