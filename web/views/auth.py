"""Sign in and out, and the language switch. Who is signed in and the role guards on views
are web.access."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ledger.org import signin as auth
from web import db
from web.access import StaffUser, actor, credential_id, signed_in
from web.i18n import LANGUAGES, gettext

bp = Blueprint("auth", __name__)


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
            # Not a refusal to roll back: the failed attempt (and the lockout it may start)
            # is what must be kept, so this is committed, unlike any other refusal.
            db.commit()
            error = gettext("用户名或密码错误") if exc.reason == "bad_credentials" else str(exc)
        else:
            credential = credential_id(user.id)
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
@signed_in
def logout():
    auth.record_logout(db.session(), actor())
    db.commit()
    logout_user()
    return redirect(url_for("public.index"))


@bp.route("/lang/<lang>")
def language(lang: str):
    if lang not in LANGUAGES:
        abort(404)
    response = redirect(_safe_next(request.args.get("next")) if request.args.get("next")
                        else url_for("public.index"))
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
