"""Fixtures for the web tests: the scene, an app bound to its database, signed-in clients."""
from __future__ import annotations

import re

import pytest

from ledger.core.config import Settings
from ledger.org import signin as auth
from tests.web.scene import ORIGIN, PASSWORD, build_scene
from web.app import create_app
from web.settings import WebSettings

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def fast_hashing(monkeypatch):
    # Tests hash many passwords; the parameters are stored with each hash, so a cheaper N
    # here changes nothing about verification.
    monkeypatch.setattr(auth, "SCRYPT_N", 2**10)


@pytest.fixture
def scene(world, tmp_path, fast_hashing):
    return build_scene(world, tmp_path)


def make_settings(db_url, scene, **kw) -> WebSettings:
    ledger = Settings(database_url=db_url, log_origin=ORIGIN, policy_file=str(scene.policy_file))
    return WebSettings(ledger=ledger, secret_key=SECRET, secure_cookies=False, **kw)


@pytest.fixture
def app(db_url, scene):
    app = create_app(make_settings(db_url, scene))
    app.config["TESTING"] = True
    yield app
    app.extensions["fundtrail_factory"].kw["bind"].dispose()


@pytest.fixture
def bare_app():
    """An app on an empty in-memory database: for tests that read only its url_map."""
    app = create_app(WebSettings(ledger=Settings(database_url="sqlite://"), secret_key=SECRET,
                                 secure_cookies=False))
    yield app
    app.extensions["fundtrail_factory"].kw["bind"].dispose()


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A test client that signs in and posts forms with their CSRF token."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def token(self, url="/login") -> str:
        return csrf_of(self.client.get(url).get_data(as_text=True))

    def post(self, url, data=None, token_from=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or "/login"))
        return self.client.post(url, data=data, **kw)

    def login(self, username, password=PASSWORD):
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def browser(app):
    def make(username=None):
        b = Browser(app)
        if username:
            r = b.login(username)
            assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return b
    return make


@pytest.fixture(scope="session")
def _chromium_process():
    """One headless Debian chromium per test process (a launch costs a second or two, and the
    browser tests are a few dozen); `chromium` gives each test it with nothing left open."""
    from tests.web.browser import launch, playwright_api
    with playwright_api.sync_playwright() as p:
        holder = {"browser": launch(p), "relaunch": lambda: launch(p)}
        yield holder
        if holder["browser"].is_connected():
            holder["browser"].close()


@pytest.fixture
def chromium(_chromium_process):
    """A headless Debian chromium for the browser tests (tests/web/browser.py). Each test makes
    its own browser contexts (cookies, storage, viewport); they are closed after it, so that
    the next test starts from a browser with none, as with a browser of its own."""
    if not _chromium_process["browser"].is_connected():   # a test crashed it: a new one
        _chromium_process["browser"] = _chromium_process["relaunch"]()
    browser = _chromium_process["browser"]
    yield browser
    for context in list(browser.contexts):
        context.close()
