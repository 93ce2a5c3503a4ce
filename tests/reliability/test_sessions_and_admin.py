"""Red-team findings of issue 19 about sessions and administration, as attack stories.

- A copied session cookie still approved a transfer after its owner signed out (and after a
  new password, and after the account was disabled): sessions live on the server now.
- `next=` sent visitors off-site (`/lang/en?next=/%09/evil.example` → `Location:
  //evil.example`, also after sign-in) and `next=/%0d/` was a 500.
- Anonymous complaint look-ups shared the sign-in failure counter of their address, so the
  public could lock staff out of signing in.
- One administrator alone created a clerk and reset an approver's password (then recorded and
  approved a payment as those two): every such change is now a request that a second
  administrator approves.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from ledger.audit.entries import decode_entry
from ledger.audit.verify import verify
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.funds import flows, posting
from ledger.models import AuditEntry, Role, Transfer
from ledger.models.admin import AdminRequest
from ledger.org import admin_requests, regions
from ledger.org import signin as auth
from ledger.store.access import DISABLE
from ledger.store.db import transaction
from tests.web import conftest as web_fixtures
from tests.web.conftest import Browser
from tests.web.scene import PASSWORD
from tests.world import COUNTY, DAY, PROVINCE

# The web tests' fixtures, by name (this suite lives beside the other reliability suites).
app, browser, scene = web_fixtures.app, web_fixtures.browser, web_fixtures.scene
fast_hashing = web_fixtures.fast_hashing
COOKIE = "fundtrail_session"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _copy(app, browser_) -> Browser:
    """Another browser holding a copy of `browser_`'s session cookie (a stolen cookie)."""
    thief = Browser(app)
    thief.client.set_cookie(COOKIE, browser_.client.get_cookie(COOKIE).value)
    return thief


def _approve(b: Browser, transfer_id: int):
    return b.post(f"/staff/transfers/{transfer_id}/decide", {"decision": "approve"})


def _request_and_approve(app, kind, target, **kw):
    with transaction(app.extensions["fundtrail_factory"]) as s:
        asked = admin_requests.request(s, regions.get_user(s, "admin"), kind, target, **kw)
        admin_requests.decide(s, regions.get_user(s, "p_admin"), asked.id, approve=True)


def test_a_copied_cookie_is_worthless_after_sign_out_new_password_or_disabling(app, scene,
                                                                                 browser,
                                                                                 world):
    factory = app.extensions["fundtrail_factory"]
    approver = browser("k_approver")
    thief = _copy(app, approver)
    assert thief.get("/staff/").status_code == 200  # the copy works while the owner is in
    approver.post("/logout", token_from="/staff/")
    assert thief.get("/staff/").status_code == 302  # to the sign-in page
    r = _approve(thief, scene.own["transfer"])
    assert r.status_code in (302, 400) and "/login" in r.headers.get("Location", "/login")
    with transaction(factory) as s:
        assert posting.decision_of(s, scene.own["transfer"]) is None  # still pending

    # A new password (reset by two administrators) ends every session opened before it.
    approver = browser("k_approver")
    thief = _copy(app, approver)
    own_page = approver.get("/account/sessions").get_data(as_text=True)
    assert "Werkzeug" in own_page or "werkzeug" in own_page  # the user sees the session
    _request_and_approve(app, admin_requests.PASSWORD_RESET, "k_approver",
                         password="a-brand-new-passphrase")
    assert thief.get("/staff/").status_code == 302
    assert approver.get("/staff/").status_code == 302

    # Disabling ends sessions and sign-in, and the services refuse the user too.
    clerk = browser("k_clerk")
    thief = _copy(app, clerk)
    _request_and_approve(app, DISABLE, "k_clerk")
    assert thief.get("/staff/").status_code == 302
    assert browser().login("k_clerk").status_code == 401
    assert "已停用" in browser("k_admin").get("/admin/users").get_data(as_text=True)
    with transaction(factory) as s, pytest.raises(PermissionDenied) as refused:
        flows.pay(s, regions.get_user(s, "k_clerk"), lot_id=world.lot_id, payee_code="KH-1",
                  amount_fen=1_00, function_code="2130505", use_code="household_subsidy",
                  county_code=COUNTY, effective_date=DAY, key="after-disable")
    assert refused.value.code == "user_disabled"


