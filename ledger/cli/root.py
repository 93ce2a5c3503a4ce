"""The `fundtrail` command line (DESIGN.md, "The command line").

Exit status: 0 success, 1 the command ran and found a problem (unbalanced books, tampering),
2 bad usage or bad input. Every reporting command takes --json.

Who acts: recording and approving commands need `--as USERNAME` (or FUNDTRAIL_USER). The
command line is an operator's tool on the server; the web app authenticates people.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict

import click

from ledger.store.context import LedgerContext
from ledger.funds import balances, flows, lots, periods, posting, projects
from ledger.org import regions
from ledger.core.config import ConfigError, load_settings
from ledger.store.db import make_engine, make_sessionmaker, transaction
from ledger.core.errors import LedgerError
from ledger.models import PayeeKind, ProjectStatus, RegionLevel, Role, SourceLevel
from ledger.core.money import MoneyError, format_yuan, parse_yuan


class Context:
    def __init__(self, config_path, username):
        self.settings = load_settings(config_path)
        self.username = username
        self._factory = None

    @property
    def factory(self):
        if self._factory is None:
            engine = make_engine(self.settings.database_url)
            self._factory = make_sessionmaker(engine, LedgerContext.from_settings(self.settings))
        return self._factory

    def session(self):
        return _SessionScope(self)

    def actor(self, session):
        if not self.username:
            raise click.UsageError("this command changes the books: say who you are with "
                                   "--as USERNAME (or FUNDTRAIL_USER)")
        return regions.get_user(session, self.username)


class _SessionScope:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def __enter__(self):
        self.cm = transaction(self.ctx.factory)
        return self.cm.__enter__()

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


pass_ctx = click.make_pass_decorator(Context)


def _date(_ctx, _param, value):
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-03-31") from None


def _yuan(_ctx, _param, value):
    if value is None:
        return None
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise click.BadParameter(str(exc)) from None


def _emit(data, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


def _transfer_dict(t) -> dict:
    return {"id": t.id, "kind": t.kind.value, "lot_id": t.lot_id, "amount_fen": t.amount_fen,
            "amount": format_yuan(t.amount_fen), "effective_date": t.effective_date.isoformat(),
            "key": t.idempotency_key, "log_index": t.log_index}


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML settings file (default ./fundtrail.toml if present).")
@click.option("--as", "username", envvar="FUNDTRAIL_USER", help="Who is acting (username).")
@click.version_option(package_name="fundtrail")
@click.pass_context
def cli(click_ctx, config_path, username):
    """fundtrail: poverty-alleviation special funds, traced from appropriation to household."""
    click_ctx.obj = Context(config_path, username)


def main(argv=None) -> int:
    try:
        return cli.main(args=argv, prog_name="fundtrail", standalone_mode=False) or 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("aborted", err=True)
        return 2
    except (LedgerError, ConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 2


# ----------------------------------------------------------------------------- database

@cli.group()
def db():
    """Create or migrate the schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_ctx
def db_upgrade(ctx, revision):
    """Create or migrate the schema with Alembic."""
    from sqlalchemy.exc import OperationalError

    from ledger.store import migrate
    from ledger.store.db import storage_error
    engine = make_engine(ctx.settings.database_url)
    try:
        migrate.upgrade(engine, revision)
    except OperationalError as exc:  # locked, disk full, server gone: one clear line, exit 2
        raise storage_error(exc, uncertain=False) from None
    click.echo(f"schema at {migrate.current_revision(engine)} ({_safe_url(engine)})")


