"""`verify` finds every edit made behind the ledger's back, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from ledger.audit import checkpoints as cps
from ledger.audit.tlog.checkpoint import generate_cosigner
from ledger.audit.tlog.note import generate_signer
from ledger.audit.tlog.policy import parse_policy
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError
from ledger.models import Posting
from ledger.store.db import transaction
from tests.ledger.test_invariants import pay_household

ORIGIN = "fundtrail.example/demo-province"


def tamper(engine, *statements):
    """Run SQL as a database administrator would: with the append-only triggers bypassed."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for stmt in statements:
                conn.execute(text(stmt))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
            sql = {n: conn.execute(text("SELECT sql FROM sqlite_master WHERE name=:n"),
                                   {"n": n}).scalar_one() for n, in names}
            for n in sql:
                conn.execute(text(f"DROP TRIGGER {n}"))
            for stmt in statements:
                conn.execute(text(stmt))
            for _name, create in sql.items():
                conn.execute(text(create))


def rewrite_history(engine, entry: int) -> None:
    """What a malicious operator would do: forge one early entry and rebuild every stored
    hash and the head so that the database is consistent with itself again."""
    from ledger.audit.tlog import merkle
    with engine.begin() as conn:
        leaves = [bytes(h) for h in conn.execute(
            text("SELECT leaf_hash FROM audit_entries ORDER BY idx")).scalars()]
    leaves[entry] = merkle.leaf_hash(b"forged entry")
    frontier, nodes = merkle.Frontier(), []
    for i, leaf in enumerate(leaves):
        nodes += [(n.level, n.index, n.hash, i) for n in frontier.append(leaf)[1:]]
    blob = (lambda b: "X'" + b.hex() + "'") if engine.dialect.name == "sqlite" else \
        (lambda b: "'\\x" + b.hex() + "'")
    tamper(engine, "DELETE FROM audit_nodes",
           f"UPDATE audit_entries SET leaf_hash = {blob(leaves[entry])} WHERE idx = {entry}",
           *[f"INSERT INTO audit_nodes (level, idx, hash, leaf_end) VALUES "
             f"({lv}, {ix}, {blob(h)}, {end})" for lv, ix, h, end in nodes],
           f"UPDATE audit_head SET root = {blob(frontier.root())}, "
           f"frontier = {blob(frontier.to_bytes())}")


def run(world, **kw):
    with transaction(world.factory) as s:
        return verify(s, **kw)


def test_untouched_books_are_intact(world, books):
    report = run(world)
    assert report.intact, report.findings
    assert report.size > 20 and report.rows_checked > report.size


@pytest.mark.parametrize("column,value,field", [
    ("amount_fen", "amount_fen + 100", "amount_fen"),
    ("account_id", "account_id - 1", "account_id"),
])
def test_raw_update_of_a_posting_is_named(world, books, engine, column, value, field):
    with transaction(world.factory) as s:
        pid = s.execute(select(Posting.id).where(Posting.transfer_id == books)
                        .where(Posting.amount_fen > 0)).scalar_one()
    tamper(engine, f"UPDATE postings SET {column} = {value} WHERE id = {pid}")
    report = run(world)
    rows = [f for f in report.findings if f.kind == "row"]
    assert rows and rows[0].table == "postings" and rows[0].key == [pid]
    assert rows[0].fields == [field] and rows[0].log_index is not None


def test_raw_update_of_payee_name_and_date_is_named(world, books, engine):
    tamper(engine, "UPDATE payees SET name = '王麻子' WHERE code = 'H-001'",
           f"UPDATE transfers SET effective_date = '2024-01-02' WHERE id = {books}")
    found = {(f.table, tuple(f.fields)) for f in run(world).findings if f.kind == "row"}
    assert ("payees", ("name",)) in found and ("transfers", ("effective_date",)) in found


def test_deleted_and_inserted_rows_are_found(world, books, engine):
    tamper(engine, f"DELETE FROM approvals WHERE transfer_id = {books}",
           "INSERT INTO payees (code, kind, name, region_code, log_index) "
           "VALUES ('H-666', 'household', '虚构户', '430121001001', 3)")
    messages = [f.message for f in run(world).findings]
    assert any("approvals" in m and "is gone (deleted)" in m for m in messages)
    assert any("H-666" in m and "not in the audit log" in m for m in messages)


def test_altered_audit_entry_is_found(world, books, engine):
    with engine.begin() as conn:
        entry = conn.execute(text("SELECT entry FROM audit_entries WHERE idx = 5")).scalar_one()
    altered = bytes(entry).replace("430121".encode(), "430122".encode(), 1)
    assert altered != bytes(entry)
    tamper(engine, "UPDATE audit_entries SET entry = :e WHERE idx = 5".replace(
        ":e", ("X'" if engine.dialect.name == "sqlite" else "'\\x") + altered.hex() + "'"))
    report = run(world)
    assert any(f.kind == "entry" and f.log_index == 5 for f in report.findings)


def test_deleted_reordered_and_truncated_entries_are_found(world, books, engine):
    tamper(engine, "DELETE FROM audit_entries WHERE idx = 7")
    assert any("missing" in f.message for f in run(world).findings)


def test_swapped_entries_are_found(world, books, engine):
    tamper(engine, "UPDATE audit_entries SET idx = -1 WHERE idx = 3",
           "UPDATE audit_entries SET idx = 3 WHERE idx = 4",
           "UPDATE audit_entries SET idx = 4 WHERE idx = -1")
    messages = [f.message for f in run(world).findings]
    assert any("reordered" in m for m in messages)


