"""Row binding takes a streaming path for intact books and the exact map otherwise: whichever
path runs, `verify` must report the same findings, in the same order, on both databases."""
from __future__ import annotations

import pytest

from ledger.audit import verify as verify_module
from tests.ledger.audit.test_verify_db import run, tamper


def exact_run(world, monkeypatch):
    """`verify` forced onto the exact path, as if the streaming one had met something odd."""
    original = verify_module._StreamingBinder.finish

    def finish(self):
        original(self)
        self.irregular = True
    with monkeypatch.context() as m:
        m.setattr(verify_module._StreamingBinder, "finish", finish)
        return run(world)


def same_reports(world, monkeypatch):
    fast, exact = run(world), exact_run(world, monkeypatch)
    assert [vars(f) for f in fast.findings] == [vars(f) for f in exact.findings]
    assert fast.rows_checked == exact.rows_checked
    return fast


def test_intact_books_take_the_streaming_path_and_agree(world, books, monkeypatch):
    report = same_reports(world, monkeypatch)
    assert report.intact and report.rows_checked > report.size


@pytest.mark.parametrize("statements", [
    # a copy of a posting claiming to come from the entry that wrote the original
    ["INSERT INTO postings (id, transfer_id, account_id, lot_id, amount_fen, log_index) "
     "SELECT id + 1000, transfer_id, account_id, lot_id, amount_fen, log_index FROM postings "
     "WHERE id = (SELECT MIN(id) FROM postings)"],
    # a row moved to another entry's index
    ["UPDATE payees SET log_index = log_index + 1 WHERE code = 'H-002'"],
    # a JSON column rewritten (lists compare in Python; the hash decides)
    ["UPDATE fund_lots SET function_codes = '[\"2130505\"]'"],
    # the last row written, deleted: nothing in the tables is out of place but it is gone
    ["DELETE FROM approvals WHERE id = (SELECT MAX(id) FROM approvals)"],
    # a row claiming the very first entry
    ["UPDATE payees SET log_index = 0 WHERE code = 'C-001'"],
])
def test_tampered_books_give_the_exact_findings(world, books, engine, monkeypatch,
                                                statements):
    tamper(engine, *statements)
    report = same_reports(world, monkeypatch)
    assert not report.intact


# Incremental verification from a checkpoint verified before ---------------------------------

def more_payments(world, count: int, prefix: str) -> None:
    from ledger.funds import posting
    from ledger.store.db import transaction
    from tests.ledger.test_invariants import pay_household, u
    with transaction(world.factory) as s:
        for n in range(count):
            t = pay_household(s, world, 100 + n, f"{prefix}-{n}", payee="H-002")
            posting.approve(s, u(s, "k_approver"), t.id)


def since(world, size, root):
    from ledger.store.db import transaction
    with transaction(world.factory) as s:
        return verify_module.verify_since(s, size, root)


def test_resuming_checks_only_what_came_after(world, books):
    before = run(world)
    more_payments(world, 3, "later")
    after, full = since(world, before.size, before.root), run(world)
    assert after.intact and full.intact, after.findings
    assert (after.size, after.root) == (full.size, full.root)
    # 3 × (transfer, two postings, a payee account the first time) and 3 approvals
    assert 0 < after.rows_checked < full.rows_checked
    assert after.rows_checked == full.rows_checked - before.rows_checked


def test_resuming_finds_a_changed_new_row(world, books, engine):
    before = run(world)
    more_payments(world, 2, "later")
    tamper(engine, f"UPDATE postings SET amount_fen = amount_fen + 1 WHERE log_index >= "
                   f"{before.size} AND amount_fen > 0")
    found = [f for f in since(world, before.size, before.root).findings if f.kind == "row"]
    assert found and {f.table for f in found} == {"postings"}
    assert all(f.fields == ["amount_fen"] for f in found)


def test_resuming_refuses_a_log_rewritten_before_the_checkpoint(world, books, engine):
    from tests.ledger.audit.test_verify_db import rewrite_history
    before = run(world)
    more_payments(world, 1, "later")
    rewrite_history(engine, 3)
    report = since(world, before.size, before.root)
    assert [f.kind for f in report.findings] == ["checkpoint"]
    assert "rewritten" in report.findings[0].message
