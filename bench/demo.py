"""Figure 7: the demo generator (`fundtrail demo --households N`): households/s and memory.

Each size runs in a fresh interpreter on a new SQLite file, so the peak memory is its own.
Baseline: plain sqlite3 inserting one row per household, one transaction per row (the demo
records and approves every payment in its own logged change, so its unit of work is a row).
"""
from __future__ import annotations

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
start = time.perf_counter()
summary = build_demo(make_sessionmaker(engine, LedgerContext(DEMO_LOG_ORIGIN)), households={n})
result = {{"seconds": time.perf_counter() - start, "transfers": summary.transfers}}
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


def run(ctx) -> list[Figure]:
    sizes = [30] if ctx.quick else [200, 1_000]
    figures = []
    for n in sizes:
        rates, raws, peaks = [], [], []
        for r in range(1 if n >= 1000 or ctx.quick else min(ctx.runs, 3)):
            path = ctx.workdir / f"demo_{n}_{r}.db"
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            out = in_child(CHILD.format(url=f"sqlite:///{path}", n=n))
            rates.append(n / out["seconds"])
            peaks.append(out["peak_mb"])
            raws.append(raw_rate(ctx.workdir / "raw_demo.db", n))
        fig = Figure(f"7 demo {n:,}", f"fundtrail demo --households {n:,}", "households/s",
                     median(rates), rates, "sqlite3 row per txn", median(raws), raws,
                     target="practical sizes")
        fig.note = (f"{n / fig.value:,.0f} s; peak {max(peaks):,.0f} MB; at this rate 10⁶ "
                    f"households take {1e6 / fig.value / 3600:,.1f} h")
        fig.extra = {"peak_mb": peaks}
        figures.append(fig)
    return figures
