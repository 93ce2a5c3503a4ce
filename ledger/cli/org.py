"""`fundtrail init`, `fundtrail region add`, `fundtrail user add|password|disable|enable|
requests|approve|refuse`: the regions and the staff who act in them.

Four eyes (ledger.org.admin_requests): once the ledger has two administrators, `user add`,
`user password` for someone else, `user disable` and `user enable` file a request that a
second administrator approves with `user approve ID` (`user requests` lists those waiting).
While it has one, `user add` by that administrator takes effect at once (setting up)."""
from __future__ import annotations

import os

import click
from sqlalchemy import select

from ledger.cli.params import pass_ctx
from ledger.i18n import _, local_time
from ledger.models import RegionLevel, Role, User
from ledger.org import admin_requests, regions
from ledger.org.signin import current_hash, set_password
from ledger.store.access import DISABLE, ENABLE, four_eyes_apply

PASSWORD_ENV = "FUNDTRAIL_USER_PASSWORD"


@click.command("init", help=_(
        "为空账本创建根地区和第一位管理员。\n\n"
        "管理员的密钥文件（--key-file、FUNDTRAIL_KEY 或 FUNDTRAIL_KEY_DIR/ADMIN.key，由 "
        "`fundtrail key new` 生成）在第一条之后的记录中登记："
        "这是唯一无需第二位管理员的密钥（docs/signatures.md）。"))
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
        raise click.UsageError(_("init 需要 {admin} 的密钥文件：先用 `fundtrail key new --user "
                                 "{admin} --out FILE` 生成，再加 --key-file FILE",
                                 admin=admin_username))
    with ctx.session() as s:
        regions.bootstrap(s, province_code=province_code, province_name=province_name,
                          admin_username=admin_username, admin_name=admin_name)
        public, _key_id, proof = proof_of_possession(s, key, admin_username)
        key_id = enrol_genesis(s, admin_username, public, proof)
    click.echo(_("已建立省 {code} {name} 和管理员 {admin}（密钥 {key_id}）", code=province_code,
                 name=province_name, admin=admin_username, key_id=key_id))


@click.group("region", help=_("地区：省以下的市、县、乡镇、村的树。"))
def region_group():
    """Regions: the tree of cities, counties, townships and villages below the province."""


@region_group.command("add", help=_("在已有地区下添加一个地区。"))
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
    click.echo(_("已添加区域 {code} {name}", code=code, name=name))


@click.group("user", help=_("工作人员：具有角色和地区范围的用户，及其网页登录密码。"))
def user_group():
    """Staff: users with a role and a region scope, and their web sign-in passwords."""


@user_group.command("add", help=_("添加一个具有角色和地区范围的用户。"))
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--region", required=True)
@pass_ctx
def user_add(ctx, username, display_name, role, region):
    """Add a user with a role and a region scope."""
    with ctx.session() as s:
        if four_eyes_apply(s):
            asked = admin_requests.request(
                s, ctx.actor(s), admin_requests.CREATE, username,
                details={"display_name": display_name, "role": role, "region": region})
            message = _waiting(asked)
        else:
            regions.add_user(s, ctx.actor(s), username=username, display_name=display_name,
                             role=Role(role), region_code=region)
            message = _("已添加用户 {username}（{role}，区域 {region}）", username=username,
                        role=role, region=region)
    click.echo(message)


def _waiting(asked) -> str:
    return _("申请 {id}（{kind} {target}）已提交；另一位管理员运行 fundtrail --as <其用户名> "
             "user approve {id} 后生效", id=asked.id, kind=asked.kind, target=asked.target)


@user_group.command("password", help=_(
        "设置 USERNAME 的密码（取自 FUNDTRAIL_USER_PASSWORD，否则隐藏输入）。\n\n"
        "用 --as 时，操作者必须管理该用户的地区（或就是该用户本人）；"
        "不用时由服务器上的操作员设置，与其他命令行变更相同。"))
@click.argument("username", required=False)
@click.option("--all-without-password", "everyone", is_flag=True,
              help=_("为所有尚无密码的用户设置此密码（例如在 `demo` 之后）。"))
