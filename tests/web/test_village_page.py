"""The village page as a villager reads it (issue 20): per roll the village's total and its 大写,
each line's status as the money went (已发放, 退回, 补发 …), the county's supervision phone and
12317, a complaint link per line that opens the form with the line's code, the project
notices with their PDFs, and the way there from the index by county and township. The staff
roll page shows the same statuses, and the roll list each roll's step and totals."""
from __future__ import annotations

import re
from html import unescape

from ledger.core.money import to_daxie
from tests.web.village_story import COUNTY_PHONE, paid_returned_reissued
from tests.world import COUNTY, TOWNSHIP


def _text(html: str) -> str:
    """The page's text, tags removed and whitespace collapsed (what a reader sees)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _row(html: str, marker: str) -> str:
    """The text of the table row (<tr>…</tr>) that holds `marker`."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if marker in row:
            return _text(row)
    raise AssertionError(f"no row with {marker!r}")


def _section(html: str, roll: str) -> str:
    """The village page's section of one roll."""
    return next(part for part in html.split('<section class="card roll">')[1:]
                if f"产业奖补 · {roll}</h3>" in part).split("</section>")[0]


def test_village_page_shows_totals_statuses_phones_and_complaint_links(app, scene, browser,
                                                                       world):
    story = paid_returned_reissued(world, scene)
    visitor = browser()
    r = visitor.get(f"/village/{story['village']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    text = _text(html)
    # the original roll: two lines, 500 + 1,000 元; line 1 paid, line 2 re-issued
    section = _section(html, story["roll"])
    assert "本村 2 户，合计" in _text(section) and "1,500.00 元" in _text(section)
    assert to_daxie(1500_00) == "壹仟伍佰元整" and "壹仟伍佰元整" in section
    assert "已发放 1 户，500.00 元" in _text(section)
    line1 = _row(section, f"code={story['roll']}:1")
    line2 = _row(section, f"code={story['roll']}:2")
    assert "已发放" in line1 and "500.00" in line1
    assert "补发" in line2 and story["reissue"] in line2 and "待发放" not in line2
    # the re-payment roll's line says where it comes from
    again = _section(html, story["reissue"])
    assert f"补发（原清册 {story['roll']} 第 2 行）" in _text(again)
    assert "壹仟元整" in again
    # names as the board prints them, cards masked
    assert "张k1" in text and "****" in text and "62220210000000" not in html
    # the county's phone and 12317, as links a phone dials
    assert f'href="tel:{COUNTY_PHONE}"' in html and "长沙县乡村振兴局" in text
    assert 'href="tel:12317"' in html and "全国扶贫监督举报电话" in text
    # the complaint link of line 2 opens the form with the line's code filled in
    link = unescape(re.search(
        r'href="(/complaint/\?[^"]*code=' + re.escape(story["roll"]) + r':2)"', html).group(1))
    form = visitor.get(link).get_data(as_text=True)
    assert re.search(r'<option selected value="roll_line">|<option value="roll_line" selected',
                     form), form[:3000]
    assert f'value="{story["roll"]}:2"' in form
    # the project notice, with its printed PDF
    pdf = re.search(r'href="(/village/[^"]+/project/P-001\.pdf)"', html).group(1)
    r = visitor.get(pdf)
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    assert visitor.get(f"/village/{scene.other['village']}/project/P-001.pdf").status_code == 404


def test_the_way_to_a_village_goes_by_county_and_township(app, scene, browser):
    visitor = browser()
    index = visitor.get("/").get_data(as_text=True)
    assert f'href="/county/{COUNTY}"' in index and "长沙县" in index
    county = visitor.get(f"/county/{COUNTY}").get_data(as_text=True)
    assert "星沙镇" in county and f'href="/township/{TOWNSHIP}"' in county
    assert f'href="/village/{scene.own["village"]}"' in county and "松雅村" in county
    assert scene.other["village"] not in county   # another county's village is not listed
    town = visitor.get(f"/township/{TOWNSHIP}").get_data(as_text=True)
    assert f'href="/village/{scene.own["village"]}"' in town and "长沙县" in town
    village = visitor.get(f"/village/{scene.own['village']}").get_data(as_text=True)
    assert f'href="/township/{TOWNSHIP}"' in village and f'href="/county/{COUNTY}"' in village
    # a village's code is not a county's or a township's
    assert visitor.get(f"/county/{scene.own['village']}").status_code == 404
    assert visitor.get(f"/township/{COUNTY}").status_code == 404


def test_staff_roll_page_shows_each_line_as_its_money_went(app, scene, browser, world):
    story = paid_returned_reissued(world, scene)
    clerk = browser("k_clerk")
    html = clerk.get(f"/staff/rolls/{story['roll']}").get_data(as_text=True)
    line1, line2 = (_row(html, f"<td>{n}</td><td>KH-{n}</td>") for n in (1, 2))
    assert "已发放" in line1 and "待发放" not in line1
    assert "补发" in line2 and story["reissue"] in line2 and "待发放" not in line2
    assert "登记异议" not in html   # every line is with the bank: nothing left to object to
    facts = _text(html[:html.index("</dl>")])
    assert "长沙县" in facts and "财农〔2024〕12号" in facts and "1,500.00 元" in facts
    html = clerk.get(f"/staff/rolls/{story['reissue']}").get_data(as_text=True)
    assert "待发放" in _row(html, "<td>1</td><td>KH-2</td>")
    assert "补发（原清册 R-k 第 2 行）" in html and "登记异议" in html
    # the list: each roll's step, lines and amount in 元
    listing = clerk.get("/staff/rolls").get_data(as_text=True)
    row = _row(listing, f">{story['roll']}</a>")
    assert "已送银行" in row and "2" in row and "1,500.00" in row and "已发放 1 户" in row
    assert "补发 1 户" in row and "退回" not in row   # the returned line was re-issued
    row = _row(listing, f">{story['reissue']}</a>")
    assert "公示中" in row and "1,000.00" in row


def test_a_returned_line_not_yet_reissued_says_returned(app, scene, browser, world):
    import datetime as dt

    from ledger.org import regions
    from ledger.rolls import lifecycle as rolls
    from ledger.store.context import use_log
    from ledger.store.db import transaction
    from tests.web.scene import ORIGIN
    roll, today = scene.own["roll"], dt.date.today()
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        rolls.approve_roll(s, regions.get_user(s, "k_approver"), roll, today, 7)
        rolls.send(s, regions.get_user(s, "k_clerk"), roll, today)
    html = browser("k_clerk").get(f"/staff/rolls/{roll}").get_data(as_text=True)
    assert "已送银行" in _row(html, "<td>2</td><td>KH-2</td>")
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        rolls.apply_bank_result(s, regions.get_user(s, "k_approver"), roll, 2, 1000_00, False,
                                reason="账户冻结")
    html = browser("k_clerk").get(f"/staff/rolls/{roll}").get_data(as_text=True)
    assert "退回" in _row(html, "<td>2</td><td>KH-2</td>")
    page = browser().get(f"/village/{scene.own['village']}").get_data(as_text=True)
    assert "退回" in _row(page, f"code={roll}:2")
