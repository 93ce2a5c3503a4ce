"""A node reader that can fetch many nodes at once is asked once per inclusion proof."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.audit.tlog import merkle


def stored_tree(size: int) -> dict:
    frontier, nodes = merkle.Frontier(), {}
    for i in range(size):
        for node in frontier.append(merkle.leaf_hash(i.to_bytes(4, "big"))):
            nodes[(node.level, node.index)] = node.hash
    return nodes


class BatchReader:
    def __init__(self, nodes):
        self.nodes, self.batches = nodes, []

    def __call__(self, level, index):
        raise AssertionError("a batch reader is not read node by node")

    def read_many(self, wanted):
        self.batches.append(list(wanted))
        return [self.nodes[n] for n in wanted]


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_one_batch_gives_the_same_proof(size_index):
    size, index = size_index
    nodes = stored_tree(size)
    reader = BatchReader(nodes)
    proof = merkle.inclusion_proof(index, size, reader)
    assert proof == merkle.inclusion_proof(index, size, lambda lv, i: nodes[(lv, i)])
    assert len(reader.batches) == 1 and len(set(reader.batches[0])) == len(reader.batches[0])
    merkle.verify_inclusion(nodes[(0, index)], index, size, proof, merkle.root_at(
        size, lambda lv, i: nodes[(lv, i)]))
