"""The staff home and the flow chart in a real browser (Debian's chromium): the ECharts canvases
are drawn (under the pages' CSP, no inline script), and at phone width (390 px) nothing makes
the page scroll sideways. Screenshots at 1366 px and 390 px go to test-artifacts/home/."""
from __future__ import annotations

import pytest

from ledger.core.pii import PiiVault
from ledger.funds import flows, posting
from ledger.households import registry as households
from ledger.models import HouseholdStatus
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.web.browser import SQLITE_ONLY, serving, shot, sign_in
from tests.web.conftest import make_settings
from tests.world import COUNTY, COUNTY2, DAY, VILLAGE
from web.app import create_app

pytestmark = SQLITE_ONLY   # the browser layer on SQLite (tests/web/browser.py)

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

# How many pixels of each chart's canvas are painted (not transparent).
PAINTED = """() => Array.from(document.querySelectorAll('.chart canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; })"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def server(db_url, scene, world):
    # Money spent in both counties, in the own county to 14 households: more than the chart
    # shows one by one (the top 8, the rest as 其他 6 个收款人).
    vault = PiiVault.from_env()
    with transaction(world.factory) as s:
        clerk = get_user(s, "k_clerk")
        for n in range(3, 15):
            households.register_household(
                s, clerk, vault, code=f"KH-{n}", village_code=VILLAGE, head_name=f"李{n}",
                status=HouseholdStatus.REGISTERED, registered_on=DAY,
                bank_card=f"6222021000{n:04d}77")
    with transaction(world.factory) as s:
        for county, clerk, approver, payees in ((COUNTY, "k_clerk", "k_approver", 14),
                                                (COUNTY2, "k2_clerk", "k2_approver", 2)):
            prefix = "KH" if county == COUNTY else "K2H"
            for n in range(1, payees + 1):
                t = flows.pay(s, get_user(s, clerk), lot_id=world.lot_id,
                              payee_code=f"{prefix}-{n}", amount_fen=(1_000_00 * n),
                              function_code="2130505", use_code="household_subsidy",
                              county_code=county, effective_date=DAY, key=f"b-{county}-{n}")
                posting.approve(s, get_user(s, approver), t.id)
    with serving(lambda base: create_app(make_settings(db_url, scene))) as base:
        yield base


def _page(chromium, server, username, size):
    page = chromium.new_context(viewport=WIDTHS[size], device_scale_factor=1).new_page()
    problems = []
    # script errors, CSP refusals, files not found (the browser's own favicon.ico aside)
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return sign_in(page, server, username), problems


def _check(page, problems, charts: int, size: str):
    page.wait_for_function("document.querySelectorAll('.chart canvas').length >= %d" % charts)
    page.wait_for_timeout(200)   # charts.js draws without animation
    painted = page.evaluate(PAINTED)
    assert len(painted) >= charts and all(n > 500 for n in painted), painted
    assert problems == []        # no script error, no CSP refusal
    if size == "phone":
        assert page.evaluate(OVERFLOW) <= 0


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_home_charts_render(server, chromium, db_url, size):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    page, problems = _page(chromium, server, "p_approver", size)
    _check(page, problems, 3, size)   # per county, per lot, idle money
    assert "待我审核" in page.inner_text("main")
    shot(page, "home", f"home-{size}", db)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_flow_chart_renders_and_drills(server, chromium, db_url, size):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    page, problems = _page(chromium, server, "p_clerk", size)
    page.goto(f"{server}/staff/flow?lot=1")
    _check(page, problems, 1, size)
    shot(page, "home", f"flow-province-{size}", db)
    # the table's link drills into the county, as a click on its node does
    page.click(f"#flow-table a[href*='root=unit:{COUNTY}']")
    page.wait_for_url(f"**root=unit:{COUNTY}")
    _check(page, problems, 1, size)
    assert page.inner_text("#flow-root") == "长沙县"
    assert "其他 6 个收款人" in page.inner_text("#flow-table")
    shot(page, "home", f"flow-county-{size}", db)


def test_county_clerk_opens_the_flow_from_the_menu(server, chromium, db_url):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    page, problems = _page(chromium, server, "k_clerk", "phone")
    page.click("header nav a:has-text('资金流向')")
    page.wait_for_selector("#flow-table")
    _check(page, problems, 1, "phone")
    assert page.inner_text("#flow-root") == "长沙县"
    shot(page, "home", "flow-county-clerk-phone", db)
