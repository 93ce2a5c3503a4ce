"""The `fundtrail` command line (DESIGN.md, "The command line").

Exit status: 0 success, 1 the command ran and found a problem (unbalanced books, tampering),
2 bad usage or bad input. Every reporting command takes --json.

Who acts: recording and approving commands need `--as USERNAME` (or FUNDTRAIL_USER) and that
person's key file (`--key-file FILE`, FUNDTRAIL_KEY, or FUNDTRAIL_KEY_DIR/<username>.key): every
entry in their name is signed with it (docs/signatures.md). Reading needs no key.

The root only knows where each command is: an area module (ledger/cli/*.py) is imported when
one of its commands runs, so that starting `fundtrail` does not load the whole ledger. The
commands of the outer layers (`report` from reports/, `serve` from web/) are entry points.
"""
from __future__ import annotations

import sys

import click

from ledger.cli.lazy import LazyCommand, LazyGroup
from ledger.cli.params import Context
from ledger.core.config import ConfigError
from ledger.core.errors import LedgerError

# Every command of the command line: its name, where it is ("module:attribute") and the one line
# `fundtrail --help` shows for it (the first sentence of its docstring), so that --help imports
# no area module. tests/test_cli_lazy.py checks the table against the modules both ways: a new
# command is added here, with its summary, or the suite fails.
COMMANDS = {
    "alerts": LazyCommand("ledger.cli.alerts:alerts",
        "Misuse alerts: scan, work through the lifecycle, measure detection quality."),
    "allocate": LazyCommand("ledger.cli.funds:allocate",
        "Pass money of a lot one level down."),
    "allocate-factors": LazyCommand("ledger.cli.imports:allocate_factors",
        "因素法: split a lot among counties by factors; the province passes each city its part."),
    "appropriate": LazyCommand("ledger.cli.funds:appropriate",
        "Open a fund lot from an appropriation document."),
    "approve": LazyCommand("ledger.cli.funds:approve",
        "Approve a transfer a colleague recorded (maker–checker), or every transfer a file "
        "recorded (--file FILE --kind KIND), each approved on its own."),
    "backup": LazyCommand("ledger.cli.backup:backup_command",
        "Copy the live SQLite ledger to FILE (consistent, checked, owner-only)."),
    "balances": LazyCommand("ledger.cli.funds:show_balances",
        "Balances per unit, lot, project or payee, as of a date."),
    "card": LazyCommand("ledger.cli.households:card_group",
        "The card register: household, personal and guardian cards, opened, closed, replaced."),
    "checkpoint": LazyCommand("ledger.cli.audit:checkpoint_group",
        "Sign, cosign and show checkpoints of the audit log."),
    "complaint": LazyCommand("ledger.cli.oversight:complaint_group",
        "Complaints (信访投诉): file, follow by receipt, handle, count."),
    "db": LazyCommand("ledger.cli.database:db",
        "Create or migrate the schema."),
    "demo": LazyCommand("ledger.cli.demo:demo",
        "Build a synthetic province on the configured (empty) database."),
    "export-bundle": LazyCommand("ledger.cli.audit:export_bundle",
        "Write an offline bundle for auditors (C2SP tlog-tiles layout, checkpoints, policy)."),
    "fund-project": LazyCommand("ledger.cli.funds:fund_project",
        "Put a county's money of a lot behind one of its projects."),
    "household": LazyCommand("ledger.cli.households:household_group",
        "Status changes, deaths, moves, splits (分户) and merges (合户) of households."),
    "import": LazyCommand("ledger.cli.imports:import_command",
        "Import a CSV file (UTF-8 or GB18030) or an Excel workbook (.xlsx)."),
    "import-bank-results": LazyCommand("ledger.cli.rolls:import_bank_results_command",
        "Record the bank's result file against a roll as the bank sent it (differences are "
        "recorded and flagged, not refused)."),
    "init": LazyCommand("ledger.cli.org:init",
        "Create the root region and the first administrator of an empty ledger."),
    "integrate": LazyCommand("ledger.cli.funds:integrate",
        "Pool several lots into an integrated lot, keeping lineage (统筹整合)."),
    "key": LazyCommand("ledger.cli.keys:key_group",
        "Personal signing keys: make one, have it enrolled (four eyes), list, revoke."),
    "keygen": LazyCommand("ledger.cli.audit:keygen",
        "Create an encrypted signing or cosigning key; print its public (verifier) key."),
    "loan": LazyCommand("ledger.cli.recoveries:loan_group",
        "Micro-credit loans (扶贫小额信贷) and their interest subsidy (贴息)."),
    "pass-down": LazyCommand("ledger.cli.imports:pass_down",
        "A city passes its counties the shares a factor plan gave them."),
    "pay": LazyCommand("ledger.cli.funds:pay",
        "Pay a household or contractor."),
    "payee": LazyCommand("ledger.cli.projects:payee_group",
        "Payees: the households and contractors that can be paid."),
    "period": LazyCommand("ledger.cli.funds:period_group",
        "Fiscal months: close one for the whole ledger or for one county's books."),
    "pii-keygen": LazyCommand("ledger.cli.imports:pii_keygen",
        "Print a new key for FUNDTRAIL_PII_KEYS (put the new key first to rotate)."),
    "project": LazyCommand("ledger.cli.projects:project_group",
        "Projects of a county: register, move through their stages, file (备案)."),
    "proof": LazyCommand("ledger.cli.audit:proof_command",
        "Inclusion proof of log entry INDEX in the newest cosigned checkpoint."),
    "reclaim": LazyCommand("ledger.cli.yearend:reclaim",
        "Take money idle for two years back up the chain for pooled use (same lot)."),
    "recovery": LazyCommand("ledger.cli.recoveries:recovery_group",
        "Recover misused money back to its lot (追回归位), and follow what is still owed."),
    "refusals": LazyCommand("ledger.cli.refusals:refusals",
        "Refused attempts: misuse the ledger prevented, for auditors."),
    "region": LazyCommand("ledger.cli.org:region_group",
        "Regions: the tree of cities, counties, townships and villages below the province."),
    "reject": LazyCommand("ledger.cli.funds:reject",
        "Reject a pending transfer, releasing what it held."),
    "restore": LazyCommand("ledger.cli.backup:restore_command",
        "Check the backup FILE, then copy it into the configured SQLite database."),
    "reverse": LazyCommand("ledger.cli.funds:reverse",
        "Correct an approved transfer by recording its reversal."),
    "roll": LazyCommand("ledger.cli.rolls:roll_group",
        "Household payment rolls (公示清册): create, publish, approve, send, reconcile."),
    "rotate-key": LazyCommand("ledger.cli.audit:rotate_key",
        "Make a new log key and add it to the policy beside the old one."),
    "seal": LazyCommand("ledger.cli.audit:seal_command",
        "Sign a checkpoint when the log has grown since the newest one (once, or --every N s)."),
    "sample": LazyCommand("ledger.cli.oversight:sample_group",
        "Field-check samples (入户核查) nobody can choose: commit, draw, visit, verify."),
    "trace": LazyCommand("ledger.cli.funds:trace",
        "Where every fen of a lot went, level by level, and what is still held where."),
    "transfer": LazyCommand("ledger.cli.funds:transfer_group",
        "Transfers: list them with their state, show one with its dates, record a receipt."),
    "trial-balance": LazyCommand("ledger.cli.funds:trial_balance",
        "Every account's debits and credits; the totals must balance (exit 1 if not)."),
    "user": LazyCommand("ledger.cli.org:user_group",
        "Staff: users with a role and a region scope, and their web sign-in passwords."),
    "verify": LazyCommand("ledger.cli.audit:verify_command",
        "Full audit verification, row binding included; exit 1 on any finding."),
    "witness": LazyCommand("ledger.cli.audit:witness_group",
        "A witness on another machine: fetch, check, cosign and publish the log's checkpoints."),
    "year-end": LazyCommand("ledger.cli.yearend:year_end",
        "What every unit and project carries into the next year, and how long it sat idle."),
}

