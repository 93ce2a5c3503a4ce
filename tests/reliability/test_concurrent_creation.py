"""Identical creations raced by separate processes on PostgreSQL (the open defect of issue 9).

`rolls.create_roll`, `households.register_household`, `regions.add_region`, `add_user`,
`projects.register_project` and `register_payee` used to look for an existing row *before*
taking the log-head lock, so two processes sending the same request at the same moment both
saw nothing, and the slower one died on the unique key with an IntegrityError. Now each
decides under the lock (as `posting.replay` does): the same request again returns the same
row where the service is idempotent, and is refused with a clear LedgerError where it is not.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback

import pytest
from sqlalchemy import select

from ledger.core import clock
from ledger.core.errors import LedgerError
from ledger.core.pii import PiiVault
from ledger.funds import projects
from ledger.households import registry as households
from ledger.models import (
    Household,
    HouseholdStatus,
    Payee,
    PayeeKind,
    PaymentRoll,
    Project,
    Region,
    RegionLevel,
    Role,
    User,
)
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.ledger.test_concurrency_pg import (
    WAIT,
    _check_audit_log,
    _check_one_entry_per_row,
    _factory,
    _run,
)
from tests.world import COUNTY, DAY, TOWNSHIP, VILLAGE, build_world

WORKERS, ROUNDS = 5, 4
# operation → (model, whether the same request again returns the row rather than refusing)
OPERATIONS = {
    "region": (Region, True), "user": (User, True), "roll": (PaymentRoll, True),
    "household": (Household, False), "payee": (Payee, False), "project": (Project, False),
}


def _call(s, op: str, r: int, lot_id: int):
    user = regions.get_user
    if op == "region":
        return regions.add_region(s, user(s, "admin"), code=f"{TOWNSHIP}1{r:02d}",
                                  name=f"新村{r}", level=RegionLevel.VILLAGE,
                                  parent_code=TOWNSHIP).code
    if op == "user":
        return regions.add_user(s, user(s, "admin"), username=f"clerk{r}",
                                display_name=f"clerk{r}", role=Role.CLERK,
                                region_code=COUNTY).id
    if op == "roll":
        return rolls.create_roll(s, user(s, "k_clerk"), code=f"R-race-{r}", lot_id=lot_id,
                                 county_code=COUNTY, item="产业奖补", function_code="2130505",
                                 use_code="household_subsidy", standard_fen=500_00,
                                 lines=[("H-900", 1), ("H-901", 2)], as_of=DAY).id
    if op == "household":
        return households.register_household(
            s, user(s, "k_clerk"), PiiVault.from_env(), code=f"H-race-{r}",
            village_code=VILLAGE, head_name="赵大", status=HouseholdStatus.REGISTERED,
            registered_on=DAY, bank_card="6222021234567890123").code
    if op == "payee":
        return projects.register_payee(s, user(s, "k_clerk"), code=f"C-race-{r}",
                                       kind=PayeeKind.CONTRACTOR, name="建筑公司",
                                       region_code=COUNTY).code
    return projects.register_project(s, user(s, "k_clerk"), code=f"P-race-{r}",
                                     name="道路硬化", county_code=COUNTY,
                                     function_code="2130504").code


def _racer(url, lot_id, worker, barrier, out):
    """Every round, send each operation at the same moment as every other racer."""
    result = {"worker": worker, "got": {}, "refused": {}, "errors": []}
    engine = None
    try:
        engine, factory = _factory(url)
        for r in range(ROUNDS):
            for op in OPERATIONS:
                barrier.wait(WAIT)
                try:
                    with transaction(factory) as s:
                        result["got"][(op, r)] = _call(s, op, r, lot_id)
                except LedgerError as exc:
                    result["refused"][(op, r)] = str(exc)
                except Exception:
                    result["errors"].append(f"racer {worker} {op} {r}:\n"
                                            f"{traceback.format_exc()}")
    except BaseException:
        result["errors"].append(f"racer {worker}:\n{traceback.format_exc()}")
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


def test_identical_concurrent_creations_return_one_row_or_refuse_clearly(fresh_pg_url):
    engine, factory = _factory(fresh_pg_url)
    world = build_world(factory)
    with transaction(factory) as s:  # the households the raced roll pays
        for code in ("H-900", "H-901"):
            households.register_household(
                s, regions.get_user(s, "k_clerk"), PiiVault.from_env(), code=code,
                village_code=VILLAGE, head_name="孙三", status=HouseholdStatus.REGISTERED,
                registered_on=DAY, bank_card="6222021234567890456")
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(fresh_pg_url, world.lot_id, w, barrier, out),
                         daemon=True) for w in range(WORKERS)]
    results = _run(procs, out, WORKERS)

    errors = [e for r in results for e in r["errors"]]
    assert not errors, "\n\n".join(errors)
    for (op, rnd) in [(op, r) for r in range(ROUNDS) for op in OPERATIONS]:
        model, idempotent = OPERATIONS[op]
        got = [r["got"][(op, rnd)] for r in results if (op, rnd) in r["got"]]
        refused = [r["refused"][(op, rnd)] for r in results if (op, rnd) in r["refused"]]
        if idempotent:
            assert len(got) == WORKERS and len(set(got)) == 1, (op, rnd, got, refused)
        else:
            assert len(got) == 1 and len(refused) == WORKERS - 1, (op, rnd, got, refused)
            assert all("already exists" in text for text in refused), refused
    with transaction(factory) as s:
        decoded = _check_audit_log(s)
        for model in (User, PaymentRoll):
            _check_one_entry_per_row(s, decoded, model)
        assert len(s.execute(select(PaymentRoll)).scalars().all()) == ROUNDS
    engine.dispose()


# --------------------------------------------------------------------------- one roll, many hands

ROLL_LINES = 20


def _roll_worker(url, worker, result_file, barrier, out):
    """Send the roll, then apply the bank's result file, at the same moment as the others."""
    from ledger.imports.bank import import_bank_results
    result = {"worker": worker, "sent": None, "counts": None, "errors": []}
    engine = None
    try:
        engine, factory = _factory(url)
        barrier.wait(WAIT)
        with transaction(factory) as s:
            result["sent"] = len(rolls.send(s, regions.get_user(s, "k_clerk"), "R-ONE", DAY))
        barrier.wait(WAIT)
        with transaction(factory) as s:
            result["counts"] = import_bank_results(s, regions.get_user(s, "k_approver"),
                                                   "R-ONE", result_file)
    except Exception:
        result["errors"].append(f"worker {worker}:\n{traceback.format_exc()}")
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


