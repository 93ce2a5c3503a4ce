"""Administrators: users in their region, new users (role and scope), passwords. Every change
goes through ledger services that check the administrator's scope and write the audit log."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import select

from ledger.funds.balances import descendants
from ledger.models import Role, User
from ledger.org import regions
from ledger.org import signin as auth
from ledger.reading import scoped as reading
from ledger.store.access import Action
from web import db, unit
from web.access import actor, requires
from web.forms import PasswordForm, UserForm
from web.i18n import gettext

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _users(s, me):
    regions_in_scope = descendants(s, me.region_code)
    return list(s.execute(select(User).where(User.region_code.in_(regions_in_scope))
                          .order_by(User.region_code, User.username)).scalars())


@bp.route("/users", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def users():
    s, me = db.session(), actor()
    form = UserForm()
    form.role.choices = [(r.value, r.value) for r in Role]
    form.region.choices = [(r.code, f"{r.code} {r.name}") for r in reading.regions_below(s, me)]
    if form.validate_on_submit():
        def add():
            user = regions.add_user(s, me, username=form.username.data.strip(),
                                    display_name=form.display_name.data.strip(),
                                    role=Role(form.role.data), region_code=form.region.data)
            s.flush()
            auth.set_password(s, me, user, form.password.data)
        # A weak password is shown beside the password (web.unit.FIELD_OF_CODE), any other
        # refusal beside the username.
        if unit.run(add, form=form, default_field="username", done=gettext("已保存")):
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", users=_users(s, me), form=form,
                           password_form=PasswordForm()), (422 if form.errors else 200)


@bp.route("/users/<username>/password", methods=["POST"])
@requires(Action.ADMINISTER)
def password(username: str):
    s, me = db.session(), actor()
    form = PasswordForm()
    if form.validate_on_submit():
        unit.run(lambda: auth.set_password(s, me, regions.get_user(s, username),
                                           form.password.data), done=gettext("已保存"))
    return redirect(url_for("admin.users"))
