"""`python -m bench [--quick] [--only NAME ...] [--runs N] [--pg URL]`: the performance figures.

Prints a table and writes bench/results/<time>.json (git-ignored). Every figure is the median of
several runs beside a raw baseline measured in the same run, so that the ratio holds on a noisy,
shared machine. Full size (no --quick) is the record for docs/performance.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import alerts, demo, harness, imports, notice, roll, transfers, verify_log, web

SUITES = {"transfers": transfers, "roll": roll, "verify": verify_log, "notice": notice,
          "demo": demo, "alerts": alerts, "web": web, "imports": imports}


class Context:
    def __init__(self, args, workdir: Path):
        self.quick = args.quick
        self.runs = args.runs or (2 if args.quick else 5)
        self.workdir = workdir
        self.pg_url = args.pg
        self.entries = args.entries
        self.lines = args.lines
        self.households = args.households
        self.demo_sqlite = args.demo_sqlite
        self.demo_pg = args.demo_pg
        self.villages = args.villages
        self.demo_sizes = args.demo_sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 runs: the CI smoke "
                        "run (under a minute); ratios are noisier than a full run's")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="run these only")
    parser.add_argument("--runs", type=int, help="runs per figure (median); default 3 or 5")
    parser.add_argument("--pg", help="also measure figures 1 and 4 on PostgreSQL (admin URL, "
                        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")
    parser.add_argument("--entries", type=int, help="log size for figures 3 and 8 (default "
                        "4,000 quick, 1,000,000 full)")
    parser.add_argument("--lines", type=int, help="roll size for figure 2 (default 300 "
                        "quick, 100,000 full)")
    parser.add_argument("--households", type=int, help="demo province size for figures 4-6 "
                        "(default 60 quick, 2,000 full)")
    parser.add_argument("--demo-sqlite", help="reuse this SQLite demo province for figures "
                        "4-6 (sqlite:///PATH; built with the FUNDTRAIL_PII_* keys now set)")
    parser.add_argument("--demo-pg", help="reuse this PostgreSQL demo province for figure 4")
    parser.add_argument("--villages", type=int, nargs="*", help="county sizes for figure 5's "
                        "county (default: the demo's 6 quick; 6, 30, 100, 300 full)")
    parser.add_argument("--demo-sizes", type=int, nargs="*", help="figure 7 also builds demo "
                        "provinces of these sizes (e.g. 100000 300000; minutes each)")
    parser.add_argument("--workdir", help="where the databases go (default: a temp dir)")
    parser.add_argument("--out", help="JSON file (default bench/results/<time>.json)")
    args = parser.parse_args(argv)
    _test_keys()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ftbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    meta = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full", "machine": harness.machine(),
            "load_start": harness.load()}
    print(f"fundtrail bench ({meta['mode']}) on {meta['machine']['cpu']}, "
          f"{meta['machine']['cores']} cores; load {meta['load_start']}", flush=True)
    figures = []
    try:
        for name in args.only or list(SUITES):
            print(f"… {name}", flush=True)
            start, cpu = time.perf_counter(), _cpu()
            figures += SUITES[name].run(Context(args, workdir))
            print(f"  {name}: {time.perf_counter() - start:.1f} s, CPU {_cpu() - cpu:.1f} s "
                  "(with its child processes)", flush=True)
    finally:
        if args.pg:
            from bench.pg import drop_created
            drop_created()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    meta["load_end"] = harness.load()
    meta["uptime_end"] = harness.machine()["uptime"]
    print(harness.table(figures))
    print(f"load average at start {meta['load_start']}, at end {meta['load_end']}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"{stamp}.json"
    harness.write_json(out, meta, figures)
    print(f"written {out}")
    return 0


def _cpu() -> float:
    import resource
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                      resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _test_keys() -> None:
    """Personal-data keys for the bench's throwaway databases (never real ones)."""
    from ledger.core.pii import new_key
    os.environ.setdefault("FUNDTRAIL_PII_KEYS", new_key())
    os.environ.setdefault("FUNDTRAIL_PII_INDEX_KEY", "bench-index-key-" + "x" * 32)


if __name__ == "__main__":
    sys.exit(main())
