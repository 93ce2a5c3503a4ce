"""One database session per request (SecureDrop/Indico style): open lazily, commit through
`commit()` after a service succeeded, roll back whatever is left at the end of the request."""
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


def apply(call, done: str | None = None, passthrough=()) -> bool:
    """Run one service call for a form: commit and say `done` if it succeeds; if the ledger
    refuses, roll back and show its reason. PermissionDenied (and `passthrough`) propagate to
    the 403/404 handlers, so a refusal of scope is never mistaken for a form error."""
    from flask import flash

    from ledger.core.errors import LedgerError, PermissionDenied
    from web.i18n import gettext
    try:
        call()
    except (PermissionDenied, *passthrough):
        raise
    except LedgerError as exc:
        rollback()
        flash(str(exc), "error")
        return False
    commit()
    flash(done or gettext("操作成功"), "ok")
    return True


def init_app(app) -> None:
    @app.teardown_request
    def close(_exc):
        db = g.pop("db", None)
        if db is not None:
            db.rollback()
            db.close()
