"""The alert page reads in Chinese (issue 20): the evidence as a table of labels and values,
with links to the transfers and rolls it names, money in 元, names beside codes; the rule's
texts, severity and state in the reader's language; the alert list the same."""
from __future__ import annotations

import re

import pytest

from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.households import registry as households
from ledger.models import HouseholdStatus
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.world import COUNTY, DAY, VILLAGE

pytest.importorskip("ledger.alerts.service")


def paid_while_removed(world) -> int:
    """A household removed from the register and paid 300 元 afterwards: BEN-06 fires."""
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        households.register_household(s, clerk, PiiVault.from_env(), code="KH-X",
                                      village_code=VILLAGE, head_name="赵清退",
                                      status=HouseholdStatus.REMOVED, registered_on=DAY,
                                      bank_card="6222021000000099123")
        t = flows.pay(s, clerk, lot_id=world.lot_id, payee_code="KH-X", amount_fen=300_00,
                      function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY, effective_date=DAY, key="凭证-清退")
        posting.approve(s, get_user(s, "k_approver"), t.id)
        return t.id


def ben06_page(auditor) -> str:
    r = auditor.post("/audit/alerts/scan", token_from="/audit/alerts/")
    assert r.status_code == 302
    html = auditor.get("/audit/alerts/?state=all&rule=BEN-06").get_data(as_text=True)
    (alert_id,) = set(re.findall(r'href="/audit/alerts/(\d+)"', html))
    return f"/audit/alerts/{alert_id}"


def test_the_evidence_is_a_chinese_table_with_links(app, scene, world, browser):
    transfer = paid_while_removed(world)
    auditor = browser("auditor")
    page = ben06_page(auditor)
    listing = auditor.get("/audit/alerts/?state=all&rule=BEN-06").get_data(as_text=True)
    assert "BEN-06 不符合条件对象" in listing and "<td>待核查</td>" in listing
    assert ">高</span>" in listing and "农户 赵清退" in listing and "<td>松雅村</td>" in listing
    html = auditor.get(page).get_data(as_text=True)
    evidence = html.split('class="scroll evidence-box"')[1].split("</div>")[0]
    assert "\\u" not in html and "transfer_id" not in evidence and "amount_fen" not in evidence
    for label in ("转账", "转账编号", "日期", "金额", "凭证号", "收款人", "资金批次"):
        assert f">{label}<" in evidence, label
    assert f'href="/staff/transfers/{transfer}"' in evidence   # the record it names, linked
    assert "300.00 元" in evidence and "凭证-清退" in evidence
    assert "<td>已清退</td>" in evidence and "removed" not in evidence   # a fixed value, in words
    assert "赵清退" in evidence                                 # the payee by name, with its code
    # the rule's texts in Chinese; severity, state, method and events as words, not codes
    assert "付款当日，该户未登记" in html and "确定性规则" in html
    assert ">高<" in html and "待核查" in html and "发现 → 待核查" in html
    for code in ("deterministic", ">high<", ">open<", "raised →"):
        assert code not in html, code
    # the lifecycle in Chinese too, and a move shows as its word
    assert '<option value="investigating">核查中</option>' in html
    r = auditor.post(f"{page}/transition", {"to": "investigating", "note": "入户"},
                     token_from=page)
    assert r.status_code == 302
    assert "处理 → 核查中" in auditor.get(page).get_data(as_text=True)


def test_the_alert_page_in_english(app, scene, world, browser):
    paid_while_removed(world)
    auditor = browser("auditor")
    page = ben06_page(auditor)
    auditor.client.set_cookie("lang", "en")
    html = auditor.get(page).get_data(as_text=True)
    assert "Payee not registered and active" in html
    assert "The household was not registered, or was removed" in html
    assert ">Transfer<" in html and "300.00 yuan" in html and "deterministic rule" in html
    assert "不符合条件对象" not in html and "付款当日" not in html


@pytest.fixture
def server(db_url, scene):
    import dataclasses

    from tests.web.browser import serving
    from tests.web.conftest import make_settings
    from web.app import create_app
    settings = dataclasses.replace(make_settings(db_url, scene), secure_cookies=True)
    with serving(lambda base: create_app(settings)) as base:
        yield base


def test_the_alert_page_in_a_browser_on_desktop_and_phone(server, chromium, scene, world,
                                                          db_url):
    from tests.web.browser import CHROMIUM, shot, sign_in
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed (scripts/setup-env.sh installs it)")
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    transfer = paid_while_removed(world)
    for width, height, name in ((1366, 900, "desktop"), (390, 844, "phone")):
        page = sign_in(chromium.new_context(viewport={"width": width, "height": height})
                       .new_page(), server, "auditor")
        page.goto(f"{server}/audit/alerts/")
        if name == "desktop":
            page.click("text=运行全部规则")
            page.wait_for_url(f"{server}/audit/alerts/")
        page.goto(f"{server}/audit/alerts/?state=all&rule=BEN-06")
        shot(page, "alerts", f"list-{name}", db)
        page.click("td a >> nth=0")
        page.wait_for_selector("table.evidence")
        shot(page, "alerts", f"alert-{name}", db)
        text = page.inner_text("main")
        assert "证据" in text and "转账编号" in text and "300.00 元" in text
        assert "transfer_id" not in text and "\\u" not in text
        # nothing wider than the phone's screen: the evidence wraps or scrolls in its box
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.click(f"a[href='/staff/transfers/{transfer}']")
        page.wait_for_url(f"{server}/staff/transfers/{transfer}")
        page.context.close()
