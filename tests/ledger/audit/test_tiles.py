"""C2SP tlog-tiles layout: paths, tile sets, entry bundles and serving nodes from tiles."""

from __future__ import annotations

import hashlib
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.tlog import merkle, tiles


def tree(size: int) -> dict[tuple[int, int], bytes]:
    frontier = merkle.Frontier()
    nodes = {}
    for i in range(size):
        for node in frontier.append(hashlib.sha256(i.to_bytes(8, "big")).digest()):
            nodes[(node.level, node.index)] = node.hash
    return nodes


@pytest.mark.parametrize(
    "args, path",
    [
        ((0, 0), "tile/0/000"),
        ((0, 1234067), "tile/0/x001/x234/067"),
        ((0, 1000), "tile/0/x001/000"),
        ((3, 999, 255), "tile/3/999.p/255"),
        ((1, 0, 1), "tile/1/000.p/1"),
        ((2, 5, 256), "tile/2/005"),
        ((63, 2**56 - 1), "tile/63/x072/x057/x594/x037/x927/935"),
    ],
)
def test_tile_paths(args, path):
    assert tiles.tile_path(*args) == path


def test_entry_bundle_paths():
    assert tiles.entries_path(0) == "tile/entries/000"
    assert tiles.entries_path(1234067, 17) == "tile/entries/x001/x234/067.p/17"


@pytest.mark.parametrize("bad", [(64, 0), (-1, 0), (0, -1), (0, 0, 0), (0, 0, 257), (0, 0, True)])
def test_bad_tile_coordinates(bad):
    with pytest.raises(ValueError):
        tiles.tile_path(*bad)


def test_spec_example_tree_of_70000():
    # tlog-tiles: 273 full level-0 tiles, a partial one of width 112, one full level-1 tile,
    # a partial level-1 tile of width 17 and a partial level-2 tile of width 1.
    shape = list(tiles.tiles_for_size(70_000))
    assert [t for t in shape if t[0] == 0 and t[2] == 256] == [(0, n, 256) for n in range(273)]
    assert [t for t in shape if not (t[0] == 0 and t[2] == 256)] == [
        (0, 273, 112), (1, 0, 256), (1, 1, 17), (2, 0, 1)]
    assert list(tiles.tiles_for_size(256)) == [(0, 0, 256), (1, 0, 1)]
    assert list(tiles.tiles_for_size(0)) == []


def test_tree_of_70000_served_from_tiles(tmp_path):
    nodes = tree(70_000)

    def ref(level, index):
        return nodes[(level, index)]

    tiles.write_hash_tiles(tmp_path, 70_000, ref)
    assert (tmp_path / "tile/2/000.p/1").read_bytes() == nodes[(16, 0)]
    assert len((tmp_path / "tile/0/273.p/112").read_bytes()) == 112 * 32
    reader = tiles.tile_node_reader(tmp_path, 70_000)
    assert merkle.root_at(70_000, reader) == merkle.root_at(70_000, ref)
    for key in [(16, 0), (15, 1), (12, 16), (9, 135), (8, 272), (3, 8749), (0, 69_999)]:
        assert reader(*key) == nodes[key], key


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=1300), st.data())
def test_tiles_serve_every_complete_node_and_the_same_proofs(size, data):
    nodes = tree(size)
    with tempfile.TemporaryDirectory() as root:
        tiles.write_hash_tiles(root, size, lambda level, index: nodes[(level, index)])
        reader = tiles.tile_node_reader(root, size)
        for (level, index), h in nodes.items():
            assert reader(level, index) == h
        old = data.draw(st.integers(min_value=0, max_value=size))
        leaf = data.draw(st.integers(min_value=0, max_value=size - 1))

        def ref(lv, ix):
            return nodes[(lv, ix)]

        assert merkle.consistency_proof(old, size, reader) == merkle.consistency_proof(
            old, size, ref)
        assert merkle.inclusion_proof(leaf, size, reader) == merkle.inclusion_proof(
            leaf, size, ref)


def test_reader_refuses_incomplete_nodes(tmp_path):
    nodes = tree(300)
    tiles.write_hash_tiles(tmp_path, 300, lambda lv, ix: nodes[(lv, ix)])
    reader = tiles.tile_node_reader(tmp_path, 300)
    with pytest.raises(tiles.TileError, match=r"node \(8, 1\) is not a complete node"):
        reader(8, 1)
    with pytest.raises(tiles.TileError, match="not a complete node"):
        reader(0, 300)


