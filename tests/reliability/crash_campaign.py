"""More kills than the suite runs, for the figures in docs/reliability.md.

    .venv/bin/python -m tests.reliability.crash_campaign --rounds 5 --kills 5 [--lines 150]

Each round prepares a fresh ledger on SQLite and on PostgreSQL (FUNDTRAIL_TEST_PG_URL, default
the local server) and runs `crash.campaign` on it; any failed check stops the campaign with
the assertion that failed.
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from ledger.core.pii import new_key
from ledger.store import migrate
from ledger.store.db import make_engine
from tests.reliability.crash import Tally, campaign, prepare

PG_ADMIN = os.environ.get("FUNDTRAIL_TEST_PG_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fresh_url(kind: str, workdir: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'ledger.store.db'}"
        cleanup = lambda: None  # noqa: E731
    else:
        name = f"ft_crash_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=5, help="kills per command per round")
    parser.add_argument("--lines", type=int, default=150)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    os.environ.setdefault("FUNDTRAIL_PII_KEYS", new_key())
    os.environ.setdefault("FUNDTRAIL_PII_INDEX_KEY", "crash-campaign-index-key-" + "x" * 32)
    rng = random.Random(args.seed)
    for kind in args.databases.split(","):
        tally, started = Tally(), time.monotonic()
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                url, cleanup = _fresh_url(kind, Path(tmp))
                ledger = prepare(url, Path(tmp) / "work", args.lines)
                try:
                    campaign(ledger, args.kills, rng, tally)
                finally:
                    ledger.dispose()
                    cleanup()
        print(f"{kind}: {args.rounds} rounds × 4 commands × {args.kills} kill attempts "
              f"({args.lines} lines each): {tally.kills} SIGKILLs delivered "
              f"({tally.before_commit} before the commit, {tally.after_commit} after it), "
              f"{tally.finished_first} runs finished before their kill time, "
              f"{tally.reruns} re-runs to completion; per command {tally.per_target}; "
              f"every check passed; {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
