"""How far a long import has got, for whoever watches it (the command line's progress bar).

An importer needs no change to be watched: the rows a file was read into (`csvfile.Rows`) say,
as they are gone through, how many of them have been, to the callback the caller set with
`reporting`. A kind that goes through its rows twice (checks first, then writes) reports two
passes; the watcher sees the count start again. Without a callback nothing is counted.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

# (rows gone through, rows in the file)
Callback = Callable[[int, int], None]

_watcher: ContextVar[Callback | None] = ContextVar("import_progress", default=None)


@contextmanager
def reporting(callback: Callback):
    """Within the block, imports report their rows to `callback`."""
    token = _watcher.set(callback)
    try:
        yield
    finally:
        _watcher.reset(token)


def watched(rows) -> Iterator:
    """Iterate `rows` (csvfile.Rows: its `each()` and its length), telling the watcher, if
    there is one, after each row."""
    callback = _watcher.get()
    if callback is None:
        return rows.each()
    return _counting(rows, callback)


def _counting(rows, callback: Callback) -> Iterator:
    total = len(rows)
    callback(0, total)
    for done, row in enumerate(rows.each(), start=1):
        yield row
        callback(done, total)
