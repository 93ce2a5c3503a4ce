"""tlog-proof text, the compact QR encoding, Base45, and end-to-end proof verification."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    add_signatures,
    cosign,
    sign_checkpoint,
)
from ledger.audit.tlog.note import Ed25519Signer
from ledger.audit.tlog.policy import QuorumError, parse_policy
from ledger.audit.tlog.proofs import ProofFormatError, TlogProof

ORIGIN = "ledger.example.gov.cn/610921/2026"  # 33 characters, as in the design
COSIGNER_NAMES = [
    "village.example.gov.cn/610921001001",  # 35 characters each
    "township.example.gov.cn/61092110000",
    "county-audit.example.gov.cn/6109210",
]


def _signers():
    log = Ed25519Signer(ORIGIN, hashlib.sha256(b"log").digest())
    cosigners = [CosignatureSigner(n, hashlib.sha256(n.encode()).digest()) for n in COSIGNER_NAMES]
    return log, cosigners


def _policy():
    log, cosigners = _signers()
    lines = [f"log {log.vkey}"]
    lines += [f"witness W{i} {c.vkey}" for i, c in enumerate(cosigners)]
    lines += ["group all-levels all W0 W1 W2", "quorum all-levels"]
    return parse_policy("\n".join(lines) + "\n")


def _cosigned_note(size: int, root: bytes, cosigners=None) -> str:
    log, all_cosigners = _signers()
    note = sign_checkpoint(Checkpoint(ORIGIN, size, root), log)
    chosen = all_cosigners if cosigners is None else cosigners
    return add_signatures(note, [cosign(note, c, 1_767_225_600 + i) for i, c in enumerate(chosen)])


class SmallTree:
    def __init__(self, n: int) -> None:
        self.entries = [b"entry %d" % i for i in range(n)]
        self.nodes: dict[tuple[int, int], bytes] = {}
        frontier = merkle.Frontier()
        for entry in self.entries:
            for node in frontier.append(merkle.leaf_hash(entry)):
                self.nodes[(node.level, node.index)] = node.hash
        self.root = frontier.root()

    def read(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def uniform_reader(level: int, index: int) -> bytes:
    """A consistent synthetic tree of identical leaves: node hashes depend only on the level."""
    h = merkle.leaf_hash(b"synthetic entry")
    for _ in range(level):
        h = merkle.node_hash(h, h)
    return h


# --------------------------------------------------------------------------- size budget


def test_compact_proof_fits_the_qr_budget_at_a_million_entries() -> None:
    size, index = 1_000_000, 765_432
    note = _cosigned_note(size, merkle.root_at(size, uniform_reader))
    proof = proofs.build_proof(index, note, uniform_reader)
    assert len(proof.path) == 20
    compact = proofs.encode_compact(proof)
    assert len(compact) < 1600, len(compact)
    # Documented figure in the module docstring.
    assert 1100 <= len(compact) <= 1160
    assert len(proofs.base45_encode(compact)) <= 1.5 * len(compact) + 1
    verified = proofs.verify_proof(proofs.decode_compact(compact), _policy(),
                                   uniform_reader(0, index))
    assert verified.witnesses == {"W0", "W1", "W2"}
    assert verified.checkpoint.size == size


# --------------------------------------------------------------------------- end to end


def test_verify_entry_proof_end_to_end() -> None:
    tree = SmallTree(11)
    note = _cosigned_note(11, tree.root)
    proof = proofs.build_proof(7, note, tree.read, extra=tree.entries[7])
    for carried in (proof, proofs.decode_text(proofs.encode_text(proof)),
                    proofs.decode_compact(proofs.encode_compact(proof))):
        result = proofs.verify_entry_proof(carried, _policy())
        assert result.index == 7 and result.leaf_hash == merkle.leaf_hash(b"entry 7")
        assert [c.timestamp for c in result.cosignatures] == [1_767_225_600, 1_767_225_601,
                                                              1_767_225_602]


def test_verification_failures() -> None:
    tree = SmallTree(11)
    policy = _policy()
    note = _cosigned_note(11, tree.root)
    proof = proofs.build_proof(7, note, tree.read, extra=tree.entries[7])
    with pytest.raises(merkle.ProofError):
        proofs.verify_proof(proof, policy, merkle.leaf_hash(b"entry 8"))
    moved = TlogProof(6, proof.path, proof.checkpoint_note, proof.extra)
    with pytest.raises(merkle.ProofError):
        proofs.verify_entry_proof(moved, policy)
    forged = TlogProof(7, proof.path, proof.checkpoint_note, b"entry 7 (edited)")
    with pytest.raises(merkle.ProofError):
        proofs.verify_entry_proof(forged, policy)
    _, cosigners = _signers()
    under = TlogProof(7, proof.path, _cosigned_note(11, tree.root, cosigners[:2]), proof.extra)
    with pytest.raises(QuorumError):
        proofs.verify_entry_proof(under, policy)
    with pytest.raises(ProofFormatError, match="no extra"):
        proofs.verify_entry_proof(TlogProof(7, proof.path, note), policy)


# --------------------------------------------------------------------------- text form


def test_text_layout() -> None:
    tree = SmallTree(5)
    note = _cosigned_note(5, tree.root)
    proof = proofs.build_proof(2, note, tree.read, extra=b"hi")
    text = proofs.encode_text(proof)
    head = "c2sp.org/tlog-proof@v1\nextra aGk=\nindex 2\n"
    hashes = "".join(base64.b64encode(h).decode() + "\n" for h in proof.path)
    assert text == head + hashes + "\n" + note
    assert proofs.decode_text(text) == proof
    assert proofs.decode_text(text.encode()) == proof
    without = TlogProof(2, proof.path, note)
    assert proofs.encode_text(without).startswith("c2sp.org/tlog-proof@v1\nindex 2\n")
    assert proofs.decode_text(proofs.encode_text(without)) == without
    empty_extra = TlogProof(2, proof.path, note, b"")
    assert proofs.decode_text(proofs.encode_text(empty_extra)) == empty_extra


def _good_text() -> str:
    tree = SmallTree(5)
    return proofs.encode_text(proofs.build_proof(4, _cosigned_note(5, tree.root), tree.read))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.replace("tlog-proof@v1", "tlog-proof@v2"), "first line"),
        (lambda t: t.replace("index 4", "index -4"), "decimal"),
        (lambda t: t.replace("index 4", "index 04"), "leading zeros"),
        (lambda t: t.replace("index 4", "idx 4"), "index <n>"),
        (lambda t: t.replace("index 4\n", "index 4\nAAAA\n"), "not 32"),
        (lambda t: t.replace("index 4\n", "index 4\n" + "A" * 65536 + "\n"), "not 32"),
        (lambda t: t.replace("index 4\n", "index 4\n" + "!" * 44 + "\n"), "base64"),
        (lambda t: t.replace("index 4\n", "index 4\n" + (base64.b64encode(bytes(32)).decode()
                                                          + "\n") * 65), "at most 64"),
        # without the blank line the checkpoint's origin is read as a proof hash
        (lambda t: t.replace("\n\n", "\n", 1), "line 4: invalid base64"),
        (lambda t: t[: t.index("\n\n") + 2] + "garbage\n", "checkpoint"),
        (lambda t: t.replace("\n\n", "\n\nextra AAAA\n", 1), "checkpoint"),
        (lambda t: t + "x" * proofs.MAX_TEXT_CHARS, "longer than"),
    ],
)
def test_bad_text_proofs(mutate, message: str) -> None:
    with pytest.raises(ProofFormatError, match=message):
        proofs.decode_text(mutate(_good_text()))


# --------------------------------------------------------------------------- compact form


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 70), data=st.data(),
       extra=st.none() | st.binary(max_size=300), cosigner_count=st.integers(0, 3))
def test_compact_round_trips_losslessly(n: int, data, extra, cosigner_count: int) -> None:
    tree = SmallTree(n)
    index = data.draw(st.integers(0, n - 1))
    _, cosigners = _signers()
    note = _cosigned_note(n, tree.root, cosigners[:cosigner_count])
    proof = proofs.build_proof(index, note, tree.read, extra=extra)
    compact = proofs.encode_compact(proof)
    assert proofs.decode_compact(compact) == proof
    assert proofs.encode_text(proofs.decode_compact(compact)) == proofs.encode_text(proof)
    assert proofs.decode_compact(proofs.base45_decode(proofs.base45_encode(compact))) == proof


def test_compact_keeps_extension_lines_and_foreign_names() -> None:
    log, (v, *_) = _signers()
    cp = Checkpoint(ORIGIN, 1, merkle.leaf_hash(b"x"), ("ext one", "ext two"))
    note = sign_checkpoint(cp, log)
    note = add_signatures(note, [cosign(note, v, 9)])
    proof = TlogProof(0, (), note, None)
    assert proofs.decode_compact(proofs.encode_compact(proof)) == proof


def _good_compact() -> bytes:
    tree = SmallTree(9)
    return proofs.encode_compact(proofs.build_proof(3, _cosigned_note(9, tree.root), tree.read))


def test_every_truncation_and_trailing_byte_is_rejected() -> None:
    good = _good_compact()
    for cut in range(len(good)):
        with pytest.raises(ProofFormatError):
            proofs.decode_compact(good[:cut])
    with pytest.raises(ProofFormatError, match="trailing"):
        proofs.decode_compact(good + b"\0")


def test_bad_compact_headers() -> None:
    good = _good_compact()
    with pytest.raises(ProofFormatError, match="magic"):
        proofs.decode_compact(b"tlp\x02" + good[4:])
    with pytest.raises(ProofFormatError, match="flag"):
        proofs.decode_compact(good[:4] + b"\x02" + good[5:])
    # index 3 re-encoded as the non-minimal varint 0x83 0x00
    with pytest.raises(ProofFormatError, match="not minimal"):
        proofs.decode_compact(good[:5] + b"\x83\x00" + good[6:])
    with pytest.raises(ProofFormatError, match="at most 64"):
        proofs.decode_compact(good[:6] + b"\x41" + good[7:])
    with pytest.raises(ProofFormatError, match="out of range"):
        proofs.decode_compact(good[:5] + b"\xff" * 9 + b"\x7f" + good[6:])


# --------------------------------------------------------------------------- Base45


@pytest.mark.parametrize(
    "raw, encoded",
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"),
     (b"ietf!", "QED8WEX0"), (b"", "")],
)
def test_base45_rfc9285_vectors(raw: bytes, encoded: str) -> None:
    assert proofs.base45_encode(raw) == encoded
    assert proofs.base45_decode(encoded) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "abc", "BB8A", ":::"])
def test_base45_rejects_invalid(bad: str) -> None:
    with pytest.raises(ProofFormatError):
        proofs.base45_decode(bad)


def test_proof_object_validation() -> None:
    tree = SmallTree(3)
    note = _cosigned_note(3, tree.root)
    with pytest.raises(ProofFormatError):
        TlogProof(-1, (), note)
    with pytest.raises(ProofFormatError):
        TlogProof(0, (b"short",), note)
    with pytest.raises(ProofFormatError, match="checkpoint"):
        TlogProof(0, (), "not a note\n")
    with pytest.raises(merkle.ProofError):
        proofs.build_proof(3, note, tree.read)


# --------------------------------------------------------------------------- dependencies


GUARD = """
import sys
allowed = set(sys.stdlib_module_names) | {"cryptography", "_cffi_backend", "cffi", "ledger"}

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in allowed:
            raise ImportError("offline verifier must not need " + name)
        return None

sys.meta_path.insert(0, Block())
import ledger.audit.tlog.merkle, ledger.audit.tlog.note, ledger.audit.tlog.checkpoint
import ledger.audit.tlog.policy, ledger.audit.tlog.proofs
"""


def test_modules_need_only_stdlib_and_cryptography() -> None:
    """The standalone verifier imports these modules; keep their import closure small.

    This also fails if ledger/__init__.py or ledger/audit/__init__.py start importing
    SQLAlchemy or cbor2, which would drag them into the verifier.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", GUARD], cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
