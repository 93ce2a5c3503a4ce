"""Figures 3 and 8: verifying a large audit log, and inclusion proofs from it.

The log is grown with `bench.synthlog` (valid entries, rows and tree; ~2.5 rows per entry).
Verification runs `ledger.audit.verify.verify` — what `fundtrail verify` runs, row binding and
balance caches included — in a fresh interpreter so that its peak memory is its own.
Baseline: plain sqlite3 reading the same entry bytes and hashing each with hashlib (SHA-256 of
0x00 || entry): the floor for any verifier of this log.

Proofs: `ledger.audit.tlog.proofs.build_proof` over the stored nodes (`node_reader`) for random
entries of the signed checkpoint. Baseline: plain sqlite3 point look-ups of the same nodes.
"""
from __future__ import annotations

import hashlib
import math
import random
import sqlite3
import time

from sqlalchemy import select

from bench import province as prov
from bench import synthlog
from bench.harness import Figure, in_child, median, timed
from ledger.audit import checkpoints as cps
from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.note import generate_signer
from ledger.models import AuditEntry, AuditHead

ORIGIN = prov.ORIGIN   # the log the bench province writes and the children verify

# `jobs` None: what `fundtrail verify` does (workers for a large log, one per core). The CPU and
# peak memory of the workers (ledger.audit.verify_parallel) are reported apart.
VERIFY_CHILD = """
import resource, time
from bench.verify_log import PssPeak
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker
from ledger.audit.verify import verify
engine = make_engine({url!r})
with make_sessionmaker(engine, LedgerContext({origin!r}))() as s, PssPeak() as pss:
    start, cpu = time.perf_counter(), time.process_time()
    report = verify(s, jobs={jobs!r})
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
result = {{"seconds": elapsed, "cpu_seconds": cpu, "size": report.size,
          "worker_cpu_seconds": workers.ru_utime + workers.ru_stime,
          "worker_peak_mb": workers.ru_maxrss / 1024, "pss_peak_mb": pss.peak_mb,
          "root": report.root.hex(), "rows": report.rows_checked,
          "findings": [f.message for f in report.findings[:5]]}}
"""


