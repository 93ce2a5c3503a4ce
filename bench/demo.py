"""Figure 7: the demo generator (`fundtrail demo --households N`): households/s, CPU and memory.

Each size runs in a fresh interpreter on a new database, so the peak memory is its own; its
CPU time (time.process_time, the machine is shared) is reported beside the wall rate. Across
sizes the growth exponents of CPU and peak memory are given (b in cost ∝ Nᵇ between
consecutive sizes): the build streams its households (ledger.demo.stream), so CPU should grow
near-linearly (b ≈ 1) and peak memory not at all (b ≈ 0).

Sizes: 30 quick; 1,000 and 10,000 full, and `--demo-sizes N ...` for a province's size (a
100,000-household build takes minutes, a 1,000,000-household one most of an hour on one
free core). With `--pg URL` the largest size is built on PostgreSQL too.

Baseline: plain sqlite3 inserting one row per household, one transaction per row (the demo
records and approves every payment in its own logged change, so its unit of work is a row).
"""
from __future__ import annotations

import math
import sqlite3

from bench.harness import Figure, in_child, median, timed

CHILD = """
import os, time
from ledger.core.pii import new_key
os.environ.setdefault("FUNDTRAIL_PII_KEYS", new_key())
os.environ.setdefault("FUNDTRAIL_PII_INDEX_KEY", "bench-index-key-" + "x" * 32)
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.store import migrate
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker
from ledger.demo.province import build_demo
engine = make_engine({url!r})
migrate.upgrade(engine)
start, cpu = time.perf_counter(), time.process_time()
summary = build_demo(make_sessionmaker(engine, LedgerContext(DEMO_LOG_ORIGIN)), households={n})
result = {{"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
           "transfers": summary.transfers}}
engine.dispose()
"""


def raw_rate(path, count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS h (code TEXT PRIMARY KEY, name TEXT)")
    conn.execute("DELETE FROM h")

    def run():
        for i in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO h VALUES (?, ?)", (f"H{i:07d}", "张三"))
            conn.execute("COMMIT")
    elapsed, _ = timed(run)
    conn.close()
    return count / elapsed


def exponent(n1: int, v1: float, n2: int, v2: float) -> float:
    """b in v ∝ nᵇ between two sizes."""
    return math.log(v2 / v1) / math.log(n2 / n1)


def _sizes(ctx) -> list[int]:
    if ctx.quick:
        return [30]
    return sorted({1_000, 10_000, *(getattr(ctx, "demo_sizes", None) or [])})


def _build(ctx, n: int, r: int, backend: str) -> dict:
    if backend == "sqlite":
        path = ctx.workdir / f"demo_{n}_{r}.db"
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        from bench.pg import create_database
        url = create_database(ctx.pg_url, f"demo{n}_{r}")
    try:
        return in_child(CHILD.format(url=url, n=n))
    finally:
        if backend == "sqlite":   # a province's file is gigabytes: not kept for the next size
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        else:
            from bench.pg import drop_created
            drop_created()


def run(ctx) -> list[Figure]:
    sizes = _sizes(ctx)
    runs = [(n, "sqlite") for n in sizes]
    if ctx.pg_url and not ctx.quick:
        runs.append((sizes[-1], "postgresql"))
    figures, measured = [], {}
    for n, backend in runs:
        rates, raws, peaks, cpus = [], [], [], []
        for r in range(1 if n >= 1000 or ctx.quick else min(ctx.runs, 3)):
            out = _build(ctx, n, r, backend)
            rates.append(n / out["seconds"])
            peaks.append(out["peak_mb"])
            cpus.append(out["cpu"])
            raws.append(raw_rate(ctx.workdir / "raw_demo.db", min(n, 10_000)))
        label = "" if backend == "sqlite" else " pg"
        fig = Figure(f"7 demo {n:,}{label}", f"fundtrail demo --households {n:,}"
                     + (" (PostgreSQL)" if label else ""), "households/s",
                     median(rates), rates, "sqlite3 row per txn", median(raws), raws,
                     target="10⁶ households in well under an hour, memory flat")
        cpu, peak = median(cpus), max(peaks)
        note = (f"{n / fig.value:,.0f} s wall, {cpu:,.0f} s CPU ({cpu / n * 1000:.2f} ms per "
                f"household); peak {peak:,.0f} MB")
        before = [m for m in measured.items() if m[0][1] == backend]
        if before:
            (n0, _), (cpu0, peak0) = before[-1]
            note += (f"; growth from {n0:,}: CPU ∝ N^{exponent(n0, cpu0, n, cpu):.2f}, "
                     f"peak ∝ N^{exponent(n0, peak0, n, peak):.2f}")
        if n >= 10_000:   # below, the fixed cost (plants, lists) is most of the build
            note += f"; at this CPU rate 10⁶ households take {cpu / n * 1e6 / 60:,.0f} min of CPU"
        measured[(n, backend)] = (cpu, peak)
        fig.note = note
        fig.extra = {"peak_mb": peaks, "cpu_s": cpus, "backend": backend}
        figures.append(fig)
    return figures
