"""Administrators: users in their region, and changes to them under four eyes.

Once the ledger has two administrators, a new user, a password reset and disabling or
enabling a user are requests (ledger.org.admin_requests): the page files them, lists those
waiting, and a second administrator approves or refuses them there. Nothing takes effect on one
administrator's word. Before that (setup), the only administrator adds users and sets
passwords directly, as the command line does. Ending a user's sessions is protective and one
administrator may do it alone."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from ledger.funds.balances import descendants
from ledger.i18n.labels import label
from ledger.models import Role, User
from ledger.org import admin_requests as requests
from ledger.org import regions
from ledger.org import signin as auth
from ledger.reading import scoped as reading
from ledger.store.access import Action, disabled_among, four_eyes_apply, require
from web import db, unit
from web.access import actor, requires
from web.forms import PasswordForm, UserForm
from web.i18n import gettext

bp = Blueprint("admin", __name__, url_prefix="/admin")


class EmptyForm(FlaskForm):
    """A button: only the CSRF token."""


def _users(s, me):
    regions_in_scope = descendants(s, me.region_code)
    return list(s.execute(select(User).where(User.region_code.in_(regions_in_scope))
                          .order_by(User.region_code, User.username)).scalars())


def _in_scope(s, me, username) -> User:
    user = regions.get_user(s, username)
    require(s, me, Action.ADMINISTER, user.region_code)
    return user


@bp.route("/users", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def users():
    s, me = db.session(), actor()
    form = UserForm()
    form.role.choices = [(r.value, label(r)) for r in Role]
    form.region.choices = [(r.code, f"{r.code} {r.name}") for r in reading.regions_below(s, me)]
    if form.validate_on_submit():
        setup = not four_eyes_apply(s)

        def ask():
            if setup:  # the only administrator sets the province up (docs/administration.md)
                user = regions.add_user(s, me, username=form.username.data.strip(),
                                        display_name=form.display_name.data.strip(),
                                        role=Role(form.role.data), region_code=form.region.data)
                s.flush()
                return auth.set_password(s, me, user, form.password.data)
            return requests.request(
                s, me, requests.CREATE, form.username.data.strip(),
                details={"display_name": form.display_name.data.strip(),
                         "role": form.role.data, "region": form.region.data},
                password=form.password.data)
        # A weak password is shown beside the password (web.unit.FIELD_OF_CODE), any other
        # refusal beside the username.
        if unit.run(ask, form=form, default_field="username",
                    done=gettext("已保存") if setup else gettext("已提交，待另一位管理员批准")):
            return redirect(url_for("admin.users"))
    listed = _users(s, me)
    page = render_template("admin/users.html", users=listed, form=form,
                           password_form=PasswordForm(), button=EmptyForm(),
                           pending=requests.pending(s, me),
                           disabled=disabled_among(s, [u.username for u in listed]),
                           sessions=auth.open_session_counts(s, listed))
    return page, (422 if form.errors else 200)


@bp.route("/users/<username>/password", methods=["POST"])
@requires(Action.ADMINISTER)
def password(username: str):
    s, me = db.session(), actor()
    form = PasswordForm()
    if form.validate_on_submit():
        if not four_eyes_apply(s):  # setup, as for a new user
            unit.run(lambda: auth.set_password(s, me, regions.get_user(s, username),
                                               form.password.data), done=gettext("已保存"))
        else:
            unit.run(lambda: requests.request(s, me, requests.PASSWORD_RESET, username,
                                              password=form.password.data),
                     done=gettext("已提交，待另一位管理员批准"))
    return redirect(url_for("admin.users"))


@bp.route("/users/<username>/<any(disable, enable):change>", methods=["POST"])
@requires(Action.ADMINISTER)
def status(username: str, change: str):
    s, me = db.session(), actor()
    if EmptyForm().validate_on_submit():
        unit.run(lambda: requests.request(s, me, f"user.{change}", username),
                 done=gettext("已提交，待另一位管理员批准"))
    return redirect(url_for("admin.users"))


@bp.route("/requests/<int:request_id>/<any(approve, refuse):decision>", methods=["POST"])
@requires(Action.ADMINISTER)
def decide(request_id: int, decision: str):
    s, me = db.session(), actor()
    if EmptyForm().validate_on_submit():
        unit.run(lambda: requests.decide(s, me, request_id, approve=decision == "approve"),
                 done=gettext("已批准") if decision == "approve" else gettext("已拒绝"))
    return redirect(url_for("admin.users"))


@bp.route("/users/<username>/sessions", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def sessions(username: str):
    """A user's open sessions; the button ends them all (a lost laptop, a leaving clerk)."""
    s, me = db.session(), actor()
    user = _in_scope(s, me, username)
    form = EmptyForm()
    if form.validate_on_submit():
        if unit.run(lambda: auth.end_other_sessions(s, me, user), done=gettext("已结束")):
            return redirect(url_for("admin.sessions", username=username))
    return render_template("sessions.html", rows=auth.active_sessions(s, user), form=form,
                           owner=user, current=[])
