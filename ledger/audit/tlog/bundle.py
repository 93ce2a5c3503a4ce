"""Write the offline auditor's bundle (docs/audit-bundle.md): tiles, checkpoints, policy, keys.

Layout of the bundle directory::

    checkpoint                 the latest checkpoint note (log signature + cosignatures)
    checkpoints/<size>         every checkpoint note, one file per tree size
    policy                     C2SP tlog-policy text: which log key and cosigners make it count
    keys                       one verifier key (vkey) per line: log key and cosigner keys
    tile/<L>/<N>[.p/<W>]       C2SP tlog-tiles hash tiles of the tree at the latest size
    tile/entries/<N>[.p/<W>]   entry bundles: the canonical CBOR entries, uint16-length-prefixed
    README.txt                 how an auditor runs the verifier

The bundle holds exactly the tree of the latest checkpoint: ``size`` must equal its size.
Nothing here touches the database; the caller feeds entries and a node reader from wherever
they live. Only the standard library and ``cryptography`` (through the audit modules) are used.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from . import merkle, tiles
from .checkpoint import Checkpoint, CheckpointError, add_signatures, verifier_from_vkey
from .note import NoteError, parse_note
from .policy import PolicyError, parse_policy
from .verify_bundle import STANDALONE_MODULES

CHECKPOINT_FILE = "checkpoint"
CHECKPOINTS_DIR = "checkpoints"
POLICY_FILE = "policy"
KEYS_FILE = "keys"
README_FILE = "README.txt"


class BundleError(ValueError):
    """The inputs cannot make a consistent bundle (wrong sizes, origins, keys or policy)."""


def write_bundle(
    out_dir: str | os.PathLike,
    *,
    origin: str,
    entries: Iterable[bytes],
    size: int,
    node_reader: merkle.NodeReader,
    checkpoints: list[str],
    policy_text: str,
    keys: dict[str, str],
) -> Path:
    """Write a bundle of the first ``size`` entries to ``out_dir`` (absent or empty).

    ``checkpoints`` are signed and cosigned notes, oldest first, all of ``origin``; notes of the
    same size must be of the same tree and are merged; the last one's size must be ``size``.
    ``entries`` may yield more than ``size`` entries; only the first ``size`` are read. The
    bundle is built in a temporary directory next to ``out_dir`` and moved into place, so a
    failure leaves nothing behind.
    """
    sizes, checkpoints = _merge_checkpoints(origin, size, checkpoints)
    _check_policy(policy_text)
    key_lines = _check_keys(keys)
    target = Path(out_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not an empty directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            written = tiles.write_entry_bundles(
                work, itertools.islice(entries, size), checkpoint_sizes=sizes
            )
        except tiles.EntryTooLargeError:
            raise
        except ValueError as exc:  # fewer entries than some checkpoint's size
            raise BundleError(f"expected {size} entries: {exc}") from None
        if written != size:
            raise BundleError(f"expected {size} entries, got {written}")
        tiles.write_hash_tiles(work, size, node_reader, checkpoint_sizes=sizes)
        (work / CHECKPOINTS_DIR).mkdir()
        for cp_size, note in zip(sizes, checkpoints):
            _write_text(work / CHECKPOINTS_DIR / str(cp_size), note)
        _write_text(work / CHECKPOINT_FILE, checkpoints[-1])
        _write_text(work / POLICY_FILE, policy_text if policy_text.endswith("\n")
                    else policy_text + "\n")
        _write_text(work / KEYS_FILE, "".join(f"{line}\n" for line in key_lines))
        _write_text(work / README_FILE, readme_text(origin, size, checkpoints[-1]))
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def _merge_checkpoints(
    origin: str, size: int, checkpoints: list[str]
) -> tuple[list[int], list[str]]:
    """Sizes and notes, one per size: notes of the same tree re-signed are merged.

    Signing twice without new entries gives two notes with the same body (Ed25519 is
    deterministic, so even the log signature is the same); their cosignature lines are joined
    into one note, since ``checkpoints/<size>`` holds one. Two different bodies at one size
    would mean the log signed two different trees of that size: that is refused.
    """
    if not checkpoints:
        raise BundleError("a bundle needs at least one checkpoint")
    sizes: list[int] = []
    notes: list[str] = []
    for position, note in enumerate(checkpoints):
        try:
            text = parse_note(note).text
            cp = Checkpoint.from_text(text)
        except (NoteError, CheckpointError) as exc:
            raise BundleError(f"checkpoint {position} is not a signed checkpoint: {exc}") from None
        if cp.origin != origin:
            raise BundleError(f"checkpoint {position} has origin {cp.origin!r}, not {origin!r}")
        if sizes and cp.size == sizes[-1]:
            if parse_note(notes[-1]).text != text:
                raise BundleError(f"two different checkpoints of size {cp.size}: the log "
                                  "signed two different trees of the same size")
            notes[-1] = add_signatures(notes[-1], [s.line() for s in parse_note(note).signatures])
            continue
        if sizes and cp.size < sizes[-1]:
            raise BundleError(
                f"checkpoints must be oldest first with growing sizes: {cp.size} after {sizes[-1]}"
            )
        sizes.append(cp.size)
        notes.append(note)
    if sizes[-1] != size:
        raise BundleError(
            f"the latest checkpoint has size {sizes[-1]}, but the bundle size is {size}")
    return sizes, notes


def _check_policy(policy_text: str) -> None:
    try:
        parse_policy(policy_text)
    except PolicyError as exc:
        raise BundleError(f"policy: {exc}") from None


def _check_keys(keys: dict[str, str]) -> list[str]:
    lines = []
    for name, vkey in keys.items():
        try:
            verifier_from_vkey(vkey)
        except (NoteError, CheckpointError) as exc:
            raise BundleError(f"key {name!r}: {exc}") from None
        lines.append(vkey)
    return lines


def _write_text(path: Path, text: str) -> None:
    # Exact bytes: no newline translation, so signatures over the text stay valid.
    path.write_bytes(text.encode("utf-8"))


def readme_text(origin: str, size: int, latest_note: str) -> str:
    body = parse_note(latest_note).text
    return f"""\
