"""`fundtrail alerts scan|list|leads|show|transition|rules|eval` (docs/alerts.md)."""
from __future__ import annotations

import datetime as dt
import os

import click

from ledger.cli.params import emit, pass_ctx, to_date
from ledger.core.money import format_yuan
from ledger.i18n import _, yuan


def _vault():
    """The PII vault when keys are configured; identity rules that must decrypt are skipped
    (and say so) without it."""
    from ledger.core.pii import PiiVault
    if not os.environ.get("FUNDTRAIL_PII_KEYS"):
        return None
    return PiiVault.from_env()


@click.group("alerts", help=_("滥用预警：扫描、按流程处理、衡量发现的质量。"))
def alerts():
    """Misuse alerts: scan, work through the lifecycle, measure detection quality."""


def _chinese() -> bool:
    from ledger.i18n import DEFAULT_LOCALE, current_locale
    return current_locale() == DEFAULT_LOCALE


def label_of(kind: str, value: str) -> str:
    """An enum value as its label (ledger/i18n/labels.py when present)."""
    try:
        from ledger.i18n.labels import label
    except ImportError:  # pragma: no cover - until the labels land
        return value
    return label(value, kind)


def _line(a: dict) -> str:
    chinese = _chinese()
    return _("#{id:<5} {severity:<8} {rule_id:<7} {state:<13} {amount:>14} 元  {title} "
             "{entity}：{observed}", id=a["id"],
             severity=label_of("Severity", a["severity"]) if chinese else a["severity"],
             rule_id=a["rule_id"],
             state=label_of("AlertState", a["state"]) if chinese else a["state"],
             amount=format_yuan(a["amount_at_risk_fen"]),
             title=a["title_zh"], entity=a["entity"], observed=a["observed"])


@alerts.command("scan", help=_(
        "运行全部规则；产生新预警、更新未结预警；按严重程度列出未结预警。\n\n"
        "仍有未结预警时退出码为 1。"))
@click.option("--as-of", callback=to_date, default=None,
              help=_("按此日期判断期限和闲置（默认今天）。"))
