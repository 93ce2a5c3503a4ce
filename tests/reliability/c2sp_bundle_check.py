"""An offline bundle checker written from the C2SP specifications alone, for the tests.

It imports nothing from `ledger`: the point is a second reading of the specs, so that a bundle
the project's own verifier accepts because both sides share a mistake is still caught.
Sources: c2sp.org/tlog-tiles (tile paths, hash tiles, entry bundles of big-endian uint16
length-prefixed entries), c2sp.org/tlog-checkpoint (origin, size, base64 root),
c2sp.org/signed-note (Ed25519 type 0x01, key ID = SHA-256(name || "\\n" || 0x01 || key)[:4]),
c2sp.org/tlog-cosignature (type 0x04, "cosignature/v1\\ntime <t>\\n" || body), RFC 6962 §2.1
(the tree hash), and docs/audit-format.md for what an entry holds.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

WIDTH = 256          # hashes per full tile, entries per full bundle
EM_DASH = "\u2014"


class BundleProblem(Exception):
    pass


# ------------------------------------------------------------------ signed notes


@dataclass
class VerifierKey:
    name: str
    key_id: bytes
    alg: int
    public: bytes


def parse_vkey(text: str) -> VerifierKey:
    name, key_hex, blob = text.strip().split("+", 2)
    raw = base64.b64decode(blob, validate=True)
    alg, public = raw[0], raw[1:]
    if len(public) != 32:
        raise BundleProblem(f"verifier key {name}: not a 32-byte Ed25519 key")
    key_id = bytes.fromhex(key_hex)
    if hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4] != key_id:
        raise BundleProblem(f"verifier key {name}: key ID does not match the key")
    return VerifierKey(name, key_id, alg, public)


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text, [(key name, signature blob)]) of a signed note."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise BundleProblem("not a signed note")
    text, sig_block = note[:cut + 1], note[cut + 2:]
    sigs = []
    for line in sig_block.splitlines():
        dash, name, blob = line.split(" ")
        if dash != EM_DASH:
            raise BundleProblem(f"signature line does not start with an em dash: {line!r}")
        sigs.append((name, base64.b64decode(blob, validate=True)))
    return text, sigs


def note_signed_by(note: str, key: VerifierKey) -> bool:
    """True when an Ed25519 signature (0x01) of `key` over the note's text is on it."""
    text, sigs = split_note(note)
    for name, blob in sigs:
        if name == key.name and blob[:4] == key.key_id:
            try:
                Ed25519PublicKey.from_public_bytes(key.public).verify(blob[4:], text.encode())
                return True
            except InvalidSignature:
                return False
    return False


def cosigned_by(note: str, key: VerifierKey) -> bool:
    """True when a cosignature/v1 (0x04) of `key` over the checkpoint is on the note."""
    text, sigs = split_note(note)
    for name, blob in sigs:
        if name == key.name and blob[:4] == key.key_id and len(blob) == 4 + 8 + 64:
            stamp = int.from_bytes(blob[4:12], "big")
            message = f"cosignature/v1\ntime {stamp}\n".encode() + text.encode()
            try:
                Ed25519PublicKey.from_public_bytes(key.public).verify(blob[12:], message)
                return True
            except InvalidSignature:
                return False
    return False


# ------------------------------------------------------------------ tiles


def tile_index_path(n: int) -> str:
    """tlog-tiles: zero-padded 3-digit elements, all but the last prefixed with x."""
    parts = []
    while True:
        parts.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    parts.reverse()
    return "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])


def tile_file(root: Path, level: str, n: int, width: int) -> Path:
    path = root / "tile" / level / tile_index_path(n)
    return path if width == WIDTH else path.parent / f"{path.name}.p" / str(width)


def read_entries(root: Path, size: int) -> list[bytes]:
    entries: list[bytes] = []
    for n in range((size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - n * WIDTH)
        data = tile_file(root, "entries", n, width).read_bytes()
        at, count = 0, 0
        while at < len(data):
            length = int.from_bytes(data[at:at + 2], "big")
            if at + 2 + length > len(data):
                raise BundleProblem(f"entry bundle {n}: entry {count} runs past the end")
            entries.append(data[at + 2:at + 2 + length])
            at += 2 + length
            count += 1
        if count != width:
            raise BundleProblem(f"entry bundle {n} holds {count} entries, not {width}")
    return entries


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_hash(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def check_hash_tiles(root: Path, leaves: list[bytes]) -> int:
    """Compare every tile the tree of `len(leaves)` needs with hashes computed from the
    entries; returns how many tiles were checked."""
    level, nodes, checked = 0, leaves, 0
    while nodes:
        for n in range((len(nodes) + WIDTH - 1) // WIDTH):
            row = nodes[n * WIDTH:(n + 1) * WIDTH]
            if tile_file(root, str(level), n, len(row)).read_bytes() != b"".join(row):
                raise BundleProblem(f"hash tile {level}/{n} differs from the entries")
            checked += 1
        # the next level's tiles hold the roots of complete 256-wide subtrees of this one
        nodes = [tree_hash(nodes[i:i + WIDTH])
                 for i in range(0, len(nodes) - len(nodes) % WIDTH, WIDTH)]
        level += 1
    return checked


# ------------------------------------------------------------------ the bundle


@dataclass
class Report:
    origin: str
    size: int
    root: bytes
    largest_entry: int
    tiles_checked: int
    cosigners: list[str] = field(default_factory=list)


def check_bundle(bundle: Path, policy_text: str) -> Report:
    """Check a bundle against a policy kept by the auditor; raise BundleProblem on any flaw."""
    log_key, witnesses = None, []
    for line in policy_text.splitlines():
        words = line.split()
        if words[:1] == ["log"]:
            log_key = parse_vkey(words[1])
        elif words[:1] == ["witness"]:
            witnesses.append(parse_vkey(words[2]))
    if log_key is None:
        raise BundleProblem("the policy names no log key")
    note = (bundle / "checkpoint").read_bytes().decode("utf-8")
    if not note_signed_by(note, log_key):
        raise BundleProblem("the checkpoint does not carry a valid signature of the log key")
    text, _ = split_note(note)
    origin, size_text, root_b64 = text.splitlines()[:3]
    if origin != log_key.name:
        raise BundleProblem(f"checkpoint origin {origin!r} is not the log key's name")
    size, root = int(size_text), base64.b64decode(root_b64, validate=True)
    entries = read_entries(bundle, size)
    for position, entry in enumerate(entries):
        try:
            body = cbor2.loads(entry)
        except (cbor2.CBORDecodeError, ValueError) as exc:
            raise BundleProblem(f"entry {position} is not CBOR: {exc}") from None
        # docs/audit-format.md: nine fields, and a tenth (`auth`, a map) on a signed entry
        if not isinstance(body, list) or len(body) not in (9, 10) or \
                (len(body) == 10 and not isinstance(body[9], dict)):
            raise BundleProblem(f"entry {position} is not a 9-field entry (10 when signed)")
        if body[1] != origin or body[2] != position:
            raise BundleProblem(f"entry {position} names origin {body[1]!r}, index {body[2]}")
    leaves = [leaf_hash(e) for e in entries]
    if tree_hash(leaves) != root:
        raise BundleProblem("the entries' tree hash is not the checkpoint's root")
    tiles = check_hash_tiles(bundle, leaves)
    return Report(origin, size, root, max(map(len, entries), default=0), tiles,
                  [w.name for w in witnesses if cosigned_by(note, w)])
