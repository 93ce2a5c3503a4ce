"""SIGKILL at random moments during bulk imports and checkpoint signing, on SQLite and
PostgreSQL (harness and checks: tests/reliability/crash.py; more kills and the figures:
`python -m tests.reliability.crash_campaign`, docs/reliability.md)."""
from __future__ import annotations

import random

from tests.reliability.crash import campaign, prepare

KILLS_PER_TARGET = 3   # 4 targets × 3 kills × 2 databases: 24 kill points per suite run
LINES = 80


def test_killed_commands_lose_nothing_and_rerun_to_completion(db_url, tmp_path):
    ledger = prepare(db_url, tmp_path / "crash", LINES)
    try:
        tally = campaign(ledger, KILLS_PER_TARGET, random.Random(db_url))
    finally:
        ledger.dispose()
    print(f"\n{tally}")
    assert tally.kills + tally.finished_first == 4 * KILLS_PER_TARGET
    assert tally.kills > 0 and tally.reruns == 4
