"""Concurrent writers on PostgreSQL, as separate OS processes (invariants 5, 8 and 10).

Several processes (multiprocessing, "spawn") released together by a barrier pay households out
of one county's share, approve the same transfers, or submit the same idempotency key at once.
Whatever the interleaving, the county never pays out more than it holds, the cached balance
columns agree with the postings, the audit log has one entry per change with no gap or fork,
and a refusal is always a clear `LedgerError`: a deadlock, serialization failure or unique-key
violation reaching the caller is a bug.
"""
from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from ledger.audit.entries import decode_entry
from ledger.audit.tlog import merkle
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.core.errors import LedgerError, Overdraft
from ledger.funds import balances, flows, posting
from ledger.models import (
    Account,
    AccountKind,
    Approval,
    AuditEntry,
    AuditHead,
    Decision,
    Posting,
    Transfer,
    TransferKind,
)
from ledger.org.regions import get_user
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.world import CITY, COUNTY, DAY, PROVINCE, build_world

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

HELD = 100_000_00          # what the county holds: 100,000 yuan
PAYERS, ATTEMPTS = 6, 25   # 150 attempts of 1,000–3,000 yuan: about three times what it holds
REJECT_EVERY = 4           # the checker rejects transfers whose id is a multiple of this
WAIT = 60                  # seconds: no barrier, queue or join may wait longer
# A lock wait that never ends would hang the suite; make it an error that fails the test.
PG_LIMITS = {"options": "-c lock_timeout=20000 -c statement_timeout=30000"}


# --------------------------------------------------------------------------- worker processes

def _factory(url):
    engine = make_engine(url, connect_args=PG_LIMITS)
    return engine, make_sessionmaker(engine, TEST_CONTEXT)


def _amount(worker: int, attempt: int) -> int:
    return 1_000_00 + (worker * 7_919 + attempt * 104_729) % 2_000_01


def _pay(s, lot_id, amount, key, payee):
    return flows.pay(s, get_user(s, "k_clerk"), lot_id=lot_id, payee_code=payee,
                     amount_fen=amount, function_code="2130505", use_code="household_subsidy",
                     county_code=COUNTY, effective_date=DAY, key=key)


def _payer(url, lot_id, worker, barrier, out):
    """Pay ATTEMPTS households from the county, each attempt in its own transaction."""
    result = {"role": "payer", "worker": worker, "ok": [], "refused": [], "errors": []}
    engine = None
    try:
        engine, factory = _factory(url)
        with transaction(factory) as s:  # connect and warm up before the start line
            get_user(s, "k_clerk")
        barrier.wait(WAIT)
        result["start"] = time.time()
        for i in range(ATTEMPTS):
            amount, key = _amount(worker, i), f"pay-{worker}-{i}"
            payee = "H-001" if (worker + i) % 2 else "H-002"
            try:
                with transaction(factory) as s:
                    tid = _pay(s, lot_id, amount, key, payee).id
                result["ok"].append((key, tid, amount))
            except Overdraft:
                result["refused"].append((key, amount))
            except Exception:
                result["errors"].append(f"payer {worker} {key}:\n{traceback.format_exc()}")
        result["end"] = time.time()
    except BaseException:
        result["errors"].append(f"payer {worker}:\n{traceback.format_exc()}")
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


def _undecided_payments(s) -> list[int]:
    return list(s.execute(
        select(Transfer.id).outerjoin(Approval, Approval.transfer_id == Transfer.id)
        .where(Transfer.kind == TransferKind.PAY, Approval.id.is_(None))
        .order_by(Transfer.id)).scalars())


def _checker(url, barrier, done, out):
    """Decide payments while they are being recorded; after `done`, one last sweep."""
    result = {"role": "checker", "approved": [], "rejected": [], "errors": []}
    engine = None
    try:
        engine, factory = _factory(url)
        barrier.wait(WAIT)
        while True:
            last = done.is_set()
            with transaction(factory) as s:
                pending = _undecided_payments(s)
            for tid in pending:
                try:
                    with transaction(factory) as s:
                        checker = get_user(s, "k_approver")
                        if tid % REJECT_EVERY == 0:
                            posting.reject(s, checker, tid, "wrong household on the roll")
                        else:
                            posting.approve(s, checker, tid)
                    (result["rejected"] if tid % REJECT_EVERY == 0
                     else result["approved"]).append(tid)
                except Exception:
                    result["errors"].append(f"checker on #{tid}:\n{traceback.format_exc()}")
            if last:
                break
            if not pending:
                time.sleep(0.01)
    except BaseException:
        result["errors"].append(f"checker:\n{traceback.format_exc()}")
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


