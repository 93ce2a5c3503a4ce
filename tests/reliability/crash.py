"""Crash consistency: run the real `fundtrail` CLI in a subprocess and SIGKILL it at a random
moment, then check that nothing was lost or half-written and that the command can be re-run to
completion.

A `Ledger` is a database (SQLite file or PostgreSQL) prepared to the point where each bulk
command has work to do: a county with money, 'households' registered and on an approved roll,
a second households file not yet imported, a log key and a policy. A `Target` is one command
with a way to count what it has done (all-or-nothing: the count is either before or after,
never between). `campaign` kills each target a number of times, checking after every kill:

- the database opens (SQLite: `PRAGMA integrity_check` is ok),
- the trial balance balances and `verify` (with the policy: signatures too) finds nothing,
- the target's work is all there or none of it is,

then runs the target once more without a kill (it must finish with exit 0 and complete the work)
and once again (it must change nothing). Used by tests/reliability/test_crash.py (a few dozen
kills) and `python -m tests.reliability.crash_campaign` (more, figures in docs/reliability.md).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, text

from ledger.audit import keys as keyfiles
from ledger.audit.log import SIGNER
from ledger.audit.tlog.policy import parse_policy
from ledger.audit.verify import verify
from ledger.core import clock
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.pii import PiiVault
from ledger.funds.balances import trial_balance
from ledger.households import registry as households
from ledger.models import Approval, Checkpoint, Household, HouseholdStatus, Transfer
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.conftest import TEST_KEY_PASSPHRASE, TestPeople, enrol_test_keys
from tests.ledger.test_invariants import down_to_county
from tests.world import COUNTY, VILLAGE, build_world

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

ORIGIN = "fundtrail.example/demo-province"
PASSPHRASE = "crash-test passphrase"
ROLL = "R-CRASH"
PUBLISHED, APPROVED, SENT = dt.date(2024, 3, 18), dt.date(2024, 3, 28), dt.date(2024, 3, 29)


def fundtrail_exe() -> str:
    return shutil.which("fundtrail") or str(Path(sys.executable).with_name("fundtrail"))


def card(n: int) -> str:
    return f"62220212{n:011d}"


def households_csv(first: int, count: int) -> str:
    lines = ["户编码,村代码,户主姓名,户状态,识别日期,银行卡号,联系电话"]
    lines += [f"H-{n:05d},{VILLAGE},户主{n},建档立卡,2019-05-01,{card(n)},"
              for n in range(first, first + count)]
    return "\n".join(lines) + "\n"


@dataclass
class Ledger:
    url: str
    workdir: Path
    lines: int
    env: dict = field(default_factory=dict)

    def factory(self):
        if not hasattr(self, "_factory"):
            self._engine = make_engine(self.url)
            self._factory = make_sessionmaker(self._engine, TEST_CONTEXT)
            # services called in-process sign for the people enrolled in `prepare`, as their
            # commands do with the key files (tests/conftest.py, "personal keys")
            self._factory.kw["info"][SIGNER] = TestPeople(self.workdir / "people-keys")
        return self._factory

    def dispose(self):
        if hasattr(self, "_engine"):
            self._engine.dispose()


def prepare(url: str, workdir: Path, lines: int = 150) -> Ledger:
    """Bring a fresh, migrated database to where every target has `lines` lines of work."""
    workdir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(url, workdir, lines)
    world = build_world(ledger.factory())
    down_to_county(world, 500_000_00)
    vault = PiiVault.from_env()
    with transaction(ledger.factory()) as s:
        clerk = regions.get_user(s, "k_clerk")
        for n in range(lines):
            households.register_household(
                s, clerk, vault, code=f"H-{n:05d}", village_code=VILLAGE, head_name=f"户主{n}",
                status=HouseholdStatus.REGISTERED, registered_on=dt.date(2019, 5, 1),
                bank_card=card(n))
        rolls.create_roll(s, clerk, code=ROLL, lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=500_00, lines=[(f"H-{n:05d}", 1) for n in range(lines)],
                          as_of=PUBLISHED)
        with clock.at(PUBLISHED):   # each step recorded on its day (ledger.core.clock)
            rolls.publish(s, clerk, ROLL, PUBLISHED)
        with clock.at(APPROVED):
            rolls.approve_roll(s, regions.get_user(s, "k_approver"), ROLL, APPROVED, 7)
    (workdir / "more-households.csv").write_text(households_csv(50_000, lines),
                                                 encoding="utf-8")
    signer = keyfiles.generate_key(workdir / "keys/log.key", name=ORIGIN, kind="log",
                                   passphrase=PASSPHRASE)
    (workdir / "keys/policy.txt").write_text(f"log {signer.vkey}\nquorum none\n",
                                             encoding="utf-8")
    (workdir / "fundtrail.toml").write_text(
        '[audit]\nsigning_key_file = "keys/log.key"\npolicy_file = "keys/policy.txt"\n',
        encoding="utf-8")
    # the clerk and the approver sign what they do (docs/signatures.md)
    people = workdir / "people-keys"
    people.mkdir(exist_ok=True)
    enrol_test_keys(ledger.factory(), ["k_clerk", "k_approver"], people)
    ledger.env = {**os.environ, "FUNDTRAIL_DATABASE_URL": url,
                  "FUNDTRAIL_SIGNING_PASSPHRASE": PASSPHRASE, "FUNDTRAIL_KEY_DIR": str(people),
                  "FUNDTRAIL_KEY_PASSPHRASE": TEST_KEY_PASSPHRASE}
    return ledger


# ------------------------------------------------------------------------------- targets

@dataclass
class Target:
    name: str
    argv: list[str]
    done: Callable[[Ledger], int]         # how much of the work is in the database
    before: Callable[[Ledger], None] = lambda ledger: None   # e.g. write the input file
    after: Callable[[Ledger], None] = lambda ledger: None    # checks once completed
    all_or_nothing: bool = True   # its count is 0 or the number of lines (else: grows by 1)


def _count(ledger: Ledger, stmt) -> int:
    with transaction(ledger.factory()) as s:
        return s.execute(stmt).scalar_one()


def _roll_transfers():
    return select(Transfer.id).where(Transfer.idempotency_key.like(f"roll:{ROLL}:%"))


def _bank_file_rows(ledger: Ledger) -> list[list[str]]:
    data = (ledger.workdir / "bank.csv").read_bytes().decode("gb18030")
    return list(csv.reader(io.StringIO(data)))[1:]


def _check_bank_file(ledger: Ledger) -> None:
    rows = _bank_file_rows(ledger)
    assert [int(r[0]) for r in rows] == list(range(1, ledger.lines + 1)), \
        "the bank file does not carry every line of the roll exactly once"
    assert all(r[3] == card(int(r[1][2:])) for r in rows)


def _write_bank_results(ledger: Ledger) -> None:
    out = ["序号,户编码,金额,结果,失败原因,银行流水号"]
    for r in _bank_file_rows(ledger):
        failed = int(r[0]) % 10 == 0
        out.append(f"{r[0]},{r[1]},{r[4]},{'失败' if failed else '成功'},"
                   f"{'卡号已注销' if failed else ''},{'' if failed else 'B' + r[0]}")
    (ledger.workdir / "result.csv").write_text("\n".join(out) + "\n", encoding="utf-8")


def targets(ledger: Ledger) -> list[Target]:
    """The bulk commands, in the order their work depends on each other."""
    return [
        Target("import households", ["--as", "k_clerk", "import", "households",
                                     "more-households.csv"],
               lambda lg: _count(lg, select(func.count()).select_from(Household)
                                 .where(Household.code >= "H-50000"))),
        Target("roll send", ["--as", "k_clerk", "roll", "send", ROLL, "-o", "bank.csv",
                             "--date", SENT.isoformat()],
               lambda lg: _count(lg, select(func.count()).select_from(
                   _roll_transfers().subquery())),
               after=_check_bank_file),
        Target("import-bank-results", ["--as", "k_approver", "import-bank-results",
                                       "result.csv", "--roll", ROLL],
               lambda lg: _count(lg, select(func.count()).select_from(Approval).where(
                   Approval.transfer_id.in_(_roll_transfers()))),
               before=_write_bank_results),
        Target("checkpoint sign", ["checkpoint", "sign"],
               lambda lg: _count(lg, select(func.count()).select_from(Checkpoint)),
               all_or_nothing=False),
    ]


# ------------------------------------------------------------------------------- running

@dataclass
class Run:
    returncode: int
    killed: bool
    seconds: float
    stderr: str


def run_cli(ledger: Ledger, argv: list[str], kill_after: float | None = None) -> Run:
    started = time.monotonic()
    proc = subprocess.Popen([fundtrail_exe(), "--config", "fundtrail.toml", *argv],
                            cwd=ledger.workdir, env=ledger.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    killed = False
    try:
        proc.wait(timeout=kill_after if kill_after is not None else 300)
    except subprocess.TimeoutExpired:
        if kill_after is None:
            proc.kill()
            raise
        proc.send_signal(signal.SIGKILL)
        killed = True
    _, err = proc.communicate()
    return Run(proc.returncode, killed, time.monotonic() - started, err)


def check_consistent(ledger: Ledger) -> None:
    """After a kill: the database is sound, balanced and verifies, with signatures."""
    factory = ledger.factory()
    with transaction(factory) as s:
        if s.get_bind().dialect.name == "sqlite":
            assert s.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        tb = trial_balance(s)
        assert tb.balanced and tb.total_debits == tb.total_credits
        policy = parse_policy((ledger.workdir / "keys/policy.txt").read_bytes())
        report = verify(s, policy=policy)
        assert report.intact, [f.message for f in report.findings]


@dataclass
class Tally:
    kills: int = 0            # SIGKILL delivered while the command was running
    finished_first: int = 0   # the command ended before its kill time
    before_commit: int = 0    # killed with none of its work in the database
    after_commit: int = 0     # killed with all of it there (between commit and exit)
    reruns: int = 0
    per_target: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)  # seconds a full, unkilled run took


def campaign(ledger: Ledger, kills_per_target: int, rng: random.Random,
             tally: Tally | None = None, expected_seconds: float = 3.0) -> Tally:
    """Kill every target `kills_per_target` times, checking after each; then complete it."""
    tally = tally or Tally()
    for target in targets(ledger):
        target.before(ledger)
        longest = expected_seconds
        full = tally.durations.get(target.name)
        for attempt in range(kills_per_target):
            start = target.done(ledger)
            # Every other kill, once a full run has been timed, lands near its end: the window
            # around the commit, where a re-run must recognise work already done.
            late = full is not None and attempt % 2 == 1
            delay = rng.uniform(0.8, 1.02) * full if late else rng.uniform(0.05, longest * 1.1)
            run = run_cli(ledger, target.argv, kill_after=delay)
            if not run.killed:
                assert run.returncode == 0, (target.name, run.stderr)
                # The command took this long when left alone: aim the next kills inside it
                # (a guess of `expected_seconds` on a fast machine let every run finish first).
                longest = run.seconds
                tally.finished_first += 1
            else:
                tally.kills += 1
                tally.per_target[target.name] = tally.per_target.get(target.name, 0) + 1
            check_consistent(ledger)
            done = target.done(ledger)
            if target.all_or_nothing:
                assert done in (0, ledger.lines), \
                    f"{target.name}: {done} of {ledger.lines} lines after a kill"
            else:
                assert done in (start, start + 1), f"{target.name}: {start} → {done}"
            if run.killed:
                if done == start:
                    tally.before_commit += 1
                else:
                    tally.after_commit += 1
        nothing_done = target.done(ledger) == 0
        completed = run_cli(ledger, target.argv)
        assert completed.returncode == 0, (target.name, completed.stderr)
        tally.reruns += 1
        if nothing_done or not target.all_or_nothing:
            tally.durations[target.name] = completed.seconds
        if target.all_or_nothing:
            assert target.done(ledger) == ledger.lines, f"{target.name}: incomplete after re-run"
            again = run_cli(ledger, target.argv)  # once more: idempotent, nothing changes
            assert again.returncode == 0 and target.done(ledger) == ledger.lines, again.stderr
        check_consistent(ledger)
        target.after(ledger)
    return tally
