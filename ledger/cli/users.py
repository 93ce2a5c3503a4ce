"""`fundtrail user-password`: set staff members' web sign-in passwords."""
from __future__ import annotations

import os

import click
from sqlalchemy import select

from ledger.org import regions
from ledger.org.signin import current_hash, set_password
from ledger.cli.root import cli, pass_ctx
from ledger.models import User

PASSWORD_ENV = "FUNDTRAIL_USER_PASSWORD"


@cli.command("user-password")
@click.argument("username", required=False)
@click.option("--all-without-password", "everyone", is_flag=True,
              help="Set this password for every user who has none yet (e.g. after `demo`).")
@pass_ctx
def user_password(ctx, username, everyone):
    """Set USERNAME's password (from FUNDTRAIL_USER_PASSWORD, else a hidden prompt).

    With --as, the actor must administer the user's region (or be the user); without it the
    operator at the server sets it, as for every other command-line change.
    """
    if bool(username) == everyone:
        raise click.UsageError("name one USERNAME, or pass --all-without-password")
    password = os.environ.get(PASSWORD_ENV) or click.prompt(
        f"new password for {username or 'every user without one'}", hide_input=True,
        confirmation_prompt=True)
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        if username:
            users = [regions.get_user(s, username)]
        else:
            users = [u for u in s.execute(select(User).order_by(User.id)).scalars()
                     if current_hash(s, u) is None]
        for user in users:
            set_password(s, actor, user, password)
    click.echo(f"password set for {', '.join(u.username for u in users) or 'nobody'}")
