"""The publicity window cannot be typed away (issue 19, attack 4), on SQLite and PostgreSQL.

The red team created a roll, published it, approved it and sent it to the bank within one
minute by typing past dates, and a publication dated before the roll existed was accepted.
These tests run on the real clock (ledger.core.clock, which stamps the log): the window counts
from the day the publication was recorded; a backdated publication (补记公示) needs its reason
and is marked on the roll, the village page and the printed notice; it never shortens the
window; and no publication is dated before its roll.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from ledger.cli.root import main
from ledger.core import clock
from ledger.core.errors import LedgerError
from ledger.rolls import lifecycle as rolls
from ledger.store.db import transaction
from tests.reports import pdftools, scenario
from tests.web.conftest import app, browser, fast_hashing, scene  # noqa: F401  (fixtures)
from tests.world import COUNTY, VILLAGE

REASON = "村公示栏3月张贴，系统上线后补录"


def _refusal(call) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        call()
    return caught.value


@pytest.fixture
def real_clock_cli(cli, monkeypatch, capsys):
    """The command line as a county runs it: on the server's real clock (the `cli` fixture
    records roll steps on their --date, as a world that never backdates)."""
    del cli   # its environment: the database and the working folder

    def run(*args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def test_create_publish_approve_and_send_within_a_minute_is_refused(
        world, real_clock_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FUNDTRAIL_SIGNING_PASSPHRASE", scenario.PASSPHRASE)
    sc = scenario.build(world, tmp_path, households=4)
    ft = real_clock_cli
    today = clock.today()
    month_ago = today - dt.timedelta(days=30)
    lines = tmp_path / "lines.csv"
    lines.write_text("户编码,数量\n" + "".join(f"{h},1\n" for h in sc.households[:2]),
                     encoding="utf-8")
    create = ["--as", "k_clerk", "roll", "create", "--lot", world.lot_id, "--county", COUNTY,
              "--item", "产业奖补", "--function-code", "2130505", "--use", "household_subsidy",
              "--standard", "100.00", "--lines", lines]

    # 1. A roll of today published "a month ago": before the roll existed.
    assert ft(*create[:4], "R-NOW", *create[4:])[0] == 0
    with transaction(world.factory) as s:
        exc = _refusal(lambda: rolls.publish(s, world.user(s, "k_clerk"), "R-NOW", month_ago,
                                             reason="贴过了"))
    assert exc.code == "roll_published_before_created"
    assert exc.params == {"roll": "R-NOW", "published": str(month_ago), "created": str(today)}
    assert "早于清册" in str(exc)

    # 2. The roll dated a month ago too: the past publication needs its reason ...
    assert ft(*create[:4], "R-BD", *create[4:], "--date", month_ago)[0] == 0
    code, _, err = ft("--as", "k_clerk", "roll", "publish", "R-BD", "--date", month_ago)
    assert code == 2 and "补记公示须说明理由" in err
    with transaction(world.factory) as s:
        exc = _refusal(lambda: rolls.publish(s, world.user(s, "k_clerk"), "R-BD", month_ago))
    assert exc.code == "roll_publication_backdated"
    assert exc.params == {"roll": "R-BD", "published": str(month_ago), "recorded": str(today)}
    # ... and with it, it is recorded with its date, marked backdated
    code, out, err = ft("--as", "k_clerk", "roll", "publish", "R-BD", "--date", month_ago,
                        "--reason", REASON)
    assert code == 0, err
    earliest = rolls.publicity_ends(today, 7)
    assert "补记公示" in out and f"approval from {earliest}" in out

    # 3. The approver, the same minute, typing any date: refused; the window runs from today.
    for typed in (today, month_ago + dt.timedelta(days=20)):
        code, _, err = ft("--as", "k_approver", "roll", "approve", "R-BD", "--date", typed)
        assert code == 2 and "公示期自录入之日起算" in err, err
    with transaction(world.factory) as s:
        exc = _refusal(lambda: rolls.approve_roll(s, world.user(s, "k_approver"), "R-BD",
                                                  today, 7))
    assert exc.code == "roll_publicity_from_recording"
    assert exc.params == {"roll": "R-BD", "published": str(month_ago), "recorded": str(today),
                          "working_days": 7, "earliest": str(earliest)}
    code, _, err = ft("--as", "k_approver", "roll", "approve", "R-BD", "--date", earliest)
    assert code == 2 and "in the future" in err   # nor by typing the day it would be allowed
    code, _, err = ft("--as", "k_clerk", "roll", "send", "R-BD", "-o", tmp_path / "bank.csv",
                      "--date", today)
    assert code == 2 and "is not approved" in err
    assert not (tmp_path / "bank.csv").exists()

    # 4. Never shortened: the same first day as a roll published today, and the server's clock
    #    must reach it (a day before, refused; on it, approved).
    with transaction(world.factory) as s:
        shown = rolls.publicity(s, rolls.get_roll(s, "R-BD"), 7)
    assert (shown.posted, shown.recorded, shown.reason, shown.backdated) == \
        (month_ago, today, REASON, True)
    assert shown.earliest == earliest > rolls.publicity_ends(month_ago, 7)
    day_before = earliest - dt.timedelta(days=1)
    with transaction(world.factory) as s, clock.at(day_before):
        exc = _refusal(lambda: rolls.approve_roll(s, world.user(s, "k_approver"), "R-BD",
                                                  day_before, 7))
    assert exc.code == "roll_publicity_from_recording"
    with transaction(world.factory) as s, clock.at(earliest):
        rolls.approve_roll(s, world.user(s, "k_approver"), "R-BD", earliest, 7)

    # 5. The printed notice (公示清册) says so: the board's date, the recording, the reason,
    #    and it is displayed from the recording.
    args = ["--village", VILLAGE, "--roll", "R-BD"]
    code, out, err = ft("--as", "k_clerk", "report", "publish", "payment-roll", *args, "--json")
    assert code == 0, err
    assert f'"display_from": "{today}"' in out
    assert ft("checkpoint", "sign")[0] == 0
    for who in ("village", "county"):
        assert ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state",
                  f"keys/{who}.state")[0] == 0
    code, _, err = ft("report", "payment-roll", *args, "-o", "roll.pdf")
    assert code == 0, err
    pdf = tmp_path / "roll.pdf"
    assert pdftools.png(pdf, 1).stat().st_size > 10_000          # pdftoppm renders it
    printed = pdftools.flat(pdftools.text(pdf, 1, layout=False))
    assert "补记公示" in printed and pdftools.flat(REASON) in printed
    assert re.sub("-", "", month_ago.isoformat()) in re.sub(r"[年月日-]", "", printed) or \
        f"{month_ago.year}年{month_ago.month}月{month_ago.day}日" in printed
    assert "公示期自录入之日起算" in printed


def test_a_backdated_publication_is_marked_on_the_staff_and_village_pages(
        app, scene, browser, world):  # noqa: F811
    """Through the web, on the real clock: the clerk's form takes the reason; without one the
    past date is refused; with it the roll's page and the public village page mark it."""
    village, county = scene.own["village"], scene.own["county"]
    week_ago = clock.today() - dt.timedelta(days=7)
    with transaction(world.factory) as s:
        rolls.create_roll(s, world.user(s, "k_clerk"), code="R-WEB", lot_id=world.lot_id,
                          county_code=county, item="产业奖补", function_code="2130505",
                          use_code="household_subsidy", standard_fen=100_00,
                          lines=[("KH-1", 1)], as_of=week_ago)
    clerk = browser("k_clerk")
    page = "/staff/rolls/R-WEB"
    assert 'name="reason"' in clerk.get(page).get_data(as_text=True)
    r = clerk.post(f"{page}/publish", {"day": week_ago.isoformat()}, token_from=page)
    assert r.status_code == 302
    html = clerk.get(page).get_data(as_text=True)
    assert "补记公示须说明理由" in html and "录入于" not in html    # refused, nothing recorded
    r = clerk.post(f"{page}/publish", {"day": week_ago.isoformat(), "reason": REASON},
                   token_from=page)
    assert r.status_code == 302
    html = clerk.get(page).get_data(as_text=True)
    earliest = rolls.publicity_ends(clock.today(), 7)
    assert "补记公示" in html and REASON in html and str(earliest) in html
    assert f"录入于 {clock.today()}" in html
    public = browser().get(f"/village/{village}").get_data(as_text=True)
    section = public[public.index("R-WEB"):]
    assert "补记公示" in section and REASON in section and "公示期自录入之日起算" in section
    # the roll the scene published on its day carries no mark
    other = public[public.index(scene.own["roll"]):]
    assert "补记公示" not in other[:other.index("</section>")]
