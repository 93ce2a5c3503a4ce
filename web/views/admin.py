"""Administrators: users in their region, new users (role and scope), passwords. Every change
goes through ledger services that check the administrator's scope and write the audit log."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from ledger.org import signin as auth, regions
from ledger.reading import scoped as reading
from ledger.store.access import Action
from ledger.funds.balances import descendants
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.models import Role, User
from web import db
from web.views.auth import actor, requires
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
        try:
            user = regions.add_user(s, me, username=form.username.data.strip(),
                                    display_name=form.display_name.data.strip(),
                                    role=Role(form.role.data), region_code=form.region.data)
            s.flush()
            auth.set_password(s, me, user, form.password.data)
        except PermissionDenied:
            raise
        except LedgerError as exc:
            db.rollback()
            field = form.password if isinstance(exc, auth.WeakPassword) else form.username
            field.errors = list(field.errors) + [str(exc)]
        else:
            db.commit()
            flash(gettext("已保存"), "ok")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", users=_users(s, me), form=form,
                           password_form=PasswordForm()), (422 if form.errors else 200)


@bp.route("/users/<username>/password", methods=["POST"])
@requires(Action.ADMINISTER)
def password(username: str):
    s, me = db.session(), actor()
    form = PasswordForm()
    if form.validate_on_submit():
        db.apply(lambda: auth.set_password(s, me, regions.get_user(s, username),
                                           form.password.data), gettext("已保存"))
    return redirect(url_for("admin.users"))
