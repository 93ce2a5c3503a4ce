"""`fundtrail backup FILE` and `fundtrail restore FILE` (SQLite; PostgreSQL:
docs/reliability.md)."""
from __future__ import annotations

from dataclasses import asdict

import click

from ledger.audit.backup import Snapshot, backup, restore
from ledger.cli.params import emit, load_policy, pass_ctx
from ledger.i18n import _


def _report(done: str, snap: Snapshot, as_json: bool) -> None:
    """`done`: the Chinese template of what was done ("{path}" filled here)."""
    checkpoint = (_("最新检查点大小 {size}", size=snap.checkpoint_size)
                  if snap.checkpoint_size is not None else _("尚未签署检查点"))
    emit(asdict(snap), as_json,
         done + _("：日志 {origin}，{size} 条，根 {root}，{checkpoint}；核验完好",
                  origin=snap.origin, size=snap.size, root=snap.root, checkpoint=checkpoint))


@click.command("backup", help=_("将运行中的 SQLite 账本复制到 FILE（一致、经核对、仅属主可读）。"))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def backup_command(ctx, file, as_json):
    """Copy the live SQLite ledger to FILE (consistent, checked, owner-only)."""
    snap = backup(ctx.settings.require_database_url(), file, ctx.settings.log_origin,
                  load_policy(ctx.settings.policy_file))
    _report(_("备份已写入 {path}", path=snap.path), snap, as_json)


@click.command("restore", help=_("核对备份 FILE，然后复制到配置的 SQLite 数据库。"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help=_("替换已有账本的数据库（请先备份它）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def restore_command(ctx, file, replace, as_json):
    """Check the backup FILE, then copy it into the configured SQLite database."""
    snap = restore(file, ctx.settings.require_database_url(), ctx.settings.log_origin,
                   load_policy(ctx.settings.policy_file), replace=replace)
    _report(_("已恢复到 {path}", path=snap.path), snap, as_json)
