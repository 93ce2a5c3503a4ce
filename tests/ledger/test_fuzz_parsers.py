"""The audit parsers against hostile input (Hypothesis): proofs (text, compact, Base45), signed
notes, checkpoints, policies, log entries, key files and cosigner state files.

A villager's phone, an auditor's laptop and the server all parse bytes that someone else wrote.
Each parser either returns a value or raises its documented error type (ProofFormatError,
NoteError, CheckpointError, PolicyError, EntryFormatError, the key file's KeyError_, a
LedgerError for state files); any other exception is a crash and fails the test. Inputs are
random bytes and text, and — more searching — valid encodings with bytes flipped, cut,
repeated or inserted. A mutated proof that still verifies must be the original proof.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import cbor2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.audit import entries
from ledger.audit.checkpoints import read_state as _read_state
from ledger.audit.keys import KeyError_, load_key
from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    add_signatures,
    cosign,
    open_checkpoint,
    sign_checkpoint,
)
from ledger.audit.tlog.merkle import ProofError
from ledger.audit.tlog.note import Ed25519Signer, NoteError, open_note, parse_note
from ledger.audit.tlog.policy import PolicyError, QuorumError, parse_policy
from ledger.core.errors import LedgerError

# FUNDTRAIL_FUZZ_SCALE=20 runs twenty times as many cases (the figures in docs/reliability.md)
FUZZ = settings(max_examples=400 * int(os.environ.get("FUNDTRAIL_FUZZ_SCALE", "1")),
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

ORIGIN = "ledger.example.gov.cn/430121/2024"
LOG = Ed25519Signer(ORIGIN, hashlib.sha256(b"fuzz log").digest())
COSIGNER = CosignatureSigner("county-audit.example", hashlib.sha256(b"fuzz cosigner").digest())
POLICY_TEXT = (f"log {LOG.vkey}\nwitness county {COSIGNER.vkey}\n"
               "group sign-off any county\nquorum sign-off\n")
POLICY = parse_policy(POLICY_TEXT)


def _tree(n: int):
    leaves = [b"entry %d" % i for i in range(n)]
    nodes, frontier = {}, merkle.Frontier()
    for leaf in leaves:
        for node in frontier.append(merkle.leaf_hash(leaf)):
            nodes[(node.level, node.index)] = node.hash
    return leaves, nodes, frontier.root()


LEAVES, NODES, ROOT = _tree(13)
NOTE = sign_checkpoint(Checkpoint(ORIGIN, 13, ROOT), LOG)
COSIGNED = add_signatures(NOTE, [cosign(NOTE, COSIGNER, 1_767_225_600)])
PROOF = proofs.build_proof(5, COSIGNED, lambda level, i: NODES[(level, i)], extra=LEAVES[5])
TEXT_PROOF = proofs.encode_text(PROOF).encode()
COMPACT_PROOF = proofs.encode_compact(PROOF)
BASE45_PROOF = proofs.base45_encode(COMPACT_PROOF)


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """The original with a few bytes flipped, cut, duplicated or inserted."""
    def apply(data: bytes, edits) -> bytes:
        out = bytearray(data)
        for kind, pos, value in edits:
            if not out:
                break
            pos %= len(out)
            if kind == 0:
                out[pos] ^= value or 1
            elif kind == 1:
                del out[pos:pos + value % 8 + 1]
            elif kind == 2:
                out[pos:pos] = out[pos:pos + value % 16 + 1]
            else:
                out.insert(pos, value)
        return bytes(out)
    edit = st.tuples(st.integers(0, 3), st.integers(0, 2**16), st.integers(0, 255))
    return st.builds(apply, st.just(original), st.lists(edit, min_size=1, max_size=4))


def text_of(data: st.SearchStrategy[bytes]) -> st.SearchStrategy[str]:
    return data.map(lambda b: b.decode("utf-8", "replace"))


# ----------------------------------------------------------------------------- proofs

def _check_proof(proof: proofs.TlogProof) -> None:
    """A decoded proof may verify only if it says what the original says."""
    try:
        verified = proofs.verify_entry_proof(proof, POLICY)
    except (ProofFormatError, CheckpointError, QuorumError, ProofError):
        return
    assert (verified.index, proof.extra) == (PROOF.index, PROOF.extra)
    assert verified.checkpoint.root_hash == ROOT


ProofFormatError = proofs.ProofFormatError


@FUZZ
@given(st.one_of(mutated(TEXT_PROOF), st.binary(max_size=400),
                 text_of(mutated(TEXT_PROOF)), st.text(max_size=200)))
def test_text_proofs_decode_or_raise_proof_format_error(data):
    try:
        proof = proofs.decode_text(data)
    except ProofFormatError:
        return
    _check_proof(proof)


@FUZZ
@given(st.one_of(mutated(COMPACT_PROOF), st.binary(max_size=400),
                 st.binary(max_size=60).map(lambda b: b"tlp\x01" + b)))
def test_compact_proofs_decode_or_raise_proof_format_error(data):
    try:
        proof = proofs.decode_compact(data)
    except ProofFormatError:
        return
    _check_proof(proof)


@FUZZ
@given(st.one_of(text_of(mutated(BASE45_PROOF.encode())), st.text(max_size=100),
                 st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=60)))
def test_base45_decodes_or_raises_proof_format_error(text):
    try:
        data = proofs.base45_decode(text)
    except ProofFormatError:
        return
    assert proofs.base45_encode(data) == text


# ----------------------------------------------------------------------------- notes, checkpoints

@FUZZ
@given(st.one_of(mutated(COSIGNED.encode()), text_of(mutated(COSIGNED.encode())),
                 st.binary(max_size=300), st.text(max_size=200)))
def test_notes_and_checkpoints_open_or_raise_their_errors(data):
    try:
        parse_note(data)
    except NoteError:
        pass
    try:
        open_note(data, [LOG.verifier()])
    except NoteError:
        pass
    try:
        verified = open_checkpoint(data, [LOG.verifier()], [COSIGNER.verifier()])
    except CheckpointError:
        return
    assert verified.checkpoint == Checkpoint(ORIGIN, 13, ROOT)  # only the genuine body opens


@FUZZ
@given(st.one_of(text_of(mutated(NOTE.split("\n\n")[0].encode() + b"\n")),
                 st.text(max_size=200)))
def test_checkpoint_bodies_parse_or_raise_checkpoint_error(text):
    try:
        body = Checkpoint.from_text(text)
    except CheckpointError:
        return
    assert body.to_text() == text


# ----------------------------------------------------------------------------- policies

@FUZZ
@given(st.one_of(mutated(POLICY_TEXT.encode()), text_of(mutated(POLICY_TEXT.encode())),
                 st.binary(max_size=300), st.text(max_size=200)))
def test_policies_parse_or_raise_policy_error(data):
    try:
        policy = parse_policy(data)
    except PolicyError:
        return
    try:  # whatever parsed can be asked about a checkpoint without crashing
        policy.verify_checkpoint(COSIGNED)
    except (CheckpointError, QuorumError):
        pass


# ----------------------------------------------------------------------------- log entries

ENTRY = entries.encode_entry(origin=ORIGIN, index=3, prev_root=ROOT, time_us=1_700_000_000,
                             actor="k_clerk", kind="transfer.record",
                             rows=[], details={"transfer_id": 7})


@FUZZ
@given(st.one_of(mutated(ENTRY), st.binary(max_size=200),
                 st.integers(1, 3000).map(lambda n: b"\x81" * n + b"\x00")))
def test_log_entries_decode_or_raise_entry_format_error(data):
    """An entry is what a database administrator could have rewritten; deep nesting too."""
    try:
        body = entries.decode_entry(data)
    except entries.EntryFormatError:
        return
    # what decodes is exactly those bytes (canonical form: nothing ignored, nothing trailing)
    assert cbor2.dumps(list(body.values()), canonical=True) == data


# ----------------------------------------------------------------------------- files on disk

KEY_DIR = Path(tempfile.mkdtemp(prefix="fuzz-keys-"))


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.binary(max_size=200).map(
                     lambda b: b"# fundtrail-key kind=log name=x\n" + b)))
def test_key_files_load_or_raise_key_error(data):
    path = KEY_DIR / "fuzzed.key"
    path.write_bytes(data)
    try:
        load_key(path, "correct horse battery staple")
    except KeyError_:
        return
    raise AssertionError("random bytes decrypted to a key")


@FUZZ
@given(st.one_of(st.binary(max_size=200),
                 st.builds(lambda o, s, r: f'{{"origin": {o}, "size": {s}, "root": {r}}}'.encode(),
                           st.sampled_from(['"x"', "1", "null", "[]"]),
                           st.sampled_from(['"5"', "5", "-1", "1e999", "null", '"x"', "[]"]),
                           st.sampled_from(['"ab"', "1", "null", "{}"]))))
@example(b'{"origin": "", "size": 1e310, "root": ""}')  # found by this test: OverflowError
def test_cosigner_state_files_read_or_raise_a_clear_error(data):
    path = KEY_DIR / "cosigner.state"
    path.write_bytes(data)
    try:
        state = _read_state(path)
    except LedgerError as exc:
        assert "restore it from your own backup" in str(exc)
        return
    assert isinstance(state["size"], int) and isinstance(state["origin"], str)
