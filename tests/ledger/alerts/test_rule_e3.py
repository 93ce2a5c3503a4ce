"""Alert "E3": a payment roll approved before its publicity window (公示), counted from the day
its publication was recorded, had passed — the typed dates keep the window, the log's days do
not. A true positive and one case per exclusion (docs/alerts.md, "Adding a rule")."""
from __future__ import annotations

import datetime as dt

from ledger.alerts.base import ScanContext
from ledger.alerts.rules import CHECKS
from ledger.alerts.settings import AlertSettings
from ledger.core import clock
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.reports import scenario
from tests.world import COUNTY


def _findings(world, as_of):
    with transaction(world.factory) as s:
        return CHECKS["E3"](ScanContext(s, AlertSettings(), as_of))


def _roll(world, code, households, dated):
    with transaction(world.factory) as s:
        rolls.create_roll(s, world.user(s, "k_clerk"), code=code, lot_id=world.lot_id,
                          county_code=COUNTY, item="产业奖补", function_code="2130505",
                          use_code="household_subsidy", standard_fen=100_00,
                          lines=[(h, 1) for h in households], as_of=dated)


def test_a_roll_approved_before_its_recorded_window_raises_e3_once(world, tmp_path):
    sc = scenario.build(world, tmp_path, households=3)   # its roll: every step on its day
    today = clock.today()
    dated = today - dt.timedelta(days=45)
    typed_end = rolls.publicity_ends(dated, 7)            # the window by the typed date
    recorded_end = rolls.publicity_ends(typed_end, 7)     # by a publication recorded then
    assert recorded_end <= today

    # E-EARLY: published "45 days ago" on the day the typed window ends, approved that day.
    _roll(world, "E-EARLY", sc.households[:2], dated)
    with transaction(world.factory) as s, clock.at(typed_end):
        rolls.publish(s, world.user(s, "k_clerk"), "E-EARLY", dated, reason="补录")
        rolls.approve_roll(s, world.user(s, "k_approver"), "E-EARLY", typed_end, 7)
        rolls.send(s, world.user(s, "k_clerk"), "E-EARLY", typed_end)
    # E-WAITED: backdated the same way, but approved once the recorded window had passed.
    _roll(world, "E-WAITED", sc.households[2:], dated)
    with transaction(world.factory) as s, clock.at(typed_end):
        rolls.publish(s, world.user(s, "k_clerk"), "E-WAITED", dated)
    with transaction(world.factory) as s, clock.at(recorded_end):
        rolls.approve_roll(s, world.user(s, "k_approver"), "E-WAITED", recorded_end, 7)
    # E-OPEN: backdated, not approved: nothing to say yet.
    _roll(world, "E-OPEN", sc.households[:1], dated)
    with transaction(world.factory) as s:
        rolls.publish(s, world.user(s, "k_clerk"), "E-OPEN", dated)

    found = _findings(world, today)
    assert [(f.entity_kind, f.entity_key, f.region_code, f.amount_at_risk_fen)
            for f in found] == [("roll", "E-EARLY", COUNTY, 200_00)]
    evidence = found[0].evidence
    assert evidence["published"] == dated.isoformat()
    assert evidence["publication_recorded"] == typed_end.isoformat()
    assert evidence["approved"] == evidence["approval_recorded"] == typed_end.isoformat()
    assert evidence["first_approvable_by_recording"] == recorded_end.isoformat()
    assert evidence["first_approvable_by_typed_date"] == typed_end.isoformat()
    assert evidence["reason"] == "补录" and evidence["sent"] == typed_end.isoformat()
    # an approval typed after the scan's day is not judged yet
    assert _findings(world, typed_end - dt.timedelta(days=1)) == []


def test_e3_judges_the_window_the_ledger_keeps():
    from types import SimpleNamespace

    from ledger.alerts.settings import alert_settings
    assert alert_settings(SimpleNamespace(roll_publicity_working_days=5)) \
        .e3_roll_working_days == 5
    assert alert_settings(SimpleNamespace(roll_publicity_working_days=5, extra={
        "alerts": {"e3_roll_working_days": 9}})).e3_roll_working_days == 9
