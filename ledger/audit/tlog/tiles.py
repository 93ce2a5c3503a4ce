"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles) on a filesystem: hash tiles and entry bundles.

Layout, relative to a root directory::

    tile/<L>/<N>[.p/<W>]          hash tiles: W consecutive hashes at tree level 8*L
    tile/entries/<N>[.p/<W>]      entry bundles: W entries, each a big-endian uint16 length + bytes

``<L>`` is decimal (0..63). ``<N>`` is the tile index in zero-padded 3-digit groups, all but the
last prefixed with ``x`` (1234067 -> ``x001/x234/067``). A full tile holds 256 hashes (8,192
bytes); the partial tile at level L of a tree of size s holds ``floor(s / 256**L) mod 256``
hashes and is written only when that is not zero. Hash j of tile N at level L is the complete
node ``(8*L, 256*N + j)`` in merkle.py's ``(level, index)`` addressing.

Writers: a tree of size S gets every full tile plus the partial tiles of size S. Given
``checkpoint_sizes``, the partial tiles of those smaller sizes are written too, but only where
the full tile is not in the directory (the spec lets a log drop a partial tile once the full
one exists), so a tlog-tiles client can read the tree at every checkpointed size.

Readers fall back to the full tile (as the spec allows clients to), or to a wider partial tile
of a later size, when a partial one is missing, and use its first W hashes. Only the standard
library is used (plus merkle.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from . import merkle

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
MAX_ENTRY_SIZE = 0xFFFF  # entries are uint16 length-prefixed in bundles
MAX_LEVEL = 63
FULL_TILE_BYTES = TILE_WIDTH * merkle.HASH_SIZE


class TileError(ValueError):
    """A tile or entry bundle is missing, has the wrong length, or cannot be parsed."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class TileMissingError(TileError):
    """Neither the tile (or bundle) nor the full one it could be read from exists."""


class EntryTooLargeError(ValueError):
    """An entry longer than 65,535 bytes cannot be stored in a tlog-tiles entry bundle."""


# --------------------------------------------------------------------------- paths


def encode_index(index: int) -> str:
    """Tile index as path elements: 0 -> ``000``, 1234067 -> ``x001/x234/067``."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"tile index must be a non-negative int, got {index!r}")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """``tile/<L>/<N>`` for a full tile (width None or 256), ``tile/<L>/<N>.p/<W>`` otherwise."""
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"tile level must be 0..{MAX_LEVEL}, got {level!r}")
    return f"tile/{level}/{encode_index(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int | None = None) -> str:
    """``tile/entries/<N>`` for a full bundle, ``tile/entries/<N>.p/<W>`` for a partial one."""
    return f"tile/entries/{encode_index(index)}{_width_suffix(width)}"


def _width_suffix(width: int | None) -> str:
    if width is None or width == TILE_WIDTH:
        return ""
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width < TILE_WIDTH:
        raise ValueError(f"tile width must be 1..{TILE_WIDTH}, got {width!r}")
    return f".p/{width}"


def tile_count(size: int, level: int) -> int:
    """How many hashes the tree of ``size`` leaves has at tile level ``level`` (node level 8L)."""
    return size >> (TILE_HEIGHT * level)


def tiles_for_size(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, width) of every tile of a tree of ``size`` leaves; width 256 = full."""
    _check_size(size)
    level = 0
    while tile_count(size, level):
        full, partial = divmod(tile_count(size, level), TILE_WIDTH)
        for index in range(full):
            yield level, index, TILE_WIDTH
        if partial:
            yield level, full, partial
        level += 1


def partial_tiles(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, width) of the partial tiles of a tree of ``size`` leaves."""
    level = 0
    while tile_count(size, level):
        full, partial = divmod(tile_count(size, level), TILE_WIDTH)
        if partial:
            yield level, full, partial
        level += 1


def _file(root_dir: str | os.PathLike, rel: str) -> Path:
    return Path(root_dir, *rel.split("/"))


def _write(root_dir: str | os.PathLike, rel: str, data: bytes) -> None:
    path = _file(root_dir, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --------------------------------------------------------------------------- writing


def write_hash_tiles(
    root_dir: str | os.PathLike,
    size: int,
    node_reader: merkle.NodeReader,
    *,
    checkpoint_sizes: Iterable[int] = (),
) -> list[str]:
    """Write every hash tile of the tree of ``size`` leaves; return the paths written.

    ``node_reader(level, index)`` serves complete nodes (merkle.py convention). Partial tiles of
    each smaller size in ``checkpoint_sizes`` are added where the full tile is not written.
    """
    written = []
    for level, index, width in tiles_for_size(size):
        written.append(_write_tile(root_dir, level, index, width, node_reader))
    for old in sorted(set(checkpoint_sizes)):
        _check_old_size(old, size)
        for level, index, width in partial_tiles(old):
            if _full_at(size, level, index):
                continue
            path = tile_path(level, index, width)
            if path not in written:
                written.append(_write_tile(root_dir, level, index, width, node_reader))
    return written


def _write_tile(root_dir, level: int, index: int, width: int, node_reader) -> str:
    node_level = TILE_HEIGHT * level
    first = index * TILE_WIDTH
    hashes = [_node(node_reader, node_level, first + i) for i in range(width)]
    path = tile_path(level, index, width)
    _write(root_dir, path, b"".join(hashes))
    return path


def _node(node_reader: merkle.NodeReader, level: int, index: int) -> bytes:
    h = node_reader(level, index)
    if not isinstance(h, bytes) or len(h) != merkle.HASH_SIZE:
        raise ValueError(f"node reader returned no 32-byte hash for node ({level}, {index})")
    return h


def _check_size(size: object) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= merkle.MAX_TREE_SIZE:
        raise ValueError(f"tree size must be an int in 0..2**64-1, got {size!r}")


def _full_at(size: int, level: int, index: int) -> bool:
    return tile_count(size, level) >= (index + 1) * TILE_WIDTH


def _check_old_size(old: int, size: int) -> None:
    _check_size(old)
    if old > size:
        raise ValueError(f"checkpoint size {old} is larger than the tree size {size}")


def encode_entry_bundle(entries: Iterable[bytes], first_index: int = 0) -> bytes:
    """Concatenate entries, each prefixed by its big-endian uint16 length."""
    out = bytearray()
    for offset, entry in enumerate(entries):
        if not isinstance(entry, (bytes, bytearray)):
            raise TypeError(f"entry {first_index + offset} must be bytes")
        if len(entry) > MAX_ENTRY_SIZE:
            raise EntryTooLargeError(
                f"entry {first_index + offset} is {len(entry):,} bytes; tlog-tiles entry "
                f"bundles hold at most {MAX_ENTRY_SIZE:,} bytes per entry"
            )
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def write_entry_bundles(
    root_dir: str | os.PathLike,
    entries: Iterable[bytes],
    *,
    checkpoint_sizes: Iterable[int] = (),
) -> int:
    """Write entries as bundles of 256 (the last one partial); return how many were written.

    Partial bundles of each size in ``checkpoint_sizes`` are added where the full bundle is not
    written. Raises EntryTooLargeError for an entry over 65,535 bytes.
    """
    wanted = set(checkpoint_sizes)
    for old in wanted:
        _check_size(old)
    bundle: list[bytes] = []
    pending: list[int] = []  # checkpoint sizes that end inside the current bundle
    count = 0
    for entry in entries:
        bundle.append(entry)
        count += 1
        if count in wanted and count % TILE_WIDTH:
            pending.append(count)
        if len(bundle) == TILE_WIDTH:
            index = count // TILE_WIDTH - 1
            _write(root_dir, entries_path(index), encode_entry_bundle(bundle, index * TILE_WIDTH))
            bundle, pending = [], []  # the full bundle makes those partial ones redundant
    index = count // TILE_WIDTH
    for width in [p - index * TILE_WIDTH for p in pending] + ([len(bundle)] if bundle else []):
        _write(root_dir, entries_path(index, width),
               encode_entry_bundle(bundle[:width], index * TILE_WIDTH))
    too_big = sorted(s for s in wanted if s > count)
    if too_big:
        raise ValueError(f"checkpoint size {too_big[0]} is larger than the {count} entries")
    return count


# --------------------------------------------------------------------------- reading


def read_tile(root_dir: str | os.PathLike, level: int, index: int, width: int) -> bytes:
    """The ``width * 32`` bytes of a tile: from its own file, else a wider or the full one."""
    rel = tile_path(level, index, width)
    for candidate, candidate_width in _candidates(root_dir, tile_path(level, index), width):
        data = _file(root_dir, candidate).read_bytes()
        if len(data) != candidate_width * merkle.HASH_SIZE:
            raise TileError(candidate, f"{len(data)} bytes, expected "
                                       f"{candidate_width * merkle.HASH_SIZE}")
        return data[: width * merkle.HASH_SIZE]
    raise TileMissingError(rel, "missing")


def _candidates(root_dir, full_rel: str, width: int) -> Iterator[tuple[str, int]]:
    """Existing files that hold the first ``width`` items: exact partial, full, wider partials.

    tlog-tiles lets a client read the full tile when a partial one is gone; in a bundle a
    wider partial tile of a later checkpoint holds the same hashes too.
    """
    if width < TILE_WIDTH:
        exact = f"{full_rel}.p/{width}"
        if _file(root_dir, exact).is_file():
            yield exact, width
    if _file(root_dir, full_rel).is_file():
        yield full_rel, TILE_WIDTH
    folder = _file(root_dir, full_rel + ".p")
    if width < TILE_WIDTH and folder.is_dir():
        names = [p.name for p in folder.iterdir() if p.name.isdigit() and p.name[0] != "0"]
        wider = sorted(w for w in map(int, names) if width < w < TILE_WIDTH)
        for w in wider:
            yield f"{full_rel}.p/{w}", w


def split_entry_bundle(data: bytes) -> tuple[list[bytes], str | None]:
    """Entries of a bundle, and a description of the problem if its end is malformed."""
    entries = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2:
            return entries, f"1 stray byte after entry {len(entries) - 1} (a cut length prefix)"
        length = int.from_bytes(data[pos : pos + 2], "big")
        if len(data) - pos - 2 < length:
            return entries, (f"entry {len(entries)} claims {length} bytes but only "
                             f"{len(data) - pos - 2} remain")
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return entries, None


def parse_entry_bundle(data: bytes) -> list[bytes]:
    entries, problem = split_entry_bundle(data)
    if problem:
        raise TileError("entry bundle", f"malformed: {problem}")
    return entries


def read_entry_bundle(root_dir: str | os.PathLike, index: int, width: int) -> list[bytes]:
    """The ``width`` entries of bundle ``index``: from its own file, else a wider or full one."""
    for candidate, candidate_width in _candidates(root_dir, entries_path(index), width):
        entries = _parse_at(_file(root_dir, candidate).read_bytes(), candidate)
        if len(entries) != candidate_width:
            raise TileError(candidate, f"holds {len(entries)} entries, expected {candidate_width}")
        return entries[:width]
    raise TileMissingError(entries_path(index, width), "missing")


def _parse_at(data: bytes, rel: str) -> list[bytes]:
    entries, problem = split_entry_bundle(data)
    if problem:
        raise TileError(rel, problem)
    return entries


def read_entries(root_dir: str | os.PathLike, size: int) -> Iterator[bytes]:
    """Every entry of the log of ``size`` entries, in order. Raises TileError on bad bundles."""
    _check_size(size)
    full, partial = divmod(size, TILE_WIDTH)
    for index in range(full):
        yield from read_entry_bundle(root_dir, index, TILE_WIDTH)
    if partial:
        yield from read_entry_bundle(root_dir, full, partial)


def tile_node_reader(root_dir: str | os.PathLike, size: int) -> merkle.NodeReader:
    """A merkle NodeReader serving the complete nodes of the tree of ``size`` from its tiles.

    Node ``(level, index)`` lies in the tile at tile level ``level // 8``; levels between tile
    levels are computed by hashing the tile's hashes. Recently read tiles are cached.
    """
    _check_size(size)
    cache: dict[tuple[int, int], bytes] = {}

    def tile(level: int, index: int) -> bytes:
        key = (level, index)
        if key not in cache:
            if len(cache) >= 64:
                cache.clear()
            width = min(TILE_WIDTH, tile_count(size, level) - index * TILE_WIDTH)
            cache[key] = read_tile(root_dir, level, index, width)
        return cache[key]

    def read(level: int, index: int) -> bytes:
        if level < 0 or index < 0 or (index + 1) << level > size:
            raise TileError("tile", f"node ({level}, {index}) is not a complete node of a tree "
                                    f"of size {size}")
        tile_level, height = divmod(level, TILE_HEIGHT)
        start = index << height  # position among the hashes at node level 8 * tile_level
        tile_index, offset = divmod(start, TILE_WIDTH)
        data = tile(tile_level, tile_index)
        hs = merkle.HASH_SIZE
        hashes = [data[i * hs : (i + 1) * hs] for i in range(offset, offset + (1 << height))]
        return subtree_root(hashes)

    return read


def subtree_root(hashes: list[bytes]) -> bytes:
    """Root of a perfect subtree given its 2**k bottom hashes, left to right."""
    if not hashes or len(hashes) & (len(hashes) - 1):
        raise ValueError(f"a perfect subtree has 2**k bottom hashes, not {len(hashes)}")
    while len(hashes) > 1:
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]
