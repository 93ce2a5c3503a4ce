"""`fundtrail roll …`: household payment rolls from creation to the bank's results."""
from __future__ import annotations

import datetime as dt

import click

from ledger.cli.params import (
    emit,
    pass_ctx,
    progress_bar,
    progress_option,
    report_transfer,
    to_date,
    yuan_to_fen,
)
from ledger.core.pii import PiiVault
from ledger.i18n import N_, _, yuan
from ledger.imports.roll_lines import read_roll_lines
from ledger.rolls import lifecycle as rolls

TODAY = dt.date.today().isoformat()


@click.group("roll", help=_("农户补助公示清册：创建、公示、审核、发送、对账。"))
def roll_group():
    """Household payment rolls (公示清册): create, publish, approve, send, reconcile."""


@roll_group.command("create", help=_(
        "用行文件创建清册。\n\n"
        "单一项目按 --standard 计价，或多个项目按补助标准表计价。"))
@click.argument("code")
@click.option("--lot", "lot_ref", required=True,
              help=_("批次：其编号，或开设它的文号。"))
@click.option("--county", required=True)
@click.option("--item", help=_("支付什么，例如 产业奖补（不填：按各行的补助项目）。"))
@click.option("--function-code", required=True)
@click.option("--use", "use_code", required=True)
@click.option("--standard", callback=yuan_to_fen,
              help=_("--item 每单位的金额（元）（不填：按补助标准表）。"))
@click.option("--lines", "lines_file", type=click.Path(exists=True, dir_okay=False),
              required=True, help=_(
                                 "CSV 或 XLSX：户编码/household_code[, 数量/quantity, "
                                 "补助项目/item, 户类别/tier, 年度/year, "
                                 "成员身份证号/member_id_number, 成员编号/member_id, "
                                 "金额/amount]（docs/formats.md）。"))
@click.option("--project", "project_code",
              help=_(
                  "从本县的这个到户项目支付（其在该批次中的份额，由 fund-project 安排），"
                  "而不是从本县自己的份额支付。"))
@click.option("--date", "as_of", callback=to_date, default=TODAY)
@pass_ctx
def roll_create(ctx, code, lot_ref, county, item, function_code, use_code, standard,
                lines_file, project_code, as_of):
    """Create a roll from a file of lines (one item at --standard, or several items priced
    from the standards table)."""
    lines = read_roll_lines(lines_file)
    # The keys are needed only to find members named by ID number.
    vault = PiiVault.from_env() if any(x.member_id_number for x in lines) else None
    from ledger.funds.lots import lot_by_reference
    with ctx.session() as s:
        lot_id = lot_by_reference(s, lot_ref).id
        roll = rolls.create_roll(s, ctx.actor(s), code=code, lot_id=lot_id, county_code=county,
                                 item=item, function_code=function_code, use_code=use_code,
                                 standard_fen=standard, lines=lines, as_of=as_of, vault=vault,
                                 project_code=project_code)
    click.echo(_("清册 {code}：已建 {n} 行", code=roll.code, n=len(lines)))


@roll_group.command("withdraw", help=_("在清册发送前撤销一行：该行永不支付。"))
@click.argument("code")
@click.option("--line", "line_no", type=int, required=True, help=_("该行的序号。"))
@click.option("--reason", required=True, help=_("撤销该行的原因。"))
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def roll_withdraw(ctx, code, line_no, reason, day):
    """Withdraw a line before the roll is sent (撤销): it is never paid."""
    with ctx.session() as s:
        rolls.withdraw_line(s, ctx.actor(s), code, line_no, day, reason)
    click.echo(_("清册 {code}：第 {line_no} 行已撤销", code=code, line_no=line_no))


# A roll step as its confirmation names it (in English the command's own name).
STEP_NAMES = {"publish": N_("公示"), "object": N_("异议")}


def _step(name: str) -> str:
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    return _(STEP_NAMES.get(name, name)) if current_locale() == DEFAULT_LOCALE else name


def _simple(name, func, help_text, needs_household=False, with_comment=False):
    params = [click.argument("code"),
              click.option("--date", "day", callback=to_date, default=TODAY,
                           help=_("发生日期，YYYY-MM-DD（默认今天）。"))]
    if needs_household:
        params.append(click.option("--household", required=True))
    if with_comment:
        params.append(click.option("--comment", required=True))

    @pass_ctx
    def command(ctx, code, day, household=None, comment=None):
        with ctx.session() as s:
            args = [household] if needs_household else []
            extra = [comment] if with_comment else []
            func(s, ctx.actor(s), code, *args, day, *extra)
        click.echo(_("清册 {code}：已记录{step}", code=code, step=_step(name)))
    for p in reversed(params):
        command = p(command)
    roll_group.command(name, help=help_text)(command)


