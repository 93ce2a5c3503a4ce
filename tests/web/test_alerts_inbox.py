"""The alert inbox on top of ledger.alerts (skipped while ledger.alerts is not installed)."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("ledger.alerts.service")


def test_auditor_scans_filters_and_works_an_alert(app, scene, browser):
    auditor = browser("auditor")
    r = auditor.post("/audit/alerts/scan", token_from="/audit/alerts/")
    assert r.status_code == 302
    html = auditor.get("/audit/alerts/?state=all").get_data(as_text=True)
    ids = re.findall(r'href="/audit/alerts/(\d+)"', html)
    assert ids, "the scene's idle province money should raise at least one alert"
    rule = re.search(r'">([A-Z]{3}-\d\d) ', html).group(1)
    filtered = auditor.get(f"/audit/alerts/?state=all&rule={rule}").get_data(as_text=True)
    assert all(f'">{rule} ' in row for row in re.findall(r"<tr><td><a.*?</tr>", filtered))
    page = f"/audit/alerts/{ids[0]}"
    detail = auditor.get(page).get_data(as_text=True)
    assert "证据" in detail and 'name="to"' in detail
    r = auditor.post(f"{page}/transition", {"to": "investigating", "note": "核查中"},
                     token_from=page)
    assert r.status_code == 302
    assert "→ 核查中" in auditor.get(page).get_data(as_text=True)


def test_clerks_read_alerts_but_cannot_work_them(app, scene, browser):
    browser("auditor").post("/audit/alerts/scan", token_from="/audit/alerts/")
    clerk = browser("p_clerk")
    html = clerk.get("/audit/alerts/?state=all").get_data(as_text=True)
    ids = re.findall(r'href="/audit/alerts/(\d+)"', html)
    assert ids
    r = clerk.post(f"/audit/alerts/{ids[0]}/transition", {"to": "investigating"},
                   token_from=f"/audit/alerts/{ids[0]}")
    assert r.status_code == 403
    assert clerk.post("/audit/alerts/scan", token_from="/audit/alerts/").status_code == 403
