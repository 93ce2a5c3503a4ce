"""Complaints from filing to closing, deadlines and who may see the complainant — on SQLite and
PostgreSQL — plus the receipt number's check symbol."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ledger.audit.entries import decode_entry
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, NotFound, PermissionDenied
from ledger.core.pii import PiiVault
from ledger.households import registry as households
from ledger.models import AuditEntry, HouseholdStatus, Role
from ledger.models.oversight import Complaint
from ledger.models.oversight import ComplaintChannel as Ch
from ledger.models.oversight import ComplaintSubject as Subj
from ledger.org import regions
from ledger.oversight import complaints as cp
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.world import CITY, COUNTY, TOWNSHIP, VILLAGE

NAME, PHONE = "刘秀英", "13907311234"
RECEIVED = dt.date(2024, 3, 1)          # close due 03-16, answer due 03-21


def day(n: int) -> dt.date:
    return RECEIVED + dt.timedelta(days=n)


# ----------------------------------------------------------------------------- receipts

def test_receipt_is_short_and_checked():
    receipt = cp.new_receipt()
    assert len(receipt) == 11 and cp.normalise_receipt(receipt) == receipt
    spoken = cp.format_receipt(receipt).lower().replace("0", "o").replace("1", "l")
    assert cp.normalise_receipt(spoken) == receipt
    assert len({cp.new_receipt() for _ in range(2000)}) == 2000


@given(st.integers(0, 10), st.integers(1, 31), st.data())
def test_any_single_wrong_symbol_is_caught(position, shift, data):
    receipt = cp.new_receipt()
    wrong = cp.ALPHABET[(cp.ALPHABET.index(receipt[position]) + shift) % 32]
    typo = receipt[:position] + wrong + receipt[position + 1:]
    with pytest.raises(NotFound, match="typing error"):
        cp.normalise_receipt(typo)


# ----------------------------------------------------------------------------- a whole life

@pytest.fixture
def vault():
    return PiiVault.from_env()


@pytest.fixture
def people(world):
    """Users of the village and township complained about, besides the world's users."""
    with transaction(world.factory) as s:
        admin = world.user(s, "admin")
        regions.add_user(s, admin, username="v_clerk", display_name="村会计", role=Role.CLERK,
                         region_code=VILLAGE)
        regions.add_user(s, admin, username="t_approver", display_name="乡长",
                         role=Role.APPROVER, region_code=TOWNSHIP)
    return world


