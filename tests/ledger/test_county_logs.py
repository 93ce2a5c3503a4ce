"""One audit log per county (docs/scaling.md): several logs in one database.

The province keeps its own log (the world is built in it); each county appends its payments to
a log of its own origin. Each log verifies on its own, rows bound to one log cannot pass for
another's, and on PostgreSQL an append to one county's log does not wait on another county's
append that is still open.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from ledger.audit import checkpoints as cps
from ledger.audit.log import entry_bytes
from ledger.audit.tlog import merkle, proofs
from ledger.audit.tlog.note import Ed25519Signer
from ledger.audit.verify import bound_models, log_origins, verify
from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.funds import flows
from ledger.models import AuditHead, Transfer
from ledger.org.regions import get_user
from ledger.store import guards
from ledger.store.context import LedgerContext, use_log
from ledger.store.db import make_engine, make_sessionmaker, transaction
from tests.world import COUNTY, COUNTY2, DAY, PROVINCE

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)

ORIGIN_A = f"fundtrail.example/{COUNTY}/2024"
ORIGIN_B = f"fundtrail.example/{COUNTY2}/2024"


def _allocate_to_counties(world) -> None:
    """Province → city → both counties, in the province's log."""
    from ledger.funds import posting
    from tests.world import CITY
    with transaction(world.factory) as s:
        for frm, to, who, approver, key in [
                (PROVINCE, CITY, "p_clerk", "p_approver", "a1"),
                (CITY, COUNTY, "c_clerk", "c_approver", "a2"),
                (CITY, COUNTY2, "c_clerk", "c_approver", "a3")]:
            t = flows.allocate(s, get_user(s, who), lot_id=world.lot_id, from_region=frm,
                               to_region=to, amount_fen=30_000_00 if to != CITY else 60_000_00,
                               effective_date=DAY, key=key)
            posting.approve(s, get_user(s, approver), t.id)


def _pay(s, world, clerk, payee, county, key, amount=1_000_00) -> Transfer:
    return flows.pay(s, get_user(s, clerk), lot_id=world.lot_id, payee_code=payee,
                     amount_fen=amount, function_code="2130505", use_code="household_subsidy",
                     county_code=county, effective_date=DAY, key=key)


def _in_log(factory, origin):
    s = factory()
    use_log(s, origin)
    return s


def _pay_in_county_logs(world, count=3) -> None:
    for i in range(count):
        with transaction(world.factory) as s:
            use_log(s, ORIGIN_A)
            _pay(s, world, "k_clerk", "H-001", COUNTY, f"a-{i}")
        with transaction(world.factory) as s:
            use_log(s, ORIGIN_B)
            _pay(s, world, "k2_clerk", "H-201", COUNTY2, f"b-{i}")


def _verify(factory, origin):
    with transaction(factory) as s:
        use_log(s, origin)
        return verify(s)


def test_each_county_log_verifies_on_its_own(world):
    _allocate_to_counties(world)
    with transaction(world.factory) as s:
        province_size = s.execute(select(AuditHead.size)).scalar_one()
    _pay_in_county_logs(world)

    with transaction(world.factory) as s:
        assert log_origins(s) == [DEMO_LOG_ORIGIN, ORIGIN_A, ORIGIN_B]
        heads = {h.origin: h for h in s.execute(select(AuditHead)).scalars()}
        # each log counts its own entries, from 0
        assert heads[DEMO_LOG_ORIGIN].size == province_size
        assert heads[ORIGIN_A].size == heads[ORIGIN_B].size == 3
        assert len({h.log_id for h in heads.values()}) == 3
        # a county's first entry is entry 0 of its own log, naming its own origin
        from ledger.audit.entries import decode_entry
        use_log(s, ORIGIN_B)
        first = decode_entry(entry_bytes(s, 0))
        assert (first["origin"], first["index"], first["kind"]) == (ORIGIN_B, 0,
                                                                    "transfer.record")
        payment = s.execute(select(Transfer).where(Transfer.idempotency_key == "b-0")) \
            .scalar_one()
        assert (payment.log_id, payment.log_index) == (heads[ORIGIN_B].log_id, 0)

    for origin, size in [(DEMO_LOG_ORIGIN, province_size), (ORIGIN_A, 3), (ORIGIN_B, 3)]:
        report = _verify(world.factory, origin)
        assert report.intact, (origin, [f.message for f in report.findings])
        assert report.size == size
    # the rows each log binds are its own: together they are every bound row once
    reports = [_verify(world.factory, o) for o in (DEMO_LOG_ORIGIN, ORIGIN_A, ORIGIN_B)]
    with transaction(world.factory) as s:
        bound = sum(s.execute(select(func.count()).select_from(m.class_.__table__)).scalar_one()
                    for m in bound_models())
    assert sum(r.rows_checked for r in reports) == bound
    # a county's three payments: a transfer and two postings each, and the payee's account
    assert reports[1].rows_checked == reports[2].rows_checked == 3 * 3 + 1


