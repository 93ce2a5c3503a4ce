"""The import preview in a real browser (Debian's chromium, Playwright), as a finance officer
sees it on a desk (1366 px) and on a phone (390 px): a households file with two bad cells
previews both marked on their line and column, lists them, and offers 重新上传, no import.
Screenshots: test-artifacts/imports/ (looked at by a person).
"""
from __future__ import annotations

import pytest

from tests.web.browser import SQLITE_ONLY, serving, shot, sign_in
from tests.web.conftest import make_settings
from web.app import create_app

pytestmark = SQLITE_ONLY   # the browser layer on SQLite (tests/web/browser.py)

TWO_BAD = ("户编码,村代码,户主姓名,户状态,识别日期,银行卡号,联系电话\n"
           "KH-31,430121001001,赵六,建档立卡,2024-03-01,6222021234567890123,13800001111\n"
           "KH-32,430121001001,钱七,建档,2024-03-01,,\n"
           "KH-33,430121001001,孙八,建档立卡,2024-13-01,6222021234567890456,\n"
           "KH-34,430121001001,李九,已脱贫,2019-05-01,,13900002222\n")


@pytest.fixture
def server(db_url, scene):
    with serving(lambda base: create_app(make_settings(db_url, scene))) as base:
        yield base


@pytest.mark.parametrize("width", [1366, 390])
def test_the_preview_with_errors_marks_both_cells(server, chromium, db_url, tmp_path, width):
    db = "pg" if db_url.startswith("postgresql") else "sqlite"
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = sign_in(context.new_page(), server, "k_clerk")
    page.goto(f"{server}/staff/import")
    assert page.locator("#kind optgroup").count() >= 5
    page.select_option("#kind", "households")
    upload = tmp_path / "农户名单.csv"
    upload.write_text(TWO_BAD, encoding="utf-8")
    page.set_input_files("#file", str(upload))
    page.click("main form button[type=submit]")
    page.wait_for_selector("table.sheet")
    marked = page.locator("table.sheet td.cell-bad")
    assert marked.count() == 2
    # line 3, column 户状态 (the 4th); line 4, column 识别日期 (the 5th)
    row3 = page.locator("table.sheet tbody tr", has=page.locator("th", has_text="3"))
    assert "cell-bad" in (row3.locator("td").nth(3).get_attribute("class") or "")
    row4 = page.locator("table.sheet tbody tr", has=page.locator("th", has_text="4"))
    assert "cell-bad" in (row4.locator("td").nth(4).get_attribute("class") or "")
    assert page.locator("table.problems tbody tr").count() == 2
    assert page.get_by_role("button", name="确认导入").count() == 0
    assert page.get_by_role("link", name="重新上传").first.is_visible()
    assert "6222021234567890123" not in page.content()
    shot(page, "imports", f"preview-errors-{width}", db)
    context.close()
