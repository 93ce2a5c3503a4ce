"""`fundtrail year-end` (年终结转) and `fundtrail reclaim` (收回统筹)."""
from __future__ import annotations

from dataclasses import asdict

import click

from ledger.cli.params import emit, pass_ctx, report_transfer, voucher_options, yuan_to_fen
from ledger.core.money import format_yuan
from ledger.funds import yearend
from ledger.i18n import N_, _

STATUS_TEXT = {"carry_over": N_("结转"), "idle_flag": N_("闲置一年以上"),
               "reclaim": N_("两年以上，应收回")}


@click.command("year-end", help=_(
        "每个单位和项目结转到下一年度的资金，及其闲置了多久。\n\n"
        "有资金闲置到可以收回时退出码为 1。"))
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@click.option("--record", "record_it", is_flag=True,
              help=_("将此报表固定在审计日志中（需要 --as）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def year_end(ctx, year, record_it, as_json):
    """What every unit and project carries into the next year, and how long it sat idle.

    Exit 1 when money has been idle long enough to be taken back.
    """
    with ctx.session() as s:
        actor = ctx.actor(s) if (ctx.username or record_it) else None
        rows = yearend.statement(s, actor, year)
        digest = yearend.record_statement(s, actor, year, rows) if record_it else None
    data = {"year": year, "digest": digest, "accounts": [asdict(r) for r in rows]}
    text = "\n".join(
        _("{lot:<30} {account:<24} {balance:>16} 其中一年以上 {idle_1y:>14} 两年以上 "
          "{idle_2y:>14}  {status}", lot=r.lot[:30], account=r.kind + ":" + r.holder,
          balance=format_yuan(r.balance_fen), idle_1y=format_yuan(r.idle_1y_fen),
          idle_2y=format_yuan(r.idle_2y_fen), status=_(STATUS_TEXT[r.status]))
        for r in rows) or _("{year} 年末没有结转的资金", year=year)
    if digest:
        text += "\n" + _("报表已记入审计日志（sha256 {digest}…）", digest=digest[:16])
    emit(data, as_json, text)
    if any(r.status == "reclaim" for r in rows):
        raise click.exceptions.Exit(1)


@click.command("reclaim", help=_("将闲置两年的资金沿链收回上级统筹使用（同一批次）。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--from", "from_region", required=True, help=_("持有闲置资金的单位。"))
@click.option("--to", "to_region", required=True, help=_("收回资金的上级财政单位。"))
@click.option("--amount", callback=yuan_to_fen, required=True)
@click.option("--key", required=True, help=_("幂等键，例如收回文件的文号。"))
@click.option("--reason", required=True)
@voucher_options
@pass_ctx
def reclaim(ctx, lot_id, from_region, to_region, amount, key, reason, effective_date,
            voucher_date, value_date, as_json):
    """Take money idle for two years back up the chain for pooled use (same lot)."""
    with ctx.session() as s:
        t = yearend.reclaim(s, ctx.actor(s), lot_id=lot_id, from_region=from_region,
                            to_region=to_region, amount_fen=amount,
                            effective_date=effective_date, key=key, reason=reason,
                            voucher_date=voucher_date, value_date=value_date)
        report_transfer(t, as_json)
