"""Canonical audit-log entries: what is hashed, field by field (docs/audit-format.md).

An entry is a CBOR array (RFC 8949 §4.2.1 deterministic encoding, integers only, no floats):

    [ 1,            format version
      origin,       text: the log's name, as in its checkpoints
      index,        uint: this entry's position in the log
      prev_root,    bytes(32): Merkle root over entries [0, index)
      time_us,      uint: microseconds since 1970-01-01 UTC
      actor,        text: username of who made the change
      kind,         text: what happened, e.g. "transfer.record"
      rows,         array of [table, key, version, prev_hash, image], one per row written
      details,      map text → value: context that is not a row (reason, comment)
      auth ]        optional map: the actor's personal signature (docs/signatures.md);
                    an entry without it is "unsigned" and has 9 fields, as before

`key` is an array of the row's primary-key values; `version` counts the row's versions from 1;
`prev_hash` is SHA-256 of the canonical CBOR of the previous version's image (null for
version 1); `image` maps every bound column to its value. Dates are "YYYY-MM-DD" text,
datetimes microseconds since the epoch, enums their value.
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import operator
from typing import Any

import cbor2
from sqlalchemy.sql import sqltypes

FORMAT_VERSION = 1

# Columns that are caches recomputed by verification, not history: left out of row images.
UNBOUND_COLUMNS = {
    "accounts": frozenset({"debits_posted", "credits_posted", "debits_pending", "credits_pending"}),
}
# Which log binds a row: the entry holding the image is looked up through it, so it is not part
# of the image (models.log_id_column). Images are the same whichever log a row is in.
LOG_COLUMNS = frozenset({"log_id"})


def unimaged_columns(table) -> frozenset:
    """Columns of `table` that row images leave out."""
    return UNBOUND_COLUMNS.get(table.name, frozenset()) | LOG_COLUMNS


# Columns added to a bound table after rows were logged: a row's image holds such a column only
# when it has a value, so the rows logged before the column existed (null in it) still equal
# their images, and a value set or cleared later still shows as a change.
LATE_COLUMNS = {
    "households": ("card_digest",),   # migration 0015
    "members": ("birth_digest",),     # migration 0015
    "roll_lines": ("item", "tier", "year", "member_id", "quantity_centi", "standard_id",
                   "standard_fen", "computed_fen",    # migration 0016
                   "card_id"),                        # migration 0021
    "project_events": ("doc_number",),  # migration 0017
    "payees": ("credit_code", "id_number", "id_digest", "home_county"),   # migration 0020
    "external_records": ("birth_date", "status", "industry_code"),        # migration 0020
    "transfers": ("voucher_date", "value_date"),                          # migration 0022
    "payment_rolls": ("project_code",),                                   # migration 0024
    "household_events": ("doc_number",),   # migration 0023
    "projects": ("implementing_unit",),    # migration 0026
    "approved_payees": ("contract_number", "contract_amount_fen", "instalments"),  # 0026
}


def _drop_late(table):
    """A function removing `table`'s late columns that are null from an image, or None."""
    late = LATE_COLUMNS.get(table.name)
    if not late:
        return None

    def drop(image: dict) -> dict:
        for column in late:
            if image.get(column) is None:
                image.pop(column, None)
        return image
    return drop

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def canonical_value(value: Any) -> Any:
    """Turn a column value into the integer/text/bytes form that entries hold."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    raise TypeError(f"audit entries hold integers, text and bytes only, not {type(value).__name__}")


def row_record(row, version: int = 1, prev_image: dict | None = None) -> tuple:
    """(table, key, version, prev_hash, image) of an ORM row, as an audit entry records it."""
    table, key, image = row_image(row)
    prev_hash = image_hash(prev_image) if prev_image is not None else None
    return table, key, version, prev_hash, image


def table_record(table, values: dict) -> tuple:
    """(table, key, 1, None, image) of a new row written with Core from `values`, which must
    hold every column of the table (as the row was inserted, primary key included).

    The same image as `table_image`, with the per-column decisions made once per table: bulk
    services log tens of thousands of rows at a time."""
    recorder = _RECORDERS.get(table)
    if recorder is None:
        recorder = _RECORDERS[table] = _dict_recorder(table)
    return recorder(values)


_RECORDERS: dict = {}


def _dict_recorder(table):
    skip = unimaged_columns(table)
    columns = [(c.key, None if _is_plain(c) else functools.partial(_bound_value, c))
               for c in table.columns if c.key not in skip]
    key_columns = [c.key for c in table.primary_key.columns]
    name = table.name
    drop_late = _drop_late(table)
    late = set(LATE_COLUMNS.get(table.name, ()))

    def record(values: dict) -> tuple:
        image = {}
        for column, convert in columns:
            value = values[column] if column not in late else values.get(column)
            if convert is not None:
                value = convert(value)
            elif type(value) not in _PLAIN:
                value = canonical_value(value)
            image[column] = value
        if drop_late is not None:
            drop_late(image)
        return name, [canonical_value(values[k]) for k in key_columns], 1, None, image
    return record


def canonical_key_order(keys) -> list[str]:
    """Map keys in the order canonical CBOR puts them: shorter encoding first, then bytewise."""
    return sorted(keys, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))


def image_template(table, values: dict) -> dict:
    """The image of a new row of `table` with its columns already in canonical key order,
    filled from `values` (canonical form, as `table_record` would give) and None elsewhere.

    Bulk services copy it for each row and set the columns that differ: assigning an existing
    key keeps its place, so every copy stays in canonical order and `encode_ordered_entry`
    can use the plain encoder. Every column not in `values` must be set on each copy."""
    skip = unimaged_columns(table)
    late = LATE_COLUMNS.get(table.name, ())
    # a late column is in the template only if given (see LATE_COLUMNS)
    columns = {c.key: c for c in table.columns
               if c.key not in skip and (c.key not in late or c.key in values)}
    return {key: _bound_value(columns[key], values[key]) if key in values else None
            for key in canonical_key_order(columns)}


def image_hash(image: dict) -> bytes:
    return hashlib.sha256(cbor2.dumps(image, canonical=True)).digest()


def row_image(row) -> tuple[str, list, dict]:
    """(table, key, image) of an ORM row: the bound columns in canonical form."""
    return table_image(row.__table__, lambda name: getattr(row, name))


def table_image(table, get) -> tuple[str, list, dict]:
    """(table, key, image) from a table and a column-name → value getter (ORM or Core row).

    Mapped attribute names equal column names throughout ledger.models.
    """
    skip = unimaged_columns(table)
    image = {c.key: _bound_value(c, get(c.key)) for c in table.columns if c.key not in skip}
    drop_late = _drop_late(table)
    if drop_late is not None:
        drop_late(image)
    key = [canonical_value(get(c.key)) for c in table.primary_key.columns]
    return table.name, key, image


def row_imager(table, dialect=None):
    """A faster `table_image` for many Core rows of `select(table)` (columns in table order).

    Verification builds the image of every live row. Deciding once per column, not per value,
    which columns need converting (enums, dates, date-times, JSON, personal data) is most of the
    saving: integer and text columns are taken as the driver returns them. A value of another
    type in such a column (only a hand-edited SQLite file could hold one) then differs from the
    entry's image, and verification compares that row the exact way.

    With `dialect`, the rows are the driver's own tuples (no SQLAlchemy row): each column's
    result processor for that dialect (what SQLAlchemy would apply: date-times from SQLite's
    text, enum members from their names) is applied first, in the same step as the conversion.
    """
    skip = unimaged_columns(table)
    columns = [c for c in table.columns if c.key not in skip]
    positions = {c.key: i for i, c in enumerate(table.columns)}
    # In canonical key order, as the entry holds the image: verification compares an entry's
    # bytes with the encoding of the images it rebuilds from the live rows (verify.py).
    names = canonical_key_order(c.key for c in columns)
    take = operator.itemgetter(*[positions[n] for n in names])

    def processor(column):
        if dialect is None:
            return None
        return column.type.dialect_impl(dialect).result_processor(dialect, None)

    special = []
    for c in columns:
        process = processor(c)
        convert = None if _is_plain(c) else _converter(c)
        if process is not None:
            convert = _composed(convert, process)
        if convert is not None and isinstance(c.type, sqltypes.Enum) and not c.info.get("pii"):
            # An enum's few stored values, converted once: a dict look-up per row after.
            convert = _Memo(convert, [None, *c.type.enums]).__getitem__
        if convert is not None:
            special.append((c.key, convert))
    key_columns = list(table.primary_key.columns)
    key_at = [positions[c.key] for c in key_columns]
    take_key = operator.itemgetter(*key_at)
    key_processors = [processor(c) for c in key_columns]
    if not any(key_processors):
        key_processors = None
    single_key = len(key_at) == 1
    name = table.name
    drop_late = _drop_late(table)

    def image_of(row) -> tuple[str, list, dict]:
        image = dict(zip(names, take(row)))
        for column, convert in special:
            image[column] = convert(image[column])
        if drop_late is not None:
            drop_late(image)
        key = take_key(row)
        if key_processors is not None:
            key = [p(k) if p is not None else k
                   for p, k in zip(key_processors, [key] if single_key else key)]
            key = [k if type(k) in _PLAIN else canonical_value(k) for k in key]
        elif single_key:
            key = [key if type(key) in _PLAIN else canonical_value(key)]
        else:
            key = [k if type(k) in _PLAIN else canonical_value(k) for k in key]
        return name, key, image
    return image_of


class _Memo(dict):
    """`convert` of the given values, remembered; any other value converted each time."""

    def __init__(self, convert, values):
        super().__init__()
        self.convert = convert
        for value in values:
            try:
                self[value] = convert(value)
            except (LookupError, ValueError, TypeError):
                pass   # not a value this database reads back as a member

    def __missing__(self, value):
        return self.convert(value)


def _composed(convert, process):
    if convert is None:
        return process
    return lambda value: convert(process(value))


_PLAIN_TYPES = (sqltypes.Integer, sqltypes.String)
_PLAIN = frozenset({int, str, bytes, bool, type(None)})  # canonical_value returns these as they are


def _is_plain(column) -> bool:
    # Enum is a String subtype but returns enum members; personal data is committed, not kept.
    return (isinstance(column.type, _PLAIN_TYPES) and not isinstance(column.type, sqltypes.Enum)
            and not column.info.get("pii"))


def _converter(column):
    if column.info.get("pii"):
        return lambda value: _bound_value(column, value)
    if isinstance(column.type, sqltypes.Enum):
        members = column.type.enum_class
        if members is None:
            return canonical_value
        # `_value_` is what the `value` property returns, without the property's cost: a
        # million rows' enums are read per verification.
        return lambda value: value._value_ if type(value) is members else (
            value.value if isinstance(value, enum.Enum) else canonical_value(value))
    if isinstance(column.type, sqltypes.DateTime):
        return _datetime_value
    return canonical_value


_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


def _datetime_value(value):
    """`canonical_value` of a date-time column's value, in one subtraction: a naive value is
    UTC, as `canonical_value` takes it (timedelta // timedelta is exact integer arithmetic)."""
    if type(value) is dt.datetime:
        return (value - (_NAIVE_EPOCH if value.tzinfo is None else _EPOCH)) // _MICROSECOND
    return canonical_value(value)


def _bound_value(column, value):
    """A column's value as the entry holds it; personal data only as a commitment.

    Columns declared with `info={"pii": True}` hold ciphertext (Fernet: a random IV per value,
    so the same ID number never encrypts the same way twice). The entry records SHA-256 of that
    stored ciphertext: it binds the row (any change is found) and reveals nothing, not even
    through a dictionary of all ID numbers, because the IV acts as the salt. Whoever holds the
    PII key can decrypt the column and check it against the commitment.
    """
    if column.info.get("pii") and value is not None:
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return {"sha256": hashlib.sha256(raw).digest()}
    return canonical_value(value)


def encode_entry(*, origin: str, index: int, prev_root: bytes, time_us: int, actor: str,
                 kind: str, rows: list, details: dict) -> bytes:
    body = [FORMAT_VERSION, origin, index, prev_root, time_us, actor, kind,
            [list(r) for r in rows], canonical_value(details)]
    return cbor2.dumps(body, canonical=True)


def encode_ordered_entry(*, origin: str, index: int, prev_root: bytes, time_us: int,
                         actor: str, kind: str, rows: list, details: dict) -> bytes:
    """`encode_entry` for a body built in canonical form already: row records as tuples or
    lists, every map (images, details) with its keys in canonical order (`image_template`),
    values only integers, text, bytes, null, booleans and lists. cbor2's canonical encoder
    differs from its plain one only in sorting map keys (and shortening floats, which entries
    never hold), so for such a body the plain encoder writes the same bytes at a third of the
    cost: bulk services encode tens of thousands of entries at a time."""
    return cbor2.dumps([FORMAT_VERSION, origin, index, prev_root, time_us, actor, kind, rows,
                        details])


def with_auth(unsigned_entry: bytes, auth: dict) -> bytes:
    """The entry `unsigned_entry` (9 fields, canonical) with `auth` as its 10th element.

    The array's head is one byte (0x89 for nine items, 0x8a for ten), so the signed entry is
    the unsigned one with its head changed and the canonical encoding of `auth` appended: the
    bytes that were signed are the signed entry's own bytes, nothing re-encoded."""
    if unsigned_entry[:1] != b"\x89":
        raise ValueError("not an unsigned entry (an array of 9 fields)")
    return b"\x8a" + unsigned_entry[1:] + cbor2.dumps(canonical_value(auth), canonical=True)


def unsigned_part(entry: bytes) -> bytes:
    """The entry as it was before its `auth` was added (what its TBS digest is taken of)."""
    if entry[:1] == b"\x89":
        return entry
    body = cbor2.loads(entry)
    return cbor2.dumps(body[:9], canonical=True)


class EntryFormatError(ValueError):
    """Bytes that are not a well-formed canonical entry."""


ENTRY_FIELDS = ("version", "origin", "index", "prev_root", "time_us", "actor", "kind", "rows",
                "details", "auth")


def decode_entry(data: bytes) -> dict:
    """Parse an entry and check that it is in canonical form (re-encoding gives the same bytes)."""
    return dict(zip(ENTRY_FIELDS, decode_body(data)))   # "auth" only when signed


def decode_body(data: bytes) -> list:
    """`decode_entry`'s checks, returning the entry's CBOR array as it is (9 or 10 fields):
    what the signature audit (tlog.personal) reads, so that verification decodes each entry
    once."""
    try:
        body = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types for malformed input
        raise EntryFormatError(f"not CBOR: {exc}") from None
    if not isinstance(body, list) or len(body) not in (9, 10) or body[0] != FORMAT_VERSION:
        raise EntryFormatError("not a version-1 entry array of 9 fields (10 when signed)")
    if len(body) == 10 and not isinstance(body[9], dict):
        raise EntryFormatError("the 10th field (auth) is not a map")
    if not _plainly_canonical(body, data) and cbor2.dumps(body, canonical=True) != data:
        raise EntryFormatError("entry is not in canonical CBOR form")
    return body


# A cheaper proof of canonical form for the entries fundtrail writes (verification decodes
# millions). cbor2's canonical encoder differs from its plain one only in the order of map keys
# and in how floats are shortened. So if the entry holds no floats or other exotic values, every
# map's text keys are already in canonical order (length first, then bytewise), and the plain
# encoder gives back the bytes, the canonical encoder would too. When any of that cannot be
# shown, decode_entry falls back to the canonical re-encoding.
_LEAVES = frozenset({int, str, bytes, bool, type(None)})
_KEY_ORDER: dict[tuple, bool] = {}


def _plainly_canonical(body: list, data: bytes) -> bool:
    return _simple(body) and cbor2.dumps(body) == data


def plainly_canonical(value) -> bool:
    """Whether cbor2's plain encoder writes `value` as its canonical encoder would: only
    integers, text, bytes, null and booleans, in lists and in maps whose text keys are in
    canonical order. Verification uses it on the parts of an entry it does not rebuild."""
    return _simple(value)


def _simple(value) -> bool:
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is list:
        for item in value:
            if type(item) not in _LEAVES and not _simple(item):
                return False
        return True
    if kind is dict:
        keys = tuple(value)
        ordered = _KEY_ORDER.get(keys)
        if ordered is None:
            ordered = all(type(k) is str for k in keys) and list(keys) == sorted(
                keys, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
            if len(_KEY_ORDER) < 4096:  # a few dozen shapes of row image and details
                _KEY_ORDER[keys] = ordered
        if not ordered:
            return False
        for item in value.values():
            if type(item) not in _LEAVES and not _simple(item):
                return False
        return True
    return False
