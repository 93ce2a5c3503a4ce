"""What every figure shares: medians of several runs, a same-run baseline, the machine."""
from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable


@dataclass
class Figure:
    """One row of the table: the project's rate against a raw baseline measured beside it."""
    key: str                      # e.g. "1 transfers"
    what: str
    unit: str                     # what the value counts, e.g. "transfers/s"
    value: float | None = None    # median of the runs (None: pending / not measured)
    runs: list = field(default_factory=list)
    baseline: str = ""
    baseline_value: float | None = None
    baseline_runs: list = field(default_factory=list)
    target: str = ""
    target_met: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)
    lower_is_better: bool = False  # times: the ratio is then baseline time / project time

    @property
    def ratio(self) -> float | None:
        if not self.value or not self.baseline_value:
            return None
        if self.lower_is_better:
            return self.baseline_value / self.value
        return self.value / self.baseline_value


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


class CpuClock:
    """CPU seconds of this process over a block: on a shared machine wall time includes the
    time other people's processes held the cores; CPU time much less so."""

    def __enter__(self):
        self.start = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.process_time() - self.start


def median(values) -> float:
    return statistics.median(values)


def load() -> str:
    """The load averages, as `uptime` prints them: the machine is shared."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    import sqlalchemy
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__, "uptime": _uptime()}


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average: {load()}"


def in_child(code: str) -> dict:
    """Run `code` in a fresh interpreter (so peak memory is its own); it prints one JSON
    object last, to which the child's peak resident memory in MB is added."""
    wrapped = code + (
        "\nimport json as _j, resource as _r\n"
        "_out = dict(result)\n"
        "_out['peak_mb'] = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(_j.dumps(_out))\n")
    proc = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(v, unit="") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v >= 100:
            text = f"{v:,.0f}"
        elif v >= 1:
            text = f"{v:.2f}"
        else:
            text = f"{v:.4f}"
    else:
        text = str(v)
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("figure", "project (median)", "raw baseline (median)", "ratio", "target", "met")]
    for f in figures:
        met = {True: "yes", False: "NO", None: "—"}[f.target_met]
        rows.append((f.key, fmt(f.value, f.unit) if f.value is not None else f.note[:40],
                     fmt(f.baseline_value, f.unit) + (f" ({f.baseline})" if f.baseline else ""),
                     f"{f.ratio:.1%}" if f.ratio is not None else "—", f.target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.key}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))


def write_json(path: Path, meta: dict, figures: list[Figure]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta,
            "figures": [{**asdict(f), "ratio": f.ratio} for f in figures]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