class PssPeak:
    """The largest sum of PSS (proportional set size: a page shared by n processes counts
    1/n in each) over this process and its descendants, sampled every `every` seconds while
    the block runs. Forked workers share the parent's pages, so adding their resident sizes
    counts those pages twice; PSS sums to what the processes hold together. Linux only
    (/proc/PID/smaps_rollup); elsewhere the peak stays None."""

    def __init__(self, every: float = 0.25):
        import threading
        self.every = every
        self.peak_mb = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        import os
        while True:
            total = 0
            for pid in _tree(os.getpid()):
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        for line in f:
                            if line.startswith("Pss:"):
                                total += int(line.split()[1])
                                break
                except OSError:
                    continue   # ended meanwhile, or no /proc
            if total:
                self.peak_mb = max(self.peak_mb or 0, total / 1024)
            if self._stop.wait(self.every):
                return


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            with open(f"/proc/{pids[i]}/task/{pids[i]}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        i += 1
    return pids


SINCE_CHILD = """
import time
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker
from ledger.audit.verify import verify_since
engine = make_engine({url!r})
with make_sessionmaker(engine, LedgerContext({origin!r}))() as s:
    start = time.perf_counter()
    report = verify_since(s, {size}, bytes.fromhex({root!r}))
    elapsed = time.perf_counter() - start
result = {{"seconds": elapsed, "size": report.size, "rows": report.rows_checked,
          "findings": [f.message for f in report.findings[:5]]}}
"""


def raw_hash_rate(path, log_id: int) -> float:
    conn = sqlite3.connect(path)

    def run():
        n = 0
        for (entry,) in conn.execute(
                "SELECT entry FROM audit_entries WHERE log_id = ? ORDER BY idx", (log_id,)):
            hashlib.sha256(b"\x00" + entry).digest()
            n += 1
        return n
    elapsed, n = timed(run)
    conn.close()
    return n / elapsed


def run(ctx) -> list[Figure]:
    entries = ctx.entries or (4_000 if ctx.quick else 1_000_000)
    url = prov.new_database(ctx.workdir, "verify", None)
    p = prov.build(url)
    grow_s, size = timed(lambda: synthlog.grow(p, entries))
    path = url[len("sqlite:///"):]
    with p.factory() as s:   # the short name of the province's log in rows and entries
        log_id = s.get(AuditHead, ORIGIN).log_id
    rates, raws, peaks, cpus = [], [], [], []
    for _ in range(min(ctx.runs, 3)):
        out = in_child(VERIFY_CHILD.format(url=url, origin=ORIGIN, jobs=None))
        if out["findings"]:
            raise RuntimeError(f"the bench log does not verify: {out['findings']}")
        rates.append(out["size"] / out["seconds"])
        # what the processes held together (PSS, sampled); else main + largest worker
        peaks.append(out["pss_peak_mb"] or out["peak_mb"] + out["worker_peak_mb"])
        cpus.append(out["cpu_seconds"] + out["worker_cpu_seconds"])
        raws.append(raw_hash_rate(path, log_id))
    rate = median(rates)
    fig = Figure("3 verify", f"full verification of {size:,} entries, {out['rows']:,} rows",
                 "entries/s", rate, rates, "sqlite3 read + hashlib", median(raws), raws,
                 target="10⁶ entries ≤30 s, ≤500 MB")
    seconds_at_million = 1_000_000 / rate
    peak = max(peaks)
    fig.target_met = seconds_at_million <= 30 and (ctx.quick or peak <= 500)
    fig.note = (f"{size / rate:,.1f} s for {size:,} entries; at 10⁶ entries "
                f"{'measured' if size >= 1_000_000 else 'extrapolated linearly'}: "
                f"{seconds_at_million:,.0f} s; peak memory {peak:,.0f} MB (PSS of the main "
                f"process and its workers together, sampled); CPU {median(cpus):,.1f} s, "
                f"workers included "
                f"({median(cpus) / size * 1e6:,.0f} µs/entry → "
                f"{median(cpus) / size * 1e6:,.0f} s of CPU at 10⁶)")
    fig.extra = {"cpu_seconds": cpus, "seconds": size / rate, "peak_mb": peaks,
                 "grow_seconds": grow_s, "log_size": size}
    figures = [fig, _proofs(ctx, p, path, size, log_id),
               _incremental(ctx, p, url, path, size, out["root"], rate)]
    p.dispose()
    return figures


def _incremental(ctx, p, url, path, size, root, full_rate) -> Figure:
    """Grow the log by 1 % and verify only the new part from the checkpoint verified above."""
    new = max(1_000, size // 100)
    grown = synthlog.grow(p, new, prefix="T")
    times = []
    for _ in range(min(ctx.runs, 3)):
        out = in_child(SINCE_CHILD.format(url=url, origin=ORIGIN, size=size, root=root))
        if out["findings"] or out["size"] != grown:
            raise RuntimeError(f"incremental verification failed: {out}")
        times.append(out["seconds"])
    per_entry = median(times) / (grown - size)
    fig = Figure("3b verify since", f"{grown - size:,} new entries on a log of {size:,}",
                 "entries/s", (grown - size) / median(times),
                 [(grown - size) / t for t in times], "full verify rate (3)", full_rate,
                 [full_rate], target="time ∝ new entries")
    fig.target_met = per_entry * full_rate < 3  # within 3× the full run's cost per entry
    fig.note = (f"{median(times):.2f} s for {grown - size:,} new entries, "
                f"vs {size / full_rate:,.0f} s for the full log")
    fig.extra = {"seconds": times, "new_entries": grown - size}
    return fig


def _proofs(ctx, p, path, size, log_id) -> Figure:
    signer = generate_signer(ORIGIN)
    with p.factory() as s, s.begin():   # signs the province's log (its context)
        note = cps.sign(s, signer).note
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(100 if ctx.quick else 1_000)]
    bound = math.ceil(math.log2(size))
    times, raws, longest = [], [], 0
    for _ in range(ctx.runs):
        with p.factory() as s:
            reader = cps.node_reader(s)
            start = time.perf_counter()
            for i in indices:
                proof = proofs.build_proof(i, note, reader)
                longest = max(longest, len(proof.path))
            times.append((time.perf_counter() - start) / len(indices) * 1000)
        raws.append(_raw_lookups_ms(path, indices, size, log_id))
    with p.factory() as s:  # the proofs are right, not only fast
        proof = proofs.build_proof(indices[0], note, cps.node_reader(s))
        leaf = s.execute(select(AuditEntry.leaf_hash).where(
            AuditEntry.log_id == log_id, AuditEntry.idx == indices[0])).scalar_one()
        merkle.verify_inclusion(bytes(leaf), indices[0], size, proof.path,
                                proofs._parse_checkpoint(note).root_hash)
    fig = Figure("8 proof", f"inclusion proof at {size:,} entries", "ms/proof", median(times),
                 times, "sqlite3 node look-ups", median(raws), raws,
                 target="≤1 ms at 10⁶; ≤⌈log₂ n⌉ hashes", lower_is_better=True)
    fig.extra = {"longest_path": longest, "ceil_log2_n": bound, "log_size": size}
    fig.target_met = fig.value <= 1.0 and longest <= bound
    fig.note = f"longest path {longest} hashes, ⌈log₂ n⌉ = {bound}"
    return fig


def _raw_lookups_ms(path, indices, size, log_id) -> float:
    """The same nodes a proof reads, fetched with plain sqlite3 (no hashing of ranges)."""
    conn = sqlite3.connect(path)
    wanted = []
    for i in indices:
        nodes = []
        merkle.inclusion_proof(i, size, lambda level, idx: nodes.append((level, idx)) or
                               b"\x00" * 32)
        wanted.append(nodes)
    start = time.perf_counter()
    for nodes in wanted:
        for level, idx in nodes:
            if level == 0:
                conn.execute("SELECT leaf_hash FROM audit_entries WHERE log_id = ? AND idx = ?",
                             (log_id, idx)).fetchone()
            else:
                conn.execute("SELECT hash FROM audit_nodes WHERE log_id = ? AND level = ? "
                             "AND idx = ?", (log_id, level, idx)).fetchone()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / len(indices) * 1000
