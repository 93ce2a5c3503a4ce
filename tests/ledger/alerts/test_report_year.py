"""The county annual report lists the alerts about that year's money (issue 20): an alert is
placed by the year of the payments, lot or roll it concerns, not by the day a scan saw it."""
from __future__ import annotations

import datetime as dt

from ledger.alerts.service import alerts_for_report, scan
from ledger.alerts.settings import AlertSettings
from ledger.models import HouseholdStatus
from ledger.org.regions import get_user
from ledger.store.db import transaction
from reports.alerts_source import load_alerts
from tests.ledger.alerts.helpers import Town, idn
from tests.world import COUNTY, COUNTY2


def test_the_report_lists_alerts_by_the_year_of_their_money(world):
    town = Town(world)
    # two households paid while removed (BEN-06): one in 2024, one in 2025
    town.household("H24", [("钱一", "户主", idn(11), None)], status=HouseholdStatus.REMOVED)
    town.household("H25", [("钱二", "户主", idn(12), None)], status=HouseholdStatus.REMOVED)
    town.pay("H24", 500_00, dt.date(2024, 6, 3))
    town.pay("H25", 700_00, dt.date(2025, 3, 9))
    with transaction(world.factory) as s:
        # scanned in 2026: the server's clock stamps first_seen with today, a later year
        result = scan(s, get_user(s, "auditor"), settings=AlertSettings(),
                      as_of=dt.date(2026, 1, 20), vault=town.vault, only=["BEN-06"])
        assert result.raised == 2
    with transaction(world.factory) as s:
        y2024 = alerts_for_report(s, COUNTY, 2024)
        y2025 = alerts_for_report(s, COUNTY, 2025)
        y2026 = alerts_for_report(s, COUNTY, 2026)
        other_county = alerts_for_report(s, COUNTY2, 2024)
        listed = load_alerts(s, COUNTY, 2024)
    assert [(r["rule_id"], r["subject"], r["amount_fen"]) for r in y2024] == [
        ("BEN-06", "农户 H24", 500_00)]
    assert [r["subject"] for r in y2025] == ["农户 H25"]
    assert y2026 == [] and other_county == []
    assert [r["subject"] for r in listed] == ["农户 H24"]   # open: the report lists it


def test_an_alert_about_payments_of_two_years_is_in_both_reports(world):
    town = Town(world)
    town.household("HB", [("孙三", "户主", idn(13), None)], status=HouseholdStatus.REMOVED)
    town.pay("HB", 300_00, dt.date(2024, 11, 3))
    town.pay("HB", 400_00, dt.date(2025, 1, 9), memo="再次")
    with transaction(world.factory) as s:
        scan(s, get_user(s, "auditor"), settings=AlertSettings(), as_of=dt.date(2025, 2, 1),
             vault=town.vault, only=["BEN-06"])
    with transaction(world.factory) as s:
        assert [r["subject"] for r in alerts_for_report(s, COUNTY, 2024)] == ["农户 HB"]
        assert [r["subject"] for r in alerts_for_report(s, COUNTY, 2025)] == ["农户 HB"]
        assert alerts_for_report(s, COUNTY, 2023) == []


def test_idle_money_belongs_to_its_lots_year(world):
    # The county's share of the 2024 lot lies idle; a scan in 2026 finds it (FLW-02, keyed by
    # lot and account). Its money is the 2024 lot's, whatever day the scan ran.
    Town(world)
    with transaction(world.factory) as s:
        scan(s, get_user(s, "auditor"), settings=AlertSettings(), as_of=dt.date(2026, 6, 1),
             only=["FLW-02"])
    with transaction(world.factory) as s:
        y2024 = alerts_for_report(s, COUNTY, 2024)
        assert [r["rule_id"] for r in y2024] == ["FLW-02"]
        assert y2024[0]["subject"].startswith("账户 ") and y2024[0]["amount_fen"] == 500_000_00
        assert alerts_for_report(s, COUNTY, 2026) == []