@roll_group.command("publish", help=_("记录清册已在村公示栏张贴。"))
@click.argument("code")
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("在村公示栏张贴的日期（默认今天）。"))
@click.option("--reason", default=None,
              help=_(
                  "日期早于今天的公示为何补记（补记公示理由）；可不填。"
                  "这样的公示会被记录并标为补记公示；若在从今天起算的公示期内审核，会触发预警 "
                  "E3。"))
@pass_ctx
def roll_publish(ctx, code, day, reason):
    """Record that the roll is posted on the village board."""
    with ctx.session() as s:
        rolls.publish(s, ctx.actor(s), code, day, reason)
        shown = rolls.publicity(s, rolls.get_roll(s, code),
                                ctx.settings.roll_publicity_working_days)
    click.echo(_("清册 {code}：已记录{step}", code=code, step=_step("publish")))
    if shown.backdated:
        click.echo(_("补记公示：公示日期 {posted}，录入于 {recorded}；理由：{reason}；"
                     "按公示日期 {typed} 起可审核，自录入之日起算则 {earliest} 起可审核",
                     posted=shown.posted,
                     recorded=shown.recorded, reason=shown.reason or _("未说明理由"),
                     typed=shown.typed_earliest, earliest=shown.earliest))
_simple("object", rolls.object_to, _("登记对某户一行的异议（暂停该行）。"),
        needs_household=True, with_comment=True)


@roll_group.command("resolve", help=_("裁定异议：成立则撤销该行，不成立则放行该行。"))
@click.argument("code")
@click.option("--household", required=True)
@click.option("--upheld/--dismissed", required=True)
@click.option("--comment", required=True)
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def roll_resolve(ctx, code, household, upheld, comment, day):
    """Decide an objection: upheld withdraws the line, dismissed releases it."""
    with ctx.session() as s:
        rolls.resolve(s, ctx.actor(s), code, household, upheld, day, comment)
    click.echo(_("异议成立") if upheld else _("异议不成立"))


@roll_group.command("approve", help=_("公示期满后审核清册（不能由创建人审核）。"))
@click.argument("code")
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def roll_approve(ctx, code, day):
    """Approve a roll after its publicity window (not by its creator)."""
    with ctx.session() as s:
        rolls.approve_roll(s, ctx.actor(s), code, day, ctx.settings.roll_publicity_working_days)
        shown = rolls.publicity(s, rolls.get_roll(s, code),
                                ctx.settings.roll_publicity_working_days)
    click.echo(_("清册 {code} 已审核", code=code))
    if shown.approved_early:   # recorded, and said: alert E3 raises it for auditors
        click.echo(_("公示期未满即审核：公示录入于 {recorded}，审核录入于 {approved}；"
                     "自录入之日起算的公示期到 {earliest} 才满（预警 E3）", recorded=shown.recorded,
                     approved=shown.approval_recorded, earliest=shown.earliest))


@roll_group.command("send", help=_("记录每一未结行的付款并写出银行文件。"))
@click.argument("code")
@click.option("-o", "out", type=click.Path(dir_okay=False), required=True,
              help=_("要写出的银行文件（含完整卡号：请妥善保管）。"))
@click.option("--encoding", default="gb18030", show_default=True)
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def roll_send(ctx, code, out, encoding, day):
    """Record the payments of every open line and write the bank file."""
    from ledger.imports.bank import cards_of, households_of, write_bank_file
    vault = PiiVault.from_env()
    with ctx.session() as s:
        sent = rolls.send(s, ctx.actor(s), code, day)
        if not sent:
            # Never replace a bank file with an empty one: after a run that committed but was
            # cut off before it reported, the file it wrote is the one the bank needs.
            click.echo(_("清册 {code}：没有新的待发送行（未结行都已送银行）；未写入 {out}",
                         code=code, out=out))
            return
        households = households_of(s, sent)
        # Written before the commit: a crash after the commit leaves a complete file; a crash
        # before it leaves a file for payments not recorded, which the re-run writes again.
        count = write_bank_file(out, sent, vault, households, encoding, cards_of(s, sent))
    click.echo(_("清册 {code}：已记录 {count} 笔支付（待银行回盘），并写入 {out}", code=code,
                 count=count, out=out))


@roll_group.command("repay", help=_("为银行退票的行建立新清册；照常公示和审核。"))
@click.argument("code")
@click.option("--new", "new_code", required=True, help=_("新清册的编码。"))
@click.option("--line", "line_numbers", type=int, multiple=True,
              help=_("只处理这一退票行（可重复）；其余的以后再补发。"))
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@pass_ctx
def roll_repay(ctx, code, new_code, line_numbers, day):
    """A new roll for the lines the bank returned (退票); publish and approve it as usual."""
    with ctx.session() as s:
        roll = rolls.repay_roll(s, ctx.actor(s), code, new_code, day, list(line_numbers))
        count = len(rolls.roll_lines(s, roll))
    click.echo(_("清册 {new_code}：{code} 的 {count} 行退票重新发放（请像其他清册一样公示和审核）",
                 new_code=new_code, count=count, code=code))