def test_sign_out_elsewhere_ends_the_other_sessions_only(app, scene, browser):
    here, there = browser("k_clerk"), browser("k_clerk")
    assert here.post("/account/sessions", token_from="/account/sessions").status_code == 302
    assert there.get("/staff/").status_code == 302
    assert here.get("/staff/").status_code == 200
    # An administrator sees a user's sessions and can end them.
    admin = browser("k_admin")
    assert admin.get("/admin/users/k_clerk/sessions").status_code == 200
    admin.post("/admin/users/k_clerk/sessions", token_from="/admin/users/k_clerk/sessions")
    assert here.get("/staff/").status_code == 302


OFF_SITE = ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "/\\evil.example",
            "https:evil.example", "https://evil.example/", "%2F%2Fevil.example",
            "/%20/evil.example", "/%0d/", "/%0a/Set-Cookie:x=1", "/%E3%80%80/evil.example",
            "/%2F/evil.example", "javascript:alert(1)"]


@SQLITE_ONLY
def test_next_never_sends_anyone_off_site_nor_breaks_a_header(db_url, app, scene, browser):
    b = browser()
    for target in OFF_SITE:
        for url in (f"/lang/en?next={target}", f"/lang/zh?next={target}"):
            r = b.client.get(url)
            assert r.status_code in (302, 400), (url, r.status_code)
            if r.status_code == 302:
                _assert_local(r.headers["Location"], url)
        token = b.token()
        r = b.client.post(f"/login?next={target}", data={
            "csrf_token": token, "username": "k_clerk", "password": PASSWORD})
        assert r.status_code in (302, 400), (target, r.status_code)
        if r.status_code == 302:
            _assert_local(r.headers["Location"], target)
        b.post("/logout", token_from="/login")
    # A path of this site is kept.
    assert b.client.get("/lang/en?next=/staff/transfers").headers["Location"] == \
        "/staff/transfers"
    # A control character in a path segment is refused, not a 500.
    assert b.client.get("/village/%0d%0aX").status_code in (400, 404)


