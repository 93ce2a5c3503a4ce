"""The inbox shows the statistical screens' leads in a section of their own, apart from the
alerts (docs/alerts.md, "Statistical leads"): a county that books most of its entries on days
off is lead STA-03, ranked, with its test — and no row of the alert table."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from ledger.core.workdays import is_working_day
from ledger.funds import flows
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.world import COUNTY, COUNTY2

pytest.importorskip("ledger.alerts.service")

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(366)]
OFF = [d for d in DAYS if not is_working_day(d)]
WORKING = [d for d in DAYS if is_working_day(d)]


def _payments(world, clerk, county, payee, days):
    with transaction(world.factory) as s:
        who = get_user(s, clerk)
        for i, day in enumerate(days):
            flows.pay(s, who, lot_id=world.lot_id, payee_code=payee, amount_fen=100_00,
                      function_code="2130505", use_code="household_subsidy",
                      county_code=county, effective_date=day, key=f"lead:{county}:{i}",
                      memo=f"补助{i}")


@pytest.fixture
def weekend_county(world, scene):
    # COUNTY: 20 of 24 entries on days off; COUNTY2 books on working days only.
    _payments(world, "k_clerk", COUNTY, "KH-1", OFF[:60:3] + WORKING[:4])
    _payments(world, "k2_clerk", COUNTY2, "K2H-1", WORKING[::10][:24])
    return scene


def test_leads_have_their_own_section_ranked_with_their_test(app, weekend_county, browser):
    auditor = browser("auditor")
    assert auditor.post("/audit/alerts/scan", token_from="/audit/alerts/").status_code == 302
    html = auditor.get("/audit/alerts/?state=all").get_data(as_text=True)
    alerts, leads = html.split('<h2 id="leads">', 1)
    assert "统计线索" in leads and "统计线索不是预警" in leads
    assert "STA-03" not in alerts.split("</form>")[-1]   # no lead in the alert table
    (row,) = re.findall(r"<tr><td><a.*?</tr>", leads)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[1:4] == ["长沙县", "2024", "1"]             # county (by name), year, rank
    assert cells[4].startswith("STA-03 非工作日记账")
    assert cells[5] == f'长沙县 <span class="muted">{COUNTY}</span>'   # the unit by name
    # 24 entries and the scene's own pending payment
    assert cells[6] == "one-sided exact binomial test" and cells[10] == "25"
    assert float(cells[8]) <= float(cells[9]) <= 0.05       # p ≤ q ≤ the rate
    # the lead is worked like an alert: its page shows the test in the evidence
    lead_id = re.search(r'href="/audit/alerts/(\d+)"', row).group(1)
    detail = auditor.get(f"/audit/alerts/{lead_id}").get_data(as_text=True)
    assert ">q 值<" in detail and ">抽查凭证<" in detail and "q_value" not in detail
    # the rule filter applies to both tables
    other = auditor.get("/audit/alerts/?state=all&rule=FLW-02").get_data(as_text=True)
    assert not re.findall(r"<tr><td><a.*?</tr>", other.split('<h2 id="leads">', 1)[1])


def test_a_clerk_of_another_county_sees_no_lead_of_this_one(app, weekend_county, browser):
    browser("auditor").post("/audit/alerts/scan", token_from="/audit/alerts/")
    mine = browser("k_clerk").get("/audit/alerts/?state=all").get_data(as_text=True)
    theirs = browser("k2_clerk").get("/audit/alerts/?state=all").get_data(as_text=True)
    assert re.findall(r"<tr><td><a.*?</tr>", mine.split('<h2 id="leads">', 1)[1])
    assert not re.findall(r"<tr><td><a.*?</tr>", theirs.split('<h2 id="leads">', 1)[1])
