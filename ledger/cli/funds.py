"""Recording and reading the money: appropriate, allocate, fund a project, pay, integrate;
approve, reject, reverse; close a period (ledger-wide or per county); a transfer's dates and
its receipt by the level below; trial balance, balances and the trace of a lot."""
from __future__ import annotations

from dataclasses import asdict

import click

from ledger.cli.params import (
    emit,
    kind_label,
    pass_ctx,
    report_transfer,
    to_date,
    transfer_options,
    voucher_options,
    yuan_to_fen,
)
from ledger.cli.table import columns
from ledger.core.money import format_yuan
from ledger.funds import balances, flows, lots, periods, posting, receipts
from ledger.funds.trace import render as render_trace
from ledger.funds.trace import trace_lot
from ledger.i18n import N_, _
from ledger.models import SourceLevel

# ----------------------------------------------------------------------------- recording

@click.command("appropriate", help=_("依据拨款文件开设资金批次。"))
@click.option("--doc", "doc_number", required=True, help=_("文号。"))
@click.option("--source-level", type=click.Choice(
    [s.value for s in SourceLevel if s is not SourceLevel.INTEGRATED]), required=True)
@click.option("--year", type=int, required=True)
@click.option("--title", required=True)
@click.option("--function-code", "function_codes", multiple=True, required=True)
@click.option("--use", "uses", multiple=True, required=True)
@click.option("--amount", callback=yuan_to_fen, required=True, help=_("元，例如 1,234.56"))
@click.option("--region", required=True, help=_("收款地区代码。"))
@click.option("--key", default=None, help=_("幂等键（默认：取自文件）。"))
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
        lot = lots.get_lot(s, t.lot_id)
        if not as_json:
            # The lot's id first, on a line of its own: every later step names the lot by it
            # (--lot), and `fundtrail lots` lists it again with its document number.
            click.echo(_("资金批次 #{id} 已开立：{doc}（{year} 年，{amount} 元）", id=lot.id,
                         doc=lot.doc_number, year=lot.year,
                         amount=format_yuan(lot.amount_fen)))
        report_transfer(t, as_json)


