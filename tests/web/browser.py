"""What the browser tests share: Debian's chromium driven by Playwright (never a downloaded
browser), signing a person in, and screenshots kept as test artifacts.

A test module imports `pytestmark` (skip where chromium is not installed) and the helpers, and
asks for the `chromium` fixture (tests/web/conftest.py); importing this module skips the test
module when Playwright itself is missing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.scene import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed "
                                "(scripts/setup-env.sh installs it)")


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
