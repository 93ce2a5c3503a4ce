"""One database session per request (SecureDrop/Indico style): open lazily, commit after a
service succeeded (web.unit.run, the views' unit of work), roll back whatever is left at the
end of the request."""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session


def session() -> Session:
    if "db" not in g:
        factory = current_app.extensions["fundtrail_factory"]
        # GET and HEAD only read (a form posts): their transactions take no write lock.
        g.db = factory(bind=current_app.extensions["fundtrail_reading_engine"]) \
            if request.method in ("GET", "HEAD") else factory()
    return g.db


def engine():
    """The app's engine, for a read that must not open the request's session (see
    web.pagecache.ledger_state)."""
    return current_app.extensions["fundtrail_factory"].kw["bind"]


def commit() -> None:
    session().commit()


def rollback() -> None:
    if "db" in g:
        g.db.rollback()


def init_app(app) -> None:
    @app.teardown_request
    def close(_exc):
        db = g.pop("db", None)
        if db is not None:
            db.rollback()
            db.close()
