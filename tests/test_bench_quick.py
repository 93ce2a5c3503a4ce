"""CI smoke run of the whole benchmark: `python -m bench --quick`, as a person runs it.

tests/test_bench_smoke.py runs a subset with its own sizes; this runs the command exactly as
docs/performance.md tells people to, so that no figure's code is left to rot (the roll and
verify figures crashed unnoticed before). It judges no figure: it checks that the table is
printed, with a row for every figure and numbers that parse, and that the run stays the size of
a smoke test (under a minute of CPU on this machine; wall time depends on who else is running).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_bench_smoke import check_figures

ROOT = Path(__file__).resolve().parent.parent

# Every figure `--quick` measures on SQLite without --pg (figure 6 needs wrk: its row is there
# either way, measured or saying why not).
ROWS = ["1 transfer (sqlite)", "2 whole roll", "2ab roll create+send", "2a roll create",
        "2b roll send",
        "2c bank results", "3 verify", "8 proof", "3b verify since", "5 notice PDF (project)",
        "5 notice PDF (roll)", "5 county notices", "7 demo 30", "4 alert scan (sqlite)",
        "9a import households", "9b import members", "9c import allocations",
        "9d import payments"]
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


@pytest.mark.slow
def test_bench_quick_prints_its_table(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "bench", "--quick", "--workdir", str(tmp_path / "work"),
           "--out", str(tmp_path / "bench.json")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("figure "))
    assert "raw baseline (median)" in lines[header] and set(lines[header + 1]) <= {"-", " "}
    rows = {}
    for line in lines[header + 2:]:
        if not line.strip():
            break
        key = next((k for k in ROWS if line.startswith(k + "  ")), None)
        if key is not None:
            rows[key] = line
    assert set(rows) == set(ROWS), set(ROWS) - set(rows)
    for key, line in rows.items():
        # project and baseline columns: "<number> <unit>", the ratio "<number>%"
        cells = re.split(r"\s{2,}", line[len(key):].strip())
        value, baseline, ratio = cells[0], cells[1], cells[2]
        assert re.match(NUMBER + r" \S", value), (key, value)
        assert re.match(NUMBER + r" \S", baseline), (key, baseline)
        assert re.fullmatch(NUMBER + "%", ratio), (key, ratio)
        assert float(value.split()[0].replace(",", "")) > 0, key
    # The run's own account of its cost: CPU seconds per suite, children included.
    cpu = sum(float(m) for m in re.findall(r"^  \w+: [0-9.]+ s, CPU ([0-9.]+) s",
                                           done.stdout, re.M))
    assert 0 < cpu < 90, f"--quick took {cpu:.0f} s of CPU: no longer a smoke run"
    # and its JSON: every figure with its raw baseline (tests/test_bench_smoke.py)
    check_figures(tmp_path / "bench.json", entries=2000)
