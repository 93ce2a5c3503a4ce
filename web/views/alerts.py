"""The alert inbox (ledger.alerts): filters, evidence, and the lifecycle buttons.

ledger.alerts is built in parallel; when it is not installed the inbox says so instead of
failing (`installed()`), and every other page works as before.
"""
from __future__ import annotations

import datetime as dt
import importlib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ledger.alerts import labels
from ledger.store.access import Action
from web import db, evidence, unit
from web.access import actor, requires
from web.forms import Form, db_id
from web.i18n import gettext
from web.settings import current_settings

bp = Blueprint("alerts", __name__, url_prefix="/audit/alerts")


def installed():
    """The alerts service module, or None while ledger.alerts is not part of the ledger."""
    try:
        return importlib.import_module("ledger.alerts.service")
    except ImportError:
        return None


class TransitionForm(Form):
    to = SelectField("状态", validators=[DataRequired()])
    reason = SelectField("原因", validators=[Optional()])
    until = DateField("暂不提示至", validators=[Optional()])
    recovery = StringField("追回转账编号", validators=[Optional(), Length(max=20)])
    note = StringField("说明", validators=[Optional(), Length(max=1000)])


class ScanForm(Form):
    pass


@bp.route("/")
@requires(Action.READ)
def inbox():
    service = installed()
    if service is None:
        return render_template("audit/alerts_missing.html")
    from ledger.models.alerts import AlertState
    state = request.args.get("state", "active")
    states = service.ACTIVE if state == "active" else tuple(AlertState) if state == "all" \
        else tuple(s for s in AlertState if s.value == state)
    if not states:
        abort(400)
    rows = service.list_alerts(db.session(), actor(), states)
    # Leads of the statistical screens are not alerts: their own section, by county, year
    # and rank (docs/alerts.md, "Statistical leads"); the filters apply to both.
    leads = service.list_leads(db.session(), actor(), states)
    rule, severity = request.args.get("rule"), request.args.get("severity")
    rules = sorted({r["rule_id"] for r in rows + leads})

    def wanted(r):
        return (not rule or r["rule_id"] == rule) and (not severity or r["severity"] == severity)
    rows, leads = [r for r in rows if wanted(r)], [r for r in leads if wanted(r)]
    names = evidence.Names(db.session(), [evidence.entity_tree(r["entity_kind"], r["entity_key"])
                                          for r in rows], [{"region": r["region_code"]}
                                                           for r in rows + leads],
                           [{"unit": r["unit"], "county": r["county"]} for r in leads])
    for r in rows:
        r["entity_html"] = evidence.entity(r["entity_kind"], r["entity_key"], names)
    for r in rows + leads:
        r["region_name"] = names.regions.get(r["region_code"], r["region_code"])
    for r in leads:
        r["county_name"] = names.regions.get(r["county"], r["county"] or "")
        r["unit_name"] = names.regions.get(r["unit"], r["unit"] or "")
    titles = {r["rule_id"]: r["title"] for r in rows + leads}
    return render_template("audit/alerts.html", rows=rows, state=state, rule=rule,
                           severity=severity, rules=rules, leads=leads, titles=titles,
                           states=[("active", gettext("未结（待核查、核查中）")),
                                   ("all", gettext("全部"))]
                           + [(s.value, labels.label(labels.STATES, s)) for s in AlertState],
                           severities=[(k, labels.label(labels.SEVERITIES, k))
                                       for k in labels.SEVERITIES],
                           L=_labels(), scan_form=ScanForm())


def _labels() -> dict:
    """The template's readers of an alert's codes: severity, state, event, method, reason."""
    return {name: (lambda code, table=table: labels.label(table, code))
            for name, table in (("severity", labels.SEVERITIES), ("state", labels.STATES),
                                ("event", labels.EVENTS), ("method", labels.METHODS),
                                ("reason", labels.REASONS))}


@bp.route("/<int:alert_id>")
@requires(Action.READ)
def detail(alert_id: int):
    service = installed()
    if service is None:
        return render_template("audit/alerts_missing.html")
    alert = service.show_alert(db.session(), actor(), alert_id)
    tree = evidence.entity_tree(alert["entity_kind"], alert["entity_key"])
    names = evidence.Names(db.session(), alert["evidence"], tree, {"region": alert["region_code"]})
    return render_template(
        "audit/alert.html", a=alert, form=_transition_form(service, alert), L=_labels(),
        evidence_table=evidence.table(alert["evidence"], names),
        entity_html=evidence.entity(alert["entity_kind"], alert["entity_key"], names),
        region_name=names.regions.get(alert["region_code"], alert["region_code"]))


def _transition_form(service, alert) -> TransitionForm:
    from ledger.models.alerts import AlertState
    form = TransitionForm()
    current = AlertState(alert["state"])
    form.to.choices = [(s.value, labels.label(labels.STATES, s))
                       for s in sorted(service.TRANSITIONS[current], key=lambda s: s.value)]
    form.reason.choices = [("", "—")] + [(k, labels.label(labels.REASONS, k))
                                         for k in service.REASON_CODES]
    return form


@bp.route("/<int:alert_id>/transition", methods=["POST"])
@requires(Action.AUDIT)
def transition(alert_id: int):
    service = installed()
    if service is None:
        abort(404)
    from ledger.models.alerts import AlertState
    s = db.session()
    form = _transition_form(service, service.show_alert(s, actor(), alert_id))
    if not form.validate_on_submit():
        unit.flash_form_errors(form)
        return redirect(url_for("alerts.detail", alert_id=alert_id))
    recovery = form.recovery.data.strip() if form.recovery.data else ""
    recovery_id = db_id(recovery)
    if recovery and recovery_id is None:
        flash(gettext("追回转账编号应为数字"), "error")
        return redirect(url_for("alerts.detail", alert_id=alert_id))
    unit.run(lambda: service.transition(
        s, actor(), alert_id, AlertState(form.to.data), reason=form.reason.data or None,
        until=form.until.data, recovery_transfer_id=recovery_id,
        note=form.note.data or ""), done=gettext("操作成功"))
    return redirect(url_for("alerts.detail", alert_id=alert_id))


@bp.route("/scan", methods=["POST"])
@requires(Action.AUDIT)
def scan():
    service = installed()
    if service is None or not ScanForm().validate_on_submit():
        abort(400)
    from ledger.alerts.settings import alert_settings
    from ledger.core.pii import PiiKeyError, PiiVault
    try:
        vault = PiiVault.from_env()
    except PiiKeyError:
        vault = None  # identity rules that must decrypt are skipped, as on the command line
    done = unit.run(lambda: service.scan(
        db.session(), actor(), settings=alert_settings(current_settings().ledger),
        as_of=dt.date.today(), vault=vault))
    if done:
        result = done.value
        flash(gettext("扫描完成：新增 {raised} 条，更新 {updated} 条，重新打开 {reopened} 条",
                      raised=result.raised, updated=result.updated, reopened=result.reopened),
              "ok")
    return redirect(url_for("alerts.inbox"))
