"""The web's new-roll page reads the lines file of several items (issue 17) with the same
reader as `fundtrail roll create --lines`: items, tiers, decimal quantities, the county's amount."""
from __future__ import annotations

import re
from io import BytesIO

from sqlalchemy import select

from ledger.models import PaymentRoll, RollLine
from ledger.models.rolls import StandardPer, StandardTier
from ledger.org.regions import get_user
from ledger.rolls.standards import StandardSpec, record_standards


def test_a_roll_of_two_items_through_the_web(app, scene, browser, world):
    with world.factory() as s:
        record_standards(s, get_user(s, "k_clerk"), [
            StandardSpec("430121", "产业奖补", StandardTier.BASIC, 2024, 300_00, "亩",
                         StandardPer.HOUSEHOLD, "2130505"),
            StandardSpec("430121", "教育补助", StandardTier.BASIC, 2024, 500_00, "学期",
                         StandardPer.HOUSEHOLD, "2130505")])
        s.commit()
    b = browser("k_clerk")
    form = {"code": "R-ITEMS", "lot": "1", "county": "430121", "item": "",
            "function_code": "2130505", "use": "household_subsidy", "standard": ""}
    lines = ("户编码,补助项目,户类别,年度,数量,金额\n"
             "KH-1,产业奖补,一般户,2024,2.5,\n"
             "KH-1,教育补助,一般户,2024,1,\n"
             "KH-2,产业奖补,一般户,2024,1.5,460.00\n").encode("gb18030")
    r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(lines), "lines.csv")),
               token_from="/staff/rolls/new", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-3000:]
    assert "750.00" in html and "460.00" in html and "产业奖补 2.5" in html
    # The approver sees what the standard gives beside what the county's file says, and the
    # line that differs is marked (1.5 亩 × 300.00 = 450.00, the file says 460.00).
    row = re.search(r"<tr><td>3</td>.*?</tr>", html, re.S).group(0)
    assert "450.00" in row and "与标准不符" in row
    assert html.count("与标准不符") == 1
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    r = b.post("/staff/rolls/confirm", {"token": token}, token_from="/staff/rolls/new")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/rolls/R-ITEMS")
    page = b.get("/staff/rolls/R-ITEMS").get_data(as_text=True)
    assert "按补助标准表" in page and "产业奖补 1.5" in page and "与标准不符" in page
    with world.factory() as s:
        roll = s.execute(select(PaymentRoll).where(PaymentRoll.code == "R-ITEMS")).scalar_one()
        assert roll.item == "产业奖补、教育补助"
        got = s.execute(select(RollLine.amount_fen, RollLine.computed_fen)
                        .where(RollLine.roll_id == roll.id).order_by(RollLine.line_no)).all()
        assert [tuple(x) for x in got] == [(750_00, 750_00), (500_00, 500_00), (460_00, 450_00)]


def test_an_import_token_does_not_confirm_a_roll(app, scene, browser):
    """A token kept by the import page, posted to the roll page's confirm, is a bad request
    (it used to fail with a server error reading roll fields the import never kept)."""
    b = browser("k_clerk")
    text = "户编码,村代码,户主姓名,户状态,识别日期\nKH-12,430121001001,吴九,建档立卡,2024-03-01\n"
    r = b.post("/staff/import", {"kind": "households",
                                 "file": (BytesIO(text.encode()), "households.csv")},
               token_from="/staff/import", content_type="multipart/form-data")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"',
                      r.get_data(as_text=True)).group(1)
    r = b.post("/staff/rolls/confirm", {"token": token}, token_from="/staff/rolls/new")
    assert r.status_code == 400
