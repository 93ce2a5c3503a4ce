"""What the browser tests share: Debian's chromium driven by Playwright (never a downloaded
browser), signing a person in, and screenshots kept as test artifacts.

A test module imports `pytestmark` (skip where chromium is not installed) and the helpers, and
asks for the `chromium` fixture (tests/web/conftest.py); importing this module skips the test
module when Playwright itself is missing.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.web.scene import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
playwright_api = pytest.importorskip("playwright.sync_api")

# `slow`: a browser test takes seconds, so the suite schedules them first (tests/conftest.py).
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed "
                                 "(scripts/setup-env.sh installs it)"),
              pytest.mark.slow]
# The browser layer of a page that the tests with Flask's test client already check on both
# databases (the service and the page, on PostgreSQL too) runs on SQLite only: what it adds,
# the page as chromium lays it out and runs its scripts, does not depend on the database.
# test_e2e_browser.py, the clerk-to-villager story, stays on both: the PostgreSQL smoke test of
# the browser layer.
SQLITE_ONLY = [*pytestmark, pytest.mark.sqlite_only]


@contextmanager
def serving(make_app, host: str = "127.0.0.1", threads: int = 4):
    """The app on a free port of this machine (waitress, in a thread), for the browser: yields
    its base URL. `make_app(base)` builds the app once the address is known, for the settings
    that name it (a QR's public URL, a passkey's origin); the engine it opened is disposed."""
    import waitress
    holder = {}
    srv = waitress.create_server(lambda env, start: holder["app"](env, start),
                                 host="127.0.0.1", port=0, threads=threads)
    base = f"http://{host}:{srv.effective_port}"
    holder["app"] = make_app(base)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        srv.close()
        thread.join(timeout=10)
        holder["app"].extensions["fundtrail_factory"].kw["bind"].dispose()


def launch(playwright):
    """Debian's chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])


def sign_in(page, base: str, username: str):
    """Sign `username` in on `page` (the scene's password) and wait for the staff home."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/staff/")
    return page


def shot(page, folder: str, name: str, db: str) -> None:
    """A full-page screenshot, test-artifacts/FOLDER/DB-NAME.png (looked at by a person)."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / folder / f"{db}-{name}.png"), full_page=True)
