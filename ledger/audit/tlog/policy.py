"""C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs and cosigners validate a checkpoint.

Syntax, one item per line, fields separated by spaces or tabs, ``#`` starts a comment line::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <member> ...
    quorum <name>|none

A group is satisfied when at least k of its members are (a member is a witness, which is
satisfied by a valid cosignature, or an earlier group). Exactly one quorum line is required.

Choices where the spec leaves room (all stricter, none changes the meaning of a valid policy):
a public key may appear only once in the whole file (also across log and witness lines, because
a cosignature/v1 message does not name its signer); log keys must be type 0x01 and witness keys
type 0x04; k must be written without leading zeros; a missing newline at the very end is accepted.

fundtrail's one extension is carried in a comment, so that the file stays a valid C2SP policy
that any C2SP parser reads (they reject unknown keywords, and skip comments)::

    #fundtrail signatures required

(exactly that line): every entry must carry its actor's personal signature; entries by people
who hold no key are then findings, not only counted (docs/signatures.md). An auditor who keeps
their own copy of the policy sees the line disappear if the operator removes it.

Only the standard library and ``cryptography`` are used, so the offline verifier can import this.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .checkpoint import (
    CheckpointError,
    Cosignature,
    CosignatureVerifier,
    VerifiedCheckpoint,
    open_checkpoint,
)
from .note import Ed25519Verifier, NoteError, NoteSignature

NONE = "none"
SIGNATURES_REQUIRED = b"#fundtrail signatures required"
_THRESHOLD = re.compile(r"[1-9][0-9]*")
_SEPARATORS = re.compile(rb"[ \t]+")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the offending line."""


class QuorumError(ValueError):
    """A checkpoint is validly signed by the log but its cosignatures do not meet the quorum."""


class Witness(NamedTuple):
    name: str
    verifier: CosignatureVerifier
    url: str | None


class Group(NamedTuple):
    name: str
    threshold: int
    members: tuple[str, ...]


class PolicyResult(NamedTuple):
    """A checkpoint accepted under a policy, and the witnesses (policy names) that cosigned it."""

    verified: VerifiedCheckpoint
    witnesses: frozenset[str]


@dataclass(frozen=True)
class Policy:
    logs: tuple[Ed25519Verifier, ...]
    log_urls: tuple[str | None, ...]
    witnesses: dict[str, Witness]
    groups: dict[str, Group]
    quorum: str
    signatures_required: bool = False   # the "#fundtrail signatures required" line

    def keys_text(self) -> str:
        """The published keys, one line each in the policy's order: `log <vkey>` for each log,
        then `witness <name> <vkey>` (what the web app serves as /keys.txt)."""
        lines = [f"log {v.vkey}" for v in self.logs]
        lines += [f"witness {name} {w.verifier.vkey}" for name, w in self.witnesses.items()]
        return "\n".join(lines) + "\n"

    def keys_fingerprint(self) -> str:
        """The first 16 hex digits of SHA-256 over `keys_text`, grouped by four: printed beside
        a notice's QR, and shown by the verify page for the keys it checked with, so a
        villager can see that the phone used the keys the paper names."""
        digest = hashlib.sha256(self.keys_text().encode("utf-8")).hexdigest()[:16]
        return "-".join(digest[i:i + 4] for i in range(0, 16, 4))

    def logs_for_origin(self, origin: str) -> list[Ed25519Verifier]:
        return [log for log in self.logs if log.name == origin]

    def witness_names(self, cosignatures: Iterable[Cosignature | NoteSignature]) -> frozenset[str]:
        """Policy names of the witnesses whose (key name, key ID) made the given signatures.

        Pass only signatures that were verified (e.g. ``open_checkpoint(...).cosignatures``).
        """
        by_key = {(w.verifier.name, w.verifier.key_id): w.name for w in self.witnesses.values()}
        names = (by_key.get((sig.name, sig.key_id)) for sig in cosignatures)
        return frozenset(n for n in names if n is not None)

    def quorum_met(self, witnesses: Iterable[str]) -> bool:
        """True if the named witnesses (policy names, already verified) satisfy the quorum."""
        present = frozenset(witnesses)
        unknown = present - self.witnesses.keys()
        if unknown:
            raise ValueError(f"not witnesses of this policy: {sorted(unknown)}")
        return self.quorum == NONE or self._satisfied(self.quorum, present)

    def _satisfied(self, name: str, present: frozenset[str]) -> bool:
        if name in self.witnesses:
            return name in present
        group = self.groups[name]
        count = sum(self._satisfied(member, present) for member in group.members)
        return count >= group.threshold

    def verify_checkpoint(self, note: str | bytes) -> PolicyResult:
        """Verify a checkpoint note: a listed log for its origin signed it and the quorum cosigned.

        Raises CheckpointError for bad notes or signatures, QuorumError if the quorum is not met.
        """
        verifiers = [w.verifier for w in self.witnesses.values()]
        verified = open_checkpoint(note, self.logs, verifiers)
        names = self.witness_names(verified.cosignatures)
        if not self.quorum_met(names):
            have = ", ".join(sorted(names)) or "none"
            raise QuorumError(f"cosignatures from [{have}] do not satisfy quorum {self.quorum!r}")
        return PolicyResult(verified, names)


