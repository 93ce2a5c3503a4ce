"""Full verification on several cores: the log's entries split into ranges, one process each.

`verify.verify` calls `replay`, which answers either with everything the one-process replay
would have produced for an intact log (the tree's frontier, the roots at the wanted sizes, the
rows bound, the `county.heads` entries, the signature audit fed), or None: something in some
range was not as an intact log has it. Then `verify` runs the one-process replay from the start,
which words and orders the findings. So a log with findings costs one parallel pass more than
before, an intact one about half the time on two cores, and the findings are the same either
way.

Each worker runs verify's replay (the same code as one process, handed over as `parts`) over
its range `[a, b)`: entries, the tree nodes completed in the range, and the bound rows whose
`log_index` is in the range. It starts from the tree's frontier at `a` as the stored nodes give
it; the main process then checks that this is the frontier the previous range ended with, so
that a stored node the worker trusted was in fact recomputed from the entries before it. Rows
whose `log_index` is in no range (null, negative, beyond the log) are looked for with one query
per table.

The signature audit (tlog.personal.SignatureAudit) needs the log in order: the key registry
grows along it. Workers hand back the entries that touch it (signed ones, key and user rows,
sign-in events: few) whole, and of every other entry only its index under its actor's name.
The main process feeds the few in order and checks the others between them: such an entry is a
finding only if its actor held a valid key at its index (or signatures are required), and then
the whole verification is run in one process again.
"""
from __future__ import annotations

import multiprocessing
import os
from array import array
from bisect import bisect_left

from sqlalchemy import or_, select

from ledger.audit.checkpoints import node_reader
from ledger.audit.tlog import merkle, personal
from ledger.core.errors import LedgerError

# Below this many entries one process is quicker than starting workers (≈ 1 s each: they import
# the ledger), and the tests' small logs take the one-process path they were written for.
PARALLEL_MIN = 50_000

# Workers are forked where the system can: they start at once with the ledger imported (a
# spawned one imports it again, ≈ 1 s, and re-runs the caller's script if it has no
# `if __name__ == "__main__"` guard). A forked worker opens its own engine and never touches the
# connections it inherited, and ends with os._exit, so they are not closed under the caller.
_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"

_REGISTRY_TABLES = frozenset({"users", personal.REQUESTS, personal.KEYS, personal.REVOCATIONS})


def worker_url(session) -> str | None:
    """The URL workers can open to read what `session` reads, or None to stay in one process:
    an in-memory SQLite database is this process's alone, and a session already inside a
    transaction may hold writes not yet committed, which other connections cannot see."""
    if session.in_transaction():
        return None
    url = session.get_bind().url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(url):
            return None
    return url.render_as_string(hide_password=False)


def jobs_for(jobs: int | None, size: int) -> int:
    """How many workers: `jobs` if given, else one per core for a log of PARALLEL_MIN entries
    or more."""
    if jobs is not None:
        return max(1, jobs)
    return (os.cpu_count() or 1) if size >= PARALLEL_MIN else 1


