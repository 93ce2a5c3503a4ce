"""The staff home (spending progress, idle money, what waits for approval, rolls on the board)
and the flow chart rooted at the user's region (docs/web.md, "The staff home", "The flow
chart"), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re

from ledger.core.money import format_yuan
from ledger.funds import balances, flows, posting
from ledger.org.regions import get_user
from ledger.store.db import transaction
from tests.world import COUNTY, COUNTY2, DAY

PAID_FEN = 50_000_00   # paid in the own county, approved: a quarter of its 200,000 元


def _paid(world, scene):
    """The scene plus one approved payment of 50,000 元 in the own county (from the county's
    own unit: 县级统筹)."""
    with transaction(world.factory) as s:
        t = flows.pay(s, get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code="KH-2",
                      amount_fen=PAID_FEN, function_code="2130505", use_code="household_subsidy",
                      county_code=COUNTY, effective_date=DAY, key="home-pay")
        posting.approve(s, get_user(s, "k_approver"), t.id)
    return scene


def _row(html: str, table: str, key: str) -> dict:
    """The cells of one row of a progress table, by class (allocated, spent, percent)."""
    body = re.search(rf'<table id="{table}"[^>]*>(.*?)</table>', html, re.S).group(1)
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', body, re.S).group(1)
    return {cls: text.strip() for cls, text in
            re.findall(r'<td class="num (\w+)[^"]*">(.*?)</td>', row, re.S)}


def _chart(html: str, chart_id: str) -> dict:
    return json.loads(re.search(rf'<script type="application/json" id="{chart_id}">(.*?)'
                                r'</script>', html, re.S).group(1))


def test_home_shows_progress_matching_the_ledger(app, world, scene, browser):
    _paid(world, scene)
    with world.factory() as s:
        rows = balances.account_balances(s, get_user(s, "p_clerk"), lot_id=world.lot_id)
    held = {c: sum(r.balance for r in rows if r.kind in ("unit", "project") and
                   r.region.startswith(c)) for c in (COUNTY, COUNTY2)}
    spent = {c: sum(r.balance for r in rows if r.kind == "payee" and r.region.startswith(c))
             for c in (COUNTY, COUNTY2)}
    assert spent[COUNTY] == PAID_FEN and held[COUNTY] == 200_000_00 - PAID_FEN

    html = browser("p_clerk").get("/staff/").get_data(as_text=True)
    for county in (COUNTY, COUNTY2):
        row = _row(html, "progress-counties", county)
        assert row["allocated"] == f"{format_yuan(held[county] + spent[county])} 元"
        assert row["spent"] == f"{format_yuan(spent[county])} 元"
    assert _row(html, "progress-counties", COUNTY)["percent"] == "25.0%"
    assert _row(html, "progress-counties", COUNTY2)["percent"] == "0.0%"
    # the lot: everything the province was given, a twentieth of it spent
    lot = _row(html, "progress-lots", str(world.lot_id))
    assert lot["allocated"] == "1,000,000.00 元" and lot["spent"] == "50,000.00 元"
    assert lot["percent"] == "5.0%"
    # the deadline is the lot's year end, long past for 2024
    assert 'id="deadline">2024-12-31<' in html and "已过" in html
    # the chart reads the same figures as the table
    chart = _chart(html, "chart-counties")
    assert chart["percent"][chart["labels"].index("长沙县")] == 25.0
    assert "50,000.00 元" in chart["spent"]
    # the charts run from files the CSP allows, never inline
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in html
    assert not re.search(r"<script>", html)


def test_a_county_sees_its_county_only(app, world, scene, browser):
    _paid(world, scene)
    html = browser("k_clerk").get("/staff/").get_data(as_text=True)
    assert _row(html, "progress-counties", COUNTY)["percent"] == "25.0%"
    assert f'data-key="{COUNTY2}"' not in html
    assert _row(html, "progress-lots", str(world.lot_id))["allocated"] == "200,000.00 元"


def test_only_approvers_see_what_waits_for_them(app, world, scene, browser):
    clerk = browser("k_clerk").get("/staff/").get_data(as_text=True)
    assert "待我审核" not in clerk
    approver = browser("k_approver").get("/staff/").get_data(as_text=True)
    waiting = approver.split('id="waiting"', 1)[1].split("</section>", 1)[0]
    assert "待我审核" in waiting
    # the county's pending payment and its roll (published a month ago: approvable now)
    assert f'/staff/transfers/{scene.own["transfer"]}"' in waiting
    assert f'/staff/transfers/{scene.other["transfer"]}"' not in waiting
    assert f'/staff/rolls/{scene.own["roll"]}"' in waiting and "可以审核" in waiting


def test_rolls_on_the_board_with_their_first_approval_day(app, world, scene, browser):
    html = browser("k_clerk").get("/staff/").get_data(as_text=True)
    board = re.search(r'<table id="on-board">(.*?)</table>', html, re.S).group(1)
    assert scene.own["roll"] in board and scene.other["roll"] not in board
    assert "已满公示期" in board


def test_idle_money_a_year_and_two(app, world, scene, browser):
    # the scene's money arrived in March 2024: more than two years before today
    html = browser("p_clerk").get("/staff/").get_data(as_text=True)
    two = re.search(r'id="idle-2y">(.*?)<', html).group(1)
    assert two == "1,000,000.00 元"   # nothing was spent: all of it has sat two years
    # per county, as the year-end statement ages it: the county's 200,000 元, all two years old
    body = re.search(r'<table id="idle-counties"[^>]*>(.*?)</table>', html, re.S).group(1)
    row = re.search(r"<tr><td>长沙县</td>(.*?)</tr>", body, re.S).group(1)
    assert re.findall(r'<td class="num[^"]*">(.*?)</td>', row) == ["200,000.00 元"] * 3


def test_year_parameter_is_checked(app, world, scene, browser):
    b = browser("k_clerk")
    assert b.get("/staff/?year=2024").status_code == 200
    assert b.get("/staff/?year=99999").status_code == 404
    assert b.get("/staff/?year=２０２４").status_code == 404


def test_county_gets_the_flow_rooted_at_its_county(app, world, scene, browser):
    _paid(world, scene)
    b = browser("k_clerk")
    r = b.get("/staff/flow")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    chart = _chart(html, "chart-flow")
    assert chart["nodes"][0]["name"] == f"unit:{COUNTY}"
    assert {n["name"] for n in chart["nodes"]} == {f"unit:{COUNTY}", "payee:KH-2"}
    assert chart["links"] == [{"source": f"unit:{COUNTY}", "target": "payee:KH-2",
                               "value": 50000.0, "text": "长沙县 → 王k2：50,000.00 元"}]
    assert "湖南省" not in html.split("<main>", 1)[1]   # nothing above the county


def test_drilling_out_of_scope_is_refused(app, world, scene, browser):
    b = browser("k_clerk")
    assert b.get(f"/staff/flow?lot={world.lot_id}&root=unit:{COUNTY2}").status_code == 403
    assert b.get(f"/staff/flow?lot={world.lot_id}&root=unit:430000").status_code == 403
    assert b.get(f"/staff/flow?lot={world.lot_id}&root=payee:KH-2").status_code == 404
    # the province drills into a county: the chart is rooted there
    p = browser("p_clerk")
    r = p.get(f"/staff/flow?lot={world.lot_id}&root=unit:{COUNTY2}")
    assert r.status_code == 200
    assert _chart(r.get_data(as_text=True), "chart-flow")["nodes"][0]["name"] == \
        f"unit:{COUNTY2}"


def test_province_flow_links_drill_down(app, world, scene, browser):
    _paid(world, scene)
    html = browser("p_clerk").get(f"/staff/flow?lot={world.lot_id}").get_data(as_text=True)
    chart = _chart(html, "chart-flow")
    names = [n["name"] for n in chart["nodes"]]
    assert names[:2] == ["unit:430000", "unit:430100"]
    county = next(n for n in chart["nodes"] if n["name"] == f"unit:{COUNTY}")
    assert county["drill"] == f"/staff/flow?lot={world.lot_id}&root=unit:{COUNTY}"
    assert f'href="/staff/flow?lot={world.lot_id}&amp;root=unit:{COUNTY}"' in html
