"""Property tests: the incremental tree and proof generation agree with the RFC 9162 definitions.

The references below are transcribed from the recursive definitions in RFC 9162 §2.1.1
(MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF), deliberately naive.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.tlog import merkle
from ledger.audit.tlog.merkle import ProofError

# --------------------------------------------------------------------------- references


def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = ref_split(len(leaves))
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = ref_split(len(leaves))
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_mth(leaves)]
    k = ref_split(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], complete) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


# --------------------------------------------------------------------------- helpers


def make_leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


def build_store(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    frontier = merkle.Frontier()
    store = {}
    for leaf in leaves:
        for node in frontier.append(leaf):
            assert (node.level, node.index) not in store, "a node was finished twice"
            store[(node.level, node.index)] = node.hash
    return store


def bounded_reader(store: dict, size: int):
    """A reader that fails the test if asked for a node not complete within ``size`` leaves."""

    def read(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, f"asked for incomplete node ({level}, {index})"
        return store[(level, index)]

    return read


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def all_flips(h: bytes):
    return (flip(h, bit) for bit in range(len(h) * 8))


def assert_rejected(check) -> None:
    with pytest.raises(ProofError):
        check()


sizes = st.integers(min_value=1, max_value=140)


# --------------------------------------------------------------------------- tree and frontier


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=300), salt=st.integers(0, 2**16))
def test_root_from_leaves_matches_reference(n: int, salt: int) -> None:
    leaves = make_leaves(n, salt)
    assert merkle.root_from_leaves(leaves) == ref_mth(leaves)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=0, max_value=140))
def test_frontier_every_prefix(n: int) -> None:
    leaves = make_leaves(n)
    frontier = merkle.Frontier()
    for size in range(1, n + 1):
        frontier.append(leaves[size - 1])
        assert frontier.size == size
        assert frontier.root() == ref_mth(leaves[:size])
        restored = merkle.Frontier.from_bytes(frontier.to_bytes())
        assert restored == frontier and restored.root() == frontier.root()
        assert len(frontier.to_bytes()) == 8 + 32 * size.bit_count()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1, max_value=140))
def test_appends_finish_exactly_the_complete_nodes(n: int) -> None:
    leaves = make_leaves(n)
    store = build_store(leaves)
    assert len(store) == 2 * n - n.bit_count()
    for (level, index), h in store.items():
        start = index << level
        assert start + (1 << level) <= n
        assert h == ref_mth(leaves[start : start + (1 << level)])


@settings(max_examples=30, deadline=None)
@given(n=sizes)
def test_root_at_and_from_reader_for_every_size(n: int) -> None:
    leaves = make_leaves(n)
    store = build_store(leaves)
    for m in range(n + 1):
        reader = bounded_reader(store, m)
        assert merkle.root_at(m, reader) == ref_mth(leaves[:m])
        assert merkle.Frontier.from_reader(m, reader).root() == ref_mth(leaves[:m])


def test_frontier_rejects_bad_encodings() -> None:
    good = merkle.Frontier()
    for leaf in make_leaves(5):
        good.append(leaf)
    data = good.to_bytes()
    for bad in (data[:-1], data + b"\0", data[:7], (7).to_bytes(8, "big") + data[8:]):
        with pytest.raises(ValueError):
            merkle.Frontier.from_bytes(bad)
    with pytest.raises(ValueError):
        good.append(b"short")


def test_frontier_nodes_tile_the_tree() -> None:
    frontier = merkle.Frontier()
    leaves = make_leaves(13)
    for leaf in leaves:
        frontier.append(leaf)
    # 13 = 8 + 4 + 1
    assert [(n.level, n.index) for n in frontier.nodes()] == [(3, 0), (2, 2), (0, 12)]
    assert frontier.nodes()[1].hash == ref_mth(leaves[8:12])


# --------------------------------------------------------------------------- inclusion


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_proofs_verify_and_any_bit_flip_fails(data, n: int) -> None:
    leaves = make_leaves(n)
    index = data.draw(st.integers(0, n - 1), label="index")
    store = build_store(leaves)
    # Generate against a larger stored tree: only nodes inside the first n leaves may be read.
    proof = merkle.inclusion_proof(index, n, bounded_reader(store, n))
    root = ref_mth(leaves)
    assert proof == ref_path(index, leaves)
    merkle.verify_inclusion(leaves[index], index, n, proof, root)

    for i, p in enumerate(proof):
        for bad in all_flips(p):
            tampered = proof[:i] + [bad] + proof[i + 1 :]
            assert_rejected(
                lambda: merkle.verify_inclusion(leaves[index], index, n, tampered, root))
    for bad in all_flips(leaves[index]):
        assert_rejected(lambda: merkle.verify_inclusion(bad, index, n, proof, root))
    for bad in all_flips(root):
        assert_rejected(lambda: merkle.verify_inclusion(leaves[index], index, n, proof, bad))
    for other in {index - 1, index + 1, index ^ 1} - {index}:
        if 0 <= other < n:
            assert_rejected(lambda: merkle.verify_inclusion(leaves[index], other, n, proof, root))
    assert_rejected(lambda: merkle.verify_inclusion(leaves[index], index, n, proof + [root], root))
    if proof:
        assert_rejected(lambda: merkle.verify_inclusion(leaves[index], index, n, proof[:-1], root))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(min_value=1, max_value=40))
def test_inclusion_every_index_of_a_grown_tree(n: int) -> None:
    leaves = make_leaves(n + 17)
    store = build_store(leaves)
    root = ref_mth(leaves[:n])
    for index in range(n):
        proof = merkle.inclusion_proof(index, n, bounded_reader(store, n))
        merkle.verify_inclusion(leaves[index], index, n, proof, root)


# --------------------------------------------------------------------------- consistency


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_proofs_verify_and_any_bit_flip_fails(data, n: int) -> None:
    m = data.draw(st.integers(0, n), label="old size")
    leaves = make_leaves(n)
    store = build_store(leaves + make_leaves(9, salt=1))  # the store has grown past n
    proof = merkle.consistency_proof(m, n, bounded_reader(store, n))
    old_root, new_root = ref_mth(leaves[:m]), ref_mth(leaves)
    assert proof == ([] if m in (0, n) else ref_subproof(m, leaves, True))
    merkle.verify_consistency(m, n, old_root, new_root, proof)

    for i, p in enumerate(proof):
        for bad in all_flips(p):
            tampered = proof[:i] + [bad] + proof[i + 1 :]
            assert_rejected(lambda: merkle.verify_consistency(m, n, old_root, new_root, tampered))
    for bad in all_flips(old_root):
        assert_rejected(lambda: merkle.verify_consistency(m, n, bad, new_root, proof))
    # From the empty tree nothing about the new root can be checked (no proof exists).
    if m > 0:
        for bad in all_flips(new_root):
            assert_rejected(lambda: merkle.verify_consistency(m, n, old_root, bad, proof))
    if 0 < m < n:
        assert_rejected(lambda: merkle.verify_consistency(m, n, old_root, new_root, proof[:-1]))
        longer = proof + [new_root]
        assert_rejected(lambda: merkle.verify_consistency(m, n, old_root, new_root, longer))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(min_value=1, max_value=48))
def test_consistency_every_pair(n: int) -> None:
    leaves = make_leaves(n)
    store = build_store(leaves)
    for m in range(n + 1):
        proof = merkle.consistency_proof(m, n, bounded_reader(store, n))
        merkle.verify_consistency(m, n, ref_mth(leaves[:m]), ref_mth(leaves), proof)


# --------------------------------------------------------------------------- large trees


def uniform_reader(level: int, index: int) -> bytes:
    """Every leaf is the same, so a node's hash depends only on its level: any size is cheap."""
    h = merkle.leaf_hash(b"uniform")
    for _ in range(level):
        h = merkle.node_hash(h, h)
    return h


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(min_value=1, max_value=merkle.MAX_TREE_SIZE))
def test_proofs_at_any_64_bit_size(data, n: int) -> None:
    index = data.draw(st.integers(0, n - 1), label="index")
    m = data.draw(st.integers(1, n), label="old size")
    root = merkle.root_at(n, uniform_reader)
    proof = merkle.inclusion_proof(index, n, uniform_reader)
    assert len(proof) <= (n - 1).bit_length()
    merkle.verify_inclusion(uniform_reader(0, index), index, n, proof, root)
    cons = merkle.consistency_proof(m, n, uniform_reader)
    assert len(cons) <= (n - 1).bit_length() + 1
    merkle.verify_consistency(m, n, merkle.root_at(m, uniform_reader), root, cons)


def test_argument_errors_are_proof_errors() -> None:
    leaf = merkle.leaf_hash(b"x")
    with pytest.raises(ProofError, match="outside"):
        merkle.verify_inclusion(leaf, 1, 1, [], leaf)
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(leaf[:31], 0, 1, [], leaf)
    with pytest.raises(ProofError, match="larger than"):
        merkle.verify_consistency(2, 1, leaf, leaf, [])
    with pytest.raises(ProofError, match="2\\*\\*64"):
        merkle.verify_consistency(1, 2**64, leaf, leaf, [leaf])
    with pytest.raises(ProofError):
        merkle.inclusion_proof(0, 0, uniform_reader)
    with pytest.raises(ValueError, match="stored node"):
        merkle.root_at(2, lambda level, index: b"")