def _decider(url, worker, approver, transfer_ids, barrier, out):
    """Try to decide every transfer in `transfer_ids`; losing the race must be a clear refusal."""
    result = {"worker": worker, "won": [], "lost": [], "errors": []}
    engine = None
    try:
        engine, factory = _factory(url)
        order = list(transfer_ids)
        random.Random(worker).shuffle(order)
        barrier.wait(WAIT)
        for tid in order:
            try:
                with transaction(factory) as s:
                    user = get_user(s, approver)
                    if worker % 2 and tid % 5 == 0:
                        posting.reject(s, user, tid, "household already paid this year")
                    else:
                        posting.approve(s, user, tid)
                result["won"].append(tid)
            except LedgerError as exc:
                if "already approved" in str(exc) or "already rejected" in str(exc):
                    result["lost"].append(tid)
                else:
                    result["errors"].append(f"decider {worker} on #{tid}: {exc!r}")
            except Exception:
                result["errors"].append(f"decider {worker} on #{tid}:\n{traceback.format_exc()}")
    except BaseException:
        result["errors"].append(f"decider {worker}:\n{traceback.format_exc()}")
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


def _duplicate_submitter(url, lot_id, worker, rounds, barrier, out):
    """Submit the same payment under the same key as every other submitter, round by round."""
    result = {"worker": worker, "got": {}, "errors": {}}
    engine = None
    try:
        engine, factory = _factory(url)
        with transaction(factory) as s:
            get_user(s, "k_clerk")
        for r in range(rounds):
            barrier.wait(WAIT)
            key = f"voucher-dup-{r}"
            try:
                with transaction(factory) as s:
                    result["got"][key] = _pay(s, lot_id, 1_000_00 + r, key, "H-001").id
            except Exception:
                result["errors"][key] = traceback.format_exc()
    except BaseException:
        result["errors"]["setup"] = traceback.format_exc()
    finally:
        out.put(result)
        if engine is not None:
            engine.dispose()


# --------------------------------------------------------------------------- helpers (main)

def _down_to_county(world, amount):
    """Province → city → county, each approved by the level's approver."""
    with transaction(world.factory) as s:
        t1 = flows.allocate(s, get_user(s, "p_clerk"), lot_id=world.lot_id,
                            from_region=PROVINCE, to_region=CITY, amount_fen=amount,
                            effective_date=DAY, key="alloc-1")
        posting.approve(s, get_user(s, "p_approver"), t1.id)
        t2 = flows.allocate(s, get_user(s, "c_clerk"), lot_id=world.lot_id, from_region=CITY,
                            to_region=COUNTY, amount_fen=amount, effective_date=DAY,
                            key="alloc-2")
        posting.approve(s, get_user(s, "c_approver"), t2.id)


def _county_account(s, lot_id) -> Account:
    return s.execute(select(Account).where(
        Account.lot_id == lot_id, Account.kind == AccountKind.UNIT,
        Account.holder_code == COUNTY)).scalar_one()


