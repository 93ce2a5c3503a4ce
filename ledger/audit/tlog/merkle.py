"""RFC 9162 §2.1 Merkle tree hashing, proofs and verification (database-free).

The tree over leaves ``D[0:n]`` is the one of RFC 6962 / RFC 9162: a leaf hash is
``SHA-256(0x00 || entry)``, an interior node ``SHA-256(0x01 || left || right)``, and a tree of
``n > 1`` leaves splits at the largest power of two smaller than ``n``. The empty tree's root is
``SHA-256("")``.

Storage model: a *complete* node is the root of a perfect subtree, addressed by ``(level, index)``
where level 0 holds the leaf hashes and node ``(level, index)`` covers leaves
``[index * 2**level, (index + 1) * 2**level)``. Complete nodes never change once the tree has
grown past them, so the caller can store them (rows, tiles) and hand this module a
``node_reader(level, index) -> bytes``. Hashes of incomplete right-edge subtrees are computed here
from complete ones, so the reader is never asked for a node that is not complete.

Only the standard library is used, so the offline verifier can import this module.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Iterable, NamedTuple, Sequence

HASH_SIZE = 32
# Tree sizes are uint64 in every format we speak (checkpoints, tiles, the compact proof).
MAX_TREE_SIZE = 2**64 - 1
# ceil(log2 n) hashes for inclusion and ceil(log2 n) + 1 for consistency, at n <= 2**64 - 1.
MAX_INCLUSION_PROOF = 64
MAX_CONSISTENCY_PROOF = 65

EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof, or the sizes and hashes it is checked against, are invalid."""


class Node(NamedTuple):
    """A complete (perfect) subtree root: ``level`` 0 is a leaf hash."""

    level: int
    index: int
    hash: bytes


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaves(leaf_hashes: Iterable[bytes]) -> bytes:
    """The tree root over the given leaf hashes, in one pass with a Frontier."""
    frontier = Frontier()
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


# --------------------------------------------------------------------------- incremental tree


class Frontier:
    """The right edge of the tree: roots of the perfect subtrees that tile ``[0, size)``.

    There is one subtree per set bit of ``size``, largest (leftmost) first, so the frontier
    holds at most 64 hashes. That is enough to append and to compute the root, which is why
    it can live in a single database row.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf hash; return every complete node this append finishes, leaf first."""
        _check_hash(leaf, "leaf hash")
        if self._size >= MAX_TREE_SIZE:
            raise ValueError("tree is full")
        index = self._size
        finished = [Node(0, index, leaf)]
        current = leaf
        level = 0
        # Each trailing 1-bit of the old size is a perfect subtree that the new leaf completes.
        while (index >> level) & 1:
            current = node_hash(self._hashes.pop(), current)
            level += 1
            finished.append(Node(level, index >> level, current))
        self._hashes.append(current)
        self._size += 1
        return finished

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        return _fold_right(self._hashes)

    def nodes(self) -> list[Node]:
        """The frontier as complete nodes, left to right."""
        result = []
        start = 0
        for level, h in zip(_decompose(self._size), self._hashes):
            result.append(Node(level, start >> level, h))
            start += 1 << level
        return result

    def to_bytes(self) -> bytes:
        """uint64 big-endian size, then one 32-byte hash per set bit of size, largest first."""
        return self._size.to_bytes(8, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        if len(data) < 8:
            raise ValueError("frontier encoding is shorter than its 8-byte size field")
        size = int.from_bytes(data[:8], "big")
        count = size.bit_count()
        if len(data) != 8 + HASH_SIZE * count:
            raise ValueError(
                f"frontier for size {size} needs {count} hashes, got {len(data) - 8} bytes"
            )
        frontier = cls()
        frontier._size = size
        frontier._hashes = [data[8 + i * HASH_SIZE : 8 + (i + 1) * HASH_SIZE] for i in range(count)]
        return frontier

    @classmethod
    def from_reader(cls, size: int, node_reader: NodeReader) -> Frontier:
        """Rebuild the frontier of a stored tree, e.g. after losing the cached row."""
        _check_size(size)
        frontier = cls()
        frontier._size = size
        start = 0
        for level in _decompose(size):
            frontier._hashes.append(_read(node_reader, level, start >> level))
            start += 1 << level
        return frontier

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frontier) and self.to_bytes() == other.to_bytes()

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


# --------------------------------------------------------------------------- proof generation


def root_at(size: int, node_reader: NodeReader) -> bytes:
    """The root of the first ``size`` leaves of the stored tree."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, node_reader)


def inclusion_proof(index: int, size: int, node_reader: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 audit path for leaf ``index`` in the tree of ``size`` leaves.

    A reader with a ``read_many(nodes) -> hashes`` attribute is asked once for every node the
    proof needs (see `proof_nodes`), so a database reader can fetch them in one query.
    """
    _check_size(size)
    _check_index(index, size)
    read_many = getattr(node_reader, "read_many", None)
    if read_many is not None:
        wanted = proof_nodes(index, size)
        found = dict(zip(wanted, read_many(wanted)))
        node_reader = lambda level, i: found.get((level, i))  # noqa: E731
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root; each sibling is pushed before the deeper ones, so reverse at the end.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_range_hash(start + k, end, node_reader))
            end = start + k
        else:
            path.append(_range_hash(start, start + k, node_reader))
            start += k
    path.reverse()
    return path


