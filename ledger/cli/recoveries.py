"""`fundtrail recovery …` (追回归位) and `fundtrail loan …` (扶贫小额信贷 and its 贴息)."""
from __future__ import annotations

import datetime as dt

import click

from ledger.cli.params import (
    emit,
    pass_ctx,
    report_transfer,
    to_date,
    transfer_options,
    yuan_to_fen,
)
from ledger.core.money import format_yuan
from ledger.funds import recoveries
from ledger.households import credit
from ledger.i18n import _
from ledger.models import LoanEventKind


@click.group("recovery", help=_("追回归位：将被滥用的资金追回到其批次，并跟进尚欠的款项。"))
def recovery_group():
    """Recover misused money back to its lot (追回归位), and follow what is still owed."""


@recovery_group.command("open", help=_("立追回案 CODE：该金额成为批次的应收款（需审核）。"))
@click.argument("code")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--payee", required=True, help=_("必须退回资金的一方。"))
@click.option("--amount", callback=yuan_to_fen, required=True, help=_("应追回的金额（元）。"))
@click.option("--due", callback=to_date, required=True, help=_("必须退回的截止日期。"))
@click.option("--reason", required=True, help=_("查实的问题，例如 审计发现虚报冒领。"))
@click.option("--source-transfer", type=int, default=None,
              help=_("被查实滥用的付款（如已知）。"))
@transfer_options
@pass_ctx
def recovery_open(ctx, code, lot_id, payee, amount, due, reason, source_transfer,
                  effective_date, as_json):
    """Open recovery case CODE: the amount becomes a receivable of the lot (needs approval)."""
    with ctx.session() as s:
        case = recoveries.open_recovery(
            s, ctx.actor(s), code=code, lot_id=lot_id, payee_code=payee, amount_fen=amount,
            due_date=due, reason=reason, effective_date=effective_date,
            source_transfer_id=source_transfer)
        emit({"case": case.code, "claim_transfer": case.claim_transfer_id,
              "amount_fen": case.amount_fen, "due_date": case.due_date.isoformat()}, as_json,
             _("追回案件 {code}：应收转账 #{transfer} {amount} 元已录入（待审核），限期 {due}",
               code=case.code, transfer=case.claim_transfer_id,
               amount=format_yuan(case.amount_fen), due=case.due_date))


@recovery_group.command("collect", help=_(
        "登记案件 CODE 追回的资金；它回到该县在该批次中的份额。"))
@click.argument("code")
@click.option("--amount", callback=yuan_to_fen, required=True, help=_("追回的金额（元）。"))
@click.option("--key", required=True, help=_("缴款书号。"))
@click.option("--memo", default="")
@transfer_options
@pass_ctx
def recovery_collect(ctx, code, amount, key, memo, effective_date, as_json):
    """Record money that came back for case CODE; it returns to the county's share of the lot."""
    with ctx.session() as s:
        t = recoveries.collect(s, ctx.actor(s), code=code, amount_fen=amount,
                               effective_date=effective_date, key=key, memo=memo)
        report_transfer(t, as_json)


