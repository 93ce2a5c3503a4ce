"""The alert lifecycle through the command line: scan, no duplicates on re-scan, evidence
updates, transitions with reason codes, suppression until a date, recovery links, per-rule
outcome counts — every step an audit-log entry, and the log still verifies."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ledger.audit.verify import verify
from ledger.models import AuditEntry, HouseholdStatus
from ledger.models.alerts import AlertEvent
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.ledger.alerts.helpers import Town, idn


@pytest.fixture
def ft(cli, db_url, world, monkeypatch, tmp_path):
    town = Town(world)
    town.household("HR", [("钱一", "户主", idn(11), None)], status=HouseholdStatus.REMOVED)
    town.first = town.pay("HR", 500_00, dt.date(2024, 6, 3))

    run = cli
    run.town = town
    return run


def _entries(town):
    with transaction(town.world.factory) as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_scan_show_and_work_an_alert(ft):
    auditor = ["--as", "auditor", "alerts"]
    code, out, _ = ft(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06", "--json")
    assert code == 1  # open alerts remain
    report = json.loads(out)
    (alert,) = report["open"]
    assert alert["rule_id"] == "BEN-06" and alert["entity"] == "household:HR"
    for field in ("title_zh", "title_en", "why", "basis", "threshold", "observed", "evidence",
                  "amount_at_risk_fen", "next_action", "disclaimer"):
        assert alert[field], field
    assert alert["evidence"]["transfers"][0]["transfer_id"] == ft.town.first
    assert "not a finding" in alert["disclaimer"]

    code, out, _ = ft(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06")
    assert "0 raised" in out and "1 unchanged" in out  # same fingerprint: no duplicate
    ft.town.pay("HR", 700_00, dt.date(2024, 7, 1), memo="再次")
    code, out, _ = ft(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06")
    assert "1 updated" in out and "¥      1,200.00" in out

    aid = alert["id"]
    code, _, err = ft(*auditor, "transition", aid, "--to", "confirmed")
    assert code == 2 and "can move to dismissed, investigating" in err
    assert ft(*auditor, "transition", aid, "--to", "investigating")[0] == 0
    code, _, err = ft(*auditor, "transition", aid, "--to", "dismissed")
    assert code == 2 and "needs --reason" in err
    code, _, err = ft("--as", "k_clerk", "alerts", "transition", aid, "--to", "confirmed")
    assert code == 2 and "may not audit" in err
    assert ft(*auditor, "transition", aid, "--to", "confirmed")[0] == 0
    code, _, err = ft(*auditor, "transition", aid, "--to", "recovering")
    assert code == 2 and "--recovery" in err
    before = _entries(ft.town)
    assert ft(*auditor, "transition", aid, "--to", "recovering", "--recovery",
              ft.town.first)[0] == 0
    assert _entries(ft.town) == before + 1  # every transition is a log entry
    assert ft(*auditor, "transition", aid, "--to", "recovered", "--recovery",
              ft.town.first)[0] == 0

    code, out, _ = ft(*auditor, "show", aid, "--json")
    shown = json.loads(out)
    assert [h["state"] for h in shown["history"]] == [
        "open", "open", "investigating", "confirmed", "recovering", "recovered"]
    assert shown["history"][-1]["recovery_transfer_id"] == ft.town.first
    code, out, _ = ft(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06")
    assert code == 0 and "1 unchanged" in out  # people own it now
    code, out, _ = ft(*auditor, "rules", "--json")
    ben06 = next(r for r in json.loads(out) if r["id"] == "BEN-06")
    assert ben06["confirmed"] == 1 and ben06["dismissed"] == 0
    with transaction(ft.town.world.factory) as s:
        assert verify(s).intact


def test_dismissal_suppresses_until_a_date_then_reopens(ft):
    auditor = ["--as", "auditor", "alerts"]
    out = json.loads(ft(*auditor, "scan", "--as-of", "2024-12-31", "--rule", "BEN-06",
                        "--json")[1])
    aid = out["open"][0]["id"]
    code, _, err = ft(*auditor, "transition", aid, "--to", "dismissed", "--reason",
                      "data_error", "--until", "2025-06-30")
    assert code == 2 and "legitimate_exception" in err
    assert ft(*auditor, "transition", aid, "--to", "dismissed", "--reason",
              "legitimate_exception", "--until", "2025-06-30", "--note", "复核后符合条件")[0] == 0
    code, out, _ = ft(*auditor, "scan", "--as-of", "2025-01-31", "--rule", "BEN-06")
    assert code == 0 and "1 suppressed" in out
    code, out, _ = ft(*auditor, "scan", "--as-of", "2025-07-01", "--rule", "BEN-06")
    assert code == 1 and "1 reopened" in out
    code, out, _ = ft(*auditor, "list", "--json")
    assert [a["state"] for a in json.loads(out)] == ["open"]
    code, out, _ = ft(*auditor, "rules")
    assert code == 0 and "BEN-06" in out
    with transaction(ft.town.world.factory) as s:
        kinds = [e.kind.value for e in s.execute(select(AlertEvent).order_by(AlertEvent.id))
                 .scalars()]
    assert kinds == ["raised", "transition", "reopened"]


def test_a_payment_to_a_deceased_head_is_flagged_as_it_is_recorded(world):
    from ledger.models.alerts import Alert
    town = Town(world)
    town.household("HD", [("李故", "户主", idn(21), dt.date(2024, 3, 1))])
    town.household("HM", [("李同", "户主", idn(22), dt.date(2024, 6, 1))])
    town.pay("HD", 900_00, dt.date(2024, 6, 3), approve=False)   # still pending: flagged
    town.pay("HD", 100_00, dt.date(2024, 6, 4), memo="二次")     # one alert per household
    town.pay("HM", 900_00, dt.date(2024, 6, 3))                  # the month of death
    with transaction(world.factory) as s:
        alerts = s.execute(select(Alert)).scalars().all()
        assert [(a.rule_id, a.entity_key) for a in alerts] == [("BEN-01", "HD")]
        event = s.execute(select(AlertEvent)).scalar_one()
        assert event.note == "at posting" and event.amount_at_risk_fen == 900_00
        assert verify(s).intact


def test_a_death_recorded_later_or_listed_is_also_flagged_at_posting(world):
    """All three sources of a head's death raise BEN-01 as the payment is recorded, each
    naming its source: the registry's date, a death recorded later, a deaths list."""
    from ledger.households.changes import record_death
    from ledger.models.alerts import Alert
    from ledger.registers.external import ListKind, ListRecord
    town = Town(world)
    later = town.household("HL", [("王后", "户主", idn(31), None)])
    town.household("HX", [("王列", "户主", idn(32), None)])
    with transaction(world.factory) as s:
        record_death(s, get_user(s, "k_clerk"), later[0], dt.date(2024, 2, 1))
    town.listing(ListKind.DEATHS, [ListRecord(2, "王列", idn(32), date_from=dt.date(2024, 3, 1))])
    town.pay("HL", 500_00, dt.date(2024, 6, 3))
    town.pay("HX", 500_00, dt.date(2024, 6, 3))
    with transaction(world.factory) as s:
        raised = {a.entity_key: e.finding["evidence"]["death_source"] for a, e in s.execute(
            select(Alert, AlertEvent).join(AlertEvent, AlertEvent.alert_id == Alert.id))}
    assert raised == {"HL": "household registry (death recorded later)",
                      "HX": "deaths list 测试来源 (2024-12-01)"}
