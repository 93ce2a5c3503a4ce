"""The offline bundle: written from a synthetic log, verified intact, and every tamper found."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cbor2
import pytest

from ledger.audit.entries import decode_entry, encode_entry
from ledger.audit.tlog import merkle, tiles
from ledger.audit.tlog.bundle import BundleError, write_bundle
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    add_signatures,
    cosign,
    generate_cosigner,
    sign_checkpoint,
)
from ledger.audit.tlog.note import NoteSignature, format_note, generate_signer, parse_note
from ledger.audit.tlog.verify_bundle import STANDALONE_MODULES, main, verify

ORIGIN = "fundtrail.example/test-county"
REPO = Path(__file__).resolve().parents[3]
T0 = 1_700_000_000_000_000


# --------------------------------------------------------------------------- a synthetic log


@dataclass
class Log:
    entries: list[bytes]
    nodes: dict[tuple[int, int], bytes]

    def reader(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def root(self, size: int) -> bytes:
        return merkle.root_at(size, self.reader)


def make_entry(i: int, prev_root: bytes, *, index: int | None = None) -> bytes:
    return encode_entry(
        origin=ORIGIN, index=i if index is None else index, prev_root=prev_root,
        time_us=T0 + i * 1_000_000, actor="clerk-wang", kind="transfer.record",
        rows=[("transfers", [i], {"id": i, "amount_fen": 10_000 * (i + 1), "memo": "扶贫"})],
        details={"reason": f"appropriation {i}"})


def build_log(n: int, *, wrong_index: int | None = None, broken_chain: int | None = None,
              raw: dict[int, bytes] | None = None) -> Log:
    """n entries with a correct prev_root chain, except where a test asks for a defect."""
    frontier = merkle.Frontier()
    entries, nodes = [], {}
    for i in range(n):
        prev = frontier.root()
        if i == broken_chain:
            prev = hashlib.sha256(b"some other history").digest()
        entry = make_entry(i, prev, index=i + 1 if i == wrong_index else None)
        entry = (raw or {}).get(i, entry)
        entries.append(entry)
        for node in frontier.append(merkle.leaf_hash(entry)):
            nodes[(node.level, node.index)] = node.hash
    return Log(entries, nodes)


@dataclass
class Keys:
    log: object
    cosigners: dict[str, object]

    def policy(self, *, quorum: str = "signoff", extra: str = "") -> str:
        lines = [f"log {self.log.vkey}"]
        lines += [f"witness {name} {c.vkey}" for name, c in self.cosigners.items()]
        lines += [extra] if extra else []
        lines += ["group signoff 2 village township county", f"quorum {quorum}"]
        return "\n".join(lines) + "\n"

    def checkpoint(self, size: int, root: bytes, cosigners=("village", "township", "county"),
                   ) -> str:
        note = sign_checkpoint(Checkpoint(ORIGIN, size, root), self.log)
        lines = [cosign(note, self.cosigners[name], 1_700_000_000 + size) for name in cosigners]
        return add_signatures(note, lines)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(generate_signer(ORIGIN), {
        "village": generate_cosigner("village.example/witness"),
        "township": generate_cosigner("township.example/witness"),
        "county": generate_cosigner("county.example/witness"),
    })


# Sizes 5 and 20 are cosigned by all three; 12 by exactly two, the quorum.
SIZES = {5: ("village", "township", "county"), 12: ("village", "township"),
         20: ("village", "township", "county")}


def make_bundle(path: Path, keys: Keys, log: Log, sizes=None) -> Path:
    sizes = sizes or SIZES
    notes = [keys.checkpoint(s, log.root(s), cosigners) for s, cosigners in sizes.items()]
    all_keys = {"log": keys.log.vkey, **{n: c.vkey for n, c in keys.cosigners.items()}}
    return write_bundle(path, origin=ORIGIN, entries=iter(log.entries), size=max(sizes),
                        node_reader=log.reader, checkpoints=notes, policy_text=keys.policy(),
                        keys=all_keys)


@pytest.fixture
def bundle(tmp_path, keys) -> Path:
    return make_bundle(tmp_path / "bundle", keys, build_log(20))


def run(bundle_dir: Path, *args: str) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(bundle_dir), *args])
    return code, out.getvalue()


def places(bundle_dir: Path, **kw) -> list[tuple[str, int | None, int | None, str]]:
    return [(f.file, f.entry, f.checkpoint, f.problem) for f in verify(bundle_dir, **kw).findings]


def rewrite_entries(bundle_dir: Path, rel: str, change) -> None:
    path = bundle_dir / rel
    entries = tiles.parse_entry_bundle(path.read_bytes())
    path.write_bytes(tiles.encode_entry_bundle(change(entries)))


BUNDLE20 = tiles.entries_path(0, 20)
TILE20 = tiles.tile_path(0, 0, 20)


# --------------------------------------------------------------------------- intact


def test_intact_bundle_layout_and_exit_0(bundle, keys):
    for rel in ["checkpoint", "checkpoints/5", "checkpoints/12", "checkpoints/20", "policy",
                "keys", "README.txt", BUNDLE20, TILE20,
                # partial tiles and bundles of the older checkpoints, for tlog-tiles clients
                "tile/0/000.p/5", "tile/0/000.p/12", "tile/entries/000.p/5"]:
        assert (bundle / rel).is_file(), rel
    assert (bundle / "checkpoint").read_bytes() == (bundle / "checkpoints/20").read_bytes()
    assert len((bundle / "keys").read_text().splitlines()) == 4
    assert "python -m ledger.audit.tlog.verify_bundle" in (bundle / "README.txt").read_text()

    code, out = run(bundle)
    root = build_log(20).root(20).hex()
    assert code == 0, out
    assert out.startswith(f"intact: origin {ORIGIN}, size 20, root {root}")
    assert "checkpoints checked: 3" in out and "consistency proofs verified: 2" in out
    assert "quorum 'signoff' met" in out and "not an independent check" in out


def test_entries_read_back_and_decode(bundle):
    log = build_log(20)
    assert list(tiles.read_entries(bundle, 20)) == log.entries
    assert decode_entry(log.entries[7])["index"] == 7


def test_json_report(bundle):
    code, out = run(bundle, "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "intact" and report["findings"] == []
    assert [c["size"] for c in report["checkpoints"]] == [5, 12, 20]
    assert report["checkpoints"][1]["witnesses"] == ["township", "village"]
    assert report["quorum_met"] is True and report["entries_checked"] == 20


def test_auditors_own_policy(bundle, keys, tmp_path):
    own = tmp_path / "my-policy"
    own.write_text(keys.policy())
    (bundle / "policy").unlink()  # not needed when the auditor brings one
    code, out = run(bundle, "--policy", str(own))
    assert code == 0 and "given with --policy" in out
    # A stricter policy (all three must sign) fails on checkpoint 12.
    own.write_text(keys.policy().replace("group signoff 2", "group signoff all"))
    code, out = run(bundle, "--policy", str(own))
    assert code == 1
    assert "checkpoints/12 (checkpoint size 12): quorum not met" in out


def test_multi_tile_log(tmp_path, keys):
    log = build_log(600)
    sizes = {100: SIZES[5], 256: SIZES[5], 300: SIZES[12], 600: SIZES[20]}
    b = make_bundle(tmp_path / "b", keys, log, sizes)
    expected = ["tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2",
                "tile/1/000.p/1", "tile/entries/000", "tile/entries/001",
                "tile/entries/002.p/88"]
    for rel in expected:
        assert (b / rel).is_file(), rel
    # Partial tiles whose full tile is in the bundle are not kept.
    assert not (b / "tile/0/000.p/100").exists() and not (b / "tile/entries/001.p/44").exists()
    code, out = run(b)
    assert code == 0, out
    assert "consistency proofs verified: 3" in out
    # A level-1 hash is the root of a full level-0 tile; altering it names that range.
    tile = b / "tile/1/000.p/2"
    data = bytearray(tile.read_bytes())
    data[40] ^= 1
    tile.write_bytes(bytes(data))
    assert places(b) == [("tile/1/000.p/2", None, 600,
                          "hash 1 is not the root of entries 256..511 recomputed from the entries")]


def test_empty_log_bundle(tmp_path, keys):
    b = make_bundle(tmp_path / "empty", keys, build_log(0), {0: SIZES[5]})
    code, out = run(b)
    assert code == 0 and f"root {merkle.EMPTY_ROOT.hex()}" in out


# --------------------------------------------------------------------------- tampering


def test_entry_byte_altered(bundle):
    def alter(entries):
        entries[7] = entries[7].replace(b"clerk-wang", b"clerk-wanG")
        return entries

    rewrite_entries(bundle, BUNDLE20, alter)
    code, out = run(bundle)
    assert code == 1
    found = places(bundle)
    assert (TILE20, 7, 20, "hash 7 is not the leaf hash of entry 7 recomputed from the entries"
            ) in found
    assert any(f[:3] == ("checkpoints/12", None, 12) and "differs from the root" in f[3]
               for f in found)
    # Checkpoint 5 and its partial bundle predate the change and stay fine.
    assert not any(f[2] == 5 for f in found)


def test_entry_removed(bundle):
    rewrite_entries(bundle, BUNDLE20, lambda entries: entries[:-1])
    code, out = run(bundle)
    assert code == 1
    assert (f"{BUNDLE20}: holds 19 entries where 20 are expected (entries removed or added)"
            in out)
    assert "checkpoints/20 (checkpoint size 20): cannot be checked: only 19 of its 20" in out


def test_entry_removed_from_the_middle(bundle):
    rewrite_entries(bundle, BUNDLE20, lambda entries: entries[:9] + entries[10:])
    found = places(bundle)
    assert (BUNDLE20, 9, None, "index field is 10, but the entry is at position 9") in found


def test_entries_swapped(bundle):
    def swap(entries):
        entries[3], entries[4] = entries[4], entries[3]
        return entries

    rewrite_entries(bundle, BUNDLE20, swap)
    code, out = run(bundle)
    assert code == 1
    found = places(bundle)
    assert (BUNDLE20, 3, None, "index field is 4, but the entry is at position 3") in found
    assert (BUNDLE20, 4, None, "index field is 3, but the entry is at position 4") in found
    assert f"{BUNDLE20}, entry 3: prev_root" in out


def test_tile_hash_altered(bundle):
    path = bundle / TILE20
    data = bytearray(path.read_bytes())
    data[6 * 32 + 5] ^= 0x80
    path.write_bytes(bytes(data))
    code, out = run(bundle)
    assert code == 1
    found = places(bundle)
    assert (TILE20, 6, 20, "hash 6 is not the leaf hash of entry 6 recomputed from the entries"
            ) in found
    # The witness path (consistency proof from the tiles) trips over the same hash.
    assert any(f[0] == "checkpoints/20" and "consistency proof" in f[3] for f in found)


def test_checkpoint_signature_altered(bundle, keys):
    path = bundle / "checkpoints/12"
    text, sigs = parse_note(path.read_text())
    bad = bytearray(sigs[0].signature)
    bad[10] ^= 1
    sigs[0] = NoteSignature(sigs[0].name, sigs[0].key_id, bytes(bad))
    path.write_text(format_note(text, sigs))
    code, out = run(bundle)
    assert code == 1
    kid = keys.log.key_id.hex()
    assert (f"checkpoints/12 (checkpoint size 12): signature by {ORIGIN} (key ID {kid}) "
            "does not verify") in out


def test_checkpoint_root_does_not_match(bundle, keys):
    # A note the log really signed and the quorum cosigned, but over another tree.
    wrong = hashlib.sha256(b"another tree").digest()
    (bundle / "checkpoints/12").write_text(keys.checkpoint(12, wrong))
    code, out = run(bundle)
    assert code == 1
    right = build_log(20).root(12)
    assert (f"checkpoints/12 (checkpoint size 12): root {wrong.hex()} differs from the root "
            f"{right.hex()} recomputed from the entries") in out
    assert "checkpoints/12 (checkpoint size 12): not consistent with checkpoints/5" in out
    assert "checkpoints/20 (checkpoint size 20): not consistent with checkpoints/12" in out


def test_cosignature_removed_quorum_fails(bundle, keys):
    path = bundle / "checkpoints/12"
    text, sigs = parse_note(path.read_text())
    path.write_text(format_note(text, [s for s in sigs if s.name != "township.example/witness"]))
    code, out = run(bundle)
    assert code == 1
    assert "checkpoints/12 (checkpoint size 12): quorum not met" in out
    assert "quorum 'signoff' NOT met on checkpoints of size 12" in out


def test_wrong_index_field(tmp_path, keys):
    b = make_bundle(tmp_path / "b", keys, build_log(20, wrong_index=9))
    # The tree and the signatures are consistent with the bad entry: only its content is wrong.
    assert places(b) == [(BUNDLE20, 9, None, "index field is 10, but the entry is at position 9")]
    assert run(b)[0] == 1


def test_broken_prev_root_chain(tmp_path, keys):
    b = make_bundle(tmp_path / "b", keys, build_log(20, broken_chain=11))
    (found,) = places(b)
    assert found[:3] == (BUNDLE20, 11, None)
    assert "is not the root of the 11 entries before it" in found[3]
    assert "hash chain is broken" in found[3]


def test_non_canonical_and_garbage_entries(tmp_path, keys):
    body = cbor2.loads(build_log(5).entries[4])
    body[8] = {"z": 1, "a": 2}  # map keys out of order
    raw = {4: cbor2.dumps(body), 6: b"\xff\x00", 7: cbor2.dumps(1.5)}
    # The tree, the chain and the signatures all cover these bytes: only the encoding is wrong.
    b = make_bundle(tmp_path / "b", keys, build_log(20, raw=raw))
    found = places(b)
    assert [f[1] for f in found] == [4, 6, 7]
    assert found[0][3] == "not in canonical CBOR form (re-encoding gives different bytes)"
    assert found[1][3].startswith("not CBOR of the entry subset: break code at byte 0")
    assert "floats are not allowed" in found[2][3]


def test_old_partial_bundle_altered(bundle):
    rel = tiles.entries_path(0, 5)

    def alter(entries):
        entries[2] = entries[2].replace(b"clerk", b"CLERK")
        return entries

    rewrite_entries(bundle, rel, alter)
    assert places(bundle) == [(rel, 2, 5, "differs from the same entry in the latest bundle")]


def test_checkpoint_file_differs_from_checkpoints_dir(bundle, keys):
    (bundle / "checkpoint").write_text((bundle / "checkpoints/12").read_text())
    code, out = run(bundle)
    assert code == 1  # the size-12 checkpoint posing as the latest leaves entries 12..19 unsigned
    assert "checkpoints/20 (checkpoint size 20): is newer than checkpoint (size 12)" in out


# --------------------------------------------------------------------------- malformed (exit 2)


def test_missing_checkpoint_exits_2(bundle):
    (bundle / "checkpoint").unlink()
    code, out = run(bundle)
    assert code == 2
    assert "malformed bundle: checkpoint: missing" in out and "Traceback" not in out


@pytest.mark.parametrize("what", ["policy", "checkpoints", "not-a-dir", "bad-policy"])
def test_other_malformed_inputs_exit_2(bundle, what, tmp_path):
    args = []
    if what == "policy":
        (bundle / "policy").unlink()
    elif what == "checkpoints":
        for p in (bundle / "checkpoints").iterdir():
            p.unlink()
        (bundle / "checkpoints").rmdir()
    elif what == "not-a-dir":
        bundle = tmp_path / "nothing-here"
    else:
        (tmp_path / "p").write_text("quorum nobody\n")
        args = ["--policy", str(tmp_path / "p")]
    code, out = run(bundle, *args, "--json")
    assert code == 2 and "Traceback" not in out
    assert json.loads(out.splitlines()[0])["status"] == "malformed"


def test_missing_tile_is_a_finding(bundle):
    (bundle / TILE20).unlink()
    code, out = run(bundle)
    assert code == 1 and f"{TILE20} (checkpoint size 20): missing" in out


# --------------------------------------------------------------------------- writing


def test_write_bundle_refuses_bad_input(tmp_path, keys):
    log = build_log(5)
    note = keys.checkpoint(5, log.root(5))
    kw = dict(origin=ORIGIN, node_reader=log.reader, policy_text=keys.policy(),
              keys={"log": keys.log.vkey})
    with pytest.raises(BundleError, match="latest checkpoint has size 5"):
        write_bundle(tmp_path / "a", entries=iter(log.entries), size=4, checkpoints=[note], **kw)
    with pytest.raises(BundleError, match="expected 5 entries"):
        write_bundle(tmp_path / "b", entries=iter(log.entries[:4]), size=5, checkpoints=[note],
                     **kw)
    assert not (tmp_path / "b").exists()  # nothing half-written is left
    with pytest.raises(BundleError, match="growing sizes: 3 after 5"):
        write_bundle(tmp_path / "c", entries=iter(log.entries), size=5,
                     checkpoints=[note, keys.checkpoint(3, log.root(3)), note], **kw)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("")
    with pytest.raises(FileExistsError):
        write_bundle(tmp_path / "d", entries=iter(log.entries), size=5, checkpoints=[note], **kw)


def test_resigned_checkpoints_of_one_size_are_merged(tmp_path, keys):
    log = build_log(12)
    first = keys.checkpoint(12, log.root(12), ("village",))
    again = keys.checkpoint(12, log.root(12), ("county",))  # signed again, no new entries
    b = write_bundle(tmp_path / "b", origin=ORIGIN, entries=iter(log.entries), size=12,
                     node_reader=log.reader, checkpoints=[keys.checkpoint(5, log.root(5)),
                                                          first, again],
                     policy_text=keys.policy(), keys={"log": keys.log.vkey})
    names = [s.name for s in parse_note((b / "checkpoints/12").read_text()).signatures]
    assert names == [ORIGIN, "village.example/witness", "county.example/witness"]
    assert run(b)[0] == 0
    other = keys.checkpoint(12, hashlib.sha256(b"x").digest())
    with pytest.raises(BundleError, match="two different checkpoints of size 12"):
        write_bundle(tmp_path / "c", origin=ORIGIN, entries=iter(log.entries), size=12,
                     node_reader=log.reader, checkpoints=[first, other],
                     policy_text=keys.policy(), keys={})


def test_entry_too_large_for_a_bundle(tmp_path, keys):
    big = make_entry(0, merkle.EMPTY_ROOT)
    body = cbor2.loads(big)
    body[8] = {"blob": b"x" * 70_000}
    log = build_log(1, raw={0: cbor2.dumps(body, canonical=True)})
    with pytest.raises(tiles.EntryTooLargeError, match=r"entry 0 is 70,\d+ bytes.*at most 65,535"):
        make_bundle(tmp_path / "big", keys, log, {1: SIZES[5]})


# --------------------------------------------------------------------------- standalone


def test_runs_as_a_module_in_a_subprocess(bundle):
    proc = subprocess.run(
        [sys.executable, "-m", "ledger.audit.tlog.verify_bundle", str(bundle), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["root"] == build_log(20).root(20).hex()
    rewrite_entries(bundle, BUNDLE20, lambda entries: entries[:-1])
    proc = subprocess.run(
        [sys.executable, "-m", "ledger.audit.tlog.verify_bundle", str(bundle)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr


def test_verifier_imports_neither_sqlalchemy_nor_cbor2():
    code = ("import sys, ledger.audit.tlog.verify_bundle; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'sqlalchemy', 'cbor2', 'ledger.models', 'ledger.store.db'} "
            "or m in {'ledger.audit.entries', 'ledger.audit.log', 'ledger.models'}); "
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_verifier_runs_from_a_copy_of_just_its_modules(bundle, tmp_path):
    """What README.txt promises an auditor: these files, Python and `cryptography` suffice."""
    copy = tmp_path / "verifier"
    (copy / "ledger" / "audit" / "tlog").mkdir(parents=True)
    for package in ("ledger", "ledger/audit", "ledger/audit/tlog"):
        (copy / package / "__init__.py").write_text("")
    for name in STANDALONE_MODULES:
        source = REPO / "ledger" / "audit" / "tlog" / f"{name}.py"
        (copy / "ledger" / "audit" / "tlog" / f"{name}.py").write_text(source.read_text())
    code = ("import runpy, sys\n"
            "for blocked in ('cbor2', 'sqlalchemy', 'click', 'flask'):\n"
            "    sys.modules[blocked] = None  # importing them now fails\n"
            f"sys.argv = ['verify_bundle', {str(bundle)!r}]\n"
            "runpy.run_module('ledger.audit.tlog.verify_bundle', run_name='__main__')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=copy, capture_output=True,
                          text=True, timeout=120, env={**env, "PYTHONPATH": str(copy)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("intact:")
    assert ",".join(STANDALONE_MODULES) in (bundle / "README.txt").read_text()


def test_bundle_writer_imports_no_database_layer():
    code = ("import sys, ledger.audit.tlog.bundle; "
            "print(','.join(sorted(m for m in sys.modules "
            "if m.split('.')[0] in {'sqlalchemy', 'cbor2'})))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stderr


def test_checkpoint_roots_are_base64_of_the_tree(bundle):
    # The checkpoint in the bundle is an ordinary C2SP checkpoint over the recomputed tree.
    body = parse_note((bundle / "checkpoint").read_text()).text.splitlines()
    assert body[:2] == [ORIGIN, "20"]
    assert base64.b64decode(body[2]) == build_log(20).root(20)