@click.option("--rule", "only", multiple=True, help=_("只运行这些规则。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def scan_command(ctx, as_of, only, as_json):
    """Run every rule; raise new alerts, update open ones; list open alerts by severity.
    Exit 1 when open alerts remain."""
    from ledger.alerts.service import list_alerts, list_leads, scan, show_alert
    from ledger.alerts.settings import alert_settings
    vault = _vault()
    with ctx.session() as s:
        actor = ctx.actor(s)
        result = scan(s, actor, settings=alert_settings(ctx.settings),
                      as_of=as_of or dt.date.today(), vault=vault, only=set(only) or None)
        rows = list_alerts(s, actor)
        leads = list_leads(s, actor)
        full = [show_alert(s, actor, r["id"]) for r in rows] if as_json else rows
    head = _("扫描：新增 {raised} 条，更新 {updated} 条，重新打开 {reopened} 条，未变 {unchanged} "
             "条，暂不提示 {suppressed} 条", raised=result.raised, updated=result.updated,
             reopened=result.reopened, unchanged=result.unchanged,
             suppressed=result.suppressed)
    if vault is None:
        head += _("（未设置 FUNDTRAIL_PII_KEYS：跳过身份模糊匹配、错录身份证号、LED-02 和 BEN-07 的"
                  "年龄核对）")
    tail = [_("统计线索 {n} 条，不计入预警：fundtrail alerts leads", n=len(leads))] if leads else []
    emit({"scan": result.__dict__ | {"findings": len(result.findings)}, "open": full,
          "leads": leads}, as_json, "\n".join([head, *(_line(r) for r in rows), *tail]))
    if rows:
        raise click.exceptions.Exit(1)


@alerts.command("list", help=_("列出预警（默认：未结和调查中），最严重的在前。"))
@click.option("--state", "states", multiple=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def list_command(ctx, states, as_json):
    """List alerts (default: open and investigating), most severe first."""
    from ledger.alerts.service import ACTIVE, list_alerts
    from ledger.models.alerts import AlertState
    wanted = tuple(AlertState(s) for s in states) or ACTIVE
    with ctx.session() as s:
        rows = list_alerts(s, ctx.actor(s), wanted)
    emit(rows, as_json, "\n".join(_line(r) for r in rows) or _("没有预警"))


@alerts.command("leads", help=_(
        "统计线索（STA-01/02/03），不是预警：每县每年至多几条。\n\n"
        "按控制错误发现率的 q 值排序，各附其检验。"))
@click.option("--state", "states", multiple=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def leads_command(ctx, states, as_json):
    """Statistical leads (STA-01/02/03), not alerts: per county and year at most a handful,
    ranked by their false-discovery-controlled q-value; each with its test."""
    from ledger.alerts.service import ACTIVE, list_leads
    from ledger.models.alerts import AlertState
    wanted = tuple(AlertState(s) for s in states) or ACTIVE
    with ctx.session() as s:
        rows = list_leads(s, ctx.actor(s), wanted)
    emit(rows, as_json, "\n".join(_lead_line(r) for r in rows) or _("没有统计线索"))


def _lead_line(r: dict) -> str:
    chinese = _chinese()
    return _("#{id:<5} {county} {year} 第{rank}名 {rule_id:<7} {state:<13} {title} "
             "单位 {unit}：{observed}\n"
             "       {test} · 统计量 {statistic} · p {p_value} · q {q_value} · n {sample_size} · "
             "参照：{reference}", id=r["id"], county=r["county"], year=r["year"], rank=r["rank"],
             rule_id=r["rule_id"],
             state=label_of("AlertState", r["state"]) if chinese else r["state"],
             title=r["title_zh"] if chinese else f"{r['title_zh']} / {r['title_en']}",
             unit=r["unit"], observed=r["observed"], test=r["test"],
             statistic=r["statistic"], p_value=r["p_value"], q_value=r["q_value"],
             sample_size=r["sample_size"], reference=r["reference"])


@alerts.command("show", help=_("一条预警的全部：原因、依据、阈值、观测值、证据、经过。"))
@click.argument("alert_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def show_command(ctx, alert_id, as_json):
    """Everything about one alert: why, basis, threshold, observed value, evidence, history."""
    from ledger.alerts.service import show_alert
    with ctx.session() as s:
        a = show_alert(s, ctx.actor(s), alert_id)
    emit(a, as_json, _render(a))


def _render(a: dict) -> str:
    import json
    lines = [_("预警 #{id}  {rule_id}  {title}", id=a["id"], rule_id=a["rule_id"],
               title=a["title_zh"] if _chinese() else a["title_en"]),
             _("严重程度 {severity} · 状态 {state} · {entity} · 区域 {region}",
               severity=label_of("Severity", a["severity"]),
               state=label_of("AlertState", a["state"]), entity=a["entity"],
               region=a["region_code"]),
             _("为什么是风险信号：{why}", why=a["why"]), _("依据：{basis}", basis=a["basis"]),
             _("阈值：{threshold}", threshold=a["threshold_shown"]),
             _("发现：{observed}", observed=a["observed_shown"]),
             _("涉及金额：{amount}", amount=yuan(a["amount_at_risk_fen"])),
             _("证据："), json.dumps(a["evidence"], ensure_ascii=False, indent=2),
             _("下一步：{next_action}", next_action=a["next_action"]), a["disclaimer"],
             _("经过：")]
    lines += [f"  {h['at']} {h['kind']} → {h['state']}"
              + (f" reason={h['reason']}" if h["reason"] else "")
              + (f" until={h['until']}" if h["until"] else "")
              + (f" recovery=#{h['recovery_transfer_id']}" if h["recovery_transfer_id"] else "")
              + (f" ({h['note']})" if h["note"] else "") for h in a["history"]]
    return "\n".join(lines)


@alerts.command("transition", help=_(
        "推进预警：未结 → 调查中 → 确认 | 驳回 → 追回中 → 已追回。\n\n"
        "每一步都是一条审计日志记录。"))
@click.argument("alert_id", type=int)
@click.option("--to", "to", required=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--reason", default=None, help=_("驳回理由代码。"))
@click.option("--until", callback=to_date, default=None,
              help=_("理由为 legitimate_exception 时：在此日期前不再提示。"))
@click.option("--recovery", "recovery", type=int, default=None,
              help=_("追回转账的编号（追回中 / 已追回）。"))
@click.option("--note", default="")
@pass_ctx
def transition_command(ctx, alert_id, to, reason, until, recovery, note):
    """Move an alert through open → investigating → confirmed | dismissed → recovering →
    recovered. Every move is an audit-log entry."""
    from ledger.alerts.service import transition
    from ledger.models.alerts import AlertState
    with ctx.session() as s:
        event = transition(s, ctx.actor(s), alert_id, AlertState(to), reason=reason,
                           until=until, recovery_transfer_id=recovery, note=note)
    click.echo(_("预警 #{alert_id} 现为“{state}”（日志条目 {log_index}）", alert_id=alert_id,
                 state=label_of("AlertState", to), log_index=event.log_index))


@alerts.command("rules", help=_(
        "规则目录：每条规则确认和驳回的次数。\n\n"
        "以及记账时被拒绝、否则本会被该规则发现的尝试（已阻止；`fundtrail refusals list` "
        "列出它们）。"))
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
@pass_ctx
def rules_command(ctx, as_json):
    """The rule catalogue with the confirmed and dismissed counts of each rule, and the
    attempts the ledger refused at posting that the rule would otherwise have found
    (prevented; `fundtrail refusals list` shows them)."""
    from dataclasses import asdict

    from ledger.alerts.catalogue import RULES
    from ledger.alerts.service import rule_outcomes
    from ledger.funds.refusals_log import prevented_counts
    with ctx.session() as s:
        outcomes = rule_outcomes(s)
        invariants = prevented_counts(s).get(None, 0)
    rows = []
    for rid, rule in RULES.items():
        o = outcomes.get(rid, {})
        confirmed = sum(o.get(k, 0) for k in ("confirmed", "recovering", "recovered"))
        rows.append(asdict(rule) | {"confirmed": confirmed, "dismissed": o.get("dismissed", 0),
                                    "open": o.get("open", 0) + o.get("investigating", 0),
                                    "prevented": o.get("prevented", 0)})
    chinese = _chinese()
    text = "\n".join(
        _("{id:<7} {severity:<8} {method:<13} 确认 {confirmed:>4} 驳回 {dismissed:>4} "
          "未结 {open:>4} 已阻止 {prevented:>4}  {title}", id=r["id"],
          severity=label_of("Severity", r["severity"]) if chinese else r["severity"],
          method=r["method"], confirmed=r["confirmed"], dismissed=r["dismissed"],
          open=r["open"], prevented=r["prevented"],
          title=r["title_zh"] if chinese else f"{r['title_zh']} / {r['title_en']}")
        for r in rows)
    if invariants:
        text += "\n" + _("不变量（透支、经办—复核、资金批次、收款人不在本县；没有规则扫描它们）："
                         "已阻止 {n}", n=invariants)
    emit(rows, as_json, text)


@alerts.command("eval", help=_(
        "在新建的模拟省（临时 SQLite 文件）中植入滥用，扫描，"
        "并对照真值清单打印每条规则的精确率和召回率。"))
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--households", type=int, default=300, show_default=True)
@click.option("--json", "as_json", is_flag=True, help=_("以 JSON 打印结果。"))
def eval_command(seed, households, as_json):
    """Plant misuse in a fresh synthetic province (a temporary SQLite file), scan it, and print
    precision and recall per rule against the ground-truth manifest."""
    from ledger.demo.evaluate import evaluate, render
    report = evaluate(seed=seed, households=households)
    emit(report, as_json, render(report))
