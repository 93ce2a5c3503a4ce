"""`fundtrail demo` writes into the configured log (issue 16, bug 3).

It used to ignore `[audit] log_origin` and write under the built-in demo origin: the next
command then opened a second log under the configured origin, and `fundtrail verify` checked
that near-empty log and exited 0, the demo's entries never verified.
"""
from __future__ import annotations

import json

from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.demo.province import PROVINCE

ORIGIN = "test.example/other-province"


def test_demo_writes_under_the_configured_log_origin(cli, tmp_path):
    assert ORIGIN != DEMO_LOG_ORIGIN
    config = tmp_path / "fundtrail.toml"
    config.write_text(f'[audit]\nlog_origin = "{ORIGIN}"\n', encoding="utf-8")

    # Two households (plus the planted cases) are the fewest the demo builds with seed 1.
    code, out, err = cli("--config", config, "demo", "--seed", "1", "--households", "2")
    assert code == 0, err
    code, out, _ = cli("--config", config, "verify", "--json")
    after_demo = json.loads(out)
    assert code == 0 and after_demo["intact"]
    assert after_demo["origin"] == ORIGIN
    assert after_demo["other_logs"] == []  # not a second log under the demo origin
    assert after_demo["size"] > 100        # the whole demo, not a near-empty log

    # The next command appends to the same log.
    code, _, err = cli("--config", config, "--as", "admin", "user", "add", "auditor2",
                       "--name", "审计员二", "--role", "auditor", "--region", PROVINCE[0])
    assert code == 0, err
    code, out, _ = cli("--config", config, "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["intact"] and report["other_logs"] == []
    assert report["origin"] == ORIGIN and report["size"] == after_demo["size"] + 1
