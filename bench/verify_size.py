"""Figure 3 at a province's size: `fundtrail verify` on demo provinces already built.

    python -m bench.verify_size [--runs N] [--jobs 1 2 ...] URL [URL ...]

Each URL is a database built by `fundtrail demo --households N` (SQLite or PostgreSQL). For
each, interleaved run by run: `verify` in a fresh interpreter as the bench's figure 3 runs it
(workers as `fundtrail verify` starts them, and with each `--jobs` given), and the raw
baseline beside it: the driver alone (sqlite3, psycopg with a server-side cursor) reading the
same entry bytes in log order and hashing each with hashlib (SHA-256 of 0x00 || entry). Between
two sizes the growth exponent of verify's time, log(t2/t1) / log(n2/n1), is printed (1.0:
linear). The machine's load is printed with each run: it is shared.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import sqlite3
import sys
import time

from bench.harness import in_child, load, machine, median
from bench.verify_log import ORIGIN, VERIFY_CHILD


def raw_rate(url: str) -> tuple[float, int]:
    """(entries/s, entries) of the driver reading every entry and hashing it."""
    start = time.perf_counter()
    n = 0
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        (log_id,) = conn.execute("SELECT log_id FROM audit_head WHERE origin = ?",
                                 (ORIGIN,)).fetchone()
        for (entry,) in conn.execute("SELECT entry FROM audit_entries WHERE log_id = ? "
                                     "ORDER BY idx", (log_id,)):
            hashlib.sha256(b"\x00" + entry).digest()
            n += 1
        conn.close()
    else:
        import psycopg
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            (log_id,) = conn.execute("SELECT log_id FROM audit_head WHERE origin = %s",
                                     (ORIGIN,)).fetchone()
            with conn.cursor(name="raw_entries") as cur:   # server-side, as verify reads
                cur.itersize = 20_000
                cur.execute("SELECT entry FROM audit_entries WHERE log_id = %s ORDER BY idx",
                            (log_id,))
                for (entry,) in cur:
                    hashlib.sha256(b"\x00" + entry).digest()
                    n += 1
    return n / (time.perf_counter() - start), n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verify_size")
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", type=int, nargs="*", default=[],
                        help="also run with this many processes (1: one process)")
    args = parser.parse_args(argv)
    os.environ.setdefault("FUNDTRAIL_PII_INDEX_KEY", "bench-index-key-" + "x" * 32)
    m = machine()
    print(f"{m['cpu']}, {m['cores']} cores, {m['memory']}; {m['uptime']}", flush=True)
    rows = []
    for url in args.urls:
        for jobs in [None, *args.jobs]:
            rates, raws, cpus, peaks, loads = [], [], [], [], []
            for _ in range(args.runs):
                loads.append(load())
                out = in_child(VERIFY_CHILD.format(url=url, origin=ORIGIN, jobs=jobs))
                if out["findings"]:
                    raise RuntimeError(f"{url} does not verify: {out['findings']}")
                rates.append(out["size"] / out["seconds"])
                cpus.append(out["cpu_seconds"] + out["worker_cpu_seconds"])
                peaks.append((out["peak_mb"], out["worker_peak_mb"], out["pss_peak_mb"] or 0))
                raw, n = raw_rate(url)
                raws.append(raw)
                loads[-1] += f" → {load()}"
            row = {"url": url, "jobs": jobs or "auto", "size": out["size"],
                   "rows": out["rows"], "rate": median(rates), "raw": median(raws),
                   "seconds": out["size"] / median(rates), "cpu": median(cpus),
                   "peak": max(p[0] for p in peaks), "worker_peak": max(p[1] for p in peaks),
                   "pss": max(p[2] for p in peaks),
                   "load": "; ".join(loads)}
            rows.append(row)
            print(f"{url}  jobs {row['jobs']}: {row['size']:,} entries, {row['rows']:,} rows; "
                  f"verify {row['rate']:,.0f} entries/s ({row['seconds']:.1f} s, CPU "
                  f"{row['cpu']:.1f} s = {row['cpu'] / row['size'] * 1e6:.0f} µs/entry, "
                  f"peak {row['peak']:.0f} MB + worker {row['worker_peak']:.0f} MB resident, "
                  f"{row['pss']:.0f} MB PSS of all together); raw "
                  f"{row['raw']:,.0f} entries/s; ratio {row['rate'] / row['raw']:.1%}; "
                  f"load {row['load']}", flush=True)
    auto = [r for r in rows if r["jobs"] == "auto"]
    for a, b in zip(auto, auto[1:]):
        if a["size"] != b["size"] and a["url"][:5] == b["url"][:5]:
            k = math.log(b["seconds"] / a["seconds"]) / math.log(b["size"] / a["size"])
            print(f"growth exponent {a['size']:,} → {b['size']:,} entries: {k:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