@roll_group.command("differences", help=_(
        "银行与清册不符的行（银行差异），附涉及的金额和处理它的转账。"))
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def roll_differences(ctx, code, as_json):
    """The bank's lines that differ from the roll (银行差异), with the money at stake and the
    transfer that accounts for it."""
    from ledger.core.money import format_yuan
    from ledger.models.rolls import BankDifference
    from ledger.rolls.settlement import DIFFERENCE_LABELS, differences
    with ctx.session() as s:
        found = []
        for b, state in differences(s, rolls.get_roll(s, code)):
            found.append({
                "line": b.line_no, "file": b.file_name, "file_line": b.file_line,
                "value_date": b.value_date.isoformat() if b.value_date else None,
                "sent_fen": b.sent_fen, "credited_fen": b.credited_fen, "paid": b.paid,
                "differences": [d.value for d in b.difference_kinds],
                "difference_fen": b.difference_fen,
                "transfer": b.difference_transfer_id, "transfer_state": state})
    if as_json:
        emit(found, True, "")
        return
    if not found:
        click.echo(_("清册 {code}：银行回盘每一行都与清册一致", code=code))
        return
    states = {"approved": "已审核", "rejected": "已驳回", "pending": "待审核", None: "—"}
    click.echo(f"{'序号':<5} {'入账日期':<10} {'发送金额':>12}  {'入账金额':>12}  {'差异':<14} "
               f"{'差额':>12}  差异转账")
    for f in found:
        labels = "、".join(DIFFERENCE_LABELS[BankDifference(d)] for d in f["differences"])
        transfer = (f"#{f['transfer']} {states[f['transfer_state']]}" if f["transfer"]
                    else "—")
        click.echo(f"{f['line']:<5} {f['value_date'] or '—':<12} "
                   f"{format_yuan(f['sent_fen']):>14}  {format_yuan(f['credited_fen']):>14}  "
                   f"{labels:<16} {format_yuan(f['difference_fen']):>14}  {transfer}")


@roll_group.command("top-up", help=_(
        "向农户补足银行在清册某行上少入账的款项（补足）。\n\n"
        "与其他付款一样由同事审核。"))
@click.argument("code")
@click.option("--line", "line_no", type=int, required=True)
@click.option("--voucher", required=True, help=_("补足的凭证号。"))
@click.option("--amount", callback=yuan_to_fen, default=None,
              help=_("金额（元）；默认为少入账且尚未补足的全部。"))
@click.option("--date", "day", callback=to_date, default=TODAY,
              help=_("发生日期，YYYY-MM-DD（默认今天）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印该转账。"))
@pass_ctx
def roll_top_up(ctx, code, line_no, voucher, amount, day, as_json):
    """Pay a household what the bank credited short on a roll line (补足); a colleague
    approves it like any payment."""
    from ledger.rolls.settlement import top_up
    with ctx.session() as s:
        transfer = top_up(s, ctx.actor(s), code, line_no, day, voucher=voucher,
                          amount_fen=amount)
        if as_json:
            report_transfer(transfer, True)
        else:
            click.echo(_("转账 #{id}：清册 {code} 第 {line_no} 行补足 {amount}，待审核",
                         id=transfer.id, amount=yuan(transfer.amount_fen), code=code,
                         line_no=line_no))


@click.command("import-bank-results", help=_(
        "按银行发来的原样登记银行结果文件（差异予以记录和标记，不拒绝）。\n\n"
        "已付的行记账，失败的行退回（退票）；与清册的差异（少入账、其他账户或户名、从未记账的行）"
        "随该行保存，其资金由同事审核的转账调整。"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--roll", "roll_code", required=True)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@progress_option
@pass_ctx
def import_bank_results_command(ctx, file, roll_code, as_json, progress):
    """Record the bank's result file against a roll as the bank sent it (differences are
    recorded and flagged, not refused). Paid lines post, failed lines return (退票); a
    difference from the roll (short credit, another account or name, a line never posted) is
    kept with the line and its money moved by a transfer a colleague approves."""
    from ledger.imports.bank import import_bank_results
    with ctx.session() as s, progress_bar(progress, "bank results"):
        counts = import_bank_results(s, ctx.actor(s), roll_code, file, PiiVault.from_env())
    emit(counts, as_json, _(
        "已付 {posted} 行，退回批次 {returned} 行，记录但未付款 {recorded} 行，此前已记录 "
        "{unchanged} 行；与清册不符 {differences} 行（fundtrail roll differences {roll}）",
        posted=counts["posted"], returned=counts["returned"], recorded=counts["recorded"],
        unchanged=counts["unchanged"], differences=counts["differences"], roll=roll_code))