@pass_ctx
def user_password(ctx, username, everyone):
    """Set USERNAME's password (from FUNDTRAIL_USER_PASSWORD, else a hidden prompt).

    With --as, the actor must administer the user's region (or be the user); without it the
    operator at the server sets it, as for every other command-line change.
    """
    if bool(username) == everyone:
        raise click.UsageError(_("请指定一个用户名，或加 --all-without-password"))
    password = os.environ.get(PASSWORD_ENV) or click.prompt(
        _("{who} 的新密码", who=username or _("所有尚无密码的用户")), hide_input=True,
        confirmation_prompt=True)
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        if username:
            users = [regions.get_user(s, username)]
        else:
            users = [u for u in s.execute(select(User).order_by(User.id)).scalars()
                     if current_hash(s, u) is None]
        if actor is not None and username and actor.username != username \
                and four_eyes_apply(s):
            asked = admin_requests.request(s, actor, admin_requests.PASSWORD_RESET, username,
                                           password=password)
            message = _waiting(asked)
        else:
            for user in users:
                set_password(s, actor, user, password)
            message = _("已设置密码：{users}", users=", ".join(u.username for u in users)
                        or _("无人"))
    click.echo(message)


def _ask(ctx, kind: str, username: str, reason: str) -> None:
    """File a request of `kind` about USERNAME and say what waits for the second administrator."""
    with ctx.session() as s:
        message = _waiting(admin_requests.request(s, ctx.actor(s), kind, username,
                                                  reason=reason))
    click.echo(message)


@user_group.command("disable", help=_(
        "申请停用 USERNAME：审核通过后，该用户不能登录或操作，其网页会话结束。"))
@click.argument("username")
@click.option("--reason", default="", help=_("原因（保存在申请中）。"))
@pass_ctx
def user_disable(ctx, username, reason):
    """Ask to disable USERNAME: once approved, they cannot sign in or act, and their web
    sessions end."""
    _ask(ctx, DISABLE, username, reason)


@user_group.command("enable", help=_("申请重新启用已停用的 USERNAME。"))
@click.argument("username")
@click.option("--reason", default="", help=_("原因（保存在申请中）。"))
@pass_ctx
def user_enable(ctx, username, reason):
    """Ask to enable a disabled USERNAME again."""
    _ask(ctx, ENABLE, username, reason)


@user_group.command("requests", help=_("当前管理员所辖地区中等待第二位管理员的申请。"))
@pass_ctx
def user_requests(ctx):
    """Requests waiting for a second administrator, in the acting administrator's regions."""
    with ctx.session() as s:
        rows = [(r.id, r.kind, r.target, r.details, bool(r.password_hash), r.requested_by,
                 r.requested_at) for r in admin_requests.pending(s, ctx.actor(s))]
    for rid, kind, target, details, with_password, by, at in rows:
        shown = " ".join(f"{k}={v}" for k, v in details.items())
        click.echo(f"{rid}\t{kind}\t{target}\t{shown}"
                   + (_(" +新密码") if with_password else "")
                   + "\t" + _("申请人 {by}", by=by) + "\t" + local_time(at))
    if not rows:
        click.echo(_("没有待批准的申请"))


@user_group.command("approve", help=_(
        "审核通过申请 REQUEST_ID（不能是你提出的，也不能是关于你自己的）：立即生效。"))
@click.argument("request_id", type=int)
@pass_ctx
def user_approve(ctx, request_id):
    """Approve request REQUEST_ID (not one you filed, nor one about yourself): it takes
    effect now."""
    with ctx.session() as s:
        admin_requests.decide(s, ctx.actor(s), request_id, approve=True)
    click.echo(_("申请 {id} 已批准", id=request_id))


@user_group.command("refuse", help=_("拒绝申请 REQUEST_ID：它永不生效。"))
@click.argument("request_id", type=int)
@pass_ctx
def user_refuse(ctx, request_id):
    """Refuse request REQUEST_ID: it never takes effect."""
    with ctx.session() as s:
        admin_requests.decide(s, ctx.actor(s), request_id, approve=False)
    click.echo(_("申请 {id} 已拒绝", id=request_id))
