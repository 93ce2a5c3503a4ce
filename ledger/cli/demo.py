"""`fundtrail demo`: the synthetic province with planted misuse, on the configured database."""
from __future__ import annotations

import json
import os
import sys

import click

from ledger.cli.params import pass_ctx, passphrase, progress_option
from ledger.core.errors import LedgerError
from ledger.demo.province import (
    COMPLETE,
    EMPTY,
    INTERRUPTED,
    DemoInterrupted,
    build_demo,
    demo_state,
)
from ledger.i18n import _
from ledger.store import migrate
from ledger.store.db import make_engine


@click.command("demo", help=_("在配置的（空）数据库上构建一个模拟省。"))
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--households", type=click.IntRange(1, 10_000_000), default=200,
              show_default=True)
@click.option("--year", type=int, default=2024, show_default=True)
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False), default=None,
              help=_("将所植入滥用的真值（JSON）写到此处。"))
@click.option("--restart", is_flag=True,
              help=_(
                  "被中断（被杀、断电）的演示构建无法续建：删除那个建了一半的 SQLite 文件再重建。"
                  "只删除这样的文件；其他数据一律拒绝。"))
@click.option("--people-keys", "key_folder", envvar="FUNDTRAIL_KEY_DIR",
              type=click.Path(file_okay=False),
              help=_(
                  "在此为每个用户写出个人密钥文件并登记（默认 FUNDTRAIL_KEY_DIR；口令 "
                  "FUNDTRAIL_KEY_PASSPHRASE）。没有它，演示的用户没有密钥，不能在命令行上操作。"))
@progress_option
@pass_ctx
def demo(ctx, seed, households, year, manifest_path, restart, key_folder, progress):
    """Build a synthetic province on the configured (empty) database."""
    url = ctx.settings.require_database_url()
    key_passphrase = passphrase("passphrase for the demo's key files", confirm=True) \
        if key_folder else None
    _upgrade(url)
    if restart:
        _remove_interrupted_demo(ctx, url)
    # ctx.factory carries the configured log origin: the demo's entries belong to the same log
    # as every later command's (tests/test_cli_demo.py).
    try:
        summary = build_demo(ctx.factory, seed=seed, households=households, year=year,
                             progress=sys.stderr.isatty() if progress is None else progress,
                             key_folder=key_folder, key_passphrase=key_passphrase)
    except DemoInterrupted as exc:
        raise LedgerError(f"{exc}: {_what_to_do(url)}") from None
    if manifest_path:
        with open(manifest_path, "w", encoding="utf-8") as fh:
            json.dump(summary.manifest, fh, ensure_ascii=False, indent=1)
    click.echo(_("演示省已建成：{regions} 个区域，{households} 户，{transfers} 笔已审核转账，批次 "
                 "{lots}，{cases} 个预置违规案例", regions=summary.regions,
                 households=summary.households, transfers=summary.transfers,
                 lots=summary.lots, cases=len(summary.manifest.get("cases", []))))


def _sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def _what_to_do(url: str) -> str:
    if _sqlite_file(url):
        return ("run fundtrail demo --restart with the same options (it deletes this "
                "half-built file and builds again)")
    from sqlalchemy.engine import make_url
    name = make_url(url).database
    return (f"on PostgreSQL: dropdb {name} && createdb {name}, then fundtrail db upgrade and "
            "fundtrail demo again")


def _upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _remove_interrupted_demo(ctx, url: str) -> None:
    from ledger.store.db import transaction
    with transaction(ctx.factory) as s:
        state = demo_state(s)
    if state == EMPTY:
        return
    path = _sqlite_file(url)
    if state != INTERRUPTED:
        held = "a complete demo province" if state == COMPLETE else "other data"
        raise LedgerError(f"--restart deletes only a demo build that was cut off; the database "
                          f"holds {held} and was left alone")
    if path is None:
        raise LedgerError(f"the demo build was cut off; {_what_to_do(url)}")
    ctx.factory.kw["bind"].dispose()
    ctx._factory = None
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name):
            os.remove(name)
    click.echo(_("已删除未建完的演示库 {path}，重新建立", path=path), err=True)
    _upgrade(url)
