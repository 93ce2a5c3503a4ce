"""cbormin, the standard-library CBOR subset the offline verifier uses, checked against cbor2."""

from __future__ import annotations

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.tlog import cbormin
from ledger.audit.tlog.cbormin import CborError

ints = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64 - 1),
    # the boundaries where the head grows a byte
    st.sampled_from([0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1,
                     -1, -24, -25, -256, -257, -(2**32), -(2**32) - 1, -(2**64)]),
)
keys = st.one_of(ints, st.text(max_size=30), st.binary(max_size=30))
scalars = st.one_of(st.none(), st.booleans(), ints, st.binary(max_size=300),
                    st.text(max_size=300))
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=8) | st.dictionaries(keys, children, max_size=8),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_encode_equals_cbor2_canonical_and_round_trips(value):
    encoded = cbormin.encode(value)
    assert encoded == cbor2.dumps(value, canonical=True)
    assert cbormin.decode(encoded) == value
    assert cbormin.decode_canonical(encoded) == value


@settings(max_examples=200, deadline=None)
@given(values)
def test_decode_agrees_with_cbor2_on_non_canonical_input(value):
    # cbor2 without canonical=True keeps insertion order: decode still reads it.
    data = cbor2.dumps(value)
    assert cbormin.decode(data) == cbor2.loads(data)


def test_length_first_map_order_like_cbor2():
    value = {"b": 1, 1000: 2, b"aa": 3, -1: 4, "a" * 24: 5}
    assert cbormin.encode(value) == cbor2.dumps(value, canonical=True)
    assert cbormin.encode(value).hex().startswith("a5" "2004" "616201")


def test_tuples_encode_as_arrays():
    assert cbormin.encode((1, (2, "x"))) == cbor2.dumps([1, [2, "x"]], canonical=True)


@pytest.mark.parametrize(
    "hex_input, message",
    [
        ("", "empty input"),
        ("18", "truncated"),
        ("1a0001", "truncated"),
        ("5a00010000" "00", "truncated"),
        ("63616263" "00", "trailing bytes"),
        ("0000", "1 trailing bytes"),
        ("f93c00", "floats are not allowed"),
        ("fb3ff8000000000000", "floats are not allowed"),
        ("c249010000000000000000", "tags are not allowed"),
        ("c11a514b67b0", "tags are not allowed"),
        ("9f01ff", "indefinite length"),
        ("5f4101ff", "indefinite length"),
        ("ff", "break code"),
        ("1c", "reserved additional information 28"),
        ("f7", "simple value 23"),
        ("f820", "simple value 32"),
        ("62c328", "not valid UTF-8"),
        ("a2616101616102", "duplicate map key 'a'"),
        ("a2010101" "02", "duplicate map key 1"),
        ("a1800000", "map key at byte 1 must be"),
        ("a1f500", "map key at byte 1 must be"),
        ("9bffffffffffffffff00", "claims 18446744073709551615 items"),
        ("bb0000000100000000", "claims 4294967296 items"),
        ("81" * 200 + "00", "nests deeper than"),
    ],
)
def test_malformed_input_raises_cbor_error(hex_input, message):
    with pytest.raises(CborError, match=message):
        cbormin.decode(bytes.fromhex(hex_input))


@pytest.mark.parametrize(
    "hex_input", ["1800", "190017", "3817", "5800", "780161", "9800", "a2616202616101"]
)
def test_decode_canonical_rejects_non_shortest_and_unsorted(hex_input):
    data = bytes.fromhex(hex_input)
    assert cbormin.decode(data) == cbor2.loads(data)  # readable …
    with pytest.raises(CborError, match="not in canonical form"):  # … but not canonical
        cbormin.decode_canonical(data)


@pytest.mark.parametrize(
    "value, message",
    [
        (1.5, "cannot encode float"),
        (2**64, "outside the 64-bit range"),
        (-(2**64) - 1, "outside the 64-bit range"),
        ({True: 1}, "map key True"),
        ({(1, 2): 1}, "map key"),
        ({1, 2}, "cannot encode set"),
        (object(), "cannot encode object"),
        ("\ud800", "not valid UTF-8"),
    ],
)
def test_encode_refuses_values_outside_the_subset(value, message):
    with pytest.raises(CborError, match=message):
        cbormin.encode(value)


def test_encode_refuses_deep_nesting():
    value: list = []
    for _ in range(cbormin.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(CborError, match="deeper than"):
        cbormin.encode(value)


def test_cbor_error_is_a_value_error():
    assert issubclass(CborError, ValueError)
    with pytest.raises(CborError, match="must be bytes"):
        cbormin.decode("a string")  # type: ignore[arg-type]