def test_a_named_complaint_from_phone_to_substantiated(people, vault):
    world = people
    with transaction(world.factory) as s:
        receipt = cp.file_complaint(
            s, Ch.COUNTY_PHONE, Subj.HOUSEHOLD, "H-001", "产业奖补只领到一半", vault=vault,
            complainant={"name": NAME, "phone": PHONE}, actor=world.user(s, "k_clerk"),
            received_on=RECEIVED)
        cid = cp.find_by_receipt(s, receipt).id
        complaint = s.get(Complaint, cid)
        assert (complaint.county_code, complaint.handling_region_code) == (COUNTY, COUNTY)
        assert (complaint.close_due, complaint.answer_due) == (day(15), day(20))

    # nothing happens for 17 days: the closing deadline is missed, the answer one not yet
    with transaction(world.factory) as s:
        assert cp.overdue_complaints(s, day(15)) == []
        found = cp.overdue_complaints(s, day(17))
        assert [(f["id"], f["deadline_kind"], f["days_overdue"], f["region"]) for f in found] \
            == [(cid, "close", 2, COUNTY)]
        assert {f["deadline_kind"]: f["days_overdue"] for f in cp.overdue_complaints(
            s, day(25))} == {"close": 10, "answer": 5}

    with transaction(world.factory) as s:
        handler = world.user(s, "k_clerk")
        with pytest.raises(PermissionDenied):   # only the unit's approver assigns
            cp.assign(s, handler, cid, "k_clerk", day(1))
        with pytest.raises(PermissionDenied, match="not the officer"):  # nobody assigned yet
            cp.investigate(s, handler, cid, day(1))
    with transaction(world.factory) as s:
        cp.assign(s, world.user(s, "k_approver"), cid, "k_clerk", day(1),
                  note=f"来电人 {NAME} 要求回电", vault=vault)
    with transaction(world.factory) as s:
        with pytest.raises(PermissionDenied, match="not the officer"):
            cp.investigate(s, world.user(s, "k_approver"), cid, day(2))
        cp.investigate(s, world.user(s, "k_clerk"), cid, day(2))
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="investigating; it cannot be closed"):
            cp.close(s, world.user(s, "k_clerk"), cid, day(19), True)
        cp.answer(s, world.user(s, "k_clerk"), cid, day(18),
                  "经核查，少发部分已补发到一卡通。")
    with transaction(world.factory) as s:
        with pytest.raises(LedgerError, match="answered; it cannot be investigating"):
            cp.investigate(s, world.user(s, "k_clerk"), cid, day(19))
        with pytest.raises(LedgerError, match="between 2024-03-19"):
            cp.close(s, world.user(s, "k_clerk"), cid, day(17), substantiated=True)
        cp.close(s, world.user(s, "k_clerk"), cid, day(19), substantiated=True)

    with transaction(world.factory) as s:
        today = dt.date.today()
        assert cp.overdue_complaints(s, today) == []
        late = cp.overdue_complaints(s, today, include_late=True)
        assert [(f["deadline_kind"], f["days_overdue"], f["still_open"]) for f in late] == \
            [("close", 4, False)]
        assert [(c["id"], c["subject_code"], c["county"]) for c in
                cp.substantiated_complaints(s)] == [(cid, "H-001", COUNTY)]
        stats = cp.complaint_stats(s, COUNTY, year=2024)
        assert {k: stats[k] for k in ("received", "answered", "answered_on_time", "closed",
                                      "closed_on_time", "substantiated", "open_overdue")} == \
            {"received": 1, "answered": 1, "answered_on_time": 1, "closed": 1,
             "closed_on_time": 0, "substantiated": 1, "open_overdue": 0}
        assert cp.complaint_stats(s, "430122")["received"] == 0

        status = cp.complaint_status_public(s, cp.format_receipt(receipt).lower())
        assert status["state"] == "closed" and status["substantiated"] is True
        assert [x["step"] for x in status["steps"]] == ["assigned", "investigating",
                                                        "answered", "closed"]
        assert NAME not in json.dumps(status, ensure_ascii=False) and PHONE not in str(status)
        _privacy_rules(s, world, cid, vault)

        # every step is in the log; the name and phone are not, in any form
        entries = [decode_entry(bytes(e)) for e in s.execute(
            select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars()]
        kinds = [e["kind"] for e in entries if e["kind"].startswith("complaint.")]
        assert kinds == ["complaint.file", "complaint.assigned", "complaint.investigating",
                         "complaint.answered", "complaint.closed"]
        raw = b"".join(bytes(e) for e in s.execute(select(AuditEntry.entry)).scalars())
        assert NAME.encode() not in raw and PHONE.encode() not in raw
        assert verify(s).intact


def _privacy_rules(s, world, cid, vault):
    handler, auditor = world.user(s, "k_clerk"), world.user(s, "auditor")
    assert cp.complainant_identity(s, handler, vault, cid) == \
        {"named": True, "name": NAME, "phone": PHONE}
    assert cp.complaint_detail(s, auditor, cid, vault)["complainant"]["name"] == NAME
    colleague = cp.complaint_detail(s, world.user(s, "k_approver"), cid, vault)
    assert "complainant" not in colleague and colleague["summary"] == "产业奖补只领到一半"
    assert NAME not in json.dumps(colleague, ensure_ascii=False).replace(
        colleague["steps"][0]["note"], "")  # the note is the officer's own words
    for name in ("k_approver", "v_clerk", "t_approver", "k2_clerk"):
        with pytest.raises(PermissionDenied):
            cp.complainant_identity(s, world.user(s, name), vault, cid)
    for name in ("v_clerk", "t_approver", "k2_clerk"):   # the unit complained about, others
        with pytest.raises(PermissionDenied):
            cp.complaint_detail(s, world.user(s, name), cid, vault)
        assert cp.list_complaints(s, world.user(s, name)) == []


def test_a_complaint_about_a_county_project_goes_to_the_city(people, vault):
    world = people
    with transaction(world.factory) as s:
        receipt = cp.file_complaint(s, Ch.ONLINE, Subj.PROJECT, "P-001", "项目没有公示",
                                    vault=vault, complainant={"name": NAME})
        complaint = cp.find_by_receipt(s, receipt)
        assert complaint.handling_region_code == CITY and complaint.answer_due is not None
        assert cp.list_complaints(s, world.user(s, "k_approver")) == []
        assert [r["id"] for r in cp.list_complaints(s, world.user(s, "c_approver"))] == \
            [complaint.id]
        with pytest.raises(LedgerError, match="does not work for the handling unit"):
            cp.assign(s, world.user(s, "c_approver"), complaint.id, "k_clerk", dt.date.today())
        with pytest.raises(PermissionDenied):
            cp.complaint_detail(s, world.user(s, "k_clerk"), complaint.id, vault)
        cp.assign(s, world.user(s, "c_approver"), complaint.id, "c_clerk", dt.date.today())
        assert cp.complainant_identity(s, world.user(s, "c_clerk"), vault, complaint.id)[
            "name"] == NAME


def test_refusals_when_filing(people, vault):
    world = people
    with transaction(world.factory) as s:
        with pytest.raises(PermissionDenied, match="officer records calls"):
            cp.file_complaint(s, Ch.HOTLINE_12317, Subj.VILLAGE, VILLAGE, "x", vault=vault)
        with pytest.raises(PermissionDenied):   # another county's clerk
            cp.file_complaint(s, Ch.COUNTY_PHONE, Subj.VILLAGE, VILLAGE, "x", vault=vault,
                              actor=world.user(s, "k2_clerk"))
        with pytest.raises(NotFound):
            cp.file_complaint(s, Ch.ONLINE, Subj.HOUSEHOLD, "H-999", "x", vault=vault)
        with pytest.raises(LedgerError, match="not a village"):
            cp.file_complaint(s, Ch.ONLINE, Subj.VILLAGE, TOWNSHIP, "x", vault=vault)
        with pytest.raises(NotFound, match="ROLL-CODE:LINE-NUMBER"):
            cp.file_complaint(s, Ch.ONLINE, Subj.ROLL_LINE, "R-1", "x", vault=vault)
        receipt = cp.file_complaint(s, Ch.ONLINE, Subj.VILLAGE, VILLAGE, "村里修路钱去向不明",
                                    vault=vault)
        status = cp.complaint_status_public(s, receipt)
        assert status["answer_due"] is None and status["state"] == "received"
        with pytest.raises(NotFound, match="no complaint"):
            cp.complaint_status_public(s, cp.new_receipt())


def test_a_complaint_about_a_roll_line_goes_to_the_county(people, vault):
    world = people
    with transaction(world.factory) as s:
        clerk = world.user(s, "k_clerk")
        households.register_household(s, clerk, vault, code="H-300", village_code=VILLAGE,
                                      head_name="周六", status=HouseholdStatus.REGISTERED,
                                      registered_on=dt.date(2019, 5, 1),
                                      bank_card="6222021234567890123")
        rolls.create_roll(s, clerk, code="R-2024-07", lot_id=world.lot_id, county_code=COUNTY,
                          item="产业奖补", function_code="2130505", use_code="household_subsidy",
                          standard_fen=50000, lines=[("H-300", 1)], as_of=dt.date(2024, 3, 15))
        receipt = cp.file_complaint(s, Ch.VILLAGE_PHONE, Subj.ROLL_LINE, "R-2024-07:1",
                                    "公示金额与实际不符", vault=vault, actor=clerk)
        complaint = cp.find_by_receipt(s, receipt)
        assert (complaint.subject_region_code, complaint.handling_region_code) == \
            (VILLAGE, COUNTY)
        with pytest.raises(NotFound):
            cp.file_complaint(s, Ch.ONLINE, Subj.ROLL_LINE, "R-2024-07:2", "x", vault=vault)


@pytest.mark.parametrize("table", ["complaints", "complaint_events"])
def test_complaint_history_cannot_be_edited_in_the_database(people, vault, table):
    world = people
    with transaction(world.factory) as s:
        receipt = cp.file_complaint(s, Ch.ONLINE, Subj.VILLAGE, VILLAGE, "x", vault=vault)
        cid = cp.find_by_receipt(s, receipt, vault).id
        cp.assign(s, world.user(s, "k_approver"), cid, "k_clerk", dt.date.today())
    for statement in (f"UPDATE {table} SET log_index = 0", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match="append-only"):
            with transaction(world.factory) as s:
                s.execute(text(statement))


# ----------------------------------------------------------------------------- command line

@pytest.fixture
def ft(cli, db_url, people, monkeypatch, tmp_path):

    run = cli
    return run


def test_complaint_commands(ft):
    code, out, err = ft("--as", "k_clerk", "complaint", "file", "--channel", "12317",
                        "--about", "village", "--code", VILLAGE, "--summary", "公示名单有外村人",
                        "--name", NAME, "--phone", PHONE, "--date", "2024-03-01", "--json")
    assert code == 0, err
    receipt = json.loads(out)["receipt"]
    code, out, _ = ft("complaint", "status", receipt)
    assert code == 0 and "received" in out and NAME not in out
    code, out, _ = ft("complaint", "overdue", "--as-of", "2024-03-30", "--json")
    assert code == 1 and {r["deadline_kind"] for r in json.loads(out)} == {"close", "answer"}
    cid = json.loads(ft("--as", "k_approver", "complaint", "list", "--json")[1])[0]["id"]
    steps = [("k_approver", "assign", "--to", "k_clerk", "--date", "2024-03-02"),
             ("k_clerk", "investigate", "--date", "2024-03-03", "--note", "走访了村委会"),
             ("k_clerk", "answer", "--reply", "已核实，名单已更正", "--date", "2024-03-10"),
             ("k_clerk", "close", "--unsubstantiated", "--date", "2024-03-11")]
    for user, step, *args in steps:
        code, _, err = ft("--as", user, "complaint", step, cid, *args)
        assert code == 0, err
    code, out, _ = ft("--as", "k_clerk", "complaint", "show", cid)
    assert code == 0 and NAME in out and "走访了村委会" in out
    code, out, _ = ft("--as", "k_approver", "complaint", "show", cid)
    assert code == 0 and NAME not in out and "(withheld)" in out
    code, out, _ = ft("--as", "v_clerk", "complaint", "show", cid)
    assert code == 2
    code, out, _ = ft("complaints", "stats", "--county", COUNTY, "--json")
    stats = json.loads(out)
    assert (stats["received"], stats["answered_on_time"], stats["closed_on_time"],
            stats["substantiated"]) == (1, 1, 1, 0)
    assert ft("complaint", "overdue", "--as-of", "2024-03-30")[0] == 0
    code, _, err = ft("complaint", "status", "ABCD-EFGH-JKM")
    assert code == 2 and "receipt" in err


# ----------------------------------------------------------------------------- deadlines, at random

STEPS = ("assign", "investigate", "answer", "close")
scenario = st.lists(st.tuples(st.integers(0, 40), st.booleans(),
                              st.lists(st.integers(0, 12), max_size=4)), min_size=1, max_size=4)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario, st.integers(0, 80))