@recovery_group.command("list", help=_("每个追回案：应追、已追、未追、逾期。有逾期时退出码为 1。"))
@click.option("--as-of", callback=to_date, default=None, help=_("判断逾期所依据的日期。"))
@click.option("--overdue", is_flag=True, help=_("只列已过截止日期的案件。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def recovery_list(ctx, as_of, overdue, as_json):
    """Every recovery case: claimed, collected, outstanding, overdue. Exit 1 if any is overdue."""
    as_of = as_of or dt.date.today()
    with ctx.session() as s:
        actor = ctx.actor(s) if ctx.username else None
        states = recoveries.recovery_states(s, actor, as_of)
    if overdue:
        states = [st for st in states if st.overdue(as_of)]
    data = [st.to_dict(as_of) for st in states]
    text = "\n".join(
        _("{code:<20} 批次 {lot:<4} {payee:<14} 尚欠 {owed:>14} / 应收 {claimed:>14}  限期 {due}",
          code=st.code, lot=st.lot_id, payee=st.payee_code,
          owed=format_yuan(st.outstanding_fen), claimed=format_yuan(st.claimed_fen),
          due=st.due_date) + (_("  已逾期") if st.overdue(as_of) else "")
        for st in states) or _("没有追回案件")
    emit(data, as_json, text)
    if any(st.overdue(as_of) for st in states):
        raise click.exceptions.Exit(1)


@click.group("loan", help=_("扶贫小额信贷及其贴息。"))
def loan_group():
    """Micro-credit loans (扶贫小额信贷) and their interest subsidy (贴息)."""


@loan_group.command("add", help=_("登记发放给一户的贷款 CODE（银行的合同号）。"))
@click.argument("code")
@click.option("--household", required=True)
@click.option("--bank", required=True)
@click.option("--principal", callback=yuan_to_fen, required=True, help=_(
                                                                      "贷款金额（元，≤ 50,000）。"))
@click.option("--rate", "rate_text", required=True, help=_("年利率（百分数），例如 4.35。"))
@click.option("--start", callback=to_date, required=True)
@click.option("--months", type=int, required=True, help=_("期限（月，≤ 36）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def loan_add(ctx, code, household, bank, principal, rate_text, start, months, as_json):
    """Record loan CODE (the bank's contract number) made to a household."""
    rate_bp = _basis_points(rate_text)
    with ctx.session() as s:
        loan = credit.register_loan(s, ctx.actor(s), code=code, household_code=household,
                                    bank=bank, principal_fen=principal, annual_rate_bp=rate_bp,
                                    start_date=start, term_months=months)
        emit({"loan": loan.code, "household": loan.household_code,
              "term_end": credit.term_end(loan).isoformat()}, as_json,
             f"loan {loan.code} recorded for {loan.household_code}: "
             f"{format_yuan(loan.principal_fen)} yuan at {rate_text}% until "
             f"{credit.term_end(loan)}")


def _basis_points(text: str) -> int:
    whole, _dot, frac = text.strip().rstrip("%").partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 2:
        raise click.BadParameter(_("{rate} 不是 4.35 这样的利率（至多两位小数）", rate=repr(text)),
                                 param_hint="--rate")
    return int(whole) * 100 + int((frac + "00")[:2])


@loan_group.command("event", help=_("记录贷款 CODE 已还清、违约或被挪用（其贴息当日停止）。"))
@click.argument("code")
@click.argument("kind", type=click.Choice([k.value for k in LoanEventKind]))
@click.option("--date", "day", callback=to_date, required=True)
@click.option("--comment", default="")
@pass_ctx
def loan_event(ctx, code, kind, day, comment):
    """Record that loan CODE was repaid, defaulted or misused (its subsidy stops that day)."""
    with ctx.session() as s:
        credit.record_loan_event(s, ctx.actor(s), code, LoanEventKind(kind), day, comment)
    click.echo(_("贷款 {code}：{day} {kind}", code=code, kind=kind, day=day))


@loan_group.command("subsidy", help=_("支付贷款 CODE 在 FROM–TO 期间（含首尾）的贴息。"))
@click.argument("code")
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--from", "period_start", callback=to_date, required=True)
@click.option("--to", "period_end", callback=to_date, required=True)
@transfer_options
@pass_ctx
def loan_subsidy(ctx, code, lot_id, period_start, period_end, effective_date, as_json):
    """Pay the interest subsidy of loan CODE for the days FROM–TO (inclusive)."""
    with ctx.session() as s:
        t = credit.pay_interest_subsidy(s, ctx.actor(s), code=code, lot_id=lot_id,
                                        period_start=period_start, period_end=period_end,
                                        effective_date=effective_date)
        report_transfer(t, as_json)


@loan_group.command("list", help=_("一户的贷款及其已付贴息。"))
@click.option("--household", required=True)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def loan_list(ctx, household, as_json):
    """A household's loans and the subsidies paid on them."""
    with ctx.session() as s:
        loans = credit.loans_of(s, household, ctx.actor(s) if ctx.username else None)
    text = "\n".join(
        _("{code:<20} {bank:<12} {principal:>12} {start}–{end}  已贴息 {subsidised}",
          code=loan["code"], bank=loan["bank"], principal=format_yuan(loan["principal_fen"]),
          start=loan["start_date"], end=loan["term_end"],
          subsidised=format_yuan(sum(x["amount_fen"] for x in loan["subsidies"])))
        for loan in loans) or _("没有贷款")
    emit(loans, as_json, text)
