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


@click.group("alerts")
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
    return (f"#{a['id']:<5} {a['severity']:<8} {a['rule_id']:<7} {a['state']:<13} "
            f"¥{format_yuan(a['amount_at_risk_fen']):>14}  {a['title_zh']} "
            f"{a['entity']}: {a['observed']}")


@alerts.command("scan")
@click.option("--as-of", callback=to_date, default=None,
              help="Judge deadlines and idle periods on this date (default today).")
@click.option("--rule", "only", multiple=True, help="Run only these rules.")
@click.option("--json", "as_json", is_flag=True)
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


@alerts.command("list")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_command(ctx, states, as_json):
    """List alerts (default: open and investigating), most severe first."""
    from ledger.alerts.service import ACTIVE, list_alerts
    from ledger.models.alerts import AlertState
    wanted = tuple(AlertState(s) for s in states) or ACTIVE
    with ctx.session() as s:
        rows = list_alerts(s, ctx.actor(s), wanted)
    emit(rows, as_json, "\n".join(_line(r) for r in rows) or _("没有预警"))


@alerts.command("leads")
@click.option("--state", "states", multiple=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--json", "as_json", is_flag=True)
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
    return (f"#{r['id']:<5} {r['county']} {r['year']} 第{r['rank']}名 (rank {r['rank']}) "
            f"{r['rule_id']:<7} {r['state']:<13} {r['title_zh']} / {r['title_en']} "
            f"单位 unit {r['unit']}: {r['observed']}\n"
            f"       {r['test']} · 统计量 statistic {r['statistic']} · p {r['p_value']} · "
            f"q {r['q_value']} · n {r['sample_size']} · 参照 reference: {r['reference']}")


@alerts.command("show")
@click.argument("alert_id", type=int)
@click.option("--json", "as_json", is_flag=True)
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


@alerts.command("transition")
@click.argument("alert_id", type=int)
@click.option("--to", "to", required=True,
              type=click.Choice(["open", "investigating", "confirmed", "dismissed",
                                 "recovering", "recovered"]))
@click.option("--reason", default=None, help="Dismissal reason code.")
@click.option("--until", callback=to_date, default=None,
              help="With reason legitimate_exception: suppress until this date.")
@click.option("--recovery", "recovery", type=int, default=None,
              help="The recovery transfer's id (recovering / recovered).")
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


@alerts.command("rules")
@click.option("--json", "as_json", is_flag=True)
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
    text = "\n".join(
        f"{r['id']:<7} {r['severity']:<8} {r['method']:<13} confirmed {r['confirmed']:>4} "
        f"dismissed {r['dismissed']:>4} open {r['open']:>4} prevented {r['prevented']:>4}  "
        f"{r['title_zh']} / {r['title_en']}" for r in rows)
    if invariants:
        text += (f"\n不变量 invariants (overdraft, maker–checker, lots, payee outside the "
                 f"county; no rule scans for them): prevented {invariants}")
    emit(rows, as_json, text)


@alerts.command("eval")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--households", type=int, default=300, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_command(seed, households, as_json):
    """Plant misuse in a fresh synthetic province (a temporary SQLite file), scan it, and print
    precision and recall per rule against the ground-truth manifest."""
    from ledger.demo.evaluate import evaluate, render
    report = evaluate(seed=seed, households=households)
    emit(report, as_json, render(report))
