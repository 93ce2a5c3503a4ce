"""An entry re-encoded in a form that is not canonical, with every stored hash rebuilt to match
it, is a finding: verify's quick check (the entry's bytes against the encoding of its header,
details and the live rows) declines it, and the exact check names it, on SQLite and
PostgreSQL."""
from __future__ import annotations

import cbor2
import pytest
from sqlalchemy import text

from ledger.audit.tlog import merkle
from tests.ledger.audit.test_verify_db import run, tamper


def _replace_last_entry(engine, make) -> int:
    """Put `make(entry bytes)` in place of the last entry, with its leaf hash, the tree nodes
    and the head rebuilt so that the log agrees with itself (no later entry names its root)."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT idx, entry FROM audit_entries ORDER BY idx")).all()
    last, entry = rows[-1][0], make(bytes(rows[-1][1]))
    assert entry != bytes(rows[-1][1])
    frontier, nodes = merkle.Frontier(), []
    for i, (_idx, data) in enumerate(rows):
        leaf = merkle.leaf_hash(entry if i == len(rows) - 1 else bytes(data))
        nodes += [(n.level, n.index, n.hash, i) for n in frontier.append(leaf)[1:]]
    blob = (lambda b: "X'" + b.hex() + "'") if engine.dialect.name == "sqlite" else \
        (lambda b: "'\\x" + b.hex() + "'")
    tamper(engine, "DELETE FROM audit_nodes",
           f"UPDATE audit_entries SET entry = {blob(entry)}, "
           f"leaf_hash = {blob(merkle.leaf_hash(entry))} WHERE idx = {last}",
           *[f"INSERT INTO audit_nodes (level, idx, hash, leaf_end) VALUES "
             f"({lv}, {ix}, {blob(h)}, {end})" for lv, ix, h, end in nodes],
           f"UPDATE audit_head SET root = {blob(frontier.root())}, "
           f"frontier = {blob(frontier.to_bytes())}")
    return last


def _long_version(entry: bytes) -> bytes:
    """The entry's version, 1, written as an 8-byte integer: the same value, not the shortest
    form."""
    body = cbor2.loads(entry)
    head = entry[:1]
    tail = cbor2.dumps(body[1:], canonical=True)[1:]   # the fields after the version
    return head + b"\x1b" + (1).to_bytes(8, "big") + tail


def _unsorted_details(entry: bytes) -> bytes:
    body = cbor2.loads(entry)
    body[8] = {"zz": 1, "a": 2}    # canonical order is "a" first (shorter)
    return cbor2.dumps(body)


def _float_in_image(entry: bytes) -> bytes:
    """An integer of a row image written as a float of the same value: equal in Python."""
    body = cbor2.loads(entry)
    image = body[7][0][4]
    column = next(k for k, v in image.items() if type(v) is int and k != "log_index")
    image[column] = float(image[column])
    return cbor2.dumps(body)


@pytest.mark.parametrize("make", [_long_version, _unsorted_details, _float_in_image])
def test_a_reencoded_entry_is_found(world, books, engine, make):
    last = _replace_last_entry(engine, make)
    report = run(world)
    assert any(f.kind == "entry" and f.log_index == last and "canonical" in f.message
               for f in report.findings), [f.message for f in report.findings]