def test_a_county_log_signs_and_proves_its_own_checkpoints(world):
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=2)
    signer = Ed25519Signer(ORIGIN_A, bytes(range(32)))
    with transaction(world.factory) as s:
        use_log(s, ORIGIN_A)
        row = cps.sign(s, signer)
        assert (row.origin, row.size) == (ORIGIN_A, 2)
    with transaction(world.factory) as s:
        use_log(s, ORIGIN_A)
        row = cps.latest(s)
        entry = entry_bytes(s, 1)
        proof = proofs.build_proof(1, cps.with_cosignatures(s, row), cps.node_reader(s),
                                   extra=entry)
        merkle.verify_inclusion(merkle.leaf_hash(entry), 1, row.size, proof.path,
                                bytes(row.root))


def _drop_guards(engine, *tables):
    """What an attacker with the database's owner rights does first."""
    with engine.begin() as conn:
        guards.uninstall_tables(conn, tables)


def test_a_row_moved_to_another_log_is_found_in_both(world, engine):
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=2)
    with transaction(world.factory) as s:
        ids = dict(s.execute(select(AuditHead.origin, AuditHead.log_id)).all())
    _drop_guards(engine, "transfers")
    with engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET log_id = :b WHERE idempotency_key = 'a-1'"),
                     {"b": ids[ORIGIN_B]})
    a, b = _verify(world.factory, ORIGIN_A), _verify(world.factory, ORIGIN_B)
    assert any("transfers" in f.message and "gone" in f.message for f in a.findings), \
        [f.message for f in a.findings]
    assert any("transfers" in f.message for f in b.findings), [f.message for f in b.findings]


def test_rows_under_a_log_id_no_log_has_are_found(world, engine):
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=1)
    _drop_guards(engine, "transfers")
    with engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET log_id = 99 WHERE idempotency_key = 'b-0'"))
    report = _verify(world.factory, DEMO_LOG_ORIGIN)
    assert any("log id 99" in f.message for f in report.findings), \
        [f.message for f in report.findings]


def test_the_command_line_verifies_each_log(world, cli):
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=1)
    code, out, err = cli("verify")
    assert code == 0, err
    assert f"this database also holds the logs {ORIGIN_A}, {ORIGIN_B}" in out
    code, out, err = cli("verify", "--origin", ORIGIN_B)
    assert code == 0, err
    assert f"intact: {ORIGIN_B}, 1 entries" in out


@pytest.fixture
def pg_url(request):
    return request.getfixturevalue("fresh_pg_url")


def test_appends_to_one_county_log_do_not_wait_on_another(pg_url):
    """County A's payment is recorded and held uncommitted; county B's payment in its own log
    must commit meanwhile, under a lock timeout of one second, then A commits: two counties'
    logs are independent (docs/scaling.md). Both logs are opened by these first appends, so
    opening a log does not make another wait either."""
    from tests.world import build_world
    engine = make_engine(pg_url, connect_args={"options": "-c lock_timeout=1000"})
    factory = make_sessionmaker(engine, TEST_CONTEXT)
    world = build_world(factory)
    _allocate_to_counties(world)

    a = _in_log(factory, ORIGIN_A)
    a.begin()
    paid_a = _pay(a, world, "k_clerk", "H-001", COUNTY, "held-a")
    a.flush()                      # A holds its log's head and its accounts, uncommitted

    outcome = {}

    def county_b():
        try:
            with transaction(factory) as b:
                use_log(b, ORIGIN_B)
                outcome["id"] = _pay(b, world, "k2_clerk", "H-201", COUNTY2, "free-b").id
        except Exception as exc:  # a lock timeout would land here
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=county_b)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and "error" not in outcome, outcome
    a.commit()
    a.close()

    with transaction(factory) as s:
        heads = {h.origin: h.size for h in s.execute(select(AuditHead)).scalars()}
        assert heads[ORIGIN_A] == heads[ORIGIN_B] == 1
        assert s.get(Transfer, paid_a.id) is not None and s.get(Transfer, outcome["id"])
    for origin in (DEMO_LOG_ORIGIN, ORIGIN_A, ORIGIN_B):
        report = _verify(factory, origin)
        assert report.intact, (origin, [f.message for f in report.findings])
    engine.dispose()