def test_partial_tiles_for_older_checkpoints(tmp_path):
    nodes = tree(600)
    written = tiles.write_hash_tiles(tmp_path, 600, lambda lv, ix: nodes[(lv, ix)],
                                     checkpoint_sizes=[100, 256, 300, 520])
    assert sorted(written) == sorted([
        "tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2",
        "tile/1/000.p/1",  # for 256 and 300: the level-1 tile is still partial at 600
        "tile/0/002.p/8",  # for 520: level-0 tile 2 is still partial at 600
    ])
    # An old partial tile is readable on its own and agrees with the tree.
    reader = tiles.tile_node_reader(tmp_path, 300)
    assert merkle.root_at(300, reader) == merkle.root_at(300, lambda lv, ix: nodes[(lv, ix)])


def test_reader_falls_back_to_full_or_wider_tiles(tmp_path):
    nodes = tree(512)
    tiles.write_hash_tiles(tmp_path, 512, lambda lv, ix: nodes[(lv, ix)])
    # A reader for size 300 asks for tile/0/001.p/44 and tile/1/000.p/1; a tree of 512 has
    # tile/0/001 and tile/1/000.p/2 instead, which hold the same hashes first.
    reader = tiles.tile_node_reader(tmp_path, 300)
    assert merkle.root_at(300, reader) == merkle.root_at(300, lambda lv, ix: nodes[(lv, ix)])


def test_short_or_missing_tiles_are_errors(tmp_path):
    nodes = tree(20)
    tiles.write_hash_tiles(tmp_path, 20, lambda lv, ix: nodes[(lv, ix)])
    (tmp_path / "tile/0/000.p/20").write_bytes(b"\0" * 100)
    with pytest.raises(tiles.TileError, match="100 bytes, expected 640") as info:
        tiles.tile_node_reader(tmp_path, 20)(0, 0)
    assert info.value.path == "tile/0/000.p/20"
    with pytest.raises(tiles.TileMissingError, match="tile/0/000.p/21: missing"):
        tiles.tile_node_reader(tmp_path, 21)(0, 0)


# --------------------------------------------------------------------------- entry bundles


def test_entry_bundles_round_trip(tmp_path):
    entries = [b"", b"x", bytes(range(256)) * 3, b"y" * tiles.MAX_ENTRY_SIZE] + [
        i.to_bytes(4, "big") for i in range(600)]
    assert tiles.write_entry_bundles(tmp_path, iter(entries), checkpoint_sizes=[3, 300, 601]) \
        == 604
    assert list(tiles.read_entries(tmp_path, 604)) == entries
    assert list(tiles.read_entries(tmp_path, 601)) == entries[:601]  # its own partial bundle
    assert list(tiles.read_entries(tmp_path, 300)) == entries[:300]  # from the full bundle
    assert (tmp_path / "tile/entries/002.p/89").is_file()
    assert not (tmp_path / "tile/entries/000.p/3").exists()  # bundle 000 is full
    data = (tmp_path / "tile/entries/000").read_bytes()
    assert data[:5] == b"\x00\x00\x00\x01x"  # uint16 big-endian length, then the entry


def test_entry_over_65535_bytes_is_refused(tmp_path):
    with pytest.raises(tiles.EntryTooLargeError, match="entry 1 is 65,536 bytes"):
        tiles.write_entry_bundles(tmp_path, [b"ok", b"z" * 65_536])


def test_malformed_entry_bundles(tmp_path):
    assert tiles.split_entry_bundle(b"\x00\x01a\x00") == ([b"a"], "1 stray byte after entry 0 "
                                                                  "(a cut length prefix)")
    assert tiles.split_entry_bundle(b"\x00\x05ab")[1] == "entry 0 claims 5 bytes but only 2 remain"
    tiles.write_entry_bundles(tmp_path, [b"a", b"b", b"c"])
    bundle3 = (tmp_path / "tile/entries/000.p/3").read_bytes()
    (tmp_path / "tile/entries/000.p/2").write_bytes(bundle3)
    with pytest.raises(tiles.TileError, match="holds 3 entries, expected 2"):
        tiles.read_entry_bundle(tmp_path, 0, 2)
    with pytest.raises(tiles.TileMissingError, match="tile/entries/000.p/4: missing"):
        list(tiles.read_entries(tmp_path, 4))