def parse_policy(data: str | bytes) -> Policy:
    """Parse a policy file; every error names its 1-based line number."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    builder = _Builder()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that terminates the last line
    for number, line in enumerate(lines, start=1):
        try:
            builder.add_line(line)
        except (PolicyError, NoteError, CheckpointError) as exc:
            raise PolicyError(f"policy line {number}: {exc}") from None
    return builder.build()


class _Builder:
    def __init__(self) -> None:
        self.logs: list[Ed25519Verifier] = []
        self.log_urls: list[str | None] = []
        self.witnesses: dict[str, Witness] = {}
        self.groups: dict[str, Group] = {}
        self.quorum: str | None = None
        self.public_keys: set[bytes] = set()
        self.signatures_required = False

    def add_line(self, line: bytes) -> None:
        _check_octets(line)
        fields = [f for f in _SEPARATORS.split(line) if f]
        if line.rstrip(b" \t") == SIGNATURES_REQUIRED:
            self.signatures_required = True
            return
        if not fields or fields[0].startswith(b"#"):
            return
        keyword, args = fields[0], [_opaque(f) for f in fields[1:]]
        handler = {
            b"log": self._log,
            b"witness": self._witness,
            b"group": self._group,
            b"quorum": self._quorum,
        }.get(keyword)
        if handler is None:
            raise PolicyError(f"unknown keyword {_opaque(keyword)!r}")
        handler(args)

    def _log(self, args: list[str]) -> None:
        if len(args) not in (1, 2):
            raise PolicyError("expected 'log <vkey> [<url>]'")
        verifier = Ed25519Verifier.from_vkey(_utf8(args[0]))
        self._claim_key(verifier.public_key)
        self.logs.append(verifier)
        self.log_urls.append(args[1] if len(args) == 2 else None)

    def _witness(self, args: list[str]) -> None:
        if len(args) not in (2, 3):
            raise PolicyError("expected 'witness <name> <vkey> [<url>]'")
        name = self._new_name(args[0])
        verifier = CosignatureVerifier.from_vkey(_utf8(args[1]))
        self._claim_key(verifier.public_key)
        self.witnesses[name] = Witness(name, verifier, args[2] if len(args) == 3 else None)

    def _group(self, args: list[str]) -> None:
        if len(args) < 3:
            raise PolicyError("expected 'group <name> all|any|<k> <member>...'")
        name = self._new_name(args[0])
        members = tuple(args[2:])
        for member in members:
            if member not in self.witnesses and member not in self.groups:
                raise PolicyError(f"group member {member!r} is not defined on an earlier line")
        if len(set(members)) != len(members):
            raise PolicyError(f"group {name!r} lists a member more than once")
        self.groups[name] = Group(name, _threshold(args[1], len(members)), members)

    def _quorum(self, args: list[str]) -> None:
        if len(args) != 1:
            raise PolicyError("expected 'quorum <name>' or 'quorum none'")
        if self.quorum is not None:
            raise PolicyError("a second quorum line; exactly one is allowed")
        name = args[0]
        if name != NONE and name not in self.witnesses and name not in self.groups:
            raise PolicyError(f"quorum {name!r} is not a witness or group defined earlier")
        self.quorum = name

    def _new_name(self, name: str) -> str:
        if name == NONE:
            raise PolicyError("'none' is reserved and cannot name a witness or group")
        if name in self.witnesses or name in self.groups:
            raise PolicyError(f"name {name!r} is already defined")
        return name

    def _claim_key(self, public_key: bytes) -> None:
        if public_key in self.public_keys:
            raise PolicyError("this public key is already listed (duplicate keys are not allowed)")
        self.public_keys.add(public_key)

    def build(self) -> Policy:
        if self.quorum is None:
            raise PolicyError("policy has no quorum line")
        return Policy(
            tuple(self.logs), tuple(self.log_urls), self.witnesses, self.groups, self.quorum,
            self.signatures_required)


def _threshold(text: str, members: int) -> int:
    if text == "all":
        return members
    if text == "any":
        return 1
    if not _THRESHOLD.fullmatch(text):
        raise PolicyError(f"threshold {text!r} is not all, any or a decimal k >= 1")
    k = int(text)
    if k > members:
        raise PolicyError(f"threshold {k} is larger than the {members} members")
    return k


def _check_octets(line: bytes) -> None:
    # Allowed: tab, 0x20-0x7E and 0x80-0xFF (newline was consumed by the split).
    for i, octet in enumerate(line):
        if octet != 0x09 and (octet < 0x20 or octet == 0x7F):
            hint = " (CRLF line ending?)" if octet == 0x0D else ""
            raise PolicyError(f"control character 0x{octet:02x} at column {i + 1}{hint}")


def _opaque(field_bytes: bytes) -> str:
    # Names are opaque octet strings: surrogateescape keeps non-UTF-8 bytes distinct and exact.
    return field_bytes.decode("utf-8", "surrogateescape")


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PolicyError("a verifier key must be valid UTF-8") from None
    return text
