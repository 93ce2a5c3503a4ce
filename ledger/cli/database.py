"""`fundtrail db upgrade`: create or migrate the schema."""
from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from ledger.cli.params import pass_ctx
from ledger.i18n import _
from ledger.store import migrate
from ledger.store.db import make_engine, storage_error


@click.group("db", help=_("创建或迁移数据库结构。"))
def db():
    """Create or migrate the schema."""


@db.command("upgrade", help=_("用 Alembic 创建或迁移数据库结构。"))
@click.option("--revision", default="head", show_default=True)
@pass_ctx
def db_upgrade(ctx, revision):
    """Create or migrate the schema with Alembic."""
    engine = make_engine(ctx.settings.require_database_url())
    try:
        migrate.upgrade(engine, revision)
    except OperationalError as exc:  # locked, disk full, server gone: one clear line, exit 2
        raise storage_error(exc, uncertain=False) from None
    click.echo(_("数据库结构版本 {revision}（{url}）", revision=migrate.current_revision(engine),
                 url=_safe_url(engine)))


def _safe_url(engine) -> str:
    return engine.url.render_as_string(hide_password=True)
