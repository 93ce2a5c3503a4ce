"""The public village page is kept rendered per app until the ledger changes (web.pagecache):
what a visitor gets from the store must be exactly what drawing the page now would give, the
store must let go of a page as soon as a roll event, notice, checkpoint or cosignature is
recorded, and a page drawn for one visitor (signed in, a flashed message) is never handed to
another. "Drawn now" is a second app on the same database: a server process that has kept
nothing."""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.audit import checkpoints as cps
from ledger.audit.tlog.checkpoint import verifier_from_vkey
from ledger.disclosure import notices
from ledger.models.disclosure import NoticeKind
from ledger.org import regions
from ledger.rolls import lifecycle as rolls
from ledger.store.context import use_log
from ledger.store.db import transaction
from tests.web.conftest import make_settings
from tests.web.scene import ORIGIN, PUBLISHED
from web.app import create_app
from web.pagecache import LedgerState, RenderedPages
from web.views.public import PUBLIC_MAX_AGE, village_pages


@pytest.fixture
def drawn_now(db_url, scene):
    """get(url, cookies={…}, **kw) on an app that has kept nothing: the page as drawn from the
    database now (a new app each call, as a new server process would be)."""
    engines = []

    def get(url, cookies=(), **kw):
        app = create_app(make_settings(db_url, scene))
        engines.append(app.extensions["fundtrail_factory"].kw["bind"])
        client = app.test_client()
        for name, value in dict(cookies).items():
            client.set_cookie(name, value)
        return client.get(url, **kw)
    yield get
    for engine in engines:
        engine.dispose()


def _kept(app, village):
    """The page the app keeps for this village in Chinese, whatever state it was drawn at."""
    return village_pages(app).kept((village, "zh", ""))


def _in_the_ledger(world, do) -> None:
    with transaction(world.factory) as s:
        use_log(s, ORIGIN)
        do(s)


def _withdraw_line(scene, household):
    """An objection to the line, upheld: the line is withdrawn and leaves the board."""
    def do(s):
        rolls.object_to(s, regions.get_user(s, "k_clerk"), scene.own["roll"], household,
                        dt.date.today(), "不在本村居住")
        rolls.resolve(s, regions.get_user(s, "k_approver"), scene.own["roll"], household, True,
                      dt.date.today(), "核实属实")
    return do


def _publish_roll_notice(scene):
    def do(s):
        clerk = regions.get_user(s, "k_clerk")
        notices.record_contact(s, clerk, region_code=scene.own["county"],
                               office="长沙县乡村振兴局", phone="0731-12345678")
        notices.publish(s, clerk, NoticeKind.ROLL,
                        {"roll": scene.own["roll"], "village": scene.own["village"],
                         "names": "full"}, PUBLISHED, notices.roll_window(PUBLISHED, 7))
    return do


def test_the_kept_page_is_the_page_drawn_now(app, scene, browser, drawn_now):
    url = f"/village/{scene.own['village']}"
    first = browser().get(url)
    kept = _kept(app, scene.own["village"])
    assert first.status_code == 200 and kept is not None
    second = browser().get(url)
    assert _kept(app, scene.own["village"]) is kept   # served from the store, not redrawn
    fresh = drawn_now(url)
    assert second.data == first.data == fresh.data == kept.body
    assert "张k1" in second.get_data(as_text=True)     # the roll's lines are on it
    assert second.headers["ETag"] == fresh.headers["ETag"]   # same tag from every process


def test_a_roll_event_a_notice_a_checkpoint_and_a_cosignature_each_redraw_it(
        app, scene, browser, world, drawn_now):
    village = scene.own["village"]
    url = f"/village/{village}"
    visitor = browser()
    pages = [visitor.get(url).data]

    def changed(step):
        before = _kept(app, village)
        _in_the_ledger(world, step)
        served = visitor.get(url).data
        after = _kept(app, village)
        assert after is not before and after.state != before.state
        assert served == drawn_now(url).data == after.body
        pages.append(served)
        return served.decode()

    html = changed(_withdraw_line(scene, "KH-2"))
    assert "王k2" not in html and "张k1" in html
    html = changed(_publish_roll_notice(scene))
    assert f"/roll/{scene.own['roll']}.pdf" in html
    # a new checkpoint, of the log grown by the notice: the verification link names its size
    with world.factory() as s:
        use_log(s, ORIGIN)
        size = cps.latest(s).size
    assert f"size={size}&" in html.replace("&amp;", "&")
    html = changed(lambda s: cps.sign(s, scene.log_signer))
    assert f"size={size}&" not in html.replace("&amp;", "&")
    # a cosignature: today's page prints nothing of it, but it is drawn again all the same
    changed(lambda s: cps.cosign_latest(
        s, scene.cosigners["county"], [verifier_from_vkey(scene.log_signer.vkey)],
        scene.policy_file.with_name("county.state"), fresh=True))
    assert pages[-1] == pages[-2]
    assert len(set(pages)) == len(pages) - 1


