"""The fundtrail web app: staff record and approve, auditors verify, the public reads and checks.

`create_app(settings)` builds the app from a frozen `WebSettings`; nothing is read from the
environment after that. One database session per request (web.db): a view's change commits
through `web.unit.run` when the service succeeded; anything else is rolled back at the end of
the request. Every route is public (listed) or guarded (web.access): deny by default.
"""
from __future__ import annotations

from flask import Flask, abort, current_app, g, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from ledger.core.errors import NotFound, PermissionDenied
from ledger.store.context import LedgerContext
from ledger.store.db import make_engine, make_sessionmaker, reading_engine
from web import access
from web import db as webdb
from web import i18n as web_i18n
from web.i18n import gettext
from web.proofcheck import PolicyUnreadable
from web.settings import WebSettings, check_secret

csrf = CSRFProtect()


class RowId(IntegerConverter):
    """`<int:…>` in routes: a row id, so at most 2**63 - 1. A larger number matches no route
    (404) instead of overflowing the database driver (SQLite: OverflowError) in the view."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def create_app(settings: WebSettings) -> Flask:
    check_secret(settings.secret_key)
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId  # before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="fundtrail_session",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    app.extensions["fundtrail"] = settings
    engine = make_engine(settings.ledger.database_url)
    app.extensions["fundtrail_factory"] = make_sessionmaker(
        engine, LedgerContext.from_settings(settings.ledger))
    app.extensions["fundtrail_reading_engine"] = reading_engine(engine)
    _refuse_unreadable_input(app)  # before the CSRF check, which reads the body
    csrf.init_app(app)
    access.install(app)  # deny by default: a route neither public nor guarded is a 403
    _login_manager(app)
    webdb.init_app(app)
    _security_headers(app)
    _error_pages(app)
    web_i18n.install(app)
    from web.format import register_filters
    from web.views import (
        admin,
        alerts,
        audit,
        auth,
        complaints,
        imports,
        passkeys,
        public,
        refusals,
        rolls,
        staff,
        verify,
    )
    register_filters(app)
    from web import confirm
    confirm.install(app)  # a passkey holder's change is signed or refused (docs/passkeys.md)
    # One blueprint per area, each under a URL prefix of its own.
    for area in (auth, staff, rolls, imports, audit, alerts, refusals, public, complaints,
                 admin, passkeys, verify):
        app.register_blueprint(area.bp)
    return app


def _login_manager(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = None
    manager.session_protection = "strong"
    manager.init_app(app)

    manager.user_loader(access.load_user)


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _refuse_unreadable_input(app: Flask) -> None:
    """The app takes HTML form posts only. Anything else is refused before a view sees it:
    another content type (JSON, XML, text) with 415 — Flask-WTF would otherwise read a JSON
    body as form data, and a list or a number where a form expects text crashed the views —
    and a NUL character in any parameter, field or file name with 400 (no field of the ledger
    can hold one; the ledger would refuse it only at flush time, mid-request), and a control
    character in a path segment with 400."""

    @app.before_request
    def refuse():
        posted = request.method not in ("GET", "HEAD", "OPTIONS")
        if posted and request.mimetype not in FORM_TYPES \
                and (request.content_length or request.mimetype):
            abort(415, description=f"只接受表单提交 (a form post is expected, not "
                                   f"{request.mimetype[:60]})")
        for name, value in _inputs():
            if "\x00" in value:
                shown = name[:60].replace("\x00", "?")
                abort(400, description=f"{shown}: 含有空字符 (contains a NUL character)")
        # A path segment may end up in a header (a download's file name, a redirect): a line
        # break or any other control character there is refused, never a 500 from the header.
        for name, value in (request.view_args or {}).items():
            if isinstance(value, str) and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                abort(400, description=f"{name[:60]}: 含有控制字符 (contains a control "
                                       "character)")


def _inputs():
    """(field, text) for the path's arguments, every name and value of the query and the
    form, and the names of uploaded files."""
    posted = request.method not in ("GET", "HEAD", "OPTIONS")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    for source in (request.args, request.form) if posted else (request.args,):
        for name, value in source.items(multi=True):
            yield name, name
            yield name, value
    if posted:
        for name, storage in request.files.items(multi=True):
            yield name, name
            yield name, storage.filename or ""


def _security_headers(app: Flask) -> None:
    policy = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
    # The passkey pages (web/views/passkeys.py, web/confirm.py) run one same-origin script,
    # web/static/passkey.js, and the QR's verify page (web/views/verify.py) its module
    # web/static/notice-check.js with the vendored noble libraries, and the staff home and
    # flow chart (web/views/staff.py) the vendored ECharts with web/static/charts.js; every
    # other page runs none. Inline script stays refused.
    with_script = policy.replace("script-src 'none'", "script-src 'self'")
    secure = app.config["SESSION_COOKIE_SECURE"]

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = \
            with_script if g.get("csp_script_self") else policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if "text/html" in response.content_type:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _error_pages(app: Flask) -> None:
    def page(status, title, message=""):
        return render_template("error.html", title=gettext(title), message=message), status

    def policy_unreadable(exc: PolicyUnreadable):
        # The reason (path, parse error) is for the operator's log; the public is told only
        # that nothing can be checked now.
        current_app.logger.error("policy file unusable: %s", exc)
        return page(503, "暂时无法核验", gettext("服务器公布的公钥和策略文件无法读取"))

    app.register_error_handler(PolicyUnreadable, policy_unreadable)
    # A refusal reads in the visitor's language, from its code (web.unit.refusal_text).
    from web.unit import refusal_text
    app.register_error_handler(PermissionDenied, lambda e: page(403, "无权限", refusal_text(e)))
    app.register_error_handler(NotFound, lambda e: page(404, "未找到", refusal_text(e)))
    app.register_error_handler(403, lambda e: page(403, "无权限"))
    app.register_error_handler(404, lambda e: page(404, "未找到"))
    app.register_error_handler(405, lambda e: page(405, "请求有误"))
    app.register_error_handler(413, lambda e: page(413, "请求有误", gettext("文件太大")))
    app.register_error_handler(415, lambda e: page(415, "请求有误", e.description))
    # Flask-WTF's reasons are English sentences: a person is told what to do instead.
    app.register_error_handler(CSRFError, lambda e: page(
        400, "请求有误", gettext("页面已过期或表单不完整，请返回上一页刷新后重新提交。")))
    app.register_error_handler(400, lambda e: page(400, "请求有误", e.description))


__all__ = ["create_app"]