@click.command("allocate", help=_("将一个批次的资金下拨一级。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--from", "from_region", required=True)
@click.option("--to", "to_region", required=True)
@click.option("--amount", callback=yuan_to_fen, required=True)
@click.option("--key", required=True, help=_("幂等键，例如下拨文件。"))
@click.option("--memo", default="")
@voucher_options
@pass_ctx
def allocate(ctx, lot_id, from_region, to_region, amount, key, memo, effective_date,
             voucher_date, value_date, as_json):
    """Pass money of a lot one level down."""
    with ctx.session() as s:
        t = flows.allocate(s, ctx.actor(s), lot_id=lot_id, from_region=from_region,
                           to_region=to_region, amount_fen=amount,
                           effective_date=effective_date, key=key, memo=memo,
                           voucher_date=voucher_date, value_date=value_date)
        report_transfer(t, as_json)


@click.command("fund-project", help=_("将县里某批次的资金安排到本县的一个项目。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--project", required=True)
@click.option("--amount", callback=yuan_to_fen, required=True)
@click.option("--key", required=True)
@click.option("--memo", default="")
@voucher_options
@pass_ctx
def fund_project(ctx, lot_id, project, amount, key, memo, effective_date, voucher_date,
                 value_date, as_json):
    """Put a county's money of a lot behind one of its projects."""
    with ctx.session() as s:
        t = flows.fund_project(s, ctx.actor(s), lot_id=lot_id, project_code=project,
                               amount_fen=amount, effective_date=effective_date, key=key,
                               memo=memo, voucher_date=voucher_date, value_date=value_date)
        report_transfer(t, as_json)


@click.command("pay", help=_("向农户或承包方付款。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--payee", required=True)
@click.option("--amount", callback=yuan_to_fen, required=True)
@click.option("--function-code", required=True)
@click.option("--use", "use_code", required=True)
@click.option("--project", default=None, help=_("从本项目的资金中支付 …"))
@click.option("--county", default=None, help=_("… 或从本县自己的份额中支付。"))
@click.option("--key", required=True, help=_("幂等键，例如银行凭证号。"))
@click.option("--memo", default="")
@click.option("--invoice", "invoice_number", default=None,
              help=_("本次付款所付的发票号。"))
@click.option("--contract", "contract_number", default=None,
              help=_("本次付款所依据的合同号。"))
@voucher_options
@pass_ctx
def pay(ctx, lot_id, payee, amount, function_code, use_code, project, county, key, memo,
        invoice_number, contract_number, effective_date, voucher_date, value_date, as_json):
    """Pay a household or contractor."""
    with ctx.session() as s:
        t = flows.pay(s, ctx.actor(s), lot_id=lot_id, payee_code=payee, amount_fen=amount,
                      function_code=function_code, use_code=use_code, project_code=project,
                      county_code=county, effective_date=effective_date, key=key, memo=memo,
                      voucher_date=voucher_date, value_date=value_date,
                      invoice_number=invoice_number, contract_number=contract_number)
        report_transfer(t, as_json)


@click.command("integrate", help=_("将几个批次归集为一个整合批次，保留来源（统筹整合）。"))
@click.option("--county", required=True)
@click.option("--doc", "doc_number", required=True)
@click.option("--year", type=int, required=True)
@click.option("--title", required=True)
@click.option("--function-code", "function_codes", multiple=True, required=True)
@click.option("--use", "uses", multiple=True, required=True)
@click.option("--source", "sources", multiple=True, required=True,
              help=_("LOT_ID=金额（元），可重复。"))
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
            raise click.BadParameter(_("{item} 不是 LOT_ID=金额 的形式", item=repr(item)),
                                     param_hint="--source")
        parsed.append((int(lot_text), yuan_to_fen(None, None, amount_text)))
    with ctx.session() as s:
        t = lots.integrate(s, ctx.actor(s), county_code=county, doc_number=doc_number,
                           year=year, title=title, function_codes=list(function_codes),
                           allowed_uses=list(uses), sources=parsed,
                           effective_date=effective_date, key=key)
        report_transfer(t, as_json)


@click.command("approve", help=_(
        "审核同事录入的转账（经办—复核），或某个文件录入的全部转账。\n\n"
        "用 --file FILE --kind KIND 时，每笔分别审核。"))
@click.argument("transfer_id", type=int, required=False)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False),
              help=_("审核这个导入文件录入的每一笔转账（配合 --kind）。"))
@click.option("--kind", default=None,
              help=_("文件的导入类型：appropriations、allocations、project_funding、payments。"))
@click.option("--comment", default="")
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def approve(ctx, transfer_id, file, kind, comment, as_json):
    """Approve a transfer a colleague recorded (maker–checker), or every transfer a file
    recorded (--file FILE --kind KIND), each approved on its own."""
    if (transfer_id is None) == (file is None):
        raise click.UsageError(_("请给出 TRANSFER_ID，或 --file FILE --kind KIND"))
    if file is None:
        with ctx.session() as s:
            posting.approve(s, ctx.actor(s), transfer_id, comment)
        emit({"approved": [transfer_id], "unchanged": []}, as_json,
             _("转账 #{id} 已审核", id=transfer_id))
        return
    if kind is None:
        raise click.UsageError(_("--file 需要 --kind（该文件导入时的类型）"))
    from ledger.imports.approvals import approve_file
    with ctx.session() as s:
        result = approve_file(s, ctx.actor(s), kind, file, comment)
    emit({"kind": kind, "approved": result.approved, "unchanged": result.unchanged}, as_json,
         _("{kind}：{approved} 笔转账已审核，{before} 笔此前已审核", kind=kind,
           approved=len(result.approved), before=len(result.unchanged))
         + (_("（转账 #{first}–#{last}）", first=result.approved[0], last=result.approved[-1])
            if result.approved else ""))


@click.command("reject", help=_("驳回一笔待审转账，释放其占用的资金。"))
@click.argument("transfer_id", type=int)
@click.option("--comment", required=True)
@pass_ctx
def reject(ctx, transfer_id, comment):
    """Reject a pending transfer, releasing what it held."""
    with ctx.session() as s:
        posting.reject(s, ctx.actor(s), transfer_id, comment)
    click.echo(_("转账 #{id} 已驳回", id=transfer_id))


@click.command("reverse", help=_("以记录冲销的方式更正一笔已审核的转账。"))
@click.argument("transfer_id", type=int)
@click.option("--reason", required=True)
@click.option("--key", default=None, help=_("幂等键（默认 reverse:ID）。"))
@transfer_options
@pass_ctx
def reverse(ctx, transfer_id, reason, key, effective_date, as_json):
    """Correct an approved transfer by recording its reversal."""
    with ctx.session() as s:
        t = posting.reverse(s, ctx.actor(s), transfer_id, reason=reason,
                            effective_date=effective_date, key=key or f"reverse:{transfer_id}")
        report_transfer(t, as_json)


@click.group("period", help=_("会计月份：为整个账本或某县的账结账。"))
def period_group():
    """Fiscal months: close one for the whole ledger or for one county's books."""


@period_group.command("close", help=_("为整个账本或某一个县结清一个会计月份（YYYY-MM）。"))
@click.argument("period")
@click.option("--county", "county_code", default=None,
              help=_("只为这个县结账（由其管理员或上级执行）。"))
@pass_ctx
def close_period(ctx, period, county_code):
    """Close a fiscal month (YYYY-MM) for the whole ledger, or for one county."""
    with ctx.session() as s:
        periods.close_period(s, ctx.actor(s), period, county_code)
    click.echo(_("会计期间 {period} 已结账", period=period)
               + (_("（县 {county}）", county=county_code) if county_code else ""))


# ----------------------------------------------------------------------------- transfers

@click.group("transfer", help=_("转账：列出及其状态，查看一笔及其日期，登记到账。"))
def transfer_group():
    """Transfers: list them with their state, show one with its dates, record a receipt."""


@transfer_group.command("receive", help=_("以收款单位身份登记一笔上下级转账的到账日期。"))
@click.argument("transfer_id", type=int)
@click.option("--date", "received_date", callback=to_date, required=True,
              help=_("下拨资金到达收款单位的日期，YYYY-MM-DD。"))
@click.option("--memo", default="")
@pass_ctx
def receive(ctx, transfer_id, received_date, memo):
    """Record, as the receiving unit, the day a transfer between levels arrived."""
    with ctx.session() as s:
        r = receipts.record_receipt(s, ctx.actor(s), transfer_id, received_date=received_date,
                                    memo=memo)
        click.echo(_("转账 #{id} 已由 {region} 登记于 {day} 到账", id=transfer_id,
                     region=r.region_code, day=received_date))


@transfer_group.command("show", help=_(
        "一笔转账及其日期：记账、凭证、起息、录入、到账，以及各项延迟。"))
@click.argument("transfer_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def show_transfer(ctx, transfer_id, as_json):
    """A transfer with its dates: posted, voucher, value, entered, received, and the delays."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        t = receipts.readable_transfer(s, actor, transfer_id)
        dates = receipts.dates_of(s, t)
        decision = posting.decision_of(s, transfer_id)
        data = {"id": t.id, "kind": t.kind.value, "lot_id": t.lot_id, "region": t.region_code,
                "amount_fen": t.amount_fen, "amount": format_yuan(t.amount_fen),
                "key": t.idempotency_key, "decision": decision.value if decision else None,
                **dates.to_dict()}
    emit(data, as_json, "\n".join(_date_lines(data)))


def _date_lines(data) -> list[str]:
    lines = [_("转账 #{id} {kind} {amount} 元，地区 {region}，{decision}", id=data["id"],
               kind=kind_label(data["kind"]), amount=data["amount"], region=data["region"],
               decision=_state(data["decision"] or "pending")),
             _("记账日期  {day}", day=data["effective_date"])]
    if data["voucher_date"]:
        late = data["posting_delay_days"]
        lines.append(_("凭证日期  {day}", day=data["voucher_date"])
                     + (_("（凭证日期后 {days} 天记账）", days=late) if late else ""))
    if data["value_date"]:
        lines.append(_("起息日期  {day}", day=data["value_date"]))
    lines.append(_("录入日期  {day}", day=data["entry_date"]))
    if data["received_date"]:
        lines.append(_("到账日期  {day}（印发后 {days} 天）", day=data["received_date"],
                       days=data["receipt_days"]))
    return lines


# A transfer's state as the list and `transfer show` print it: Chinese, or the raw value in
# English (the word scripts and --json know).
def _state(value: str) -> str:
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    if current_locale() != DEFAULT_LOCALE:
        return value
    if value == "pending":
        return _("待审核")
    from ledger.i18n.labels import label
    return label(value, "Decision")


def _pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    import unicodedata
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    fill = " " * max(0, width - shown)
    return fill + text if right else text + fill


# ----------------------------------------------------------------------------- reading

@click.command("trial-balance", help=_(
        "每个账户的借方和贷方；合计必须平衡（不平衡时退出码为 1）。"))
@click.option("--as-of", callback=to_date, default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def trial_balance(ctx, as_of, as_json):
    """Every account's debits and credits; the totals must balance (exit 1 if not)."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        tb = balances.trial_balance(s, actor, as_of)
    data = {"as_of": as_of, "balanced": tb.balanced, "total_debits_fen": tb.total_debits,
            "total_credits_fen": tb.total_credits, "unbalanced_lots": tb.unbalanced_lots,
            "accounts": [asdict(r) | {"balance": r.balance} for r in tb.rows]}
    lines = [f"{_pad(_('批次名称'), 34)} {_pad(_('账户（类型:持有方）'), 32)} "
             f"{_pad(_('借方（元）'), 18, True)} {_pad(_('贷方（元）'), 18, True)}"]
    for r in tb.rows:
        lines.append(f"{r.lot[:34]:<34} {(r.kind + ':' + r.holder)[:32]:<32} "
                     f"{format_yuan(r.debits):>18} {format_yuan(r.credits):>18}")
    lines.append(f"{_pad(_('总计'), 67)} {format_yuan(tb.total_debits):>18} "
                 f"{format_yuan(tb.total_credits):>18}")
    lines.append(_("借贷平衡") if tb.balanced
                 else _("借贷不平衡：批次 {lots}", lots=tb.unbalanced_lots))
    emit(data, as_json, "\n".join(lines))
    if not tb.balanced:
        raise click.exceptions.Exit(1)


@click.command("balances", help=_("截至某日按单位、批次、项目或收款方的余额。"))
@click.option("--as-of", callback=to_date, default=None)
@click.option("--lot", "lot_id", type=int, default=None)
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["unit", "project", "payee", "appropriation",
                                 "integration_in", "integration_out"]))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def show_balances(ctx, as_of, lot_id, kinds, as_json):
    """Balances per unit, lot, project or payee, as of a date."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        rows = balances.account_balances(s, actor, as_of, lot_id, kinds or None)
    data = [asdict(r) | {"balance": r.balance} for r in rows]
    text = "\n".join(f"{r.lot[:34]:<34} {r.kind + ':' + r.holder:<32} "
                     f"{format_yuan(r.balance):>18}" for r in rows) or _("没有记账记录")
    emit(data, as_json, text)


# Who put the money up (资金来源级次), as the listing names it.
_LEVELS = {"central": N_("中央"), "province": N_("省级"), "city": N_("市级"),
           "county": N_("县级"), "integrated": N_("整合")}


@click.command("lots", help=_("资金批次：编号、文号、年度、金额和尚未支出的部分。"))
@click.option("--year", type=int, default=None, help=_("只列这一年度的批次。"))
@click.option("--json", "as_json", is_flag=True,
              help=_("机器输出：金额为整数分（amount_fen、unspent_fen）。"))
@pass_ctx
def list_lots(ctx, year, as_json):
    """Fund lots (资金批次): id, document number, year, amount and what is not yet spent."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        rows = balances.lot_summaries(s, actor, year)
    data = [asdict(r) for r in rows]
    table = columns([_("批次"), _("文号"), _("级次"), _("年度"), _("金额（元）"),
                     _("未支出（元）"), _("名称")],
                    [[f"#{r.id}", r.doc_number, _(_LEVELS[r.source_level]),
                      str(r.year), format_yuan(r.amount_fen), format_yuan(r.unspent_fen),
                      r.title] for r in rows],
                    right={4, 5})
    emit(data, as_json, table if rows else _("没有资金批次"))


