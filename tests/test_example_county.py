"""The example county (examples/yuanxi-county) loads through its documented commands alone.

`load.sh` is run as it is, by bash, on a fresh SQLite ledger. Each `fundtrail` it calls is
answered by `ledger.cli.root.main` inside this test process (a shim on the PATH hands it the
command line, environment and working folder over a socket), because a new process spends about
a second importing the ledger and the script runs some sixty commands. Set
FUNDTRAIL_EXAMPLE_SUBPROCESS=1 to run the installed `fundtrail` for every command instead.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from ledger.models import FundLot, Household, Member, PaymentRoll, RollLine
from tests.cli_shim import run_in_process, shim_on_path

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "examples" / "yuanxi-county"
EXPECTED = tomllib.loads((COUNTY / "expected.toml").read_text(encoding="utf-8"))


@pytest.fixture
def loaded(tmp_path_factory):
    """Run load.sh; yield (work folder, its output, the commands and their exit codes)."""
    base = tmp_path_factory.mktemp("county")
    work = base / "work"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    venv_bin = str(Path(sys.executable).parent)
    server = None
    with contextlib.ExitStack() as stack:
        if os.environ.get("FUNDTRAIL_EXAMPLE_SUBPROCESS") == "1":
            env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        else:
            shim_dir, server = stack.enter_context(shim_on_path(base))
            env["PATH"] = os.pathsep.join([str(shim_dir), venv_bin, env.get("PATH", "")])
        started = time.monotonic()
        run = subprocess.run(["bash", str(COUNTY / "load.sh"), str(work)], env=env,
                             capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    print(f"load.sh: {elapsed:.1f} s")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    calls = server.calls if server is not None else None
    yield work, run.stdout, calls


def _session_env(work: Path) -> dict:
    env = {}
    for line in (work / "keys" / "pii.env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    env["FUNDTRAIL_SIGNING_PASSPHRASE"] = (work / "keys" / "passphrase").read_text().strip()
    # load.sh's people sign with their key files there, under the same passphrase
    env["FUNDTRAIL_KEY_DIR"] = str(work / "keys" / "people")
    env["FUNDTRAIL_KEY_PASSPHRASE"] = env["FUNDTRAIL_SIGNING_PASSPHRASE"]
    return env


def _ft(work: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env.update(_session_env(work))
    return run_in_process(["--config", str(work / "fundtrail.toml"), *args], env, str(work))


def test_the_example_county_loads_verifies_and_raises_its_planted_alerts(loaded):
    """One test, so that a parallel run (pytest -n 2) loads the county once."""
    work, out, calls = loaded
    _every_step_exits_0_and_the_log_verifies(work, out, calls)
    _what_the_county_holds(work, out)
    _alerts_scan_finds_the_planted_deaths(work, out)


def _every_step_exits_0_and_the_log_verifies(work, out, calls):
    if calls is not None:
        failed = [(argv, code) for argv, code in calls
                  if code != 0 and not (code == 1 and "scan" in argv)]
        assert failed == []
        assert len(calls) > 50
        assert [argv for argv, code in calls if "scan" in argv and code == 1]  # alerts open
    # the county's own run: the command line in its default language, Chinese
    assert "\n完整：fundtrail.example/yuanxi-county，" in out
    assert "达到法定签名数的检查点" in out and "\n借贷平衡\n" in out
    code, text, _ = _ft(work, "verify", "--json")
    assert code == 0, text


def _what_the_county_holds(work, out):
    engine = create_engine(f"sqlite:///{work / 'fundtrail.db'}")
    with engine.connect() as c:
        def count(what, *where):
            return c.execute(select(func.count()).select_from(what).where(*where)).scalar_one()
        assert count(Household) == EXPECTED["households"]
        assert count(Member) == EXPECTED["members"]
        assert count(FundLot) == 4
        assert count(PaymentRoll) == 3
        assert count(RollLine) == (EXPECTED["roll-2023-1"] + EXPECTED["roll-2023-2"]
                                   + EXPECTED["roll-2024-1"])
        # 2.5 亩 and the like: quantities kept in hundredths, not rounded to whole units.
        assert count(RollLine, RollLine.quantity_centi % 100 != 0) > 100
        # several members of one household on one roll for the per-person item
        assert count(RollLine, RollLine.member_id.is_not(None)) > 50
    engine.dispose()
    # The bank received what the county's roll says, line by line; it also paid the withdrawn
    # line 5, which the county never sent (the result file holds it, the bank file does not).
    sent = (work / "bank" / "沅溪-2024-01.csv").read_bytes().decode("gb18030").splitlines()
    result = (COUNTY / "bank-result-2024-1.csv").read_bytes().decode("gb18030").splitlines()
    amounts = {r.split(",")[0]: r.split(",")[4] for r in sent[1:]}
    reported = {r.split(",")[0]: r.split(",")[2] for r in result[1:]}
    assert "5" not in amounts and reported.pop("5") and reported == amounts
    # What the bank did differently is recorded, each difference reviewed by a second approver.
    code, text, _ = _ft(work, "--as", "431299_clerk", "roll", "differences", "沅溪-2024-01",
                        "--json")
    assert code == 0, text
    differences = json.loads(text)
    assert [[d["line"], *d["differences"]] for d in differences] == \
        EXPECTED["bank_differences"]
    assert {d["transfer_state"] for d in differences} == {"approved"}
    # The 2023 rolls paid from the household programme XM-2023-04, not the county's share.
    engine = create_engine(f"sqlite:///{work / 'fundtrail.db'}")
    with engine.connect() as c:
        assert c.execute(select(PaymentRoll.code).where(
            PaymentRoll.project_code == "XM-2023-04").order_by(PaymentRoll.code)).scalars() \
            .all() == ["沅溪-2023-01", "沅溪-2023-02"]
    engine.dispose()
    # Importing a file again changes nothing (idempotent).
    code, text, _ = _ft(work, "--as", "431299_clerk", "import", "households",
                        str(COUNTY / "households.csv"), "--json")
    assert code == 0 and json.loads(text)["added"] == 0
    # The historical record with a wrong check character went in, and was reported.
    assert "身份证号校验位有误；按登记原样导入" in out


def _alerts_scan_finds_the_planted_deaths(work, out):
    code, text, _ = _ft(work, "--as", "431299_auditor", "alerts", "scan", "--as-of",
                        "2024-12-31", "--json")
    assert code == 1  # open alerts
    alerts = json.loads(text)["open"]
    ben01 = {a["entity"].removeprefix("household:") for a in alerts if a["rule_id"] == "BEN-01"}
    assert ben01 == set(EXPECTED["ben01"])
    assert not ben01 & set(EXPECTED["ben01_not"])  # died in the month paid, or after it
    # The head registered with a 15-digit number is found through its 18-digit form.
    legacy = next(a for a in alerts if a["rule_id"] == "BEN-01"
                  and a["entity"] == "household:" + EXPECTED["legacy_head"])
    assert legacy["evidence"]["list"]["kind"] == "deaths"
    # Money entered in date order: nothing looks backdated.
    assert not [a for a in alerts if a["rule_id"] == "STA-05"]
    assert "BEN-01" in out  # load.sh's own scan listed them