def _safe_url(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@cli.command("init")
@click.option("--province-code", required=True)
@click.option("--province-name", required=True)
@click.option("--admin", "admin_username", required=True)
@click.option("--admin-name", default="系统管理员")
@pass_ctx
def init(ctx, province_code, province_name, admin_username, admin_name):
    """Create the root region and the first administrator of an empty ledger."""
    with ctx.session() as s:
        regions.bootstrap(s, province_code=province_code, province_name=province_name,
                          admin_username=admin_username, admin_name=admin_name)
    click.echo(f"created province {province_code} {province_name} and admin {admin_username}")


@cli.command("region-add")
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


@cli.command("user-add")
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


@cli.command("project-add")
@click.argument("code")
@click.argument("name")
@click.option("--county", required=True)
@click.option("--function-code", required=True)
@pass_ctx
def project_add(ctx, code, name, county, function_code):
    """Register a project in a county."""
    with ctx.session() as s:
        projects.register_project(s, ctx.actor(s), code=code, name=name, county_code=county,
                                  function_code=function_code)
    click.echo(f"project {code} registered")


@cli.command("project-advance")
@click.argument("code")
@click.option("--to", "to", type=click.Choice([s.value for s in ProjectStatus
                                               if s is not ProjectStatus.FILED]), required=True)
@click.option("--date", "effective_date", callback=_date, default=dt.date.today().isoformat())
@click.option("--comment", default="")
@pass_ctx
def project_advance(ctx, code, to, effective_date, comment):
    """Move a project to its next stage (in_library, approved, implementing, accepted, closed)."""
    with ctx.session() as s:
        projects.advance_project(s, ctx.actor(s), code, ProjectStatus(to), effective_date,
                                 comment)
    click.echo(f"project {code} is now {to}")


@cli.command("project-file")
@click.argument("code")
@click.option("--date", "effective_date", callback=_date, default=dt.date.today().isoformat())
@click.option("--comment", default="")
@pass_ctx
def project_file(ctx, code, effective_date, comment):
    """File (备案) a county's approved project at the city or province."""
    with ctx.session() as s:
        projects.file_project(s, ctx.actor(s), code, effective_date, comment)
    click.echo(f"project {code} filed")


@cli.command("payee-add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in PayeeKind]), required=True)
@click.option("--region", required=True)
@pass_ctx
def payee_add(ctx, code, name, kind, region):
    """Register a household or contractor that can be paid."""
    with ctx.session() as s:
        projects.register_payee(s, ctx.actor(s), code=code, kind=PayeeKind(kind), name=name,
                                region_code=region)
    click.echo(f"payee {code} registered")


# ----------------------------------------------------------------------------- recording

_common_transfer = [
    click.option("--date", "effective_date", callback=_date, default=dt.date.today().isoformat(),
                 show_default="today", help="Effective (value) date, YYYY-MM-DD."),
    click.option("--json", "as_json", is_flag=True, help="Print the transfer as JSON."),
]


def transfer_options(func):
    for option in reversed(_common_transfer):
        func = option(func)
    return func


def _report_transfer(t, as_json):
    _emit(_transfer_dict(t), as_json,
          f"transfer #{t.id} {t.kind.value} {format_yuan(t.amount_fen)} yuan recorded "
          f"(pending approval; key {t.idempotency_key})")


@cli.command("appropriate")
@click.option("--doc", "doc_number", required=True, help="Document number (文号).")
@click.option("--source-level", type=click.Choice(
    [s.value for s in SourceLevel if s is not SourceLevel.INTEGRATED]), required=True)
@click.option("--year", type=int, required=True)
@click.option("--title", required=True)
@click.option("--function-code", "function_codes", multiple=True, required=True)
@click.option("--use", "uses", multiple=True, required=True)
@click.option("--amount", callback=_yuan, required=True, help="Yuan, e.g. 1,234.56")
@click.option("--region", required=True, help="Receiving region code.")
@click.option("--key", default=None, help="Idempotency key (default: from the document).")
@transfer_options
@pass_ctx
def appropriate(ctx, doc_number, source_level, year, title, function_codes, uses, amount,
                region, key, effective_date, as_json):
    """Open a fund lot from an appropriation document."""
    with ctx.session() as s:
        t = lots.appropriate(s, ctx.actor(s), doc_number=doc_number,
                             source_level=SourceLevel(source_level), year=year, title=title,
                             function_codes=list(function_codes), allowed_uses=list(uses),
                             amount_fen=amount, region_code=region,
                             effective_date=effective_date, key=key)
        _report_transfer(t, as_json)


@cli.command("allocate")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--from", "from_region", required=True)
@click.option("--to", "to_region", required=True)
@click.option("--amount", callback=_yuan, required=True)
@click.option("--key", required=True, help="Idempotency key, e.g. the allocation document.")
@click.option("--memo", default="")
@transfer_options
@pass_ctx
def allocate(ctx, lot_id, from_region, to_region, amount, key, memo, effective_date, as_json):
    """Pass money of a lot one level down."""
    with ctx.session() as s:
        t = flows.allocate(s, ctx.actor(s), lot_id=lot_id, from_region=from_region,
                           to_region=to_region, amount_fen=amount,
                           effective_date=effective_date, key=key, memo=memo)
        _report_transfer(t, as_json)


@cli.command("fund-project")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--project", required=True)
@click.option("--amount", callback=_yuan, required=True)
@click.option("--key", required=True)
@click.option("--memo", default="")
@transfer_options
@pass_ctx
def fund_project(ctx, lot_id, project, amount, key, memo, effective_date, as_json):
    """Put a county's money of a lot behind one of its projects."""
    with ctx.session() as s:
        t = flows.fund_project(s, ctx.actor(s), lot_id=lot_id, project_code=project,
                               amount_fen=amount, effective_date=effective_date, key=key,
                               memo=memo)
        _report_transfer(t, as_json)


@cli.command("pay")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--payee", required=True)
@click.option("--amount", callback=_yuan, required=True)
@click.option("--function-code", required=True)
@click.option("--use", "use_code", required=True)
@click.option("--project", default=None, help="Pay from this project's money …")
@click.option("--county", default=None, help="… or from this county's own share.")
@click.option("--key", required=True, help="Idempotency key, e.g. the bank voucher number.")
@click.option("--memo", default="")
@transfer_options
@pass_ctx
def pay(ctx, lot_id, payee, amount, function_code, use_code, project, county, key, memo,
        effective_date, as_json):
    """Pay a household or contractor."""
    with ctx.session() as s:
        t = flows.pay(s, ctx.actor(s), lot_id=lot_id, payee_code=payee, amount_fen=amount,
                      function_code=function_code, use_code=use_code, project_code=project,
                      county_code=county, effective_date=effective_date, key=key, memo=memo)
        _report_transfer(t, as_json)


@cli.command("integrate")
@click.option("--county", required=True)
@click.option("--doc", "doc_number", required=True)
@click.option("--year", type=int, required=True)
@click.option("--title", required=True)
@click.option("--function-code", "function_codes", multiple=True, required=True)
@click.option("--use", "uses", multiple=True, required=True)
@click.option("--source", "sources", multiple=True, required=True,
              help="LOT_ID=AMOUNT_YUAN, repeatable.")
@click.option("--key", default=None)
@transfer_options
@pass_ctx
def integrate(ctx, county, doc_number, year, title, function_codes, uses, sources, key,
              effective_date, as_json):
    """Pool several lots into an integrated lot, keeping lineage (统筹整合)."""
    parsed = []
    for item in sources:
        lot_text, sep, amount_text = item.partition("=")
        if not sep or not lot_text.strip().isdigit():
            raise click.BadParameter(f"{item!r} is not LOT_ID=AMOUNT", param_hint="--source")
        parsed.append((int(lot_text), _yuan(None, None, amount_text)))
    with ctx.session() as s:
        t = lots.integrate(s, ctx.actor(s), county_code=county, doc_number=doc_number,
                           year=year, title=title, function_codes=list(function_codes),
                           allowed_uses=list(uses), sources=parsed,
                           effective_date=effective_date, key=key)
        _report_transfer(t, as_json)


@cli.command("approve")
@click.argument("transfer_id", type=int)
@click.option("--comment", default="")
@pass_ctx
def approve(ctx, transfer_id, comment):
    """Approve a transfer a colleague recorded (maker–checker)."""
    with ctx.session() as s:
        posting.approve(s, ctx.actor(s), transfer_id, comment)
    click.echo(f"transfer #{transfer_id} approved")


@cli.command("reject")
@click.argument("transfer_id", type=int)
@click.option("--comment", required=True)
@pass_ctx
def reject(ctx, transfer_id, comment):
    """Reject a pending transfer, releasing what it held."""
    with ctx.session() as s:
        posting.reject(s, ctx.actor(s), transfer_id, comment)
    click.echo(f"transfer #{transfer_id} rejected")


@cli.command("reverse")
@click.argument("transfer_id", type=int)
@click.option("--reason", required=True)
@click.option("--key", default=None, help="Idempotency key (default reverse:ID).")
@transfer_options
@pass_ctx
def reverse(ctx, transfer_id, reason, key, effective_date, as_json):
    """Correct an approved transfer by recording its reversal."""
    with ctx.session() as s:
        t = posting.reverse(s, ctx.actor(s), transfer_id, reason=reason,
                            effective_date=effective_date, key=key or f"reverse:{transfer_id}")
        _report_transfer(t, as_json)


@cli.command("close-period")
@click.argument("period")
@pass_ctx
def close_period(ctx, period):
    """Close a fiscal month (YYYY-MM) for the whole ledger."""
    with ctx.session() as s:
        periods.close_period(s, ctx.actor(s), period)
    click.echo(f"period {period} closed")


@cli.command("demo")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--households", type=click.IntRange(1, 10_000_000), default=200,
              show_default=True)
@click.option("--year", type=int, default=2024, show_default=True)
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False), default=None,
              help="Write the ground truth of the planted misuse (JSON) here.")
