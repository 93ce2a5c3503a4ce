"""Smoke test of the benchmark (bench/, docs/performance.md): it still runs on the current code.

Nothing here measures anything or judges a figure. The bench drives the services directly, grows
logs with its own writer (bench/synthlog.py: it must write every column the services write) and
runs code in child interpreters from source text that refactorings do not rewrite; both broke
silently before. Two checks, cheap enough for CI:

- every import in the child-process templates resolves (module and name), without running them;
- the quickest subset (figures 1, 2, 3, 3b, 8, 9 at tiny sizes, one run each: a few seconds on a
  quiet machine) runs to the end, and its JSON holds each figure with its raw baseline.
"""
from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _templates() -> dict[str, str]:
    from bench import demo, demodb, verify_log, web
    fill = {"url": "sqlite:///x.db", "origin": "o", "n": 1, "size": 1, "root": "00",
            "port": 1, "jobs": None}
    return {"demo.CHILD": demo.CHILD.format(**fill),
            "demodb.BUILD": demodb.BUILD.format(**fill),
            "verify_log.VERIFY_CHILD": verify_log.VERIFY_CHILD.format(**fill),
            "verify_log.SINCE_CHILD": verify_log.SINCE_CHILD.format(**fill),
            "web.CLI_CODE": web.CLI_CODE,
            "web.TRIVIAL": web.TRIVIAL.format(**fill)}


@pytest.mark.parametrize("name", sorted(_templates()))
def test_child_template_imports_resolve(name):
    tree = ast.parse(_templates()[name])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):  # a submodule not yet imported
                    importlib.import_module(f"{node.module}.{alias.name}")


EXPECTED = {"1 transfer (sqlite)", "1b transfers batched (sqlite)", "2 whole roll",
            "2ab roll create+send", "2a roll create", "2b roll send", "2c bank results",
            "3 verify", "3b verify since", "8 proof",
            "9a import households", "9b import members", "9c import allocations",
            "9d import payments"}


@pytest.mark.slow
def test_quickest_bench_subset_writes_figures_with_baselines(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "bench", "--quick", "--only", "transfers", "roll", "verify",
           "imports", "--runs", "1", "--lines", "200", "--entries", "2000",
           "--workdir", str(tmp_path / "work"), "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "raw baseline" in done.stdout   # the table was printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"machine", "load_start", "load_end"} <= set(data["meta"])
    figures = {f["key"]: f for f in data["figures"]}
    assert set(figures) == EXPECTED
    for key, f in figures.items():
        assert f["value"] and f["value"] > 0, key
        assert f["runs"], key
        assert f["baseline"], key                    # what the raw baseline is
        assert f["baseline_value"] and f["baseline_value"] > 0, key
        assert f["baseline_runs"], key
        assert f["ratio"] and f["ratio"] > 0, key
        assert f["target"], key
    assert figures["3 verify"]["extra"]["log_size"] >= 2000   # the synthetic log verified
