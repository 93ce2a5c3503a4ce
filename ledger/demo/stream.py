"""The demo's regular households, kept on disk once registered, so that building a province of
a million households holds a chunk of them in memory, not all of them (issue 21).

Households are generated and registered a chunk at a time (`CHUNK`), in the order the
generator deals them (household n to county n mod 5), and each registered chunk is pickled
into an anonymous temporary file (gone with the process, even a killed one), a piece per
chunk and county, whose places are kept in memory (ten thousand at a million households). The later phases read them back:
the rolls a county at a time (`county`), the plants a few at a time (`get`, `pin`), and a
plain pass over all of them (`__iter__`). A household the plants change (a D7 child count, a
roll plan) is pinned: kept in memory, and read from there instead of from the file.
"""
from __future__ import annotations

import pickle
import tempfile
from array import array

from ledger.demo.world import DemoHousehold

CHUNK = 500  # households per registration transaction (as the demo always registered them)


class HouseholdStore:
    def __init__(self, counties: list[str]):
        assert CHUNK % len(counties) == 0, "a chunk holds as many households of each county"
        self.counties = counties
        self._file = tempfile.TemporaryFile(prefix="fundtrail-demo-")
        self._places: dict[tuple[int, int], tuple[int, int]] = {}  # (chunk, county) → place
        self.count = 0                       # regular households generated
        self.stored = 0                      # ... of which written to the file
        self.buffer: list[DemoHousehold] = []  # generated, not yet stored
        self.pinned: dict[int, DemoHousehold] = {}
        self._cached: tuple[tuple[int, int], list] | None = None

    def close(self) -> None:
        self._file.close()

    # -- writing --------------------------------------------------------------------------
    def append(self, h: DemoHousehold) -> int:
        self.buffer.append(h)
        self.count += 1
        return self.count - 1

    def store(self, households: list[DemoHousehold]) -> None:
        """Write the next `CHUNK` (or, last, fewer) registered households of the buffer."""
        assert households and households[0] is self.buffer[0]
        chunk = self.stored // CHUNK
        by_county: dict[int, list] = {k: [] for k in range(len(self.counties))}
        for n, h in enumerate(households, start=self.stored):
            by_county[n % len(self.counties)].append(h)
        self._file.seek(0, 2)
        for k, hs in by_county.items():
            body = pickle.dumps(hs, pickle.HIGHEST_PROTOCOL)
            self._places[(chunk, k)] = (self._file.tell(), len(body))
            self._file.write(body)
        self.stored += len(households)
        del self.buffer[:len(households)]

    # -- reading --------------------------------------------------------------------------
    def _part(self, chunk: int, k: int) -> list[DemoHousehold]:
        if self._cached is None or self._cached[0] != (chunk, k):
            offset, size = self._places[(chunk, k)]
            self._file.seek(offset)
            self._cached = ((chunk, k), pickle.loads(self._file.read(size)))
        return self._cached[1]

    def get(self, n: int) -> DemoHousehold:
        """Regular household n (the pinned copy, if the plants hold one)."""
        if n in self.pinned:
            return self.pinned[n]
        if n >= self.stored:
            return self.buffer[n - self.stored]
        chunk, k = n // CHUNK, n % len(self.counties)
        return self._part(chunk, k)[(n - chunk * CHUNK - k) // len(self.counties)]

    def pin(self, n: int) -> DemoHousehold:
        """Household n, kept in memory from now on (the plants change it)."""
        h = self.pinned[n] = self.get(n)
        return h

    def county(self, county: str):
        """The regular households of `county`, in the order they were dealt."""
        k = self.counties.index(county)
        for chunk in range((self.stored + CHUNK - 1) // CHUNK):
            for i, h in enumerate(self._part(chunk, k)):
                yield self.pinned.get(chunk * CHUNK + k + i * len(self.counties), h)
        for n in range(self.stored, self.count):
            if n % len(self.counties) == k:
                yield self.get(n)

    def __iter__(self):
        for n in range(self.count):
            yield self.get(n)

    def __len__(self) -> int:
        return self.count


class Pool:
    """The shuffled regular households the plants take from (ledger.demo.misuse.take): their
    numbers in an array, shuffled with the generator's own shuffle (the same draws as the list
    of households it replaces), and the households the plants put back."""

    def __init__(self, store: HouseholdStore, numbers: array, rng):
        rng.shuffle(numbers)
        self.store, self.numbers, self.extra = store, numbers, []

    def __bool__(self) -> bool:
        return bool(self.numbers) or bool(self.extra)

    def pop(self) -> DemoHousehold:
        if self.extra:
            return self.extra.pop()
        return self.store.pin(self.numbers.pop())

    def append(self, h: DemoHousehold) -> None:
        self.extra.append(h)

    def take_last(self, wanted):
        """The last household (from the end, as `pop` takes them) for which `wanted` gives a
        value, taken out of the pool, and that value; (None, None) if there is none."""
        for i in range(len(self.extra) - 1, -1, -1):
            value = wanted(self.extra[i])
            if value:
                return self.extra.pop(i), value
        for i in range(len(self.numbers) - 1, -1, -1):
            value = wanted(self.store.get(self.numbers[i]))
            if value:
                return self.store.pin(self.numbers.pop(i)), value
        return None, None