@pass_ctx
def demo(ctx, seed, households, year, manifest_path):
    """Build a synthetic province on the configured (empty) database."""
    from ledger.store import migrate
    from ledger.demo.province import build_demo
    migrate.upgrade(make_engine(ctx.settings.database_url))
    summary = build_demo(ctx.factory, seed=seed, households=households, year=year,
                         progress=households >= 2000 and sys.stderr.isatty())
    if manifest_path:
        with open(manifest_path, "w", encoding="utf-8") as fh:
            json.dump(summary.manifest, fh, ensure_ascii=False, indent=1)
    click.echo(f"demo province built: {summary.regions} regions, {summary.households} "
               f"households, {summary.transfers} approved transfers, lots {summary.lots}, "
               f"{len(summary.manifest.get('cases', []))} planted cases")


# ----------------------------------------------------------------------------- reports

@cli.command("trial-balance")
@click.option("--as-of", callback=_date, default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def trial_balance(ctx, as_of, as_json):
    """Every account's debits and credits; the totals must balance (exit 1 if not)."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        tb = balances.trial_balance(s, actor, as_of)
    data = {"as_of": as_of, "balanced": tb.balanced, "total_debits_fen": tb.total_debits,
            "total_credits_fen": tb.total_credits, "unbalanced_lots": tb.unbalanced_lots,
            "accounts": [asdict(r) | {"balance": r.balance} for r in tb.rows]}
    lines = [f"{'lot':<34} {'account':<32} {'debits':>18} {'credits':>18}"]
    for r in tb.rows:
        lines.append(f"{r.lot[:34]:<34} {(r.kind + ':' + r.holder)[:32]:<32} "
                     f"{format_yuan(r.debits):>18} {format_yuan(r.credits):>18}")
    lines.append(f"{'total':<67} {format_yuan(tb.total_debits):>18} "
                 f"{format_yuan(tb.total_credits):>18}")
    lines.append("balanced" if tb.balanced else f"NOT BALANCED: lots {tb.unbalanced_lots}")
    _emit(data, as_json, "\n".join(lines))
    if not tb.balanced:
        raise click.exceptions.Exit(1)


@cli.command("balances")
@click.option("--as-of", callback=_date, default=None)
@click.option("--lot", "lot_id", type=int, default=None)
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["unit", "project", "payee", "appropriation",
                                 "integration_in", "integration_out"]))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show_balances(ctx, as_of, lot_id, kinds, as_json):
    """Balances per unit, lot, project or payee, as of a date."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        rows = balances.account_balances(s, actor, as_of, lot_id, kinds or None)
    data = [asdict(r) | {"balance": r.balance} for r in rows]
    text = "\n".join(f"{r.lot[:34]:<34} {r.kind + ':' + r.holder:<32} "
                     f"{format_yuan(r.balance):>18}" for r in rows) or "no postings"
    _emit(data, as_json, text)


@cli.command("trace")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--payees", "max_payees", type=int, default=10, show_default=True,
              help="How many payees to list under each holder in the text view.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def trace(ctx, lot_id, max_payees, as_json):
    """Where every fen of a lot went, level by level, and what is still held where."""
    from ledger.funds.trace import render, trace_lot
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        result = trace_lot(s, lot_id, actor)
    data = {"lot": result.lot_label, "amount_fen": result.amount_fen,
            "tree": [r.to_dict() for r in result.roots]}
    _emit(data, as_json, render(result, format_yuan, max_payees))


# Further command groups register themselves on `cli` when imported (one per line, so that
# branches adding a group merge without conflict).
from ledger.cli import (
    alerts as cli_alerts,
    audit as cli_audit,
    backup as cli_backup,
    households as cli_households,
    imports as cli_imports,
    oversight as cli_oversight,
    recoveries as cli_recoveries,
    rolls as cli_rolls,
    users as cli_users,
    yearend as cli_yearend,
)


def _load_plugin_commands() -> None:
    """Add the commands of the outer layers (`report` from reports/, `serve` from web/).

    ledger must not import reports or web (DESIGN.md, layers), yet `fundtrail report` and
    `fundtrail serve` belong to the one command line. The outer packages declare their click
    commands as entry points in the group `fundtrail.commands` (pyproject.toml); the core looks
    them up by name at start-up, so the dependency still points outwards only.
    """
    from importlib.metadata import entry_points
    for ep in entry_points(group="fundtrail.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


_load_plugin_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
