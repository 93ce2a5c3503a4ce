"""`fundtrail import KIND FILE`: all-or-nothing, idempotent imports (docs/formats.md)."""
from __future__ import annotations

import click

from ledger.cli.params import (
    emit,
    pass_ctx,
    progress_bar,
    progress_option,
    to_date,
    yuan_to_fen,
)
from ledger.core.pii import PiiVault, new_key
from ledger.i18n import _
from ledger.imports.factors import parse_factor, read_factor_inputs
from ledger.imports.kinds import KINDS, MissingImportDetail, run_import


@click.command("import", help=_(
        "导入 CSV 文件（UTF-8 或 GB18030）或 Excel 工作簿（.xlsx）。\n\n"
        "要么每一行都导入，要么一行都不导入。"))
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default=None, help=_("外部名单：名单的出具单位。"))
@click.option("--snapshot", default=None, callback=to_date,
              help=_("外部名单：名单的生成日期（YYYY-MM-DD）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@progress_option
@pass_ctx
def import_command(ctx, kind, file, source, snapshot, as_json, progress):
    """Import a CSV file (UTF-8 or GB18030) or an Excel workbook (.xlsx). Either every line is
    imported or none is."""
    spec = KINDS[kind]
    if spec.needs_source and (not source or snapshot is None):
        raise click.UsageError(str(MissingImportDetail(kind)))
    vault = PiiVault.from_env() if spec.needs_vault else None
    with ctx.session() as s, progress_bar(progress, kind):
        result = run_import(s, ctx.actor(s), kind, file, vault=vault, source=source,
                            snapshot=snapshot)
    # The import's report: what went in with a remark, or was in the file and not read
    # (ledger.imports.csvfile.Rows; codes in ledger.core.refusals), one line each.
    report = list(getattr(result, "report", None) or [])
    from ledger.cli.root import problem_line
    shown = "".join(f"\n  {problem_line(line)}" for line in report)
    noted = _("\n导入报告（{n} 条）：", n=len(report)) + shown if report else ""
    name = _(spec.label) if _chinese() else kind
    if spec.needs_source:
        emit({"kind": kind, "list_id": result.list_id, "added": result.added,
              "unchanged": result.unchanged, "report": [p.as_value() for p in report]},
             as_json, _("{kind}：名单 #{list_id}，来源 {source}（{snapshot}）：", kind=name,
                        list_id=result.list_id, source=source, snapshot=snapshot)
             + (_("已导入过，未变") if result.unchanged
                else _("{n} 条记录", n=result.added))
             + noted)
        return
    emit({"kind": kind, "added": result.added, "unchanged": result.unchanged,
          "report": [p.as_value() for p in report]}, as_json,
         _("{kind}：新增 {added} 条，{unchanged} 条已存在且一致", kind=name, added=result.added,
           unchanged=result.unchanged)
         + noted)


def _chinese() -> bool:
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    return current_locale() == DEFAULT_LOCALE


@click.command("pii-keygen", help=_(
        "打印一个新的 FUNDTRAIL_PII_KEYS 密钥（轮换时把新密钥放在最前）。"))
def pii_keygen():
    """Print a new key for FUNDTRAIL_PII_KEYS (put the new key first to rotate)."""
    click.echo(new_key())


def _factor(_ctx, _param, texts):
    try:
        return [parse_factor(t) for t in texts]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--factor") from None


@click.command("allocate-factors", help=_(
        "因素法：按因素在各县之间分配一个批次；省将每个市的部分下拨给市。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--province", required=True)
@click.option("--amount", required=True, callback=yuan_to_fen,
              help=_("在各县之间分配的金额（元）。"))
@click.option("--factor", "factors", multiple=True, required=True, callback=_factor,
              help=_(
                  "名称=权重[:need|capacity]，例如 poor_population=50, "
                  "income_per_head=20:capacity"))
@click.option("--inputs", "inputs_file", type=click.Path(exists=True, dir_okay=False),
              required=True, help=_("CSV：县代码/county_code，然后每个因素一列。"))
@click.option("--key", required=True, help=_("下拨文件的文号。"))
@click.option("--date", "effective_date", required=True, callback=to_date)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def allocate_factors(ctx, lot_id, province, amount, factors, inputs_file, key,
                     effective_date, as_json):
    """因素法: split a lot among counties by factors; the province passes each city its part."""
    from ledger.core.money import format_yuan
    from ledger.funds.allocation import allocate_by_factors
    inputs = read_factor_inputs(inputs_file, factors)
    with ctx.session() as s:
        plan = allocate_by_factors(s, ctx.actor(s), lot_id=lot_id, province_code=province,
                                   amount_fen=amount, factors=factors, inputs=inputs,
                                   effective_date=effective_date, key=key)
    text = "\n".join(f"{county}: {format_yuan(fen)}"
                     for county, fen in sorted(plan["result_fen"].items()))
    emit(plan, as_json, text + "\n" + _("已录入给各市的转账（待审核）：{transfers}",
                                        transfers=plan["transfers"]))


@click.command("pass-down", help=_("市将因素分配方案分给各县的份额下拨给县。"))
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--plan", "key", required=True, help=_("因素分配方案的文号。"))
@click.option("--city", required=True)
@click.option("--date", "effective_date", required=True, callback=to_date)
@pass_ctx
def pass_down(ctx, lot_id, key, city, effective_date):
    """A city passes its counties the shares a factor plan gave them."""
    from ledger.funds.allocation import pass_down_by_plan
    with ctx.session() as s:
        transfers = pass_down_by_plan(s, ctx.actor(s), lot_id=lot_id, key=key, city_code=city,
                                      effective_date=effective_date)
    click.echo(_("已录入给各县的转账 {n} 笔（待审核）：{ids}", n=len(transfers),
                 ids=[t.id for t in transfers]))
