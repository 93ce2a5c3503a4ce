"""A minimal CBOR (RFC 8949) decoder and canonical encoder for the subset audit entries use.

The offline verifier must decode entries and check that they are canonical without cbor2, so
this module uses only the standard library. The subset:

* unsigned and negative integers, including the full 64-bit range (-2**64 .. 2**64 - 1);
* byte strings and text strings (UTF-8), definite length;
* arrays and maps, definite length; map keys are integers, text or byte strings;
* the simple values false, true and null.

Everything else is refused with ``CborError``: floats, tags (so also bignums), undefined and
other simple values, indefinite lengths, reserved additional-information values, duplicate map
keys, invalid UTF-8, and trailing bytes after the top-level item.

``encode`` produces exactly what ``cbor2.dumps(value, canonical=True)`` produces: shortest-form
heads and map entries sorted by the length of the encoded key, then bytewise ("length-first",
RFC 7049 §3.9 / RFC 8949 §4.2.3). Where all keys of a map have the same major type, which is
always the case in entries (text keys), that order equals RFC 8949 §4.2.1 bytewise order.

``decode`` accepts non-shortest heads and unsorted maps (so that a non-canonical entry can be
told apart from garbage); ``decode_canonical`` additionally requires ``encode(decode(b)) == b``.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 128  # entries nest about 5 deep; the bound keeps hostile input off the C stack

_UINT_MAX = 2**64 - 1
_NEG_MIN = -(2**64)

_MAJOR_UINT, _MAJOR_NEG, _MAJOR_BYTES, _MAJOR_TEXT = 0, 1, 2, 3
_MAJOR_ARRAY, _MAJOR_MAP, _MAJOR_TAG, _MAJOR_SIMPLE = 4, 5, 6, 7

_SIMPLE = {20: False, 21: True, 22: None}


class CborError(ValueError):
    """Bytes that are not CBOR in the subset, or a value the subset cannot encode."""


# --------------------------------------------------------------------------- encoding


def encode(value: Any) -> bytes:
    """Canonical CBOR of ``value`` (int, bytes, str, list/tuple, dict, bool, None)."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborError(f"value nests deeper than {MAX_DEPTH} levels")
    # bool before int: True is an int in Python.
    if value is False:
        out.append(0xF4)
    elif value is True:
        out.append(0xF5)
    elif value is None:
        out.append(0xF6)
    elif isinstance(value, int):
        if 0 <= value <= _UINT_MAX:
            out += _head(_MAJOR_UINT, value)
        elif _NEG_MIN <= value < 0:
            out += _head(_MAJOR_NEG, -1 - value)
        else:
            raise CborError(f"integer {value} is outside the 64-bit range (no bignums)")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out += _head(_MAJOR_BYTES, len(raw)) + raw
    elif isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise CborError("text contains characters that are not valid UTF-8") from None
        out += _head(_MAJOR_TEXT, len(raw)) + raw
    elif isinstance(value, (list, tuple)):
        out += _head(_MAJOR_ARRAY, len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        items = []
        for key, item in value.items():
            _check_key(key)
            items.append((encode(key), item))
        items.sort(key=lambda pair: (len(pair[0]), pair[0]))
        out += _head(_MAJOR_MAP, len(items))
        for key_bytes, item in items:
            out += key_bytes
            _encode(item, out, depth + 1)
    else:
        raise CborError(f"cannot encode {type(value).__name__}: not in the CBOR subset")


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for ai, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | ai]) + n.to_bytes(width, "big")
    raise CborError(f"length or value {n} does not fit in 64 bits")


def _check_key(key: Any) -> None:
    # bool is excluded because True == 1 would make two distinct CBOR keys collide in a dict.
    if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
        raise CborError(f"map key {key!r} must be an integer, text or byte string")


# --------------------------------------------------------------------------- decoding


def decode(data: bytes) -> Any:
    """Decode one CBOR item in the subset; the whole input must be that item."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CborError(f"CBOR input must be bytes, not {type(data).__name__}")
    decoder = _Decoder(bytes(data))
    if not decoder.data:
        raise CborError("empty input")
    value = decoder.item(0)
    if decoder.pos != len(decoder.data):
        raise CborError(
            f"{len(decoder.data) - decoder.pos} trailing bytes after the item at byte {decoder.pos}"
        )
    return value


def decode_canonical(data: bytes) -> Any:
    """Decode, then require that the canonical encoding of the result is exactly ``data``."""
    value = decode(data)
    if encode(value) != bytes(data):
        raise CborError("not in canonical form (re-encoding gives different bytes)")
    return value


class _Decoder:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise CborError(f"truncated: needs {n} bytes at byte {self.pos}, "
                            f"{len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def head(self) -> tuple[int, int, int]:
        """(major type, additional info, argument) of the next item."""
        start = self.pos
        initial = self.take(1)[0]
        major, ai = initial >> 5, initial & 0x1F
        if ai < 24:
            return major, ai, ai
        if ai <= 27:
            return major, ai, int.from_bytes(self.take(1 << (ai - 24)), "big")
        if ai == 31:
            what = "break code" if initial == 0xFF else "indefinite length"
            raise CborError(f"{what} at byte {start}: only definite lengths are allowed")
        raise CborError(f"reserved additional information {ai} at byte {start}")

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CborError(f"input nests deeper than {MAX_DEPTH} levels")
        start = self.pos
        major, ai, arg = self.head()
        if major == _MAJOR_UINT:
            return arg
        if major == _MAJOR_NEG:
            return -1 - arg
        if major == _MAJOR_BYTES:
            return self.take(arg)
        if major == _MAJOR_TEXT:
            raw = self.take(arg)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CborError(f"text string at byte {start} is not valid UTF-8") from None
        if major == _MAJOR_ARRAY:
            self.check_count(arg, 1, start)
            return [self.item(depth + 1) for _ in range(arg)]
        if major == _MAJOR_MAP:
            return self.map(arg, start, depth)
        if major == _MAJOR_TAG:
            raise CborError(f"tag {arg} at byte {start}: tags are not allowed")
        return self.simple(ai, arg, start)

    def map(self, count: int, start: int, depth: int) -> dict:
        self.check_count(count, 2, start)
        result: dict = {}
        for _ in range(count):
            key_pos = self.pos
            key = self.item(depth + 1)
            if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
                raise CborError(f"map key at byte {key_pos} must be an integer, text or bytes")
            if key in result:
                raise CborError(f"duplicate map key {key!r} at byte {key_pos}")
            result[key] = self.item(depth + 1)
        return result

    def simple(self, ai: int, arg: int, start: int) -> Any:
        if 25 <= ai <= 27:
            raise CborError(f"floating-point number at byte {start}: floats are not allowed")
        if ai < 24 and arg in _SIMPLE:
            return _SIMPLE[arg]
        raise CborError(f"simple value {arg} at byte {start}: only false, true and null")

    def check_count(self, count: int, min_bytes: int, start: int) -> None:
        # Every element takes at least one byte, so refuse impossible counts before looping.
        if count * min_bytes > len(self.data) - self.pos:
            raise CborError(f"container at byte {start} claims {count} items; "
                            f"only {len(self.data) - self.pos} bytes are left")