def replay(url: str, report, wanted_sizes: set, signatures, jobs: int, size: int, parts: dict):
    """(frontier, roots_at, rows_checked, balance findings) of the whole log, with the
    report's `county_heads` filled and `signatures` fed, or None (see the module).

    `parts` are the pieces of the one-process verification the workers run (`Report`,
    `StreamingBinder`, `replay`, `check_balances`, `bound_models`), given by ledger.audit.verify
    so that this module does not import it back: they reach the workers pickled by name."""
    bounds = [size * k // jobs for k in range(jobs)] + [None]   # the last range is open
    tasks = [(url, report.origin, report.log_id, report.several_logs, bounds[k], bounds[k + 1],
              sorted(s for s in wanted_sizes if s is not None and s >= 0), parts)
             for k in range(jobs)]
    context = multiprocessing.get_context(_START)
    with context.Pool(jobs) as pool:
        ranges = pool.imap(_replay_range, tasks)   # queued first: the longest tasks
        balances = pool.apply_async(_balances, ((url, report.origin, report.log_id,
                                                 report.several_logs, parts),))
        stray = pool.apply_async(_stray_rows, ((url, report.log_id, report.several_logs,
                                                parts),))
        end = merkle.Frontier().to_bytes()
        roots_at, rows, heads = {}, 0, []
        for out in ranges:
            if out is None or out["start"] != end:
                pool.terminate()
                return None
            if not _feed_signatures(signatures, out):
                pool.terminate()
                return None
            end = out["end"]
            roots_at.update(out["roots_at"])
            rows += out["rows_checked"]
            heads += out["county_heads"]
        frontier = merkle.Frontier.from_bytes(end)
        if stray.get():
            return None
        balance_findings = balances.get()
    report.county_heads.extend(heads)
    return frontier, roots_at, rows, balance_findings


# ------------------------------------------------------------------------ in the workers

_ENGINES: dict = {}


def _session(url: str):
    from sqlalchemy.orm import Session

    from ledger.store.db import make_engine, reading_engine
    engine = _ENGINES.get(url)
    if engine is None:   # read only: on SQLite no write lock (the caller's session may hold it)
        engine = _ENGINES[url] = reading_engine(make_engine(url))
    return Session(engine)


def _replay_range(task):
    url, origin, log_id, several, start, stop, wanted, parts = task
    report = parts["Report"](origin=origin, log_id=log_id, several_logs=several)
    with _session(url) as s:
        if start:
            # the log's stored nodes, as the proofs read them (a missing one: not an intact log)
            read = node_reader(s, origin)
            try:
                frontier = merkle.Frontier.from_reader(start, read)
            except (ValueError, LedgerError):
                return None
        else:
            frontier = merkle.Frontier()
        first = frontier.to_bytes()
        binder = parts["StreamingBinder"](s, report, since=start, until=stop)
        recorder = _Recorder()
        roots_at: dict = {}
        leftover: list = []
        frontier = parts["replay"](s, report, binder, roots_at, set(wanted), frontier,
                             signatures=recorder, until=stop, leftover=leftover)
        binder.finish()
    if report.findings or binder.irregular or any(leftover) or \
            (stop is not None and frontier.size != stop):
        return None
    return {"start": first, "end": frontier.to_bytes(), "roots_at": roots_at,
            "rows_checked": binder.rows_checked, "county_heads": report.county_heads,
            "full": recorder.full, "plain": recorder.plain, "stop": stop}


class _Recorder:
    """Stands in for the signature audit in a worker: keeps what the main process needs."""

    def __init__(self):
        self.full: list = []      # (index, body) of entries that touch the key registry
        self.plain: dict = {}     # actor -> array of indices of every other entry

    def feed(self, index: int, body: list) -> None:
        if _plain(body):
            got = self.plain.get(body[5])
            if got is None:
                got = self.plain[body[5]] = array("q")
            got.append(index)
        else:
            self.full.append((index, body))


def _plain(body: list) -> bool:
    """An entry whose only effect on the signature audit is to count as unsigned by its actor
    (or to be a finding if the actor held a key then): unsigned, of no kind that is recorded
    about a person or builds the registry, and writing no row the registry reads."""
    if len(body) != 9 or type(body[5]) is not str or type(body[6]) is not str:
        return False
    kind = body[6]
    if kind in personal.EVENT_KINDS or kind in personal.OPERATOR_KINDS or \
            kind == personal.BOOTSTRAP_KIND or kind.startswith("key.") or \
            kind.startswith("auth."):
        return False
    rows = body[7]
    if type(rows) is not list:
        return False
    for record in rows:
        if type(record) is not list or not record or record[0] in _REGISTRY_TABLES:
            return False
    return True


def _stray_rows(task) -> bool:
    """Whether a bound row claims no log index or a negative one: such rows belong to no
    range (the one-process binder would meet them and bind rows exactly)."""
    url, log_id, several, parts = task
    with _session(url) as s:
        for mapper in parts["bound_models"]():
            table = mapper.class_.__table__
            where = [table.c.log_id == log_id] if several else []
            if s.execute(select(table.c.log_index).where(
                    or_(table.c.log_index.is_(None), table.c.log_index < 0), *where)
                    .limit(1)).first() is not None:
                return True
    return False


def _balances(task) -> list:
    url, origin, log_id, several, parts = task
    report = parts["Report"](origin=origin, log_id=log_id, several_logs=several)
    with _session(url) as s:
        parts["check_balances"](s, report)
    return report.findings


# ------------------------------------------------------------------------ in the main process

def _feed_signatures(audit, out) -> bool:
    """Feed a range's entries to the signature audit in log order; False where an entry in
    `plain` would be a finding (its actor held a valid key then, or signatures are
    required): the caller runs the one-process verification for the exact findings."""
    plain = out["plain"]
    if plain and audit.require_signatures:
        return False
    previous = -1
    for index, body in out["full"]:
        if not _plain_gap_clean(audit, plain, previous, index):
            return False
        audit.feed(index, body)
        previous = index
    if not _plain_gap_clean(audit, plain, previous, None):
        return False
    for actor, indices in plain.items():
        audit.unsigned += len(indices)
        audit.unsigned_actors[actor] = audit.unsigned_actors.get(actor, 0) + len(indices)
    return True


def _plain_gap_clean(audit, plain, after: int, before: int | None) -> bool:
    """No plain entry with index in (after, before) is by someone holding a key valid at it
    (the registry does not change between two entries that touch it)."""
    for key in audit.keys.values():
        indices = plain.get(key.username)
        if not indices or key.valid_from is None:
            continue
        lo = max(after, key.valid_from) + 1
        hi = before - 1 if before is not None else None
        if key.revoked_at is not None:
            hi = key.revoked_at if hi is None else min(hi, key.revoked_at)
        i = bisect_left(indices, lo)
        if i < len(indices) and (hi is None or indices[i] <= hi):
            return False
    return True

