"""Alerts from the oversight channels: a complaint past its deadline (G6), a complaint found
substantiated (CMP-01) — raised by a scan, worked like any alert, never naming who complained —
and a field check that found a discrepancy (CHK-01)."""
from __future__ import annotations

import datetime as dt
import json

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.core.pii import PiiVault
from ledger.models.oversight import ComplaintChannel as Ch
from ledger.models.oversight import ComplaintSubject as Subj
from ledger.models.oversight import VisitOutcome
from ledger.oversight import complaints as cp
from ledger.oversight import sampling
from ledger.store.db import transaction
from tests.ledger.test_complaints import NAME, PHONE, RECEIVED, day
from tests.ledger.test_sampling import county, sign  # noqa: F401  (county: a fixture)
from tests.world import COUNTY


def _findings(world, rule_id, as_of):
    with transaction(world.factory) as s:
        return CHECKS[rule_id](ScanContext(s, AlertSettings(), as_of, PiiVault.from_env()))


def test_a_late_complaint_and_a_substantiated_one_raise_alerts(world):
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        late = cp.find_by_receipt(s, cp.file_complaint(
            s, Ch.COUNTY_PHONE, Subj.HOUSEHOLD, "H-001", "补贴只领到一半", vault=vault,
            complainant={"name": NAME, "phone": PHONE}, actor=world.user(s, "k_clerk"),
            received_on=RECEIVED), vault).id
        done = cp.find_by_receipt(s, cp.file_complaint(
            s, Ch.LETTER, Subj.HOUSEHOLD, "H-002", "冒名领取", vault=vault,
            actor=world.user(s, "k_clerk"), received_on=RECEIVED), vault).id
    with transaction(world.factory) as s:
        cp.assign(s, world.user(s, "k_approver"), done, "k_clerk", day(1))
    with transaction(world.factory) as s:
        cp.investigate(s, world.user(s, "k_clerk"), done, day(2))
    with transaction(world.factory) as s:
        cp.answer(s, world.user(s, "k_clerk"), done, day(3), "已查实，启动追回。")
    with transaction(world.factory) as s:
        cp.close(s, world.user(s, "k_clerk"), done, day(4), substantiated=True)

    assert _findings(world, "G6", day(15)) == []  # due that day: not late yet
    g6 = _findings(world, "G6", day(17))
    assert [(f.entity_key, f.region_code) for f in g6] == [(f"{late}:close", COUNTY)]
    assert "2 days after" in g6[0].observed
    assert {f.entity_key for f in _findings(world, "G6", day(25))} == \
        {f"{late}:close", f"{late}:answer"}
    cmp = _findings(world, "CMP-01", day(25))
    assert [(f.entity_key, f.evidence["subject"]) for f in cmp] == [(str(done), "household:H-002")]
    for f in g6 + cmp:  # the complainant is never part of an alert
        text = json.dumps(f.as_dict(), ensure_ascii=False)
        assert NAME not in text and PHONE not in text


def test_a_field_check_that_found_a_discrepancy_raises_an_alert(county):  # noqa: F811
    world, visited = county, dt.date(2024, 4, 1)
    with transaction(world.factory) as s:
        cid = sampling.commit_sample(s, world.user(s, "auditor"), county_code=COUNTY,
                                     size=3).id
    with transaction(world.factory) as s:
        sign(s)
    with transaction(world.factory) as s:
        drawn = sampling.draw_sample(s, world.user(s, "auditor"), cid)
    (_, first), (_, second) = drawn.households[:2]

    def visit(household, outcome, details=""):
        with transaction(world.factory) as s:
            sampling.record_visit(s, world.user(s, "auditor"), cid, household, outcome=outcome,
                                  details=details, visited_on=visited)
    visit(first, VisitOutcome.DISCREPANCY, "户主称未收到2024年产业奖补")
    visit(second, VisitOutcome.CONFIRMED)
    found = _findings(world, "CHK-01", day(30))
    assert [(f.entity_key, f.region_code) for f in found] == [(f"{cid}:{first}", COUNTY)]
    assert found[0].evidence["details"] == "户主称未收到2024年产业奖补"
    visit(first, VisitOutcome.CONFIRMED)   # a revisit found the books right: the latest counts
    assert _findings(world, "CHK-01", day(30)) == []
