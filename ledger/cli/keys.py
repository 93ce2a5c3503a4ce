"""`fundtrail key …`: personal signing keys (docs/signatures.md).

    fundtrail key new --user alice --out alice.key        # alice, on her own machine
    fundtrail --as admin1 key request alice.key.request   # an administrator asks
    fundtrail --as admin2 key approve 3                   # another administrator approves
    fundtrail key list alice
    fundtrail --as alice key revoke ed25519:… --reason "laptop lost"
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import click

from ledger.cli.params import emit, pass_ctx, passphrase
from ledger.core.errors import LedgerError
from ledger.i18n import _


@click.group("key", help=_("个人签名密钥：生成、申请登记（双人复核）、列出、吊销。"))
def key_group():
    """Personal signing keys: make one, have it enrolled (four eyes), list, revoke."""


def _origin(ctx) -> str:
    from ledger.store.context import LedgerContext
    return LedgerContext.from_settings(ctx.settings).log_origin


@key_group.command("new", help=_(
        "生成个人密钥文件及供管理员审核的登记申请（OUT.request）。\n\n"
        "口令须输入两次（或取自 FUNDTRAIL_KEY_PASSPHRASE）。申请文件含公钥，"
        "以及该密钥对一份写明你、该密钥和本日志的声明的签名（持有证明）；不含任何秘密。"))
@click.option("--user", "username", required=True, help=_("谁的密钥（其用户名）。"))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help=_("要写出的密钥文件（PEM PKCS#8，用你的口令加密）。"))
@pass_ctx
def key_new(ctx, username, out):
    """Make a personal key file, and its enrolment request (OUT.request) for an administrator.

    The passphrase is asked twice (or read from FUNDTRAIL_KEY_PASSPHRASE). The request file
    holds the public key and the key's signature over a statement naming you, the key and this
    log (proof of possession); it holds nothing secret."""
    from ledger.audit.tlog import personal
    from ledger.org.personal_keys import new_private_key, raw_public_key, write_key_file
    key = new_private_key()
    write_key_file(out, key, passphrase(f"passphrase for {out}", confirm=True))
    public = raw_public_key(key)
    key_id = personal.ed25519_key_id(public)
    origin = _origin(ctx)
    request = {"username": username, "origin": origin, "kind": personal.ED25519,
               "key_id": key_id, "public_key": base64.b64encode(public).decode(),
               "proof": base64.b64encode(key.sign(personal.enrolment_statement(
                   origin, username, key_id))).decode()}
    request_path = Path(str(out) + ".request")
    request_path.write_text(json.dumps(request, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    click.echo(_("{username} 的密钥 {key_id} 已写入 {out}；请把 {request} 交给管理员登记",
                 key_id=key_id, username=username, out=out, request=request_path))


@key_group.command("request", help=_(
        "申请登记 REQUEST_FILE（由 `key new` 生成）中的密钥。\n\n"
        "由另一位管理员审核（`key approve`）。"))
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def key_request(ctx, request_file):
    """Ask for the key of REQUEST_FILE (from `key new`) to be enrolled; another administrator
    approves it (`key approve`)."""
    from ledger.org import personal_keys
    try:
        data = json.loads(Path(request_file).read_text(encoding="utf-8"))
        public, proof = (base64.b64decode(data["public_key"], validate=True),
                         base64.b64decode(data["proof"], validate=True))
        username, kind = data["username"], data.get("kind", "ed25519")
    except (ValueError, KeyError, TypeError) as exc:
        raise LedgerError(f"{request_file}: not a key request file ({exc})",
                          code="personal_key_file", path=str(request_file),
                          detail="not a key request file") from None
    with ctx.session() as s:
        request_id = personal_keys.request_enrolment(s, ctx.actor(s), username, kind, public,
                                                     proof)
    click.echo(_("{username} 的密钥申请 #{id} 已记录；由另一位管理员批准：fundtrail --as ADMIN key "
                 "approve {id}", id=request_id, username=username))


@key_group.command("approve", help=_("审核他人提出的密钥申请（登记或吊销）。"))
@click.argument("request_id", type=int)
@pass_ctx
def key_approve(ctx, request_id):
    """Approve a key request (enrolment or revocation) another person made."""
    from ledger.org import personal_keys
    with ctx.session() as s:
        actor = ctx.actor(s)
        pending = {r.id: r for r in personal_keys.pending_requests(s)}
        if request_id in pending and pending[request_id].action == personal_keys.REVOKE:
            key_id = personal_keys.approve_revocation(s, actor, request_id)
            what = _("密钥 {key_id} 已撤销", key_id=key_id)
        else:
            key_id = personal_keys.approve_enrolment(s, actor, request_id)
            what = _("密钥 {key_id} 已登记，即时生效", key_id=key_id)
    click.echo(what)


@key_group.command("revoke", help=_("吊销密钥：自己的立即吊销；他人的须另一位管理员审核。"))
@click.argument("key_id")
@click.option("--reason", required=True)
@pass_ctx
def key_revoke(ctx, key_id, reason):
    """Revoke a key: your own at once; someone else's on another administrator's approval."""
    from ledger.org import personal_keys
    with ctx.session() as s:
        request_id = personal_keys.revoke(s, ctx.actor(s), key_id, reason)
    click.echo(_("密钥 {key_id} 已撤销", key_id=key_id) if request_id is None else
               _("撤销申请 #{id} 已记录；由另一位管理员批准", id=request_id))


@key_group.command("list", help=_("USERNAME（或所有人）的密钥，以及待审核的申请。"))
@click.argument("username", required=False)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def key_list(ctx, username, as_json):
    """Keys of USERNAME (or everyone's), and the requests waiting for approval."""
    from sqlalchemy import select

    from ledger.models import User
    from ledger.org import personal_keys
    with ctx.session() as s:
        names = [username] if username else list(s.execute(
            select(User.username).order_by(User.username)).scalars())
        keys = [(name, k) for name in names for k in personal_keys.keys_of(s, name)]
        pending = [r for r in personal_keys.pending_requests(s)
                   if username is None or r.username == username]
        data = {"keys": [{"username": name, "key_id": k.key_id, "kind": k.kind,
                          "requested_by": k.requested_by, "approved_by": k.approved_by,
                          "valid_from": k.valid_from.isoformat(),
                          "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                         for name, k in keys],
                "pending": [{"request": r.id, "action": r.action, "username": r.username,
                             "key_id": r.key_id, "requested_by": r.requested_by}
                            for r in pending]}
    lines = [_("{username:<20} {key_id:<26} {kind:<8} {state}（申请人 {by}，批准人 {approver}）",
               username=d["username"], key_id=d["key_id"], kind=d["kind"],
               state=(_("已撤销于 {at}", at=d["revoked_at"]) if d["revoked_at"]
                      else _("有效")),
               by=d["requested_by"], approver=d["approved_by"]) for d in data["keys"]]
    lines += [_("待批准 #{request}：{action} {username} 的 {key_id}（申请人 {by}）",
                request=d["request"], action=d["action"], key_id=d["key_id"],
                username=d["username"], by=d["requested_by"]) for d in data["pending"]]
    emit(data, as_json, "\n".join(lines) or _("没有密钥"))