def _run(procs, out, expected, on_result=None):
    """Start the processes, collect one result from each, and join them."""
    for p in procs:
        p.start()
    results, deadline = [], time.monotonic() + WAIT
    try:
        while len(results) < expected:
            try:
                results.append(out.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                pytest.fail(f"workers did not report within {WAIT} s "
                            f"({len(results)}/{expected} reported; exit codes {dead})")
            if on_result:
                on_result(results)
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
    return results


def _check_cached_balances(s) -> None:
    assert balances.cache_mismatches(s) == []
    # cache_mismatches compares the posted columns; the pending ones must match as well
    decided = select(Approval.transfer_id)
    undecided = (select(Posting.account_id,
                        func.sum(func.greatest(Posting.amount_fen, 0)),
                        func.sum(func.greatest(-Posting.amount_fen, 0)))
                 .where(Posting.transfer_id.not_in(decided)).group_by(Posting.account_id))
    pending = {a: (int(d), int(c)) for a, d, c in s.execute(undecided)}
    for account in s.execute(select(Account)).scalars():
        assert (account.debits_pending, account.credits_pending) == \
            pending.get(account.id, (0, 0)), account.label
        if account.kind not in (AccountKind.APPROPRIATION, AccountKind.INTEGRATION_IN):
            assert account.available >= 0, account.label


def _check_audit_log(s) -> dict[int, dict]:
    """No gap, no fork: indices 0..n-1, each entry chained to the root before it, head agrees."""
    entries = s.execute(select(AuditEntry).order_by(AuditEntry.idx)).scalars().all()
    size = len(entries)
    assert [e.idx for e in entries] == list(range(size))
    head = s.execute(select(AuditHead)).scalar_one()
    assert head.size == size
    frontier, decoded = merkle.Frontier(), {}
    for e in entries:
        body = decode_entry(e.entry)
        assert body["index"] == e.idx
        assert body["prev_root"] == frontier.root(), f"entry {e.idx} forks from the log"
        assert e.leaf_hash == merkle.leaf_hash(e.entry)
        frontier.append(e.leaf_hash)
        decoded[e.idx] = body
    assert head.root == frontier.root()
    return decoded


def _check_one_entry_per_row(s, decoded, model) -> None:
    """Every row of `model` is written by exactly one entry: the one at its log_index."""
    writers = defaultdict(list)
    for idx, body in decoded.items():
        for row in body["rows"]:  # [table, key, ...]: only the first two fields matter here
            if row[0] == model.__tablename__:
                writers[tuple(row[1])].append(idx)
    for row in s.execute(select(model)).scalars():
        assert writers[(row.id,)] == [row.log_index], f"{model.__tablename__} #{row.id}"


def _world(url):
    engine = make_engine(url)
    world = build_world(make_sessionmaker(engine, TEST_CONTEXT))
    _down_to_county(world, HELD)
    return engine, world


# --------------------------------------------------------------------------- tests

def test_concurrent_payers_never_overdraw_the_county(fresh_pg_url):
    engine, world = _world(fresh_pg_url)
    with transaction(world.factory) as s:
        assert _county_account(s, world.lot_id).available == HELD

    ctx = multiprocessing.get_context("spawn")
    barrier, done, out = ctx.Barrier(PAYERS + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_payer, args=(fresh_pg_url, world.lot_id, w, barrier, out),
                         daemon=True) for w in range(PAYERS)]
    procs.append(ctx.Process(target=_checker, args=(fresh_pg_url, barrier, done, out),
                             daemon=True))

    def payers_finished(results):
        if sum(r["role"] == "payer" for r in results) == PAYERS:
            done.set()

    started = time.monotonic()
    results = _run(procs, out, PAYERS + 1, payers_finished)
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r["errors"]]
    assert not errors, "\n\n".join(errors)
    payers = [r for r in results if r["role"] == "payer"]
    checker = next(r for r in results if r["role"] == "checker")
    ok = {tid: (key, amount) for r in payers for key, tid, amount in r["ok"]}
    refused = [x for r in payers for x in r["refused"]]
    assert all(len(r["ok"]) + len(r["refused"]) == ATTEMPTS for r in payers)
    attempted = sum(_amount(w, i) for w in range(PAYERS) for i in range(ATTEMPTS))
    assert attempted > 2 * HELD and refused, "the test must ask for more than the county holds"
    window = max(r["end"] for r in payers) - min(r["start"] for r in payers)
    print(f"\n{PAYERS * ATTEMPTS} payment attempts ({attempted} fen asked of {HELD} held): "
          f"{len(ok)} recorded, {len(refused)} refused as overdraft; checker approved "
          f"{len(checker['approved'])}, rejected {len(checker['rejected'])}; "
          f"payers ran {window:.2f} s, whole run {elapsed:.2f} s")

    with transaction(world.factory) as s:
        pays = {t.id: t for t in s.execute(
            select(Transfer).where(Transfer.kind == TransferKind.PAY)).scalars()}
        # every success the callers saw is in the ledger, and nothing else is
        assert {tid: (t.idempotency_key, t.amount_fen) for tid, t in pays.items()} == ok
        decisions = dict(s.execute(
            select(Approval.transfer_id, Approval.decision)).all())
        assert sorted(t for t, d in decisions.items() if d is Decision.APPROVED
                      and t in pays) == sorted(checker["approved"])
        assert sorted(t for t, d in decisions.items() if d is Decision.REJECTED) \
            == sorted(checker["rejected"])
        outstanding = sum(t.amount_fen for tid, t in pays.items()
                          if decisions.get(tid) is not Decision.REJECTED)
        assert 0 < outstanding <= HELD

        # "never": replay the log order; at no point did recorded minus rejected exceed HELD
        events = sorted([(t.log_index, t.amount_fen) for t in pays.values()] +
                        [(a.log_index, -pays[a.transfer_id].amount_fen) for a in
                         s.execute(select(Approval).where(
                             Approval.decision == Decision.REJECTED)).scalars()])
        running, peak = 0, 0
        for _idx, delta in events:
            running += delta
            peak = max(peak, running)
        assert running == outstanding and peak <= HELD

        county = _county_account(s, world.lot_id)
        assert county.credits_pending == 0  # the checker's last sweep decided everything
        approved = sum(t.amount_fen for tid, t in pays.items()
                       if decisions.get(tid) is Decision.APPROVED)
        assert county.balance == HELD - approved == balances.balance_of(s, county.id)
        _check_cached_balances(s)
        tb = balances.trial_balance(s)
        assert tb.balanced and tb.total_debits == tb.total_credits > 0

        decoded = _check_audit_log(s)
        _check_one_entry_per_row(s, decoded, Transfer)
        _check_one_entry_per_row(s, decoded, Approval)
    engine.dispose()