def test_etag_answers_304_until_the_page_changes(app, scene, browser, world):
    url = f"/village/{scene.own['village']}"
    visitor = browser()
    r = visitor.get(url)
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == f"public, max-age={PUBLIC_MAX_AGE}"
    assert "Cookie" in r.headers["Vary"]
    for sent in (etag, "W/" + etag, f'"other", {etag}'):
        again = visitor.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304 and again.data == b"", sent
        assert again.headers["ETag"] == etag
    assert visitor.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    _in_the_ledger(world, _withdraw_line(scene, "KH-2"))
    r = visitor.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    assert visitor.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_a_signed_in_page_is_never_kept_nor_shown_to_another(app, scene, browser, drawn_now):
    url = f"/village/{scene.own['village']}"
    clerk = browser("k_clerk")
    mine = clerk.get(url)
    html = mine.get_data(as_text=True)
    # the header names the user and holds their sign-out token
    assert "k_clerk" in html and 'name="csrf_token"' in html
    assert mine.headers["Cache-Control"] == "no-store" and "ETag" not in mine.headers
    assert len(village_pages(app)) == 0
    anonymous = browser().get(url)
    assert "k_clerk" not in anonymous.get_data(as_text=True)
    assert "csrf_token" not in anonymous.get_data(as_text=True)
    assert anonymous.data == drawn_now(url).data
    # and the other way round: once a page is kept, a signed-in user still gets their own
    again = clerk.get(url).get_data(as_text=True)
    assert "k_clerk" in again and 'name="csrf_token"' in again


def test_a_flashed_message_stays_with_its_visitor(app, scene, browser, drawn_now):
    url = f"/village/{scene.own['village']}"
    browser().get(url)   # a page is kept
    flashed = browser()
    with flashed.client.session_transaction() as session:
        session["_flashes"] = [("error", "只给这位访客的消息")]
    r = flashed.get(url)
    assert "只给这位访客的消息" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    assert "只给这位访客的消息" not in browser().get(url).get_data(as_text=True)
    assert "只给这位访客的消息" not in flashed.get(url).get_data(as_text=True)   # shown once
    assert browser().get(url).data == drawn_now(url).data


def test_each_language_gets_its_own_page(app, scene, browser, drawn_now):
    url = f"/village/{scene.own['village']}"
    chinese, english = browser(), browser()
    english.client.set_cookie("lang", "en")
    zh = chinese.get(url)
    en = english.get(url)
    assert "Payment rolls" in en.get_data(as_text=True)
    assert "Payment rolls" not in zh.get_data(as_text=True)
    assert chinese.get(url).data == zh.data and english.get(url).data == en.data
    assert en.headers["ETag"] != zh.headers["ETag"]
    assert en.data == drawn_now(url, cookies={"lang": "en"}).data


def test_a_response_that_sets_a_cookie_is_not_offered_to_shared_caches(app, scene, browser):
    url = f"/village/{scene.own['village']}"
    visitor = browser()
    # A form page puts a CSRF token in the session; Flask-Login's strong session protection
    # then clears that session on each later request, so the response sets cookies.
    visitor.get("/verify")
    r = visitor.get(url)
    assert r.headers.getlist("Set-Cookie")
    assert r.headers["Cache-Control"] == "private, no-cache"
    assert r.data == browser().get(url).data   # the same page all the same
    fresh = browser().get(url)
    assert not fresh.headers.getlist("Set-Cookie")
    assert fresh.headers["Cache-Control"] == f"public, max-age={PUBLIC_MAX_AGE}"


def test_unknown_villages_are_not_kept(app, scene, browser):
    assert browser().get("/village/430121999999").status_code == 404
    assert browser().get(f"/village/{scene.own['county']}").status_code == 404
    assert len(village_pages(app)) == 0


def test_the_store_keeps_the_most_recently_used_pages_up_to_its_capacity():
    pages = RenderedPages(capacity=2)
    now = LedgerState(5, b"r" * 32, 1, 2)
    for village in ("A", "B"):
        pages.put((village,), now, village.encode())
    assert pages.get(("A",), now).body == b"A"   # A used last
    pages.put(("C",), now, b"C")
    assert pages.get(("B",), now) is None and len(pages) == 2
    assert pages.get(("A",), now).body == b"A" and pages.get(("C",), now).body == b"C"
    assert pages.get(("A",), LedgerState(6, b"s" * 32, 1, 2)) is None   # another state
