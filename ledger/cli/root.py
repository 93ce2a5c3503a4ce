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
from ledger.i18n import N_, _

# Every command of the command line: its name, where it is ("module:attribute") and the one line
# `fundtrail --help` shows for it (the first paragraph of its Chinese help, translated when shown;
# the English is the first sentence of the English help), so that --help imports no area module.
# tests/test_cli_lazy.py checks the table against the modules both ways: a new command is added
# here, with its summary, or the suite fails.
COMMANDS = {
    "alerts": LazyCommand("ledger.cli.alerts:alerts",
        N_("滥用预警：扫描、按流程处理、衡量发现的质量。")),
    "allocate": LazyCommand("ledger.cli.funds:allocate",
        N_("将一个批次的资金下拨一级。")),
    "allocate-factors": LazyCommand("ledger.cli.imports:allocate_factors",
        N_("因素法：按因素在各县之间分配一个批次；省将每个市的部分下拨给市。")),
    "appropriate": LazyCommand("ledger.cli.funds:appropriate",
        N_("依据拨款文件开设资金批次。")),
    "approve": LazyCommand("ledger.cli.funds:approve",
        N_("审核同事录入的转账（经办—复核），或某个文件录入的全部转账。")),
    "backup": LazyCommand("ledger.cli.backup:backup_command",
        N_("将运行中的 SQLite 账本复制到 FILE（一致、经核对、仅属主可读）。")),
    "balances": LazyCommand("ledger.cli.funds:show_balances",
        N_("截至某日按单位、批次、项目或收款方的余额。")),
    "card": LazyCommand("ledger.cli.households:card_group",
        N_("卡册：户卡、个人卡和监护人卡的开户、销户、换卡。")),
    "checkpoint": LazyCommand("ledger.cli.audit:checkpoint_group",
        N_("审计日志检查点：签署、联署、查看。")),
    "complaint": LazyCommand("ledger.cli.oversight:complaint_group",
        N_("信访投诉：登记、凭回执查询、办理、统计。")),
    "db": LazyCommand("ledger.cli.database:db",
        N_("创建或迁移数据库结构。")),
    "demo": LazyCommand("ledger.cli.demo:demo",
        N_("在配置的（空）数据库上构建一个模拟省。")),
    "export-bundle": LazyCommand("ledger.cli.audit:export_bundle",
        N_("为审计人员写出离线包（C2SP tlog-tiles 布局、检查点、策略）。")),
    "fund-project": LazyCommand("ledger.cli.funds:fund_project",
        N_("将县里某批次的资金安排到本县的一个项目。")),
    "household": LazyCommand("ledger.cli.households:household_group",
        N_("农户的状态变更、死亡、迁移、分户与合户。")),
    "import": LazyCommand("ledger.cli.imports:import_command",
        N_("导入 CSV 文件（UTF-8 或 GB18030）或 Excel 工作簿（.xlsx）。")),
    "import-bank-results": LazyCommand("ledger.cli.rolls:import_bank_results_command",
        N_("按银行发来的原样登记银行结果文件（差异予以记录和标记，不拒绝）。")),
    "init": LazyCommand("ledger.cli.org:init",
        N_("为空账本创建根地区和第一位管理员。")),
    "integrate": LazyCommand("ledger.cli.funds:integrate",
        N_("将几个批次归集为一个整合批次，保留来源（统筹整合）。")),
    "key": LazyCommand("ledger.cli.keys:key_group",
        N_("个人签名密钥：生成、申请登记（双人复核）、列出、吊销。")),
    "keygen": LazyCommand("ledger.cli.audit:keygen",
        N_("创建加密的签名或联署密钥；打印其公钥（验证公钥）。")),
    "loan": LazyCommand("ledger.cli.recoveries:loan_group",
        N_("扶贫小额信贷及其贴息。")),
    "lots": LazyCommand("ledger.cli.funds:list_lots",
        N_("资金批次：编号、文号、年度、金额和尚未支出的部分。")),
    "pass-down": LazyCommand("ledger.cli.imports:pass_down",
        N_("市将因素分配方案分给各县的份额下拨给县。")),
    "pay": LazyCommand("ledger.cli.funds:pay",
        N_("向农户或承包方付款。")),
    "payee": LazyCommand("ledger.cli.projects:payee_group",
        N_("收款方：可以收款的农户和承包方。")),
    "period": LazyCommand("ledger.cli.funds:period_group",
        N_("会计月份：为整个账本或某县的账结账。")),
    "pii-keygen": LazyCommand("ledger.cli.imports:pii_keygen",
        N_("打印一个新的 FUNDTRAIL_PII_KEYS 密钥（轮换时把新密钥放在最前）。")),
    "project": LazyCommand("ledger.cli.projects:project_group",
        N_("县里的项目：申报、推进各阶段、备案。")),
    "proof": LazyCommand("ledger.cli.audit:proof_command",
        N_("日志第 INDEX 条在最新联署检查点中的包含证明。")),
    "reclaim": LazyCommand("ledger.cli.yearend:reclaim",
        N_("将闲置两年的资金沿链收回上级统筹使用（同一批次）。")),
    "recovery": LazyCommand("ledger.cli.recoveries:recovery_group",
        N_("追回归位：将被滥用的资金追回到其批次，并跟进尚欠的款项。")),
    "refusals": LazyCommand("ledger.cli.refusals:refusals",
        N_("被拒绝的尝试：账本阻止的滥用，供审计人员查看。")),
    "region": LazyCommand("ledger.cli.org:region_group",
        N_("地区：省以下的市、县、乡镇、村的树。")),
    "reject": LazyCommand("ledger.cli.funds:reject",
        N_("驳回一笔待审转账，释放其占用的资金。")),
    "restore": LazyCommand("ledger.cli.backup:restore_command",
        N_("核对备份 FILE，然后复制到配置的 SQLite 数据库。")),
    "reverse": LazyCommand("ledger.cli.funds:reverse",
        N_("以记录冲销的方式更正一笔已审核的转账。")),
    "roll": LazyCommand("ledger.cli.rolls:roll_group",
        N_("农户补助公示清册：创建、公示、审核、发送、对账。")),
    "rotate-key": LazyCommand("ledger.cli.audit:rotate_key",
        N_("生成新的日志密钥，并加入策略，与旧密钥并列。")),
    "seal": LazyCommand("ledger.cli.audit:seal_command",
        N_("日志自最新检查点以来有增长时签署检查点（一次，或 --every N 秒）。")),
    "sample": LazyCommand("ledger.cli.oversight:sample_group",
        N_("无人能挑选的入户核查样本：承诺、抽取、走访、核实。")),
    "trace": LazyCommand("ledger.cli.funds:trace",
        N_("一个批次的每一分钱逐级去了哪里，以及还有多少留在何处。")),
    "transfer": LazyCommand("ledger.cli.funds:transfer_group",
        N_("转账：列出及其状态，查看一笔及其日期，登记到账。")),
    "trial-balance": LazyCommand("ledger.cli.funds:trial_balance",
        N_("每个账户的借方和贷方；合计必须平衡（不平衡时退出码为 1）。")),
    "user": LazyCommand("ledger.cli.org:user_group",
        N_("工作人员：具有角色和地区范围的用户，及其网页登录密码。")),
    "verify": LazyCommand("ledger.cli.audit:verify_command",
        N_("完整审计核验，含行绑定；有任何发现时退出码为 1。")),
    "witness": LazyCommand("ledger.cli.audit:witness_group",
        N_("另一台机器上的见证者：获取、核对、联署并发布日志的检查点。")),
    "year-end": LazyCommand("ledger.cli.yearend:year_end",
        N_("每个单位和项目结转到下一年度的资金，及其闲置了多久。")),
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
             plugin_group="fundtrail.commands", help=_(
        "fundtrail：扶贫专项资金，从拨款追踪到农户。"))
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help=_("TOML 配置文件（默认当前目录的 ./fundtrail.toml，如存在）。"))
@click.option("--as", "username", envvar="FUNDTRAIL_USER", help=_("谁在操作（用户名）。"))
@click.option("--key-file", "key_path", envvar="FUNDTRAIL_KEY",
              type=click.Path(dir_okay=False),
              help=_(
                  "你的个人密钥文件（默认 FUNDTRAIL_KEY_DIR/<username>.key）；"
                  "每项变更都用它签名。"))
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
        click.echo(_("已中止"), err=True)
        return 2
    except (LedgerError, ConfigError) as exc:
        click.echo(error_line(exc), err=True)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
