"""A township's clerk (乡镇经办) prepares a county roll of its own villages (issue 17), on SQLite
and PostgreSQL: the roll is created and published by the township, approved by the county's
approver and sent by the county's clerk; a line of another township's village is refused by
code, and a township clerk of another county, or the township's approver, may not prepare one;
the township may neither approve nor send."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from ledger.core import clock
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import RegionLevel, Role
from ledger.org import regions
from ledger.reading import scoped as reading
from ledger.rolls import lifecycle as rolls
from ledger.rolls.lifecycle import LineSpec
from ledger.store.db import transaction
from tests.ledger.test_import_households import HOUSEHOLDS, write
from tests.ledger.test_invariants import down_to_county, u
from tests.ledger.test_rolls import EARLIEST, PUBLISHED
from tests.world import COUNTY, TOWNSHIP, add_user_four_eyes

TOWNSHIP_B, VILLAGE_B = "430121002", "430121002001"    # another township of the same county
OTHER_COUNTY_TOWNSHIP = "430122001"                     # 乌山镇, of county 430122
DAY = dt.date(2024, 3, 15)


@pytest.fixture
def county(cli, db_url, world, tmp_path):
    down_to_county(world, 100_000_00)
    with transaction(world.factory) as s:
        admin = u(s, "admin")
        regions.add_region(s, admin, code=TOWNSHIP_B, name="黄花镇", level=RegionLevel.TOWNSHIP,
                           parent_code=COUNTY)
        regions.add_region(s, admin, code=VILLAGE_B, name="黄花村", level=RegionLevel.VILLAGE,
                           parent_code=TOWNSHIP_B)
        for username, role, region in [("t_clerk", Role.CLERK, TOWNSHIP),
                                       ("t_approver", Role.APPROVER, TOWNSHIP),
                                       ("t2_clerk", Role.CLERK, OTHER_COUNTY_TOWNSHIP)]:
            add_user_four_eyes(s, username, role, region)
    extra = f"H-300,{VILLAGE_B},吴六,建档立卡,2019-05-01,6222021234567890300,\n"
    assert cli("--as", "k_clerk", "import", "households",
               write(tmp_path, "h.csv", HOUSEHOLDS + extra))[0] == 0
    return world


def create(s, world, who, code, lines, **kw):
    args = dict(code=code, lot_id=world.lot_id, county_code=COUNTY, item="产业奖补",
                function_code="2130505", use_code="household_subsidy", standard_fen=500_00,
                lines=lines, as_of=DAY)
    args.update(kw)
    return rolls.create_roll(s, u(s, who), **args)


def refusal(call) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        call()
    return caught.value


def test_a_township_prepares_and_publishes_its_villages_roll_the_county_approves_and_sends(
        county):
    world = county
    with transaction(world.factory) as s:
        roll = create(s, world, "t_clerk", "R-T-01", [("H-100", 2), ("H-101", 1)])
        assert roll.county_code == COUNTY
        assert roll.created_by == u(s, "t_clerk").id      # who prepared it
        assert rolls.township_of_roll(s, u(s, "t_clerk"), roll) == TOWNSHIP
        assert rolls.township_of_roll(s, u(s, "k_clerk"), roll) is None  # the county's own
        # the same roll again is the same roll
        assert create(s, world, "t_clerk", "R-T-01", [("H-100", 2), ("H-101", 1)]).id == roll.id
    with transaction(world.factory) as s, clock.at(PUBLISHED):
        rolls.publish(s, u(s, "t_clerk"), "R-T-01", PUBLISHED)   # 公示 in its villages
    with transaction(world.factory) as s:
        exc = refusal(lambda: rolls.approve_roll(s, u(s, "t_clerk"), "R-T-01", EARLIEST, 7))
        assert isinstance(exc, PermissionDenied) and exc.code == "role_forbidden"
        exc = refusal(lambda: rolls.approve_roll(s, u(s, "t_approver"), "R-T-01", EARLIEST, 7))
        assert isinstance(exc, PermissionDenied) and exc.code == "out_of_scope"
        assert exc.params["region"] == COUNTY
    with transaction(world.factory) as s, clock.at(EARLIEST):
        rolls.approve_roll(s, u(s, "k_approver"), "R-T-01", EARLIEST, 7)
    with transaction(world.factory) as s:
        exc = refusal(lambda: rolls.send(s, u(s, "t_clerk"), "R-T-01", EARLIEST))
        assert isinstance(exc, PermissionDenied) and exc.code == "out_of_scope"
        assert exc.params["region"] == COUNTY
    with transaction(world.factory) as s:
        sent = rolls.send(s, u(s, "k_clerk"), "R-T-01", EARLIEST)
        assert [line.household_code for line, _ in sent] == ["H-100", "H-101"]
        assert sum(line.amount_fen for line, _ in sent) == 1500_00


@pytest.mark.parametrize("form", ["whole", "standards"])
def test_a_line_of_another_townships_village_is_refused_by_code(county, form):
    world = county
    if form == "whole":
        lines = [("H-100", 1), ("H-300", 1)]
    else:   # a line of the second form (decimal quantity, the county's own amount)
        lines = [LineSpec("H-100", 250, amount_fen=750_00), LineSpec("H-300", 100)]
    with transaction(world.factory) as s:
        exc = refusal(lambda: create(s, world, "t_clerk", "R-T-02", lines))
        assert exc.code == "roll_line_outside_township"
        assert exc.params == {"line": 2, "household": "H-300", "township": TOWNSHIP}
    with transaction(world.factory) as s:   # the county's clerk may put both on one roll
        create(s, world, "k_clerk", "R-T-02", lines)


def test_only_a_township_of_the_county_prepares_and_only_its_clerk(county):
    world = county
    with transaction(world.factory) as s:
        exc = refusal(lambda: create(s, world, "t2_clerk", "R-T-03", [("H-100", 1)]))
        assert isinstance(exc, PermissionDenied) and exc.code == "out_of_scope"
        assert exc.params["region"] == COUNTY
        exc = refusal(lambda: create(s, world, "t_approver", "R-T-03", [("H-100", 1)]))
        assert isinstance(exc, PermissionDenied) and exc.code == "role_forbidden"
        assert rolls.township_county(s, u(s, "t_clerk")).code == COUNTY
        assert rolls.township_county(s, u(s, "k_clerk")) is None
        assert [lot.id for lot, _ in rolls.county_lots(s, u(s, "t_clerk"), COUNTY)] \
            == [world.lot_id]
        exc = refusal(lambda: rolls.county_lots(s, u(s, "t2_clerk"), COUNTY))
        assert exc.code == "out_of_scope"


def test_the_township_publishes_only_a_roll_all_of_whose_lines_are_its_villages(county):
    world = county
    with transaction(world.factory) as s:
        create(s, world, "k_clerk", "R-K-01", [("H-100", 1)])             # one township's
        create(s, world, "k_clerk", "R-K-02", [("H-100", 1), ("H-300", 1)])  # two townships'
    with transaction(world.factory) as s, clock.at(PUBLISHED):
        rolls.publish(s, u(s, "t_clerk"), "R-K-01", PUBLISHED)
        exc = refusal(lambda: rolls.publish(s, u(s, "t_clerk"), "R-K-02", PUBLISHED))
        assert isinstance(exc, PermissionDenied) and exc.code == "out_of_scope"
        exc = refusal(lambda: rolls.publish(s, u(s, "t2_clerk"), "R-K-01", PUBLISHED))
        assert isinstance(exc, PermissionDenied) and exc.code == "out_of_scope"
    with transaction(world.factory) as s:   # the township's list: its own villages' rolls
        assert [r.code for r in reading.rolls(s, u(s, "t_clerk"))] == ["R-K-01"]
        assert [r.code for r in reading.rolls(s, u(s, "k_clerk"))] == ["R-K-02", "R-K-01"]
        assert reading.rolls(s, u(s, "t2_clerk")) == []


def test_the_new_roll_page_works_for_a_township_clerk(db_url, world, tmp_path, monkeypatch):
    """The web: the township's county and the county's lots are offered, the preview and the
    roll's page show the township its roll, with the publish step and none of the county's."""
    from io import BytesIO

    from ledger.org import signin as auth
    from tests.web.conftest import Browser, make_settings
    from tests.web.scene import PASSWORD, build_scene
    from web.app import create_app
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)
    scene = build_scene(world, tmp_path)
    with transaction(world.factory) as s:
        add_user_four_eyes(s, "t_clerk", Role.CLERK, TOWNSHIP)
        auth.set_password(s, None, u(s, "t_clerk"), PASSWORD)
    app = create_app(make_settings(db_url, scene))
    app.config["TESTING"] = True
    try:
        b = Browser(app)
        assert b.login("t_clerk").status_code == 302
        html = b.get("/staff/rolls/new").get_data(as_text=True)
        assert f'value="{COUNTY}"' in html and f'value="{world.lot_id}"' in html
        form = {"code": "R-TWN", "lot": str(world.lot_id), "county": COUNTY, "item": "产业奖补",
                "function_code": "2130505", "use": "household_subsidy", "standard": "300.00"}
        good = "户编码,数量\nKH-1,1\nKH-2,3\n".encode()
        r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(good), "lines.csv")),
                   token_from="/staff/rolls/new", content_type="multipart/form-data")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "1,200.00" in html, html[:2000]
        other = "户编码,数量\nKH-1,1\nK2H-1,3\n".encode()   # a household of another county
        r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(other), "lines.csv")),
                   token_from="/staff/rolls/new", content_type="multipart/form-data")
        assert r.status_code == 422 and "outside township" in r.get_data(as_text=True)
        r = b.post("/staff/rolls/new", dict(form, lines=(BytesIO(good), "lines.csv")),
                   token_from="/staff/rolls/new", content_type="multipart/form-data")
        token = re.search(r'name="token" type="hidden" value="([^"]+)"',
                          r.get_data(as_text=True)).group(1)
        r = b.post("/staff/rolls/confirm", {"token": token}, token_from="/staff/rolls/new")
        assert r.status_code == 302 and r.headers["Location"].endswith("/staff/rolls/R-TWN")
        page = "/staff/rolls/R-TWN"
        html = b.get(page).get_data(as_text=True)
        assert "/publish" in html and "/send" not in html
        today = dt.date.today().isoformat()   # the roll is of today: posted today
        r = b.post(f"{page}/publish", {"day": today}, token_from=page)
        assert r.status_code == 302
        assert today in b.get(page).get_data(as_text=True)
        assert b.post(f"{page}/approve", {"day": EARLIEST.isoformat()},
                      token_from=page).status_code == 403
    finally:
        app.extensions["fundtrail_factory"].kw["bind"].dispose()
