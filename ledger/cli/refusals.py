"""`fundtrail refusals list`: the movements of money the ledger refused as a control against
misuse (who tried what, when, why refused), for auditors (ledger.funds.refusals_log)."""
from __future__ import annotations

import click

from ledger.cli.params import emit, pass_ctx, to_date
from ledger.i18n import _


@click.group("refusals", help=_("被拒绝的尝试：账本阻止的滥用，供审计人员查看。"))
def refusals():
    """Refused attempts: misuse the ledger prevented, for auditors."""


def _line(r: dict) -> str:
    where = f" {r['file']} 第{r['line']}行" + (f" {r['column']}" if r["column"] else "") \
        if r["file"] else ""
    amount = _("{amount} 元", amount=r["amount"]) if r["amount"] is not None else "—"
    rule = r["rule_id"] or _("不变量")
    return (f"#{r['id']:<5} {r['attempted_at'][:19]} {r['user']:<12} {r['kind_label']:<14} "
            f"{r['code_label']}（{r['code']}，{rule}） {r['region']} "
            f"{r['source'] or ''}→{r['target'] or ''} {amount:>14} 日期 {r['date'] or '—'} "
            f"凭证 {r['key'] or '—'}" + (f" 清册 {r['roll']}" if r["roll"] else "")
            + (f" 转账 #{r['transfer_id']}" if r["transfer_id"] else "") + where)


@refusals.command("list", help=_(
        "列出被拒绝的尝试，最新的在前：时间、用户、操作、拒绝原因（代码，规则）、金额（元）。"))
@click.option("--region", default=None, help=_("地区代码（默认：你自己的）及其下级。"))
@click.option("--since", callback=to_date, default=None,
              help=_("此日当日或之后的尝试（YYYY-MM-DD，UTC）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def list_command(ctx, region, since, as_json):
    """List refused attempts, newest first: 时间、用户、操作、拒绝原因（代码，规则）、金额（元）."""
    from ledger.funds.refusals_log import list_refused
    with ctx.session() as s:
        rows = list_refused(s, ctx.actor(s), region=region, since=since)
    emit(rows, as_json, "\n".join(_line(r) for r in rows) or _("没有被拒绝的尝试"))