@click.command("trace", help=_("一个批次的每一分钱逐级去了哪里，以及还有多少留在何处。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--payees", "max_payees", type=int, default=10, show_default=True,
              help=_("文本视图中每个持有方下列出多少个收款方。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def trace(ctx, lot_id, max_payees, as_json):
    """Where every fen of a lot went, level by level, and what is still held where."""
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        result = trace_lot(s, lot_id, actor)
    data = {"lot": result.lot_label, "amount_fen": result.amount_fen,
            "tree": [r.to_dict() for r in result.roots]}
    emit(data, as_json, render_trace(result, format_yuan, max_payees))


@transfer_group.command("list", help=_(
        "范围内的转账，最早的在前：录入人、类型、金额、日期、摘要。"))
@click.option("--pending", is_flag=True, help=_("只列待审核的转账。"))
@click.option("--region", default=None, help=_(
                                            "在此地区及其下级录入的（默认：--as 的地区；没有 "
                                            "--as 时为整个账本）。"))
@click.option("--key-prefix", default=None, help=_("只列键（凭证号）以此开头的。"))
@click.option("--limit", type=int, default=None)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def transfer_list(ctx, pending, region, key_prefix, limit, as_json):
    """Transfers in scope, oldest first: who recorded each, kind, amount, date, memo."""
    from ledger.funds.pending import list_transfers
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        rows = list_transfers(s, actor, region=region, pending_only=pending,
                              key_prefix=key_prefix, limit=limit)
    data = [asdict(r) | {"amount": format_yuan(r.amount_fen)} for r in rows]
    lines = [_("#{id:<6} {state:<8} {kind:<13} {amount:>16} 元 {day}  批次 {lot}  {region}  "
               "录入人 {by}  凭证号 {key}", id=r.id, state=_state(r.state),
               kind=kind_label(r.kind), amount=format_yuan(r.amount_fen),
               day=r.effective_date, lot=r.lot_id, region=r.region_code, by=r.recorded_by,
               key=r.key) + (f"  {r.memo}" if r.memo else "") for r in rows]
    emit(data, as_json, "\n".join(lines)
         or (_("无待审核转账") if pending else _("没有转账")))
