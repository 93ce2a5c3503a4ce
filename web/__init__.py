"""The fundtrail web app: staff record and approve, auditors verify, the public reads and checks.

`create_app(settings)` builds the app from a frozen `WebSettings`; nothing is read from the
environment after that. One database session per request: views commit through `web.db.commit`
after a service succeeded; anything else is rolled back at the end of the request.
"""
from __future__ import annotations

from flask import Flask, g, render_template
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from ledger.db import make_engine, make_sessionmaker
from ledger.errors import NotFound, PermissionDenied
from web import db as webdb
from web.i18n import current_language, gettext
from web.settings import WebSettings, check_secret

csrf = CSRFProtect()


def create_app(settings: WebSettings) -> Flask:
    check_secret(settings.secret_key)
    app = Flask(__name__)
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
    app.extensions["fundtrail_factory"] = make_sessionmaker(engine)
    csrf.init_app(app)
    _login_manager(app)
    webdb.init_app(app)
    _security_headers(app)
    _error_pages(app)
    app.jinja_env.globals.update(_=gettext, lang=current_language)
    from web import (
        admin, alerts_views, audit_views, auth_views, complaints_views, public, rolls_views, staff,
    )
    from web.format import register_filters
    register_filters(app)
    for module in (auth_views, staff, rolls_views, audit_views, alerts_views, public,
                   complaints_views, admin):
        app.register_blueprint(module.bp)
    return app


def _login_manager(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = None
    manager.session_protection = "strong"
    manager.init_app(app)

    @manager.user_loader
    def load(token: str):
        from web.auth_views import load_user
        return load_user(token)


def _security_headers(app: Flask) -> None:
    policy = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
    secure = app.config["SESSION_COOKIE_SECURE"]

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = policy
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

    app.register_error_handler(PermissionDenied, lambda e: page(403, "无权限", str(e)))
    app.register_error_handler(NotFound, lambda e: page(404, "未找到", str(e)))
    app.register_error_handler(403, lambda e: page(403, "无权限"))
    app.register_error_handler(404, lambda e: page(404, "未找到"))
    app.register_error_handler(405, lambda e: page(405, "请求有误"))
    app.register_error_handler(413, lambda e: page(413, "请求有误", "file too large"))
    app.register_error_handler(CSRFError, lambda e: page(400, "请求有误", e.description))
    app.register_error_handler(400, lambda e: page(400, "请求有误"))


def current_settings() -> WebSettings:
    from flask import current_app
    return current_app.extensions["fundtrail"]


__all__ = ["create_app", "current_settings", "g"]
