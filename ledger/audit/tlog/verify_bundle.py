"""The offline auditor's verifier for an audit bundle (docs/audit-bundle.md).

    python -m ledger.audit.tlog.verify_bundle DIR [--policy FILE] [--json]

It trusts nothing in the bundle except what the policy's keys sign, and checks:

1. every checkpoint (``checkpoint`` and ``checkpoints/<size>``): a valid signature by the
   policy's log key for the origin, valid cosignatures from known keys and the policy's quorum;
2. every entry (``tile/entries/...``): canonical CBOR of the 9-field entry, naming the bundle's
   origin and its own position, and carrying as ``prev_root`` the root of all entries before it;
   with personal signatures (``personal``): every entry in the name of someone holding a key
   signed by a key of theirs valid then, the keys read from the log's own enrolment entries;
3. the tree: leaf hashes recomputed from the entries, every hash tile equal to the recomputed
   tree, every checkpoint's root equal to the recomputed root at its size;
4. consistency: a consistency proof between consecutive checkpoints, built from the hash tiles
   and verified against the roots the checkpoints sign, the way a witness checks it.

Exit status: 0 intact, 1 findings (each naming the file and the entry index or checkpoint
size), 2 the bundle or policy cannot be read. Only the standard library and ``cryptography``
are needed (through the audit modules it imports); neither cbor2 nor the database layer is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from . import cbormin, merkle, tiles
from .checkpoint import Checkpoint, CheckpointError, open_checkpoint, verifier_from_vkey
from .note import NoteError, parse_note
from .personal import SignatureAudit
from .policy import Policy, PolicyError, QuorumError, parse_policy

# The entry format of ledger/audit/entries.py (not imported: it needs cbor2).
FORMAT_VERSION = 1
ENTRY_FIELDS = ("version", "origin", "index", "prev_root", "time_us", "actor", "kind", "rows",
                "details")   # and "auth" when signed (docs/signatures.md)

# Everything the verifier needs from fundtrail: these modules of ledger/audit/tlog (with the
# package __init__ files); the rest is the standard library and `cryptography`.
STANDALONE_MODULES = ("merkle", "note", "checkpoint", "policy", "cbormin", "tiles",
                      "personal", "verify_bundle")

CHECKPOINT_FILE = "checkpoint"
CHECKPOINTS_DIR = "checkpoints"
POLICY_FILE = "policy"
KEYS_FILE = "keys"
MAX_FINDINGS_PER_FILE = 20

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class MalformedBundle(Exception):
    """The bundle (or the policy) cannot be read at all: exit status 2."""


@dataclass(frozen=True)
class Finding:
    """One problem, located by file and by entry index or checkpoint size."""

    file: str
    problem: str
    entry: int | None = None
    checkpoint: int | None = None

    def where(self) -> str:
        place = self.file
        if self.entry is not None:
            place += f", entry {self.entry}"
        if self.checkpoint is not None:
            place += f" (checkpoint size {self.checkpoint})"
        return place

    def to_json(self) -> dict:
        return {"file": self.file, "entry": self.entry, "checkpoint": self.checkpoint,
                "problem": self.problem}


@dataclass
class CheckpointRecord:
    file: str
    size: int
    note: str
    body: Checkpoint | None = None
    log_signed: bool = False
    witnesses: list[str] = field(default_factory=list)
    quorum_met: bool = False
    unknown_signers: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"file": self.file, "size": self.size,
                "root": self.body.root_hash.hex() if self.body else None,
                "log_signed": self.log_signed, "witnesses": self.witnesses,
                "quorum_met": self.quorum_met, "unknown_signers": self.unknown_signers}


@dataclass
class Report:
    bundle: str
    origin: str
    size: int
    root: bytes
    policy_source: str
    quorum: str
    checkpoints: list[CheckpointRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    entries_checked: int = 0
    consistency_proofs: int = 0
    signatures: dict = field(default_factory=dict)   # SignatureAudit.summary()

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def quorum_met(self) -> bool:
        return bool(self.checkpoints) and all(r.quorum_met for r in self.checkpoints)

    def to_json(self) -> dict:
        return {
            "status": "intact" if self.intact else "findings",
            "bundle": self.bundle,
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "policy": self.policy_source,
            "quorum": self.quorum,
            "quorum_met": self.quorum_met,
            "entries_checked": self.entries_checked,
            "consistency_proofs": self.consistency_proofs,
            "checkpoints": [r.to_json() for r in self.checkpoints],
            "findings": [f.to_json() for f in self.findings],
            "signatures": self.signatures,
        }

    def to_text(self) -> str:
        sizes = ", ".join(str(r.size) for r in self.checkpoints)
        lines = []
        if self.intact:
            lines.append(f"intact: origin {self.origin}, size {self.size}, root {self.root.hex()}")
        else:
            count = len(self.findings)
            lines.append(f"NOT INTACT: {count} finding{'s' * (count != 1)} in {self.bundle} "
                         f"(origin {self.origin}, size {self.size})")
        lines.append(f"checkpoints checked: {len(self.checkpoints)} (sizes {sizes}); "
                     f"consistency proofs verified: {self.consistency_proofs}; "
                     f"entries checked: {self.entries_checked}")
        if self.quorum_met:
            lines.append(f"quorum {self.quorum!r} met on every checkpoint")
        else:
            failing = ", ".join(str(r.size) for r in self.checkpoints if not r.quorum_met)
            lines.append(f"quorum {self.quorum!r} NOT met on checkpoints of size {failing}")
        lines.append(f"policy: {self.policy_source}")
        if self.signatures:
            lines.append(f"personal signatures: {self.signatures['signed']} entries signed, "
                         f"{self.signatures['unsigned']} unsigned by people holding no key"
                         + (" (the policy requires signatures)"
                            if self.signatures["signatures_required"] else ""))
        lines.extend(f"  {f.where()}: {f.problem}" for f in self.findings)
        return "\n".join(lines)


# --------------------------------------------------------------------------- entry point


def verify(bundle_dir: str | Path, policy_path: str | Path | None = None) -> Report:
    """Check a bundle; raise MalformedBundle if it (or the policy) cannot be read."""
    return _Verifier(Path(bundle_dir), policy_path).run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.audit.tlog.verify_bundle",
        description="Verify a fundtrail offline audit bundle (exit 0 intact, 1 findings, "
                    "2 unreadable).")
    parser.add_argument("bundle", help="the bundle directory")
    parser.add_argument("--policy", metavar="FILE",
                        help="your own copy of the log's tlog-policy (default: the bundle's)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args(argv)
    try:
        report = verify(args.bundle, args.policy)
    except MalformedBundle as exc:
        return _fail(args, f"malformed bundle: {exc}")
    except Exception as exc:  # an auditor must never be shown a traceback
        return _fail(args, f"could not check the bundle ({type(exc).__name__}: {exc}); "
                           "this is unexpected input or a bug in the verifier")
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.to_text())
    return 0 if report.intact else 1


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.json:
        print(json.dumps({"status": "malformed", "bundle": args.bundle, "error": message}))
    print(f"verify_bundle: {message}", file=sys.stderr)
    return 2


# --------------------------------------------------------------------------- the checks


class _Findings:
    """Collects findings, listing at most MAX_FINDINGS_PER_FILE per file."""

    def __init__(self) -> None:
        self.listed: list[Finding] = []
        self.per_file: dict[str, int] = {}

    def add(self, file: str, problem: str, *, entry: int | None = None,
            checkpoint: int | None = None) -> None:
        seen = self.per_file.get(file, 0)
        self.per_file[file] = seen + 1
        if seen < MAX_FINDINGS_PER_FILE:
            self.listed.append(Finding(file, problem, entry, checkpoint))

    def result(self) -> list[Finding]:
        extra = [Finding(f, f"{n - MAX_FINDINGS_PER_FILE} more findings in this file not listed")
                 for f, n in self.per_file.items() if n > MAX_FINDINGS_PER_FILE]
        return self.listed + extra


class _Verifier:
    def __init__(self, root: Path, policy_path: str | Path | None) -> None:
        self.root = root
        self.policy_path = policy_path
        self.findings = _Findings()

    def run(self) -> Report:
        if not self.root.is_dir():
            raise MalformedBundle(f"{self.root}: not a directory")
        latest_note, latest = self._load_latest()
        self.origin, self.size = latest.origin, latest.size
        policy, source = self._load_policy()
        self.policy = policy
        self._check_keys()
        self.signature_audit = SignatureAudit(self.origin, policy.signatures_required)
        records = self._load_checkpoints(latest_note, latest)
        for record in records:
            self._check_signatures(record)
        roots, read = self._check_entries_and_tiles({r.size for r in records if r.body})
        self._check_roots(records, roots, read)
        proofs = self._check_consistency([r for r in records if r.body and r.size <= self.size])
        return Report(
            bundle=str(self.root), origin=self.origin, size=self.size, root=latest.root_hash,
            policy_source=source, quorum=policy.quorum, checkpoints=records,
            findings=self.findings.result(), entries_checked=read, consistency_proofs=proofs,
            signatures=self.signature_audit.summary())

    # ----------------------------------------------------------------- loading

    def _read_text(self, path: Path, name: str) -> str:
        try:
            return path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBundle(
                f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise MalformedBundle(f"{name}: cannot be read ({exc.strerror})") from None

    def _load_latest(self) -> tuple[str, Checkpoint]:
        path = self.root / CHECKPOINT_FILE
        if not path.is_file():
            raise MalformedBundle(
                f"{CHECKPOINT_FILE}: missing from {self.root} (a bundle has checkpoint, "
                f"checkpoints/, policy, keys and tile/)")
        note = self._read_text(path, CHECKPOINT_FILE)
        try:
            return note, Checkpoint.from_text(parse_note(note).text)
        except (NoteError, CheckpointError) as exc:
            raise MalformedBundle(f"{CHECKPOINT_FILE}: not a checkpoint note ({exc})") from None

    def _load_policy(self) -> tuple[Policy, str]:
        if self.policy_path is not None:
            path, source = Path(self.policy_path), f"{self.policy_path} (given with --policy)"
            if not path.is_file():
                raise MalformedBundle(f"{self.policy_path}: policy file not found")
        else:
            path = self.root / POLICY_FILE
            source = (f"{POLICY_FILE} from the bundle itself (not an independent check: "
                      "pass --policy with your own copy)")
            if not path.is_file():
                raise MalformedBundle(f"{POLICY_FILE}: missing (or pass --policy FILE)")
        name = str(self.policy_path) if self.policy_path is not None else POLICY_FILE
        try:
            policy = parse_policy(path.read_bytes())
        except PolicyError as exc:
            raise MalformedBundle(f"{name}: {exc}") from None
        except OSError as exc:
            raise MalformedBundle(f"{name}: cannot be read ({exc.strerror})") from None
        if not policy.logs_for_origin(self.origin):
            self.findings.add(name, f"lists no log key named {self.origin!r}, the bundle's origin")
        return policy, source

    def _check_keys(self) -> None:
        path = self.root / KEYS_FILE
        if not path.is_file():
            return  # informational only; the policy holds the keys that count
        text = self._read_text(path, KEYS_FILE)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                verifier_from_vkey(line.strip())
            except (NoteError, CheckpointError, IndexError) as exc:
                self.findings.add(KEYS_FILE, f"line {number} is not a verifier key ({exc})")

    def _load_checkpoints(self, latest_note: str, latest: Checkpoint) -> list[CheckpointRecord]:
        folder = self.root / CHECKPOINTS_DIR
        if not folder.is_dir():
            raise MalformedBundle(f"{CHECKPOINTS_DIR}/: missing")
        records = []
        for path in sorted(folder.iterdir(), key=lambda p: (len(p.name), p.name)):
            rel = f"{CHECKPOINTS_DIR}/{path.name}"
            if path.name.startswith("."):
                continue  # hidden files (editor or OS droppings) are not checkpoints
            if not _DECIMAL.fullmatch(path.name) or not path.is_file():
                self.findings.add(rel, "not a checkpoint file (names are decimal tree sizes)")
                continue
            records.append(self._record(rel, int(path.name), path))
        same = [r for r in records if r.size == latest.size]
        if not same:
            self.findings.add(f"{CHECKPOINTS_DIR}/{latest.size}",
                              f"missing: {CHECKPOINT_FILE} has size {latest.size} but no file "
                              f"in {CHECKPOINTS_DIR}/ holds it", checkpoint=latest.size)
        if not same or same[0].note != latest_note:
            if same:
                self.findings.add(CHECKPOINT_FILE, f"differs from {same[0].file}",
                                  checkpoint=latest.size)
            records.append(CheckpointRecord(CHECKPOINT_FILE, latest.size, latest_note, latest))
        for r in records:
            if r.size > latest.size:
                self.findings.add(r.file, f"is newer than {CHECKPOINT_FILE} (size {latest.size}), "
                                  "which should be the latest", checkpoint=r.size)
        return sorted(records, key=lambda r: (r.size, r.file))

    def _record(self, rel: str, size: int, path: Path) -> CheckpointRecord:
        try:
            note = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.findings.add(rel, f"cannot be read as UTF-8 text ({exc})", checkpoint=size)
            return CheckpointRecord(rel, size, "")
        record = CheckpointRecord(rel, size, note)
        try:
            body = Checkpoint.from_text(parse_note(note).text)
        except (NoteError, CheckpointError) as exc:
            self.findings.add(rel, f"not a checkpoint note: {exc}", checkpoint=size)
            return record
        if body.size != size:
            self.findings.add(rel, f"holds a checkpoint of size {body.size}, not {size}",
                              checkpoint=size)
            return record
        if body.origin != self.origin:
            self.findings.add(rel, f"has origin {body.origin!r}, not the bundle's {self.origin!r}",
                              checkpoint=size)
        record.body = body
        return record

    # ----------------------------------------------------------------- signatures

    def _check_signatures(self, record: CheckpointRecord) -> None:
        if record.body is None:
            return
        witnesses = [w.verifier for w in self.policy.witnesses.values()]
        try:
            result = self.policy.verify_checkpoint(record.note)
        except QuorumError as exc:
            opened = open_checkpoint(record.note, self.policy.logs, witnesses)
            record.log_signed = True
            record.witnesses = sorted(self.policy.witness_names(opened.cosignatures))
            record.unknown_signers = [s.name for s in opened.unknown]
            self.findings.add(record.file, f"quorum not met: {exc}", checkpoint=record.size)
            return
        except CheckpointError as exc:
            self.findings.add(record.file, self._signature_problem(record.note, exc),
                              checkpoint=record.size)
            return
        record.log_signed = True
        record.witnesses = sorted(result.witnesses)
        record.quorum_met = True
        record.unknown_signers = [s.name for s in result.verified.unknown]

    def _signature_problem(self, note: str, error: CheckpointError) -> str:
        """Name every known key whose signature fails; else the error's own words."""
        text, signatures = parse_note(note)
        known = {(v.name, v.key_id): v for v in self.policy.logs}
        known.update({(w.verifier.name, w.verifier.key_id): w.verifier
                      for w in self.policy.witnesses.values()})
        bad = [f"signature by {s.name} (key ID {s.key_id.hex()}) does not verify"
               for s in signatures
               if (s.name, s.key_id) in known
               and not known[(s.name, s.key_id)].verify(text.encode("utf-8"), s.signature)]
        return "; ".join(bad) if bad else str(error)

    # ----------------------------------------------------------------- entries and tiles

    def _check_entries_and_tiles(self, sizes: set[int]) -> tuple[dict[int, bytes], int]:
        """Stream the entries once; return the recomputed roots at ``sizes`` and the count read."""
        frontier = merkle.Frontier()
        roots = {0: merkle.EMPTY_ROOT}
        tile_check = _TileCheck(self.root, self.size, self.findings)
        self.bundle_entries: list[bytes] = []
        self.chain_run: list | None = None  # [file, first break, last break] of a broken run
        for position, entry, rel in self._entries():
            self._check_entry(entry, position, rel, frontier.root())
            leaf = merkle.leaf_hash(entry)
            frontier.append(leaf)
            tile_check.add(leaf)
            if frontier.size in sizes or frontier.size == self.size:
                roots[frontier.size] = frontier.root()
                tile_check.check_partials(frontier.size, required=frontier.size == self.size)
                self._check_old_entry_bundle(frontier.size)
        self._flush_chain_run()
        return roots, frontier.size

    def _entries(self) -> Iterator[tuple[int, bytes, str]]:
        full, partial = divmod(self.size, tiles.TILE_WIDTH)
        for index in range(full + bool(partial)):
            width = tiles.TILE_WIDTH if index < full else partial
            first = index * tiles.TILE_WIDTH
            rel, data = self._entry_bundle(index, width)
            if data is None:
                self.findings.add(rel, f"missing: entries {first}..{first + width - 1} of the "
                                  f"checkpoint at size {self.size} cannot be checked")
                return
            entries, problem = tiles.split_entry_bundle(data)
            if problem:
                self.findings.add(rel, problem)
            expected = tiles.TILE_WIDTH if rel == tiles.entries_path(index) else width
            if len(entries) != expected:
                self.findings.add(rel, f"holds {len(entries)} entries where {expected} are "
                                  "expected (entries removed or added)")
            self.bundle_entries = entries[:width]
            for offset, entry in enumerate(self.bundle_entries):
                yield first + offset, entry, rel
            if len(self.bundle_entries) < width:
                return  # later positions cannot be lined up with the tree any more

    def _entry_bundle(self, index: int, width: int) -> tuple[str, bytes | None]:
        for rel in dict.fromkeys([tiles.entries_path(index, width), tiles.entries_path(index)]):
            path = self.root.joinpath(*rel.split("/"))
            if path.is_file():
                return rel, path.read_bytes()
        return tiles.entries_path(index, width), None

    def _check_old_entry_bundle(self, size: int) -> None:
        """A partial bundle kept for an older checkpoint must hold the same entries."""
        index, width = divmod(size, tiles.TILE_WIDTH)
        if size == self.size or not width:
            return
        rel = tiles.entries_path(index, width)
        path = self.root.joinpath(*rel.split("/"))
        if not path.is_file():
            return
        entries, problem = tiles.split_entry_bundle(path.read_bytes())
        if problem or len(entries) != width:
            self.findings.add(rel, problem or f"holds {len(entries)} entries, expected {width}",
                              checkpoint=size)
        for offset, (kept, entry) in enumerate(zip(entries, self.bundle_entries)):
            if kept != entry:
                self.findings.add(rel, "differs from the same entry in the latest bundle",
                                  entry=index * tiles.TILE_WIDTH + offset, checkpoint=size)

    def _check_entry(self, entry: bytes, position: int, rel: str, prev_root: bytes) -> None:
        def finding(problem: str) -> None:
            self.findings.add(rel, problem, entry=position)

        try:
            body = cbormin.decode(entry)
        except cbormin.CborError as exc:
            finding(f"not CBOR of the entry subset: {exc}")
            return
        if cbormin.encode(body) != entry:
            finding("not in canonical CBOR form (re-encoding gives different bytes)")
        if not isinstance(body, list) or len(body) not in (len(ENTRY_FIELDS),
                                                           len(ENTRY_FIELDS) + 1):
            shape = f"{len(body)} fields" if isinstance(body, list) else type(body).__name__
            finding(f"not an entry: expected an array of {len(ENTRY_FIELDS)} fields "
                    f"(or {len(ENTRY_FIELDS) + 1} when signed), got {shape}")
            return
        version, origin, index, prev, time_us, actor, kind, rows, details = body[:9]
        if version != FORMAT_VERSION or isinstance(version, bool):
            finding(f"format version {version!r}, expected {FORMAT_VERSION}")
        if origin != self.origin:
            finding(f"origin field is {origin!r}, not the bundle's origin {self.origin!r}")
        if index != position or isinstance(index, bool):
            finding(f"index field is {index!r}, but the entry is at position {position}")
        if not isinstance(prev, bytes) or len(prev) != merkle.HASH_SIZE:
            finding("prev_root field is not a 32-byte hash")
        elif prev != prev_root:
            self._chain_break(position, rel, prev, prev_root)
        else:
            self._flush_chain_run()
        for name, value, ok in (("time_us", time_us, _is_uint(time_us)),
                                ("actor", actor, isinstance(actor, str)),
                                ("kind", kind, isinstance(kind, str)),
                                ("rows", rows, isinstance(rows, list)),
                                ("details", details, isinstance(details, dict)
                                 and all(isinstance(k, str) for k in details))):
            if not ok:
                finding(f"field {name} has the wrong type ({type(value).__name__})")
        if isinstance(actor, str) and isinstance(kind, str) and isinstance(rows, list):
            audit = self.signature_audit
            seen = len(audit.findings)
            audit.feed(position, body)
            for problem in audit.findings[seen:]:
                finding(f"signature: {problem}")

    def _chain_break(self, position: int, rel: str, prev: bytes, prev_root: bytes) -> None:
        """Report where the chain breaks; the links after it that inherit the break, as one run.

        Once the history before entry k differs from what entry k committed to, every later
        prev_root differs too, so listing each would bury the place that matters.
        """
        if self.chain_run is None:
            self.findings.add(rel, f"prev_root {prev.hex()} is not the root of the {position} "
                              f"entries before it ({prev_root.hex()}): the hash chain is broken "
                              "here", entry=position)
            self.chain_run = [rel, position, position]
        else:
            self.chain_run[2] = position

    def _flush_chain_run(self) -> None:
        if self.chain_run is None:
            return
        rel, first, last = self.chain_run
        self.chain_run = None
        if last > first:
            self.findings.add(rel, f"the prev_root of each of entries {first + 1}..{last} differs "
                              f"from the recomputed root too, following the break at entry "
                              f"{first}", entry=first + 1)

    # ----------------------------------------------------------------- roots and consistency

    def _check_roots(self, records: list[CheckpointRecord], roots: dict[int, bytes],
                     read: int) -> None:
        for r in records:
            if r.body is None:
                continue
            if r.size > read:
                if r.size <= self.size:
                    self.findings.add(r.file, f"cannot be checked: only {read} of its "
                                      f"{r.size} entries could be read", checkpoint=r.size)
                continue
            if roots[r.size] != r.body.root_hash:
                self.findings.add(
                    r.file, f"root {r.body.root_hash.hex()} differs from the root "
                    f"{roots[r.size].hex()} recomputed from the entries", checkpoint=r.size)

    def _check_consistency(self, records: list[CheckpointRecord]) -> int:
        reader = tiles.tile_node_reader(self.root, self.size)
        verified = 0
        for old, new in zip(records, records[1:]):
            try:
                proof = merkle.consistency_proof(old.size, new.size, reader)
                merkle.verify_consistency(old.size, new.size, old.body.root_hash,
                                          new.body.root_hash, proof)
            except tiles.TileError as exc:
                self.findings.add(exc.path, f"cannot build the consistency proof from size "
                                  f"{old.size} to {new.size}: {exc.problem}", checkpoint=new.size)
            except merkle.ProofError as exc:
                self.findings.add(new.file, f"not consistent with {old.file}: the consistency "
                                  f"proof built from the tiles fails ({exc})", checkpoint=new.size)
            else:
                verified += 1
        return verified