def test_appends_to_the_same_log_still_wait(pg_url):
    """The control for the test above: the same lock timeout does stop a second append to the
    log A holds (so the test above shows independence, not a timeout too long to matter)."""
    from tests.world import build_world
    engine = make_engine(pg_url, connect_args={"options": "-c lock_timeout=1000"})
    factory = make_sessionmaker(engine, TEST_CONTEXT)
    world = build_world(factory)
    _allocate_to_counties(world)
    with transaction(factory) as s:   # open the log first: the head row exists
        use_log(s, ORIGIN_A)
        _pay(s, world, "k_clerk", "H-001", COUNTY, "open-a")
    a = _in_log(factory, ORIGIN_A)
    a.begin()
    _pay(a, world, "k_clerk", "H-001", COUNTY, "held-a")
    a.flush()
    from ledger.core.errors import StorageError
    with pytest.raises(StorageError, match="lock timeout"):
        with transaction(factory) as b:
            use_log(b, ORIGIN_A)
            _pay(b, world, "k_clerk", "H-002", COUNTY, "waits-a")
    a.rollback()
    a.close()
    engine.dispose()


def test_with_one_log_a_row_or_entry_under_another_log_id_is_found(world, engine):
    """A database with one log reads every bound row whatever its log id, so a row moved to
    an id no log has is reported; entries and nodes under such an id are reported too."""
    _drop_guards(engine, "transfers")
    with engine.begin() as conn:
        conn.execute(text("UPDATE transfers SET log_id = 7 WHERE id = "
                          "(SELECT min(id) FROM transfers)"))
        conn.execute(text("INSERT INTO audit_entries (log_id, idx, entry, leaf_hash) "
                          "SELECT 9, idx, entry, leaf_hash FROM audit_entries WHERE idx = 0"))
    report = _verify(world.factory, DEMO_LOG_ORIGIN)
    messages = [f.message for f in report.findings]
    assert any("transfers" in m and "names log id 7" in m for m in messages), messages
    assert any("audit_entries: 1 row(s) under log id 9" in m for m in messages), messages


# --------------------------------------------------------------------- the province over counties

def _sign(factory, origin):
    with transaction(factory) as s:
        use_log(s, origin)
        return cps.sign(s, Ed25519Signer(origin, bytes(range(32))))


def test_the_province_log_records_the_county_heads_and_verifies_them(world, engine):
    from ledger.audit.county_heads import record_county_heads
    from ledger.core.errors import PermissionDenied
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=2)
    a_head, b_head = _sign(world.factory, ORIGIN_A), _sign(world.factory, ORIGIN_B)
    with transaction(world.factory) as s:   # a county clerk may not speak for the province
        with pytest.raises(PermissionDenied):
            record_county_heads(s, get_user(s, "k_clerk"))
    with transaction(world.factory) as s:
        index, heads = record_county_heads(s, get_user(s, "p_clerk"))
    assert heads == [{"origin": o, "size": 2, "root": bytes(h.root).hex()}
                     for o, h in ((ORIGIN_A, a_head), (ORIGIN_B, b_head))]
    with transaction(world.factory) as s:
        from ledger.audit.entries import decode_entry
        entry = decode_entry(entry_bytes(s, index))
        assert entry["kind"] == "county.heads" and entry["details"]["heads"] == heads
    assert _verify(world.factory, DEMO_LOG_ORIGIN).intact

    # County B's log rewritten wholesale after the province recorded it: a payment taken out
    # of its history and the tree rebuilt, so B's own log is consistent again by itself...
    with transaction(world.factory) as s:
        b_id = s.execute(select(AuditHead.log_id).where(AuditHead.origin == ORIGIN_B)) \
            .scalar_one()
    _drop_guards(engine, "audit_entries", "audit_nodes")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET leaf_hash = :h WHERE log_id = :b AND idx = 1"),
                     {"h": b"\x01" * 32, "b": b_id})
        conn.execute(text("UPDATE audit_nodes SET hash = :h WHERE log_id = :b AND level = 1 "
                          "AND idx = 0"), {"h": b"\x02" * 32, "b": b_id})
    # ...the province's log, which never changed, says so
    report = _verify(world.factory, DEMO_LOG_ORIGIN)
    messages = [f.message for f in report.findings]
    assert any(ORIGIN_B in m and "rewritten after the province recorded it" in m
               for m in messages), messages
    assert not any(ORIGIN_A in m for m in messages)


def test_the_command_line_records_the_county_heads(world, cli):
    _allocate_to_counties(world)
    _pay_in_county_logs(world, count=1)
    _sign(world.factory, ORIGIN_A)
    code, out, err = cli("--as", "p_clerk", "checkpoint", "county-heads")
    assert code == 0, err
    assert f"records 1 log head(s):\n  {ORIGIN_A} size 1" in out
    code, out, err = cli("verify")
    assert code == 0, err
