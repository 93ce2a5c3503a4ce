"""Canonical entries: deterministic bytes, and personal data only as a commitment."""
from __future__ import annotations

import datetime as dt

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table

from ledger.audit.entries import (
    EntryFormatError,
    canonical_value,
    decode_entry,
    encode_entry,
    table_image,
)

ROOT = bytes(32)


def entry(**overrides):
    fields = dict(origin="o", index=0, prev_root=ROOT, time_us=1, actor="a", kind="k", rows=[],
                  details={})
    fields.update(overrides)
    return encode_entry(**fields)


def test_entry_round_trip_and_canonical_check():
    data = entry(rows=[("postings", [1], 1, None, {"amount_fen": -5, "id": 1})],
                 details={"reason": "冲销"})
    decoded = decode_entry(data)
    assert decoded["rows"][0][4] == {"amount_fen": -5, "id": 1}
    with pytest.raises(EntryFormatError):
        decode_entry(data + b"\x00")
    unsorted_map = cbor2.dumps([1, "o", 0, ROOT, 1, "a", "k", [], {"b": 1, "a": 2}])
    with pytest.raises(EntryFormatError, match="not in canonical CBOR form"):
        decode_entry(unsorted_map)


@given(st.dictionaries(st.text(max_size=5), st.integers(-2**63, 2**63) | st.text(max_size=5),
                       max_size=5))
def test_map_order_never_changes_the_bytes(image):
    reordered = dict(reversed(list(image.items())))
    assert entry(details=image) == entry(details=reordered)


def test_values_are_integers_and_text_only():
    assert canonical_value(dt.date(2024, 3, 1)) == "2024-03-01"
    assert canonical_value(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)) == 1_000_000
    with pytest.raises(TypeError, match="integers, text and bytes only"):
        canonical_value(1.5)


def test_personal_data_enters_the_log_only_as_a_commitment():
    table = Table("members", MetaData(), Column("id", Integer, primary_key=True),
                  Column("id_number", String, info={"pii": True}), Column("name", String))
    stored = "gAAAAABl-ciphertext-of-430121199001011234"
    name, key, image = table_image(table, {"id": 7, "id_number": stored, "name": "张三"}.get)
    assert key == [7] and image["name"] == "张三"
    assert set(image["id_number"]) == {"sha256"} and len(image["id_number"]["sha256"]) == 32
    assert b"430121199001011234" not in cbor2.dumps(image)