# Old spellings, kept working for the scripts that use them, hidden from --help: the flat
# "noun-verb" commands became groups ("project add", "period close"), and "complaints" is the plural
# of a group.
ALIASES = {
    "project-add": "project add",
    "project-advance": "project advance",
    "project-file": "project file",
    "payee-add": "payee add",
    "region-add": "region add",
    "user-add": "user add",
    "user-password": "user password",
    "complaints": "complaint",
    "close-period": "period close",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, aliases=ALIASES,
             # ledger must not import reports or web (DESIGN.md, layers), yet `fundtrail report`
             # and `fundtrail serve` belong to the one command line. The outer packages declare
             # their click commands as entry points of this group (pyproject.toml); the root looks
             # them up by name, so the dependency still points outwards only.
             plugin_group="fundtrail.commands")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML settings file (default ./fundtrail.toml if present).")
@click.option("--as", "username", envvar="FUNDTRAIL_USER", help="Who is acting (username).")
@click.option("--key-file", "key_path", envvar="FUNDTRAIL_KEY",
              type=click.Path(dir_okay=False),
              help="Your personal key file (default FUNDTRAIL_KEY_DIR/<username>.key); "
                   "every change is signed with it.")
@click.version_option(package_name="fundtrail")
@click.pass_context
def cli(click_ctx, config_path, username, key_path):
    """fundtrail: poverty-alleviation special funds, traced from appropriation to household."""
    click_ctx.obj = Context(config_path, username, key_path)