def _assert_local(location: str, url: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, (url, location)
    assert location.startswith("/") and not location.startswith("//"), (url, location)
    assert "\\" not in location and not any(ord(c) < 33 for c in location), (url, location)


def test_complaint_look_ups_never_lock_staff_out_of_signing_in(app, scene, browser):
    public = browser()
    for n in range(auth.MAX_CLIENT_FAILURES + 5):
        r = public.post("/complaint/status", {"receipt": f"NOSUCH-{n:04d}"},
                        token_from="/complaint/status")
        assert r.status_code in (404, 429)
    staff = browser()
    assert staff.login("k_clerk").status_code == 302  # same address, not locked out


def test_one_administrator_alone_cannot_change_who_may_act(db_url, world, fast_hashing):
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        # Setup: while the ledger has one administrator, it adds the second one alone.
        regions.add_user(s, admin, username="admin2", display_name="第二管理员",
                         role=Role.ADMIN, region_code=PROVINCE)
        auth.set_password(s, None, regions.get_user(s, "k_approver"), "approver-own-passphrase")
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        # The attack: a clerk of one's own, the approver's password reset, straight away.
        with pytest.raises(PermissionDenied) as refused:
            regions.add_user(s, admin, username="sock_clerk", display_name="x",
                             role=Role.CLERK, region_code=COUNTY)
        assert refused.value.code == "four_eyes_required"
        with pytest.raises(PermissionDenied) as refused:
            auth.set_password(s, admin, regions.get_user(s, "k_approver"),
                              "admin-chosen-passphrase")
        assert refused.value.code == "four_eyes_required"
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        create = admin_requests.request(
            s, admin, admin_requests.CREATE, "sock_clerk",
            details={"display_name": "x", "role": "clerk", "region": COUNTY},
            password="sock-clerk-passphrase")
        reset = admin_requests.request(s, admin, admin_requests.PASSWORD_RESET, "k_approver",
                                       password="admin-chosen-passphrase")
        create_id, reset_id = create.id, reset.id
    with transaction(world.factory) as s:
        admin = regions.get_user(s, "admin")
        for rid in (create_id, reset_id):
            with pytest.raises(PermissionDenied) as refused:  # asking and approving: one pair
                admin_requests.decide(s, admin, rid, approve=True)
            assert refused.value.code == "four_eyes_same_admin"
        with pytest.raises(LedgerError) as refused:
            admin_requests.request(s, admin, "user.role", "k_approver")  # no such change
        assert refused.value.code == "admin_request_kind"
    with transaction(world.factory) as s:
        # Pending: nothing has changed.
        assert s.execute(select(regions.User).where(
            regions.User.username == "sock_clerk")).scalar_one_or_none() is None
        assert auth.authenticate(s, "k_approver", "approver-own-passphrase", "t")
        assert [r.id for r in admin_requests.pending(s, regions.get_user(s, "admin2"))] == \
            [create_id, reset_id]
    with transaction(world.factory) as s:
        second = regions.get_user(s, "admin2")
        admin_requests.decide(s, second, create_id, approve=True)
        admin_requests.decide(s, second, reset_id, approve=False)
        with pytest.raises(LedgerError) as refused:
            admin_requests.decide(s, second, reset_id, approve=True)
        assert refused.value.code == "admin_request_decided"
    with transaction(world.factory) as s:
        assert auth.authenticate(s, "sock_clerk", "sock-clerk-passphrase", "t")
        assert auth.authenticate(s, "k_approver", "approver-own-passphrase", "t")  # refused
        kinds = [(e["kind"], e["actor"]) for e in (
            decode_entry(bytes(row)) for row in s.execute(
                select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars())]
        assert ("admin.request", "admin") in kinds and ("admin.approve", "admin2") in kinds \
            and ("admin.refuse", "admin2") in kinds and ("user.add", "admin2") in kinds
        assert verify(s).intact  # requests and decisions are bound to the log
    # Append-only: a request cannot be edited to say someone else asked.
    with pytest.raises(DBAPIError), transaction(world.factory) as s:
        s.execute(text("UPDATE admin_requests SET requested_by = 'admin2'"))
    with transaction(world.factory) as s:
        assert {r.requested_by for r in s.execute(select(AdminRequest)).scalars()} == {"admin"}


def test_an_administrator_never_records_nor_approves_money(app, scene, browser, world):
    factory = app.extensions["fundtrail_factory"]
    with transaction(factory) as s:
        for name in ("admin", "k_admin"):
            admin = regions.get_user(s, name)
            with pytest.raises(PermissionDenied) as refused:
                flows.pay(s, admin, lot_id=world.lot_id, payee_code="KH-1", amount_fen=1_00,
                          function_code="2130505", use_code="household_subsidy",
                          county_code=COUNTY, effective_date=DAY, key=f"by-{name}")
            assert refused.value.code == "role_forbidden"
            with pytest.raises(PermissionDenied) as refused:
                posting.approve(s, admin, scene.own["transfer"], "")
            assert refused.value.code == "role_forbidden"
    admin = browser("k_admin")
    assert admin.get("/staff/record/pay").status_code == 403
    assert _approve(admin, scene.own["transfer"]).status_code == 403
    with transaction(factory) as s:
        assert s.get(Transfer, scene.own["transfer"]) is not None
        assert posting.decision_of(s, scene.own["transfer"]) is None


@SQLITE_ONLY
def test_the_command_line_files_requests_and_a_second_administrator_decides(
        db_url, world, monkeypatch, capsys, fast_hashing):
    from ledger.cli.root import main
    from tests.conftest import KEY_OFFICER
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)

    def add(name, role):
        return main(["--as", "admin", "user", "add", name, "--name", "x", "--region", COUNTY,
                     "--role", role])
    # The first administrator adds the second alone while alone (setup); here the test
    # harness's key officer is already the second (tests/conftest.py), so it approves admin2.
    assert add("admin2", "admin") == 0
    filed = capsys.readouterr().out
    if filed.startswith("request "):
        assert main(["--as", KEY_OFFICER, "user", "approve",
                     filed.split("request ", 1)[1].split(" ", 1)[0]]) == 0
        capsys.readouterr()
    assert add("sock_clerk", "clerk") == 0
    filed = capsys.readouterr().out
    assert "request" in filed and "user approve" in filed
    request_id = filed.split("request ", 1)[1].split(" ", 1)[0]
    assert main(["--as", "admin2", "user", "requests"]) == 0
    assert "sock_clerk" in capsys.readouterr().out
    assert main(["--as", "admin", "user", "approve", request_id]) == 2  # the filer
    with transaction(world.factory) as s:
        assert s.execute(select(regions.User).where(
            regions.User.username == "sock_clerk")).scalar_one_or_none() is None
    assert main(["--as", "admin2", "user", "approve", request_id]) == 0
    monkeypatch.setenv("FUNDTRAIL_USER_PASSWORD", "admin-chosen-passphrase")
    assert main(["--as", "admin", "user", "password", "k_approver"]) == 0  # only a request
    with transaction(world.factory) as s:
        assert regions.get_user(s, "sock_clerk").role is Role.CLERK
        assert s.execute(select(AdminRequest.kind).where(
            AdminRequest.target == "k_approver")).scalar_one() == "user.password_reset"
        with pytest.raises(auth.LoginRefused):
            auth.authenticate(s, "k_approver", "admin-chosen-passphrase", "t")