class _TileCheck:
    """Compares hash tiles with the tree as it is recomputed, one leaf at a time.

    ``levels[L]`` holds the recomputed hashes of the current (not yet full) tile at tile level
    L, i.e. ``(count >> 8L) mod 256`` hashes; a full one is compared and hashed into level L+1.
    """

    def __init__(self, root: Path, size: int, findings: _Findings) -> None:
        self.root = root
        self.size = size
        self.findings = findings
        self.levels: list[list[bytes]] = []
        self.done: list[int] = []  # full tiles finished per level
        self.compared: set[str] = set()  # an old and the latest size can share a partial tile

    def add(self, leaf: bytes) -> None:
        level, h = 0, leaf
        while True:
            if len(self.levels) == level:
                self.levels.append([])
                self.done.append(0)
            buf = self.levels[level]
            buf.append(h)
            if len(buf) < tiles.TILE_WIDTH:
                return
            self.compare(level, self.done[level], buf, required=True)
            self.done[level] += 1
            self.levels[level] = []
            level, h = level + 1, tiles.subtree_root(buf)

    def check_partials(self, size: int, *, required: bool) -> None:
        for level, buf in enumerate(self.levels):
            if not buf:
                continue
            rel = tiles.tile_path(level, self.done[level], len(buf))
            if not required and not self.root.joinpath(*rel.split("/")).is_file():
                continue  # partial tiles of older checkpoints are optional
            self.compare(level, self.done[level], buf, required=required, checkpoint=size)

    def compare(self, level: int, index: int, expected: list[bytes], *, required: bool,
                checkpoint: int | None = None) -> None:
        width = len(expected)
        rel = tiles.tile_path(level, index, width)
        if rel in self.compared:
            return
        self.compared.add(rel)
        try:
            data = tiles.read_tile(self.root, level, index, width)
        except tiles.TileMissingError:
            self.findings.add(rel, "missing", checkpoint=checkpoint)
            return
        except tiles.TileError as exc:
            self.findings.add(exc.path, exc.problem, checkpoint=checkpoint)
            return
        hs = merkle.HASH_SIZE
        wrong = [j for j in range(width) if data[j * hs : (j + 1) * hs] != expected[j]]
        if not wrong:
            return
        j = wrong[0]
        span = tiles.TILE_WIDTH ** level
        first = (index * tiles.TILE_WIDTH + j) * span
        what = (f"the leaf hash of entry {first}" if level == 0
                else f"the root of entries {first}..{first + span - 1}")
        more = f" ({len(wrong)} of {width} hashes differ)" if len(wrong) > 1 else ""
        self.findings.add(rel, f"hash {j} is not {what} recomputed from the entries{more}",
                          entry=first if level == 0 else None, checkpoint=checkpoint)


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


if __name__ == "__main__":
    sys.exit(main())