# Commands that change the books in bulk (a roll sent, a bank's results, an import, the demo,
# a file of approvals): when one succeeds, the log is sealed at once (a checkpoint signed, for
# the witnesses to cosign) if the log key can be opened unattended, rather than waiting for the
# next round of `fundtrail seal --every` (docs/operations.md, "Sealing").
SEAL_AFTER = frozenset({"roll", "import", "import-bank-results", "demo", "approve"})


@cli.result_callback()
@click.pass_context
def _seal_after_bulk(click_ctx, _result, **_params):
    if click_ctx.invoked_subcommand in SEAL_AFTER:
        from ledger.cli.audit import seal_after_bulk
        seal_after_bulk(click_ctx.obj)


def error_line(exc: Exception) -> str:
    """A refusal as the one line the command prints: in Chinese (the refusals catalog, money
    in 元) unless FUNDTRAIL_LANG=en, where it is the raise site's own English text."""
    from ledger import i18n
    from ledger.core import refusals
    if i18n.current_locale() == i18n.DEFAULT_LOCALE:
        code = getattr(exc, "code", None)
        line = f"错误：{exc}"
        if code in refusals.BY_CODE and code != "refused":
            try:
                line = "错误：" + refusals.render(code, exc.params)
            except (KeyError, IndexError, ValueError):
                pass
        problems = getattr(exc, "problems", None) or []
        return "\n".join([line, *(f"  {problem_line(p)}" for p in problems)])
    return f"error: {exc}"


def problem_line(problem) -> str:
    """One problem of a file, in Chinese: where (file, line, column by name and place) and
    what, rendered from its code where the catalogue has it."""
    from ledger.core import refusals
    from ledger.i18n import _
    reason = problem.reason
    if problem.code in refusals.BY_CODE and problem.code != "refused":
        try:
            reason = refusals.render(problem.code, problem.params)
        except (KeyError, IndexError, ValueError):
            pass
    where = _("{file}，第 {line} 行", file=problem.file, line=problem.line)
    if problem.column:
        where += _("，“{column}”列", column=problem.column)
        if problem.position:
            where += _("（第 {position} 列）", position=problem.position)
    return f"{where}：{reason}"


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
        click.echo(error_line(exc), err=True)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