def test_overdue_query_agrees_with_a_plain_model(people, vault, cases, as_of_offset):
    """The set-based query against a per-complaint reference, for random histories."""
    world, as_of = people, day(as_of_offset)
    model = {}
    with transaction(world.factory) as s:
        for received, named, gaps in cases:
            when = day(received)
            receipt = cp.file_complaint(s, Ch.LETTER, Subj.VILLAGE, VILLAGE, "信", vault=vault,
                                        complainant={"name": NAME} if named else None,
                                        actor=world.user(s, "k_clerk"), received_on=when)
            cid = cp.find_by_receipt(s, receipt).id
            done = {}
            for step, gap in zip(STEPS, gaps):
                when += dt.timedelta(days=gap)
                if step == "assign":
                    cp.assign(s, world.user(s, "k_approver"), cid, "k_clerk", when)
                elif step == "answer":
                    cp.answer(s, world.user(s, "k_clerk"), cid, when, "已答复")
                elif step == "close":
                    cp.close(s, world.user(s, "k_clerk"), cid, when, False)
                else:
                    cp.investigate(s, world.user(s, "k_clerk"), cid, when)
                done[step] = when
            model[cid] = (day(received), named, done)
    with transaction(world.factory) as s:
        for late in (False, True):
            got = {(f["id"], f["deadline_kind"], f["days_overdue"], f["still_open"])
                   for f in cp.overdue_complaints(s, as_of, include_late=late) if f["id"] in model}
            assert got == _reference(model, as_of, late)


def _reference(model, as_of, include_late):
    expected = set()
    for cid, (received, named, done) in model.items():
        if received > as_of:
            continue
        deadlines = [("close", received + dt.timedelta(days=15), done.get("close"))]
        if named:
            deadlines.append(("answer", received + dt.timedelta(days=20), done.get("answer")))
        for kind, due, on in deadlines:
            on = on if on is not None and on <= as_of else None
            if on is None and as_of > due:
                expected.add((cid, kind, (as_of - due).days, True))
            elif on is not None and on > due and include_late:
                expected.add((cid, kind, (on - due).days, False))
    return expected


def test_the_audit_log_holds_no_receipt_only_its_keyed_digest(world):
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        receipt = cp.file_complaint(s, Ch.ONLINE, Subj.VILLAGE, VILLAGE, "补贴未到账",
                                    vault=vault)
        entries = [bytes(e) for e in s.execute(select(AuditEntry.entry)).scalars()]
        assert cp.complaint_status_public(s, receipt)["state"] == "received"
    assert not any(receipt.encode() in e for e in entries)
    assert any(vault.digest(receipt).encode() in e for e in entries)
