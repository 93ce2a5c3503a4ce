"""Page views (GET, HEAD) run in transactions that only read: on SQLite they begin DEFERRED, so
a view does not queue on the write lock behind a writer (the staff dashboard's p99, figure 6 of
docs/performance.md), and no change can be made through them."""
from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy.engine import make_url

from ledger.core.config import DEMO_LOG_ORIGIN
from ledger.funds import projects
from ledger.models import PayeeKind
from ledger.org.regions import get_user
from ledger.store.context import LedgerContext
from ledger.store.db import make_sessionmaker, reading_engine
from tests.web.conftest import Browser, make_settings
from tests.world import VILLAGE
from web.app import create_app

# Sessions of this file write to the demo log unless they say otherwise.
TEST_CONTEXT = LedgerContext(DEMO_LOG_ORIGIN)


# PostgreSQL readers never wait for writers: the lock this is about is SQLite's.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_page_view_does_not_wait_for_a_writer(db_url, scene):
    # a busy timeout of 3 s: were the view to wait for the lock, it would take that long
    app = create_app(make_settings(db_url + "?timeout=3", scene))
    browser = Browser(app)
    assert browser.login("p_clerk").status_code == 302     # signing in writes: before the lock
    writer = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")                       # a writer holds the write lock
    try:
        for url in ("/staff/", f"/village/{VILLAGE}"):
            start = time.monotonic()
            page = browser.get(url)
            took = time.monotonic() - start
            assert page.status_code == 200, url
            assert took < 2, f"{url} waited {took:.1f} s for the writer"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        app.extensions["fundtrail_factory"].kw["bind"].dispose()


def test_nothing_is_written_through_a_reading_session(engine, world):
    factory = make_sessionmaker(reading_engine(engine), TEST_CONTEXT)
    with factory() as s:
        with pytest.raises(RuntimeError, match="read-only"):
            projects.register_payee(s, get_user(s, "k_clerk"), code="H-900",
                                    kind=PayeeKind.HOUSEHOLD, name="赵六", region_code=VILLAGE)


def test_the_database_refuses_a_write_in_a_reading_session_too(engine, world):
    """Also what does not go through the log (a login attempt, a throttle count): SQLite's
    query_only, PostgreSQL's READ ONLY transaction. And the connection, back in the pool,
    writes again for the next writer."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from ledger.store.db import transaction
    reading = make_sessionmaker(reading_engine(engine), TEST_CONTEXT)
    for _ in range(2):   # the same pooled connection, read-only then writing, twice
        with reading() as s:
            with pytest.raises(DBAPIError):
                s.execute(text("INSERT INTO login_attempts (username, client, at, succeeded) "
                               "VALUES ('x', 'y', CURRENT_TIMESTAMP, false)"))
            s.rollback()
        with transaction(make_sessionmaker(engine, TEST_CONTEXT)) as s:
            projects.register_payee(s, get_user(s, "k_clerk"), code=f"H-90{_}",
                                    kind=PayeeKind.HOUSEHOLD, name="赵六", region_code=VILLAGE)
