"""The publicity window cannot be typed away silently (issue 19, attack 4), on SQLite and
PostgreSQL.

The red team created a roll, published it, approved it and sent it to the bank within one
minute by typing past dates, and nothing on the roll or in the alerts said so; a publication
dated before the roll existed was accepted. A county loading its past rolls through the same
commands must not be refused either ("never refuse to record what already happened — record it
and raise the alert"). These tests run on the real clock (ledger.core.clock, which stamps the
log): a publication dated before the roll is refused; a backdated one (补记公示) is recorded,
with its reason or marked 未说明理由; an approval the typed dates allow but the window counted
from the recording does not is recorded and marked on the roll, the village page and the
printed notice (公示期未满即审核), and alert E3 raises it.
"""
from __future__ import annotations

import datetime as dt
import json
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


def test_create_publish_approve_and_send_within_a_minute_is_recorded_marked_and_alerted(
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

    # 1. A roll of today published "a month ago": before the roll's own date, contradictory.
    assert ft(*create[:4], "R-NOW", *create[4:])[0] == 0
    with transaction(world.factory) as s:
        exc = _refusal(lambda: rolls.publish(s, world.user(s, "k_clerk"), "R-NOW", month_ago,
                                             reason="贴过了"))
    assert exc.code == "roll_published_before_created"
    assert exc.params == {"roll": "R-NOW", "published": str(month_ago), "created": str(today)}
    assert "早于清册" in str(exc)

    # 2. The roll dated a month ago: the past publication is recorded, without a reason too,
    #    and marked 补记公示 with the day it was recorded.
    assert ft(*create[:4], "R-BD", *create[4:], "--date", month_ago)[0] == 0
    code, out, err = ft("--as", "k_clerk", "roll", "publish", "R-BD", "--date", month_ago)
    assert code == 0, err
    earliest = rolls.publicity_ends(today, 7)
    typed_earliest = rolls.publicity_ends(month_ago, 7)
    assert "backdated: dated" in out and "no reason given" in out
    assert f"from {earliest} counted" in out

    # 3. The approver, the same minute: a typed date inside the typed window is refused (the
    #    dates contradict themselves); a typed date after it is recorded — and said.
    code, _, err = ft("--as", "k_approver", "roll", "approve", "R-BD", "--date",
                      typed_earliest - dt.timedelta(days=1))
    assert code == 2 and "can be approved from" in err, err
    code, out, err = ft("--as", "k_approver", "roll", "approve", "R-BD", "--date", today)
    assert code == 0, err
    assert "approved before the window counted from the recording: publication recorded " \
        f"on {today}, approval recorded on {today}" in out
    code, _, err = ft("--as", "k_clerk", "roll", "send", "R-BD", "-o", tmp_path / "bank.csv",
                      "--date", today)
    assert code == 0, err
    assert (tmp_path / "bank.csv").exists()

    # 4. The window counted from the recording is kept and shown beside the typed one.
    with transaction(world.factory) as s:
        shown = rolls.publicity(s, rolls.get_roll(s, "R-BD"), 7)
    assert (shown.posted, shown.recorded, shown.reason, shown.backdated, shown.marked) == \
        (month_ago, today, None, True, True)
    assert shown.earliest == earliest > shown.typed_earliest == typed_earliest
    assert (shown.approved, shown.approval_recorded, shown.approved_early) == \
        (today, today, True)

    # 5. The scan raises E3, high, once for the roll, with the days as evidence; the roll
    #    published on its day (the scenario's) raises nothing.
    code, out, err = ft("--as", "auditor", "alerts", "scan", "--rule", "E3", "--json")
    assert code == 1, err
    e3 = [a for a in json.loads(out)["open"] if a["rule_id"] == "E3"]
    assert [(a["entity"], a["severity"]) for a in e3] == [("roll:R-BD", "high")], e3
    evidence = e3[0]["evidence"]
    assert {k: evidence[k] for k in ("published", "publication_recorded", "approved",
                                     "approval_recorded", "first_approvable_by_recording",
                                     "reason", "sent", "sent_recorded")} == {
        "published": str(month_ago), "publication_recorded": str(today),
        "approved": str(today), "approval_recorded": str(today),
        "first_approvable_by_recording": str(earliest), "reason": None,
        "sent": str(today), "sent_recorded": str(today)}

    # 6. The printed notice (公示清册) says so: the board's date, the recording, no reason,
    #    and the early approval; it is displayed from the recording.
    args = ["--village", VILLAGE, "--roll", "R-BD"]
    code, out, err = ft("--as", "k_clerk", "report", "publish", "payment-roll", *args, "--json")
    assert code == 0, err
    assert f'"display_from": "{today}"' in out
    assert ft("checkpoint", "sign")[0] == 0
    for who in ("village", "county"):
        assert ft("checkpoint", "cosign", "--key", f"keys/{who}.key", "--state",
                  f"keys/{who}.state", "--fresh")[0] == 0
    code, _, err = ft("report", "payment-roll", *args, "-o", "roll.pdf")
    assert code == 0, err
    pdf = tmp_path / "roll.pdf"
    assert pdftools.png(pdf, 1).stat().st_size > 10_000          # pdftoppm renders it
    printed = pdftools.flat(pdftools.text(pdf, 1, layout=False))
    assert "补记公示" in printed and "未说明理由" in printed
    assert re.sub("-", "", month_ago.isoformat()) in re.sub(r"[年月日-]", "", printed) or \
        f"{month_ago.year}年{month_ago.month}月{month_ago.day}日" in printed
    assert "公示期未满即审核" in printed
    # the notice recomputes to what it published (verify checks the published rows)
    code, out, err = ft("verify")
    assert code == 0, out + err


def test_a_backdated_publication_is_marked_on_the_staff_and_village_pages(
        app, scene, browser, world):  # noqa: F811
    """Through the web, on the real clock: the clerk's form takes an optional reason; the past
    date is recorded and marked; the approver approves the same minute, which is recorded and
    marked on the roll's page and the public village page."""
    village, county = scene.own["village"], scene.own["county"]
    today = clock.today()
    week_ago = today - dt.timedelta(days=14)
    with transaction(world.factory) as s:
        rolls.create_roll(s, world.user(s, "k_clerk"), code="R-WEB", lot_id=world.lot_id,
                          county_code=county, item="产业奖补", function_code="2130505",
                          use_code="household_subsidy", standard_fen=100_00,
                          lines=[("KH-1", 1)], as_of=week_ago)
    clerk = browser("k_clerk")
    page = "/staff/rolls/R-WEB"
    assert 'name="reason"' in clerk.get(page).get_data(as_text=True)
    r = clerk.post(f"{page}/publish", {"day": week_ago.isoformat(), "reason": REASON},
                   token_from=page)
    assert r.status_code == 302
    html = clerk.get(page).get_data(as_text=True)
    earliest = rolls.publicity_ends(today, 7)
    typed_earliest = rolls.publicity_ends(week_ago, 7)
    assert "补记公示" in html and REASON in html and f"录入于 {today}" in html
    assert str(typed_earliest) in html and str(earliest) in html
    approver = browser("k_approver")
    r = approver.post(f"{page}/approve", {"day": today.isoformat()}, token_from=page)
    assert r.status_code == 302
    html = approver.get(page).get_data(as_text=True)
    assert f"公示期未满即审核</strong>：公示录入于 {today}，审核录入于 {today}" in html
    public = browser().get(f"/village/{village}").get_data(as_text=True)
    section = public[public.index("R-WEB"):]
    section = section[:section.index("</section>")]
    assert "补记公示" in section and REASON in section and str(earliest) in section
    assert "公示期未满即审核" in section
    # the roll the scene published on its day carries no mark
    other = public[public.index(scene.own["roll"]):]
    other = other[:other.index("</section>")]
    assert "补记公示" not in other and "公示期未满即审核" not in other
