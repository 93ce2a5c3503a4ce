"""Verification on several processes (ledger.audit.verify_parallel) reports what one process
reports: the same findings in the same order, rows bound, signature audit, size and root; on
intact books through the workers, on tampered ones through the one-process replay it falls back
to. Both databases."""
from __future__ import annotations

import pytest

from ledger.audit import verify_parallel
from ledger.audit.verify import verify
from ledger.funds import posting
from ledger.store.db import make_sessionmaker, transaction
from tests.conftest import TEST_CONTEXT, enrol_test_keys
from tests.ledger.audit.test_verify_db import rewrite_history, tamper
from tests.ledger.test_invariants import pay_household, u


def run(world, jobs):
    # No transaction open before verify: its workers read with their own connections.
    with world.factory() as s:
        return verify(s, jobs=jobs)


def both(world, monkeypatch):
    taken = []
    original = verify_parallel.replay

    def replay(*args, **kwargs):
        out = original(*args, **kwargs)
        taken.append(out is not None)
        return out
    monkeypatch.setattr(verify_parallel, "replay", replay)
    one, two = run(world, 1), run(world, 2)
    assert taken, "the parallel replay did not run"
    assert [vars(f) for f in two.findings] == [vars(f) for f in one.findings]
    assert (two.size, two.root, two.rows_checked) == (one.size, one.root, one.rows_checked)
    assert two.signatures == one.signatures
    assert two.county_heads == one.county_heads
    return one, taken[-1]


def test_intact_books_verify_in_workers_and_agree(world, books, monkeypatch):
    report, parallel = both(world, monkeypatch)
    assert report.intact and report.rows_checked > report.size
    assert parallel   # intact: the workers' answer was used, not the fallback


def test_signed_entries_and_a_forged_one(world, books, engine, personal_key_dir, monkeypatch):
    """Keys enrolled along the log: signed entries are checked in the main process, and an
    unsigned entry in a key holder's name (services called with no key) is the same finding."""
    enrol_test_keys(world.factory, ["k_clerk", "k_approver"], personal_key_dir)
    with transaction(world.factory) as s:
        posting.approve(s, u(s, "k_approver"), pay_household(s, world, 100_00, "signed-1").id)
    report, parallel = both(world, monkeypatch)
    assert report.intact and parallel and report.signatures["signed"] >= 2
    with transaction(make_sessionmaker(engine, TEST_CONTEXT)) as s:   # no signer
        pay_household(s, world, 200_00, "forged-1")
    report, parallel = both(world, monkeypatch)
    assert [f.kind for f in report.findings] == ["signature"] and not parallel


@pytest.mark.parametrize("statements", [
    ["INSERT INTO postings (id, transfer_id, account_id, lot_id, amount_fen, log_index) "
     "SELECT id + 1000, transfer_id, account_id, lot_id, amount_fen, log_index FROM postings "
     "WHERE id = (SELECT MIN(id) FROM postings)"],
    ["UPDATE payees SET log_index = log_index + 1 WHERE code = 'H-002'"],
    ["UPDATE payees SET log_index = -1 WHERE code = 'H-002'"],
    ["UPDATE fund_lots SET function_codes = '[\"2130505\"]'"],
    ["DELETE FROM approvals WHERE id = (SELECT MAX(id) FROM approvals)"],
    ["DELETE FROM audit_nodes WHERE level = 1 AND idx = 1"],
    ["DELETE FROM audit_entries WHERE idx = (SELECT MAX(idx) FROM audit_entries) - 3"],
])
def test_tampered_books_give_the_one_process_findings(world, books, engine, monkeypatch,
                                                      statements):
    tamper(engine, *statements)
    report, parallel = both(world, monkeypatch)
    assert not report.intact
    assert not parallel   # the fallback worded the findings


def test_a_balance_cache_changed_is_found_by_a_worker(world, books, engine, monkeypatch):
    """The balance caches are checked by a worker beside the replay: the log is intact, so the
    workers' answer stands, with the same finding."""
    tamper(engine, "UPDATE accounts SET debits_posted = debits_posted + 1 "
                   "WHERE id = (SELECT MAX(id) FROM accounts)")
    report, parallel = both(world, monkeypatch)
    assert [f.kind for f in report.findings] == ["balance"] and parallel


def test_rewritten_history_gives_the_one_process_findings(world, books, engine, monkeypatch):
    rewrite_history(engine, 3)
    report, parallel = both(world, monkeypatch)
    assert not report.intact and not parallel


def test_a_session_in_a_transaction_stays_in_one_process(world, books, monkeypatch):
    """Uncommitted writes would be invisible to the workers' connections."""
    called = []
    monkeypatch.setattr(verify_parallel, "replay", lambda *a, **k: called.append(1))
    with world.factory() as s, s.begin():
        assert verify(s, jobs=2).intact
    assert not called