def test_one_roll_sent_and_reconciled_by_several_processes_at_once(fresh_pg_url, tmp_path):
    from ledger.models import Approval, Transfer
    from tests.ledger.test_invariants import down_to_county
    engine, factory = _factory(fresh_pg_url)
    world = build_world(factory)
    down_to_county(world, 100_000_00)
    codes = [f"H-R{n:02d}" for n in range(ROLL_LINES)]
    with transaction(factory) as s:
        clerk = regions.get_user(s, "k_clerk")
        for n, code in enumerate(codes):
            households.register_household(
                s, clerk, PiiVault.from_env(), code=code, village_code=VILLAGE,
                head_name=f"户{n}", status=HouseholdStatus.REGISTERED,
                registered_on=DAY - dt.timedelta(days=30),
                bank_card=f"62220212345678{n:05d}")
        rolls.create_roll(s, clerk, code="R-ONE", lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=300_00, lines=[(c, 1) for c in codes],
                          as_of=DAY - dt.timedelta(days=20))
        with clock.at(DAY - dt.timedelta(days=20)):   # recorded on its day (ledger.core.clock)
            rolls.publish(s, clerk, "R-ONE", DAY - dt.timedelta(days=20))
        with clock.at(DAY):
            rolls.approve_roll(s, regions.get_user(s, "k_approver"), "R-ONE", DAY, 7)
    results_csv = tmp_path / "result.csv"
    results_csv.write_text("序号,户编码,金额,结果\n" + "".join(
        f"{n + 1},{code},300.00,{'失败' if n % 5 == 0 else '成功'}\n"
        for n, code in enumerate(codes)), encoding="utf-8")

    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_roll_worker, args=(fresh_pg_url, w, str(results_csv), barrier,
                                                    out), daemon=True) for w in range(WORKERS)]
    results = _run(procs, out, WORKERS)
    errors = [e for r in results for e in r["errors"]]
    assert not errors, "\n\n".join(errors)
    assert sorted(r["sent"] for r in results) == [0] * (WORKERS - 1) + [ROLL_LINES]
    posted = sum(r["counts"]["posted"] for r in results)
    returned = sum(r["counts"]["returned"] for r in results)
    assert (posted, returned) == (ROLL_LINES - ROLL_LINES // 5, ROLL_LINES // 5)
    with transaction(factory) as s:
        decoded = _check_audit_log(s)
        _check_one_entry_per_row(s, decoded, Transfer)
        _check_one_entry_per_row(s, decoded, Approval)
        paid = select(Transfer.id).where(Transfer.idempotency_key.like("roll:R-ONE:%"))
        assert len(s.execute(select(Approval).where(Approval.transfer_id.in_(paid)))
                   .scalars().all()) == ROLL_LINES  # each line decided exactly once
    engine.dispose()


def test_the_same_region_or_user_again_is_returned_other_content_refused(world):
    """The sequential contract the concurrent test relies on, on both databases."""
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        first = regions.add_region(s, admin, code=f"{TOWNSHIP}900", name="新村",
                                   level=RegionLevel.VILLAGE, parent_code=TOWNSHIP)
        assert regions.add_region(s, admin, code=f"{TOWNSHIP}900", name="新村",
                                  level=RegionLevel.VILLAGE, parent_code=TOWNSHIP) is first
        user = regions.add_user(s, admin, username="new_clerk", display_name="新",
                                role=Role.CLERK, region_code=COUNTY)
        assert regions.add_user(s, admin, username="new_clerk", display_name="新",
                                role=Role.CLERK, region_code=COUNTY) is user
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        with pytest.raises(LedgerError, match="already exists as 新村"):
            regions.add_region(s, admin, code=f"{TOWNSHIP}900", name="别的村",
                               level=RegionLevel.VILLAGE, parent_code=TOWNSHIP)
        with pytest.raises(LedgerError, match="already exists"):
            regions.add_user(s, admin, username="new_clerk", display_name="新",
                             role=Role.APPROVER, region_code=COUNTY)
