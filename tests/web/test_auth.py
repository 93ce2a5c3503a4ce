"""Sign-in, lockout, sessions, CSRF, cookies, headers and the secret key."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ledger.audit.entries import decode_entry
from ledger.audit.verify import verify
from ledger.core.config import ConfigError, Settings
from ledger.models import AuditEntry
from ledger.models.admin import AdminRequest
from ledger.org import regions
from ledger.org import signin as auth
from ledger.store.db import transaction
from tests.web.conftest import SECRET, make_settings
from tests.web.scene import PASSWORD
from web.app import create_app
from web.settings import WebSettings, check_secret


def _kinds(factory) -> list[tuple[str, str]]:
    with factory() as s:
        return [(e["actor"], e["kind"]) for e in (
            decode_entry(bytes(row)) for row in s.execute(
                select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars())]


def test_login_logout_are_in_the_audit_log(app, scene, browser, world):
    b = browser("k_clerk")
    assert b.get("/staff/").status_code == 200
    r = b.post("/logout", token_from="/staff/")
    assert r.status_code == 302
    assert b.get("/staff/").status_code == 302  # signed out
    kinds = _kinds(world.factory)
    assert ("k_clerk", "auth.login") in kinds and ("k_clerk", "auth.logout") in kinds
    with world.factory() as s:
        assert verify(s).intact  # the credential rows are bound to the log like any other


def test_wrong_password_then_lockout(app, scene, browser, world):
    b = browser()
    for _ in range(auth.MAX_FAILURES):
        r = b.login("k_clerk", "wrong-password-123")
        assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = b.login("k_clerk")  # the right password no longer helps
    assert r.status_code == 401 and "已被锁定" in r.get_data(as_text=True)
    kinds = _kinds(world.factory)
    assert kinds.count(("k_clerk", "auth.login_failed")) == auth.MAX_FAILURES
    assert ("k_clerk", "auth.locked") in kinds
    # an unknown user gets the same answer as a wrong password
    r = b.login("nobody", "wrong-password-123")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)


def test_lockout_ends_after_the_window(world, scene):
    later = dt.datetime.now(dt.timezone.utc)
    with transaction(world.factory) as s:
        for _ in range(auth.MAX_FAILURES):
            with pytest.raises(auth.LoginRefused):
                auth.authenticate(s, "k_clerk", "wrong-password-123", "10.0.0.1", now=later)
    with transaction(world.factory) as s:
        with pytest.raises(auth.LoginRefused, match="locked"):
            auth.authenticate(s, "k_clerk", PASSWORD, "10.0.0.1", now=later)
    with transaction(world.factory) as s:
        user = auth.authenticate(s, "k_clerk", PASSWORD, "10.0.0.1",
                                 now=later + auth.WINDOW + dt.timedelta(seconds=1))
        assert user.username == "k_clerk"


def test_one_client_is_rate_limited_across_usernames(world, scene):
    now = dt.datetime.now(dt.timezone.utc)
    with transaction(world.factory) as s:
        for n in range(auth.MAX_CLIENT_FAILURES):
            with pytest.raises(auth.LoginRefused):
                auth.authenticate(s, f"guess{n}", "wrong-password-123", "10.9.9.9", now=now)
    with transaction(world.factory) as s:
        with pytest.raises(auth.LoginRefused) as info:
            auth.authenticate(s, "k_approver", PASSWORD, "10.9.9.9", now=now)
        assert info.value.reason == "rate_limited"
    with transaction(world.factory) as s:  # another address is not affected
        assert auth.authenticate(s, "k_approver", PASSWORD, "10.1.1.1", now=now)


def test_passwords_are_hashed_and_checked_for_strength(world, scene):
    stored = auth.hash_password("a long enough passphrase")
    assert stored.startswith("scrypt$") and "a long enough" not in stored
    assert auth.verify_password("a long enough passphrase", stored)
    assert not auth.verify_password("a long enough passphrasf", stored)
    with transaction(world.factory) as s:
        user = regions.get_user(s, "k_clerk")
        for weak in ("short", "aaaaaaaaaaaaaaaa", "my-k_clerk-password"):
            with pytest.raises(auth.WeakPassword):
                auth.set_password(s, None, user, weak)
    with transaction(world.factory) as s:  # a clerk cannot set a colleague's password
        with pytest.raises(regions.LedgerError):
            auth.set_password(s, regions.get_user(s, "k_clerk"),
                              regions.get_user(s, "k_approver"), "another-good-password")


def test_a_new_password_ends_older_sessions(app, scene, browser, world):
    b = browser("k_clerk")
    assert b.get("/staff/").status_code == 200
    with transaction(world.factory) as s:
        auth.set_password(s, None, regions.get_user(s, "k_clerk"), "brand-new-password-1")
    assert b.get("/staff/").status_code == 302


def test_forms_without_csrf_token_are_refused(app, scene, browser):
    b = browser("k_approver")
    r = b.client.post(f"/staff/transfers/{scene.own['transfer']}/decide",
                      data={"decision": "approve"})
    assert r.status_code == 400
    visitor = browser()
    r = visitor.client.post("/login", data={"username": "k_clerk", "password": PASSWORD})
    assert r.status_code == 400 and visitor.get("/staff/").status_code == 302


def test_security_headers_and_cookie_flags(db_url, scene):
    app = create_app(WebSettings(ledger=make_settings(db_url, scene).ledger, secret_key=SECRET))
    client = app.test_client()
    r = client.get("/login", base_url="https://localhost")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in r.headers["Strict-Transport-Security"]
    cookie = next(c for c in r.headers.getlist("Set-Cookie")
                  if c.startswith("fundtrail_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for path in ("/", "/verify", "/keys.txt", "/nope"):
        assert "frame-ancestors 'none'" in client.get(path).headers["Content-Security-Policy"]


@pytest.mark.parametrize("secret", [None, "", "short", "x" * 64, "changeme"])
def test_refuses_to_start_without_a_strong_secret(secret):
    with pytest.raises(ConfigError):
        check_secret(secret)
    with pytest.raises(ConfigError):
        create_app(WebSettings(ledger=Settings(), secret_key=secret))


def test_login_does_not_redirect_off_site(app, scene, browser):
    b = browser()
    token = b.token()
    r = b.client.post("/login?next=https://evil.example/", data={
        "csrf_token": token, "username": "k_clerk", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/staff/"


def test_user_password_command(db_url, world, monkeypatch, fast_hashing):
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.setenv("FUNDTRAIL_USER_PASSWORD", "demo-password-for-k")
    assert main(["user-password", "k_clerk"]) == 0
    monkeypatch.setenv("FUNDTRAIL_USER_PASSWORD", "short")
    assert main(["user-password", "k_clerk"]) == 2
    assert main(["--as", "k2_clerk", "user-password", "k_clerk"]) == 2  # not an administrator
    with transaction(world.factory) as s:
        assert auth.authenticate(s, "k_clerk", "demo-password-for-k", "cli")
    monkeypatch.setenv("FUNDTRAIL_USER_PASSWORD", "demo-password-for-all")
    assert main(["user-password", "--all-without-password"]) == 0
    with transaction(world.factory) as s:
        assert auth.authenticate(s, "p_clerk", "demo-password-for-all", "cli")
        with pytest.raises(auth.LoginRefused):  # already had one: unchanged
            auth.authenticate(s, "k_clerk", "demo-password-for-all", "cli")
    assert main(["user-password"]) == 2


def test_serve_refuses_to_start_without_a_secret(db_url, monkeypatch, capsys):
    from ledger.cli.root import main
    monkeypatch.setenv("FUNDTRAIL_DATABASE_URL", db_url)
    monkeypatch.delenv("FUNDTRAIL_SECRET_KEY", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    assert "secret key" in capsys.readouterr().err


def test_administrator_adds_a_user_who_can_sign_in(app, scene, browser):
    admin = browser("k_admin")
    r = admin.post("/admin/users", {"username": "k_clerk2", "display_name": "新经办",
                                    "role": "clerk", "region": "430121001",
                                    "password": "short"}, token_from="/admin/users")
    assert r.status_code == 422 and "12" in r.get_data(as_text=True)
    r = admin.post("/admin/users", {"username": "k_clerk2", "display_name": "新经办",
                                    "role": "clerk", "region": "430121001",
                                    "password": "a-good-new-password"}, token_from="/admin/users")
    assert r.status_code == 302
    # Four eyes: nothing exists until a second administrator approves the request.
    assert browser().login("k_clerk2", "a-good-new-password").status_code == 401
    with transaction(app.extensions["fundtrail_factory"]) as s:
        asked = s.execute(select(AdminRequest).where(AdminRequest.target == "k_clerk2")) \
            .scalar_one()
    second = browser("p_admin")
    assert "k_clerk2" in second.get("/admin/users").get_data(as_text=True)
    second.post(f"/admin/requests/{asked.id}/approve", token_from="/admin/users")
    assert browser().login("k_clerk2", "a-good-new-password").status_code == 302
    r = admin.post("/admin/users", {"username": "x2", "display_name": "x", "role": "clerk",
                                    "region": "430122", "password": "a-good-new-password"},
                   token_from="/admin/users")
    assert r.status_code == 422  # another county is not a region this administrator is offered