Offline audit bundle of the transparency log {origin}
=====================================================

This directory holds every entry of the log up to tree size {size}, the Merkle tree
hashes (C2SP tlog-tiles layout), every signed and cosigned checkpoint, the log's
signing policy (C2SP tlog-policy) and the public keys. The latest checkpoint is:

{_indent(body)}
How to check it
---------------
You need Python 3.11 or newer, the `cryptography` package and the fundtrail verifier:
the modules ledger/audit/tlog/{{{",".join(STANDALONE_MODULES)}}}.py
and the (empty) ledger/__init__.py, ledger/audit/__init__.py and
ledger/audit/tlog/__init__.py; nothing else from
fundtrail is imported. Then, from the directory that holds ledger/, run

    python -m ledger.audit.tlog.verify_bundle /path/to/this/directory --policy YOUR-POLICY

Use YOUR OWN copy of the policy, obtained from the publishing authority, not the file
`policy` in this directory: anyone who can alter the bundle can alter that file too.
Without --policy the bundled policy is used and the report says so. Compare the key
fingerprints in the policy with the ones the authority publishes.

Exit status 0 means intact (it prints the origin, size and root hash: compare the root
with the one published or printed on notices), 1 means the verifier found problems and
lists each with the file and entry index or checkpoint size, 2 means the bundle or the
policy could not be read. Add --json for a machine-readable report.

Files
-----
checkpoint                 latest checkpoint (signed note: log signature, cosignatures)
checkpoints/<size>         every checkpoint, one file per tree size
policy                     the log's tlog-policy (which signatures make a checkpoint count)
keys                       verifier keys (vkeys) of the log and its cosigners, one per line
tile/<L>/<N>[.p/<W>]       Merkle tree hashes, 256 per full tile (C2SP tlog-tiles)
tile/entries/<N>[.p/<W>]   the entries (canonical CBOR), each prefixed by a 2-byte length

The format is described in full in docs/audit-bundle.md of fundtrail.
"""


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())