def test_truncated_log_contradicts_a_signed_checkpoint(world, books, engine):
    log_key = generate_signer(ORIGIN)
    with transaction(world.factory) as s:
        size = cps.sign(s, log_key).size
    tamper(engine, f"DELETE FROM audit_entries WHERE idx >= {size - 2}",
           f"DELETE FROM audit_nodes WHERE leaf_end >= {size - 2}",
           f"UPDATE audit_head SET size = {size - 2}")
    messages = [f.message for f in run(world).findings]
    assert any("truncated" in m for m in messages)


def test_a_log_rewritten_since_an_auditor_kept_a_checkpoint_is_found(world, books, engine):
    log_key = generate_signer(ORIGIN)
    with transaction(world.factory) as s:
        kept = cps.sign(s, log_key).note
    assert run(world, trusted_notes=[kept]).intact
    # The operator rewrites entry 2 and every stored hash after it consistently, and removes
    # the stored checkpoints: only the note the auditor took home still remembers.
    with engine.begin() as conn:
        entry = bytes(conn.execute(text("SELECT entry FROM audit_entries WHERE idx = 2"))
                      .scalar_one())
    altered = entry.replace("430100".encode(), "430199".encode(), 1)
    blob = ("X'" if engine.dialect.name == "sqlite" else "'\\x") + altered.hex() + "'"
    tamper(engine, "DELETE FROM checkpoints", f"UPDATE audit_entries SET entry = {blob} "
           "WHERE idx = 2")
    report = run(world, trusted_notes=[kept])
    assert any("not consistent with the checkpoint" in f.message for f in report.findings)


def test_checkpoint_signatures_and_quorum(world, books, tmp_path):
    log_key = generate_signer(ORIGIN)
    village, township, county = (generate_cosigner(n) for n in
                                 ("village.example", "township.example", "county.example"))
    policy = parse_policy(
        f"log {log_key.vkey}\n"
        + "".join(f"witness {c.name.split('.')[0]} {c.vkey}\n"
                  for c in (village, township, county))
        + "group sign-off 2 village township county\nquorum sign-off\n")
    with transaction(world.factory) as s:
        cps.sign(s, log_key)
    report = run(world, policy=policy)
    assert report.intact and report.quorum[report.size] is False
    with transaction(world.factory) as s:
        cps.cosign_latest(s, village, log_key.verifier(), tmp_path / "village.json", fresh=True)
        cps.cosign_latest(s, township, log_key.verifier(), tmp_path / "township.json", fresh=True)
    assert run(world, policy=policy).quorum[report.size] is True
    # Cosigning the same checkpoint again (nothing new sealed) keeps the first cosignature:
    # no second row, no error (the README tour cosigns after every seal).
    with transaction(world.factory) as s:
        first = cps.with_cosignatures(s, cps.latest(s))
        again = cps.cosign_latest(s, village, log_key.verifier(), tmp_path / "village.json")
        assert again.name == village.name
        assert cps.with_cosignatures(s, cps.latest(s)) == first


def test_a_forged_checkpoint_signature_is_found(world, books, engine):
    log_key, forger = generate_signer(ORIGIN), generate_signer(ORIGIN)
    with transaction(world.factory) as s:
        cps.sign(s, forger)
    policy = parse_policy(f"log {log_key.vkey}\nquorum none\n")
    report = run(world, policy=policy)
    assert any(f.kind == "checkpoint" and "signature" in f.message for f in report.findings)


def test_cosigner_refuses_a_log_inconsistent_with_what_it_signed(world, books, engine, tmp_path):
    log_key, auditor = generate_signer(ORIGIN), generate_cosigner("auditor.example")
    state = tmp_path / "auditor.json"
    with transaction(world.factory) as s:
        cps.sign(s, log_key)
        cps.cosign_latest(s, auditor, log_key.verifier(), state, fresh=True)
    rewrite_history(engine, entry=5)
    with transaction(world.factory) as s:
        pay_household(s, world, 100, "later")
        cps.sign(s, log_key)
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="not consistent"):
            cps.cosign_latest(s, auditor, log_key.verifier(), state)


def test_a_cleared_pending_hold_is_found(world, books, engine):
    """An UPDATE that frees money already promised to a pending payment (review finding)."""
    with transaction(world.factory) as s:
        pending = pay_household(s, world, 500_00, "held")
        assert pending.id
    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET credits_pending = 0 WHERE holder_code = '430121' "
                          "AND kind = 'unit'"))
    messages = [f.message for f in run(world).findings]
    assert any("unit:430121" in m and "pending" in m for m in messages), messages


def test_an_overdrawn_account_and_an_unbalanced_lot_are_found(world, books, engine):
    tamper(engine, "UPDATE postings SET amount_fen = amount_fen * 1000 WHERE amount_fen > 0 "
           "AND transfer_id = (SELECT MAX(id) FROM transfers)")
    messages = " ".join(f.message for f in run(world).findings)
    assert "postings sum to" in messages


def test_a_row_the_ledger_cannot_read_is_a_finding_not_a_crash(world, books, engine):
    """A kind no enum holds (SQLite keeps enums as text; an administrator switched its CHECK
    off): the row cannot even be converted. Verify names the table in a finding whichever of
    its paths meets it first, instead of crashing, and calls no row of it deleted."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's enum type refuses the value itself")
    tamper(engine, "PRAGMA ignore_check_constraints = ON",
           f"UPDATE transfers SET kind = 'BOGUS' WHERE id = {books}",
           "PRAGMA ignore_check_constraints = OFF")
    report = run(world)
    assert not report.intact
    rows = [f for f in report.findings if f.kind == "row"]
    assert any(f.table == "transfers" and "cannot read" in f.message for f in rows), rows
    assert not any("deleted" in f.message for f in rows), rows
