"""`fundtrail user-password USERNAME`: set a staff member's web sign-in password."""
from __future__ import annotations

import os

import click

from ledger import regions
from ledger.auth import set_password
from ledger.cli import cli, pass_ctx

PASSWORD_ENV = "FUNDTRAIL_USER_PASSWORD"


@cli.command("user-password")
@click.argument("username")
@pass_ctx
def user_password(ctx, username):
    """Set USERNAME's password (from FUNDTRAIL_USER_PASSWORD, else a hidden prompt).

    With --as, the actor must administer the user's region (or be the user); without it the
    operator at the server sets it, as for every other command-line change.
    """
    password = os.environ.get(PASSWORD_ENV) or click.prompt(
        f"new password for {username}", hide_input=True, confirmation_prompt=True)
    with ctx.session() as s:
        user = regions.get_user(s, username)
        actor = ctx.actor(s) if ctx.username else None
        set_password(s, actor, user, password)
    click.echo(f"password of {username} set")