def test_concurrent_approvals_decide_each_transfer_once(fresh_pg_url):
    engine, world = _world(fresh_pg_url)
    with transaction(world.factory) as s:
        ids = [_pay(s, world.lot_id, 1_000_00 + i, f"roll-{i}", "H-001").id for i in range(30)]

    # approvers of the county, the city above it and the province, two processes for one
    approvers = ["k_approver", "k_approver", "c_approver", "p_approver"]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(approvers)), ctx.Queue()
    procs = [ctx.Process(target=_decider, args=(fresh_pg_url, w, name, ids, barrier, out),
                         daemon=True) for w, name in enumerate(approvers)]
    started = time.monotonic()
    results = _run(procs, out, len(procs))
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r["errors"]]
    assert not errors, "\n\n".join(errors)
    won = [t for r in results for t in r["won"]]
    assert sorted(won) == sorted(ids), "each transfer is decided by exactly one caller"
    for r in results:
        assert sorted(r["won"] + r["lost"]) == sorted(ids)
    print(f"\n{len(approvers)} deciders × {len(ids)} transfers: "
          f"{len(won)} decisions, {sum(len(r['lost']) for r in results)} refused as already "
          f"decided; {elapsed:.2f} s")

    with transaction(world.factory) as s:
        per_transfer = dict(s.execute(select(Approval.transfer_id, func.count())
                                      .where(Approval.transfer_id.in_(ids))
                                      .group_by(Approval.transfer_id)).all())
        assert per_transfer == {tid: 1 for tid in ids}
        approved = s.execute(
            select(func.coalesce(func.sum(Transfer.amount_fen), 0)).join(
                Approval, Approval.transfer_id == Transfer.id).where(
                Approval.decision == Decision.APPROVED,
                Transfer.kind == TransferKind.PAY)).scalar_one()
        county = _county_account(s, world.lot_id)
        assert county.credits_pending == 0
        assert county.balance == HELD - approved == balances.balance_of(s, county.id)
        _check_cached_balances(s)
        assert balances.trial_balance(s).balanced
        decoded = _check_audit_log(s)
        _check_one_entry_per_row(s, decoded, Approval)
    engine.dispose()


def test_concurrent_duplicate_submissions_return_one_transfer(fresh_pg_url):
    """The same voucher submitted by several processes at once: `posting.replay` promises
    that a repeated request with the same key and content returns the transfer already
    recorded, so every caller must get that one transfer back, never an error."""
    engine, world = _world(fresh_pg_url)
    submitters, rounds = 6, 8
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(submitters), ctx.Queue()
    procs = [ctx.Process(target=_duplicate_submitter,
                         args=(fresh_pg_url, world.lot_id, w, rounds, barrier, out), daemon=True)
             for w in range(submitters)]
    started = time.monotonic()
    results = _run(procs, out, submitters)
    elapsed = time.monotonic() - started

    keys = [f"voucher-dup-{r}" for r in range(rounds)]
    failures = {(r["worker"], k): e for r in results for k, e in r["errors"].items()}
    print(f"\n{submitters} submitters × {rounds} keys: "
          f"{sum(len(r['got']) for r in results)} calls returned a transfer, "
          f"{len(failures)} raised; {elapsed:.2f} s")
    with transaction(world.factory) as s:
        recorded = dict(s.execute(select(Transfer.idempotency_key, func.count())
                                  .where(Transfer.idempotency_key.in_(keys))
                                  .group_by(Transfer.idempotency_key)).all())
        assert recorded == {k: 1 for k in keys}, "exactly one transfer per key"
        county = _county_account(s, world.lot_id)
        assert county.credits_pending == sum(1_000_00 + r for r in range(rounds))
        _check_cached_balances(s)
        _check_audit_log(s)
        ids = dict(s.execute(select(Transfer.idempotency_key, Transfer.id)
                             .where(Transfer.idempotency_key.in_(keys))).all())
    engine.dispose()
    assert not failures, "a duplicate submission raised instead of returning the transfer:\n" \
        + "\n\n".join(f"submitter {w}, {k}:\n{e}" for (w, k), e in sorted(failures.items()))
    for r in results:
        assert r["got"] == ids
