"""`fundtrail import KIND FILE`: all-or-nothing, idempotent imports (docs/formats.md)."""
from __future__ import annotations

import click

from ledger.cli import _emit, cli, pass_ctx
from ledger.imports.households import import_households, import_members
from ledger.pii import PiiVault, new_key

KINDS = {"households": import_households, "members": import_members}


@cli.command("import")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def import_command(ctx, kind, file, as_json):
    """Import a CSV file (UTF-8 or GB18030). Either every line is imported or none is."""
    vault = PiiVault.from_env()
    with ctx.session() as s:
        result = KINDS[kind](s, ctx.actor(s), vault, file)
    _emit({"kind": kind, "added": result.added, "unchanged": result.unchanged}, as_json,
          f"{kind}: {result.added} added, {result.unchanged} already present and unchanged")


@cli.command("pii-keygen")
def pii_keygen():
    """Print a new key for FUNDTRAIL_PII_KEYS (put the new key first to rotate)."""
    click.echo(new_key())
