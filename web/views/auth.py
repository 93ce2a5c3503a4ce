"""Sign in and out, the language switch, and the role check views use on top of the services."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ledger.org import signin as auth
from ledger.store.access import ROLE_ACTIONS, Action
from ledger.models.auth import UserCredential
from ledger.models import User
from web import db
from web.i18n import LANGUAGES, gettext

bp = Blueprint("auth", __name__)


class StaffUser(UserMixin):
    """The signed-in person: the ledger's User plus the credential the session was made with,
    so that setting a new password ends every older session."""

    def __init__(self, user: User, credential_id: int):
        self.user = user
        self.credential_id = credential_id

    def get_id(self) -> str:
        return f"{self.user.id}:{self.credential_id}"

    def may(self, action: Action) -> bool:
        return action in ROLE_ACTIONS.get(self.user.role, frozenset())


def _credential_id(user_id: int) -> int:
    return db.session().execute(select(UserCredential.id).where(
        UserCredential.user_id == user_id).order_by(UserCredential.id.desc()).limit(1)
    ).scalar_one_or_none() or 0


def load_user(token: str):
    try:
        user_id, credential_id = (int(x) for x in token.split(":"))
    except ValueError:
        return None
    user = db.session().get(User, user_id)
    if user is None or _credential_id(user_id) != credential_id:
        return None
    return StaffUser(user, credential_id)


def actor() -> User:
    """The ledger User acting in this request (views pass it to every service)."""
    return current_user.user


def requires(action: Action):
    """Login required, and the role must include `action` (the service checks scope too)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.may(action):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=auth.MAX_LENGTH)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db.session()
        try:
            user = auth.authenticate(session, form.username.data, form.password.data,
                                     request.remote_addr or "unknown")
        except auth.LoginRefused as exc:
            db.commit()  # the failed attempt counts towards the lockout
            error = gettext("用户名或密码错误") if exc.reason == "bad_credentials" else str(exc)
        else:
            credential = _credential_id(user.id)
            db.commit()
            login_user(StaffUser(user, credential))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=error), (401 if error else 200)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL here would make the login an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.home")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    auth.record_logout(db.session(), actor())
    db.commit()
    logout_user()
    return redirect(url_for("public.index"))


@bp.route("/lang/<code>")
def language(code: str):
    if code not in LANGUAGES:
        abort(404)
    response = redirect(_safe_next(request.args.get("next")) if request.args.get("next")
                        else url_for("public.index"))
    response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
