"""The village page on a phone (390 px) and a desk (1366 px), and a staff roll page, in Debian's
chromium: screenshots for a person to look at (test-artifacts/village/), and no horizontal
overflow at 390 px — the page fits the phone's width, the board's lines included."""
from __future__ import annotations

import pytest

from tests.web.browser import SQLITE_ONLY, serving, shot, sign_in
from tests.web.conftest import make_settings
from tests.web.village_story import paid_returned_reissued
from web.app import create_app

pytestmark = SQLITE_ONLY   # the browser layer on SQLite (tests/web/browser.py)

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}


@pytest.fixture
def server(db_url, scene):
    with serving(lambda base: create_app(make_settings(db_url, scene)), threads=2) as base:
        yield base


def _overflow(page) -> int:
    """How far the document is wider than the viewport, in CSS pixels (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_village_page_fits_a_phone_and_a_desk(server, chromium, scene, world, db_url):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    story = paid_returned_reissued(world, scene)
    url = f"{server}/village/{story['village']}"
    phone = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                 has_touch=True).new_page()
    phone.goto(url)
    assert phone.locator("h1").inner_text().startswith("松雅村")
    assert _overflow(phone) <= 0
    # every line's status and complaint link is on screen, not cut off to the right
    for cell in phone.locator("table.board td.act a").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    assert "已发放" in phone.inner_text("main") and "12317" in phone.inner_text("main")
    shot(phone, "village", "village-390", db)
    desk = chromium.new_context(viewport=DESK).new_page()
    desk.goto(url)
    assert _overflow(desk) <= 0
    shot(desk, "village", "village-1366", db)
    # the way there, on the phone
    phone.goto(f"{server}/county/{scene.own['county']}")
    assert _overflow(phone) <= 0
    shot(phone, "village", "county-390", db)


def test_staff_roll_page(server, chromium, scene, world, db_url):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    story = paid_returned_reissued(world, scene)
    page = sign_in(chromium.new_context(viewport=DESK).new_page(), server, "k_clerk")
    page.goto(f"{server}/staff/rolls/{story['roll']}")
    assert "已发放" in page.inner_text("main") and "补发" in page.inner_text("main")
    shot(page, "village", "staff-roll-1366", db)
    page.goto(f"{server}/staff/rolls")
    shot(page, "village", "staff-rolls-1366", db)
    page.goto(f"{server}/staff/transfers")
    shot(page, "village", "staff-transfers-1366", db)
    page.goto(f"{server}/staff/transfers/{scene.own['transfer']}")
    assert "录入人" in page.inner_text("main") and "财农〔2024〕12号" in page.inner_text("main")
    shot(page, "village", "staff-transfer-1366", db)
    phone = sign_in(chromium.new_context(viewport=PHONE, is_mobile=True).new_page(), server,
                    "k_clerk")
    phone.goto(f"{server}/staff/rolls/{story['roll']}")
    assert _overflow(phone) <= 0
    shot(phone, "village", "staff-roll-390", db)
