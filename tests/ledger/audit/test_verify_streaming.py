"""Row binding takes a streaming path for intact books and the exact map otherwise: whichever
path runs, `verify` must report the same findings, in the same order, on both databases."""
from __future__ import annotations

import pytest
from ledger.audit import verify as verify_module
from tests.ledger.audit.test_verify_db import books, run, tamper  # noqa: F401  (fixture)


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
