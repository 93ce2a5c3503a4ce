"""`fundtrail init`, `fundtrail region add`, `fundtrail user add|password`: the regions and the
staff who act in them."""
from __future__ import annotations

import os

import click
from sqlalchemy import select

from ledger.cli.params import pass_ctx
from ledger.models import RegionLevel, Role, User
from ledger.org import regions
from ledger.org.signin import current_hash, set_password

PASSWORD_ENV = "FUNDTRAIL_USER_PASSWORD"


@click.command("init")
@click.option("--province-code", required=True)
@click.option("--province-name", required=True)
@click.option("--admin", "admin_username", required=True)
@click.option("--admin-name", default="系统管理员")
@pass_ctx
def init(ctx, province_code, province_name, admin_username, admin_name):
    """Create the root region and the first administrator of an empty ledger.

    The administrator's key file (--key-file, FUNDTRAIL_KEY or FUNDTRAIL_KEY_DIR/ADMIN.key,
    made with `fundtrail key new`) is enrolled in the entry after the first: the one key
    that needs no second administrator (docs/signatures.md)."""
    from ledger.org.personal_keys import enrol_genesis, proof_of_possession
    key = ctx.private_key(admin_username)
    if key is None:
        raise click.UsageError(f"init needs {admin_username}'s key file: make it with "
                               f"`fundtrail key new --user {admin_username} --out FILE`, "
                               "then pass --key-file FILE")
    with ctx.session() as s:
        regions.bootstrap(s, province_code=province_code, province_name=province_name,
                          admin_username=admin_username, admin_name=admin_name)
        public, _key_id, proof = proof_of_possession(s, key, admin_username)
        key_id = enrol_genesis(s, admin_username, public, proof)
    click.echo(f"created province {province_code} {province_name} and admin {admin_username} "
               f"(key {key_id})")


@click.group("region")
def region_group():
    """Regions: the tree of cities, counties, townships and villages below the province."""


@region_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--level", type=click.Choice([lv.value for lv in RegionLevel]), required=True)
@click.option("--parent", required=True)
@pass_ctx
def region_add(ctx, code, name, level, parent):
    """Add a region below an existing one."""
    with ctx.session() as s:
        regions.add_region(s, ctx.actor(s), code=code, name=name, level=RegionLevel(level),
                           parent_code=parent)
    click.echo(f"region {code} {name} added")


@click.group("user")
def user_group():
    """Staff: users with a role and a region scope, and their web sign-in passwords."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--region", required=True)
@pass_ctx
def user_add(ctx, username, display_name, role, region):
    """Add a user with a role and a region scope."""
    with ctx.session() as s:
        regions.add_user(s, ctx.actor(s), username=username, display_name=display_name,
                         role=Role(role), region_code=region)
    click.echo(f"user {username} ({role}, region {region}) added")


@user_group.command("password")
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