def proof_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """The stored (level, index) nodes that `inclusion_proof(index, size, …)` reads."""
    nodes: list[tuple[int, int]] = []

    def note(level: int, i: int) -> bytes:
        nodes.append((level, i))
        return b"\x00" * HASH_SIZE
    inclusion_proof(index, size, note)
    return nodes


def consistency_proof(old_size: int, new_size: int, node_reader: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 proof that the first ``old_size`` leaves are a prefix of ``new_size``.

    Sizes 0 and ``old_size == new_size`` give an empty proof: the empty tree is a prefix of every
    tree and a tree is a prefix of itself (C2SP tlog-witness uses the same convention).
    """
    _check_size(old_size)
    _check_size(new_size)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m = 0, new_size, old_size
    # SUBPROOF(m, D[start:end], b); b stays true while the old tree is a left-aligned subtree.
    known_prefix = True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_range_hash(start + k, end, node_reader))
            end = start + k
        else:
            proof.append(_range_hash(start, start + k, node_reader))
            start += k
            m -= k
            known_prefix = False
    if not known_prefix:
        proof.append(_range_hash(start, end, node_reader))
    proof.reverse()
    return proof


# --------------------------------------------------------------------------- verification


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2. Returns None on success, raises ProofError otherwise."""
    _check_size(size)
    _check_hash(leaf, "leaf hash", ProofError)
    _check_hash(root, "root hash", ProofError)
    _check_proof_hashes(proof, MAX_INCLUSION_PROOF)
    _check_index(index, size)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has more than the {len(proof)} hashes it needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip the levels where this node is the last, unpaired one on the right edge.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short ({len(proof)} hashes) for size {size}")
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} does not reproduce the root of size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2. Returns None on success, raises ProofError otherwise."""
    _check_size(old_size)
    _check_size(new_size)
    _check_hash(old_root, "old root", ProofError)
    _check_hash(new_root, "new root", ProofError)
    _check_proof_hashes(proof, MAX_CONSISTENCY_PROOF)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0 or old_size == new_size:
        _verify_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {old_size} to {new_size}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete left subtree, so its root is the first node of the path.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof {old_size}->{new_size} has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof {old_size}->{new_size} is too short")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the new root of size {new_size}")


def _verify_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise ProofError(
            f"consistency proof {old_size}->{new_size} must be empty, got {len(proof)} hashes"
        )
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("the root of a tree of size 0 must be SHA-256 of the empty string")
    if old_size == new_size and old_root != new_root:
        raise ProofError(f"two different roots for the same size {old_size}")


# --------------------------------------------------------------------------- helpers


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _decompose(n: int) -> list[int]:
    """Levels of the perfect subtrees that tile ``[0, n)``, largest first."""
    return [level for level in range(n.bit_length() - 1, -1, -1) if n >> level & 1]


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine subtree roots (left to right) the way the RFC tree joins its right edge."""
    # node_hash inlined: verification folds the frontier once per entry.
    sha256 = hashlib.sha256
    acc = hashes[-1]
    for i in range(len(hashes) - 2, -1, -1):
        acc = sha256(b"\x01" + hashes[i] + acc).digest()
    return acc


def _range_hash(start: int, end: int, node_reader: NodeReader) -> bytes:
    """MTH(D[start:end]) for a range that occurs in the RFC tree.

    Such ranges start at a multiple of the largest power of two not above their length, so
    they tile into complete nodes exactly as ``[0, end - start)`` does.
    """
    hashes = []
    for level in _decompose(end - start):
        hashes.append(_read(node_reader, level, start >> level))
        start += 1 << level
    return _fold_right(hashes)


def _read(node_reader: NodeReader, level: int, index: int) -> bytes:
    h = node_reader(level, index)
    _check_hash(h, f"stored node ({level}, {index})")
    return h


def _check_size(size: object) -> None:
    if not isinstance(size, int) or isinstance(size, bool):
        raise ProofError(f"tree size must be an int, got {type(size).__name__}")
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ProofError(f"tree size {size} is outside 0..2**64-1")


def _check_index(index: object, size: int) -> None:
    if not isinstance(index, int) or isinstance(index, bool):
        raise ProofError(f"leaf index must be an int, got {type(index).__name__}")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")


def _check_proof_hashes(proof: Sequence[bytes], limit: int) -> None:
    # Refuse absurd input before hashing it: a 64-bit tree has at most 64 levels below the root.
    if len(proof) > limit:
        raise ProofError(f"proof has {len(proof)} hashes; at most {limit} are possible")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}", ProofError)


def _check_hash(h: object, what: str, error: type[ValueError] = ValueError) -> None:
    # Enforcing the length stops an interior-node/leaf confusion through odd-sized inputs.
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        got = f"{len(h)} bytes" if isinstance(h, (bytes, bytearray)) else type(h).__name__
        raise error(f"{what} must be {HASH_SIZE} bytes, got {got}")
