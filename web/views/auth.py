"""Sign in and out, the signed-in user's own sessions, and the language switch. Who is signed
in and the role guards on views are web.access.

`next=` (after sign-in, after a language switch) is only ever a path on this site
(`local_path`): a value with CR, LF or tab is refused with 400 (it would end up in the
Location header), and one that a browser could read as another host (a scheme, `//`, a
backslash, spaces or control characters that browsers strip) is replaced by the home page."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ledger.org import signin as auth
from web import db, unit
from web.access import StaffUser, actor, credential_id, signed_in
from web.i18n import LANGUAGES, gettext

bp = Blueprint("auth", __name__)

# Characters that split or fold a header line; in a value that becomes a header: 400.
HEADER_BREAKING = frozenset("\r\n\t\x0b\x0c")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=auth.MAX_LENGTH)])


class EmptyForm(FlaskForm):
    """A button: only the CSRF token."""


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`; 400 for header-breaking input."""
    if not target:
        return default
    if HEADER_BREAKING.intersection(target):
        abort(400, description="next: 含有换行或制表符 (contains a line break or a tab)")
    decoded = unquote(target)
    for text in (target, decoded):
        # Browsers drop control characters and spaces and read "\" as "/": "/\t/evil",
        # "/\\evil" and "/ /evil" all become "//evil", another host.
        if any(not ch.isprintable() or ch.isspace() or ch == "\\" for ch in text):
            return default
        parts = urlsplit(text)
        if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//"):
            return default
    return target


def _next(default_endpoint: str) -> str:
    return local_path(request.args.get("next"), url_for(default_endpoint))


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = _next("staff.home")  # checked before any password is, so a bad one is 400 early
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db.session()
        try:
            user = auth.authenticate(session, form.username.data, form.password.data,
                                     request.remote_addr or "unknown")
        except auth.LoginRefused as exc:
            # Not a refusal to roll back: the failed attempt (and the lockout it may start)
            # is what must be kept, so this is committed, unlike any other refusal.
            db.commit()
            error = gettext("用户名或密码错误") if exc.reason == "bad_credentials" \
                else unit.refusal_text(exc)
        else:
            if current_user.is_authenticated:  # signing in again: the old session ends
                auth.end_session(session, current_user.token, "replaced")
            token = auth.start_session(session, user, credential_id(user.id),
                                       request.remote_addr or "unknown",
                                       request.user_agent.string or "")
            db.commit()
            login_user(StaffUser(user, token))
            return redirect(target)
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    s = db.session()
    auth.end_session(s, current_user.token)
    auth.record_logout(s, actor())
    db.commit()
    logout_user()
    return redirect(url_for("public.index"))


@bp.route("/account/sessions", methods=["GET", "POST"])
@signed_in
def sessions():
    """The signed-in user's open sessions; a button ends all but this one."""
    s, me = db.session(), actor()
    form = EmptyForm()
    if form.validate_on_submit():
        if unit.run(lambda: auth.end_other_sessions(s, me, me, keep=current_user.token),
                    done=gettext("已退出其他会话")):
            return redirect(url_for("auth.sessions"))
    rows = auth.active_sessions(s, me)
    return render_template("sessions.html", rows=rows, form=form, owner=me,
                           current=[r.id for r in rows if auth.is_current(r, current_user.token)])


@bp.route("/lang/<lang>")
def language(lang: str):
    if lang not in LANGUAGES:
        abort(404)
    response = redirect(_next("public.index"))
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
