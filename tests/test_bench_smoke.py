"""Smoke test of the benchmark (bench/, docs/performance.md): it still runs on the current code.

Nothing here measures anything or judges a figure. The bench drives the services directly, grows
logs with its own writer (bench/synthlog.py: it must write every column the services write) and
runs code in child interpreters from source text that refactorings do not rewrite; both broke
silently before. Two checks, cheap enough for CI:

- every import in the child-process templates resolves (module and name), without running them;
- the JSON of a run holds each figure with its raw baseline: checked on the JSON of the whole
  `--quick` run of tests/test_bench_quick.py (`check_figures`); this file used to run a subset
  of that run (figures 1, 2, 3, 3b, 8, 9) a second time, a CI minute for nothing more.
"""
from __future__ import annotations

import ast
import importlib
import json
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


# The figures whose JSON record is checked in full (those of `--quick --only transfers roll
# verify imports`; the others depend on what the machine has, wrk or a PostgreSQL).
EXPECTED = {"1 transfer (sqlite)", "1b transfers batched (sqlite)", "2 whole roll",
            "2ab roll create+send", "2a roll create", "2b roll send", "2c bank results",
            "3 verify", "3b verify since", "8 proof",
            "9a import households", "9b import members", "9c import allocations",
            "9d import payments"}


def check_figures(out: Path, entries: int) -> None:
    """The bench's JSON (`--out`): the run's load, and each figure of EXPECTED with its value,
    runs, raw baseline and ratio; the synthetic log of figure 3 at least `entries` long."""
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"machine", "load_start", "load_end"} <= set(data["meta"])
    figures = {f["key"]: f for f in data["figures"]}
    assert EXPECTED <= set(figures), EXPECTED - set(figures)
    for key in EXPECTED:
        f = figures[key]
        assert f["value"] and f["value"] > 0, key
        assert f["runs"], key
        assert f["baseline"], key                    # what the raw baseline is
        assert f["baseline_value"] and f["baseline_value"] > 0, key
        assert f["baseline_runs"], key
        assert f["ratio"] and f["ratio"] > 0, key
        assert f["target"], key
    assert figures["3 verify"]["extra"]["log_size"] >= entries   # the synthetic log verified
