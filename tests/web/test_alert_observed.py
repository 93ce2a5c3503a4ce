"""The alert page's 发现 (observed) and 阈值 (threshold) read in the reader's language
(issue 20): the rules' Chinese templates filled with their parameters, not the English the
findings' hashes cover."""
from __future__ import annotations

import re

import pytest

from ledger.funds import flows, posting
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.web.test_alert_evidence import paid_while_removed
from tests.world import COUNTY, DAY

pytest.importorskip("ledger.alerts.service")

ENGLISH = re.compile(r"[A-Za-z]{3,}")


def _facts(html: str) -> dict[str, str]:
    facts = html.split('<dl class="facts">')[1].split("</dl>")[0]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", facts, re.S))


def _pages(auditor, rule: str) -> list[str]:
    html = auditor.get(f"/audit/alerts/?state=all&rule={rule}").get_data(as_text=True)
    return [f"/audit/alerts/{i}" for i in sorted(set(re.findall(
        r'href="/audit/alerts/(\d+)"', html)))]


def test_observed_and_threshold_read_chinese_then_english(app, scene, world, browser):
    paid_while_removed(world)
    with transaction(world.factory) as s:   # the same payment again a day later: DUP-01
        clerk = get_user(s, "k_clerk")
        t = flows.pay(s, clerk, lot_id=world.lot_id, payee_code="KH-X", amount_fen=300_00,
                      function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY, effective_date=DAY, key="凭证-清退-2")
        posting.approve(s, get_user(s, "k_approver"), t.id)
    auditor = browser("auditor")
    assert auditor.post("/audit/alerts/scan", token_from="/audit/alerts/").status_code == 302
    seen = {}
    for rule in ("BEN-06", "DUP-01"):
        for page in _pages(auditor, rule):
            facts = _facts(auditor.get(page).get_data(as_text=True))
            seen[rule] = facts
            for name in ("发现", "阈值"):
                assert facts[name].strip() and not ENGLISH.search(facts[name]), (rule, facts)
    assert set(seen) == {"BEN-06", "DUP-01"}, seen
    assert seen["BEN-06"]["发现"] == "该户状态为清退时收款 2 次"
    assert seen["BEN-06"]["阈值"] == "付款日该户为建档立卡、已脱贫、返贫或监测户"
    # the same alert in English reads English (the catalogue's, here the rule's own words)
    auditor.client.set_cookie("lang", "en")
    facts = _facts(auditor.get(_pages(auditor, "BEN-06")[0]).get_data(as_text=True))
    english = " ".join(facts.values())
    assert "paid 2 time(s) while removed" in english
    assert "registered, exited, returned or monitored on the payment date" in english
