"""`fundtrail demo`: the synthetic province with planted misuse, on the configured database."""
from __future__ import annotations

import json
import sys

import click

from ledger.cli.params import pass_ctx, passphrase
from ledger.demo.province import build_demo
from ledger.store import migrate
from ledger.store.db import make_engine


@click.command("demo")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--households", type=click.IntRange(1, 10_000_000), default=200,
              show_default=True)
@click.option("--year", type=int, default=2024, show_default=True)
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False), default=None,
              help="Write the ground truth of the planted misuse (JSON) here.")
@click.option("--people-keys", "key_folder", envvar="FUNDTRAIL_KEY_DIR",
              type=click.Path(file_okay=False),
              help="Write a personal key file for every user here and enrol it (default "
                   "FUNDTRAIL_KEY_DIR; passphrase FUNDTRAIL_KEY_PASSPHRASE). Without it the "
                   "demo's users hold no keys and cannot act on the command line.")
@pass_ctx
def demo(ctx, seed, households, year, manifest_path, key_folder):
    """Build a synthetic province on the configured (empty) database."""
    key_passphrase = passphrase("passphrase for the demo's key files", confirm=True) \
        if key_folder else None
    migrate.upgrade(make_engine(ctx.settings.database_url))
    # ctx.factory carries the configured log origin: the demo's entries belong to the same log
    # as every later command's (tests/test_cli_demo.py).
    summary = build_demo(ctx.factory, seed=seed, households=households, year=year,
                         progress=households >= 2000 and sys.stderr.isatty(),
                         key_folder=key_folder, key_passphrase=key_passphrase)
    if manifest_path:
        with open(manifest_path, "w", encoding="utf-8") as fh:
            json.dump(summary.manifest, fh, ensure_ascii=False, indent=1)
    click.echo(f"demo province built: {summary.regions} regions, {summary.households} "
               f"households, {summary.transfers} approved transfers, lots {summary.lots}, "
               f"{len(summary.manifest.get('cases', []))} planted cases")
