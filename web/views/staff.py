"""Staff pages: dashboard, balances, fund flow, idle money, transfers and the record forms.

Views translate between forms and services; the services (ledger.funds.flows, posting, reading,
balances, trace) check role and region scope themselves and hold every rule.
"""
from __future__ import annotations

import datetime as dt
import importlib
import secrets
from collections import defaultdict

from flask import Blueprint, abort, redirect, render_template, request, url_for

from ledger.core import clock
from ledger.core.errors import NotFound
from ledger.core.money import format_yuan
from ledger.funds import balances, flows, posting
from ledger.funds.trace import ROOT_KINDS, flow_graph, trace_from
from ledger.i18n import N_, yuan
from ledger.models import AccountKind, ProjectStatus, Region, RegionLevel
from ledger.reading import progress
from ledger.reading import scoped as reading
from ledger.store.access import Action
from web import confirm, db, unit
from web.access import actor, requires
from web.choices import held_in_scope, lot_choices, purpose_choices
from web.forms import AllocateForm, DecisionForm, FundProjectForm, PayForm, ReverseForm, db_id
from web.i18n import gettext
from web.settings import current_settings

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@requires(Action.READ)  # every role reads: the dashboard of whoever signed in
def home():
    """What a bureau works from (docs/web.md, "The staff home"): spending progress against
    the year end, idle money, what waits for the actor's approval (approvers only: the
    service says so), rolls on the board, open alerts. Charts are drawn by
    web/static/charts.js from the JSON beside them; the tables under them show the same
    figures."""
    s, me = db.session(), actor()
    year = request.args.get("year")
    if year is not None and not (year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100):
        abort(404)
    today = clock.today()
    days = current_settings().ledger.roll_publicity_working_days
    overview = progress.spending_progress(s, me, today, int(year) if year else None)
    idle = progress.idle_summary(s, me, today)
    alerts = _open_alerts(s, me)
    confirm.allow_script()
    charts = {"counties": _progress_chart(overview, overview.counties),
              "lots": _progress_chart(overview, overview.lots),
              "idle": _idle_chart(idle)}
    return render_template(
        "staff/home.html", overview=overview, idle=idle, alerts=alerts, charts=charts,
        waiting=progress.waiting_for(s, me, days, today),
        on_board=progress.rolls_on_board(s, me, days, today),
        region=s.get(Region, me.region_code),
        recent=reading.transfers(s, me, limit=10))


SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_WORDS = {"critical": N_("严重"), "high": N_("高"), "medium": N_("中"), "low": N_("低")}


def _open_alerts(s, me) -> dict | None:
    """Open alerts in scope, counted by severity, and the most severe few (None when the
    alert service is not part of this ledger)."""
    try:   # as the inbox does (web/views/alerts.py `installed`): absent, the home says nothing
        service = importlib.import_module("ledger.alerts.service")
    except ImportError:
        return None
    rows = service.list_alerts(s, me)
    counts = {sev: sum(1 for r in rows if r["severity"] == sev) for sev in SEVERITIES}
    return {"counts": counts, "rows": rows[:8], "total": len(rows),
            "words": {k: gettext(v) for k, v in SEVERITY_WORDS.items()}}


def _label(row) -> str:
    return gettext("{name}（本级）", name=row.label) if row.own_level else row.label


def _progress_chart(overview, rows) -> dict:
    """The figures of one progress chart, as plain JSON (charts.js draws them)."""
    return {"kind": "progress",
            "labels": [_label(r) for r in rows],
            "percent": [r.percent for r in rows],
            "spent": [yuan(r.spent_fen) for r in rows],
            "allocated": [yuan(r.allocated_fen) for r in rows],
            "time_percent": overview.time_percent,
            "words": {"spent": gettext("已支出"), "allocated": gettext("已下达"),
                      "progress": gettext("支出进度"), "time": gettext("时序进度")}}


def _idle_chart(idle) -> dict:
    return {"kind": "idle",
            "labels": [_label(r) for r in idle.counties],
            "one": [round((r.idle_1y_fen - r.idle_2y_fen) / 100, 2) for r in idle.counties],
            "two": [round(r.idle_2y_fen / 100, 2) for r in idle.counties],
            "one_text": [yuan(r.idle_1y_fen - r.idle_2y_fen) for r in idle.counties],
            "two_text": [yuan(r.idle_2y_fen) for r in idle.counties],
            "words": {"one": gettext("闲置一至两年"), "two": gettext("闲置两年以上")}}


@bp.route("/balances")
@requires(Action.READ)
def balance_page():
    s = db.session()
    rows = balances.account_balances(s, actor(), kinds=[AccountKind.UNIT, AccountKind.PROJECT])
    levels = {r.code: r.level.value for r in reading.regions_below(s, actor())}
    by_lot: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        level = "project" if r.kind == "project" else levels.get(r.holder, "?")
        by_lot[r.lot][level] += r.balance
    return render_template("staff/balances.html", rows=rows, by_lot=by_lot,
                           levels=["province", "city", "county", "project"])


@bp.route("/flow")
@requires(Action.READ)
def flow():
    """Where a lot's money went below one holder (docs/web.md, "The flow chart"): by default
    the actor's own unit; `root=unit:CODE` or `root=project:CODE` drills into a node, and the
    service refuses a root outside the actor's scope."""
    s, me = db.session(), actor()
    rows = balances.account_balances(s, me)
    lots = sorted({r.lot_id: r.lot for r in rows}.items())
    # by default the lot that moved the most money in scope (not merely the oldest)
    moved: dict[int, int] = defaultdict(int)
    for r in rows:
        moved[r.lot_id] += r.debits
    lot_id = max(moved, key=lambda lot: (moved[lot], -lot)) if moved else None
    if request.args.get("lot"):
        lot_id = db_id(request.args["lot"])
        if lot_id is None:
            abort(404)
    root = request.args.get("root") or f"unit:{me.region_code}"
    kind, _, code = root.partition(":")
    # a holder's code is at most 40 printable characters (PostgreSQL refuses NUL in a query)
    if kind not in ROOT_KINDS or not code or len(code) > 40 or not code.isprintable():
        abort(404)
    trace = nodes = links = None
    if lot_id is not None:
        trace = trace_from(s, me, lot_id, root)
        nodes, links = flow_graph(trace, depth=FLOW_DEPTH, top=FLOW_TOP)
    confirm.allow_script()
    chart = _flow_chart(nodes or [], links or [], lot_id)
    home_root = f"unit:{me.region_code}"
    return render_template("staff/flow.html", lots=lots, lot_id=lot_id, trace=trace,
                           nodes=nodes or [], chart=chart, root=root,
                           home_root=None if root == home_root else home_root,
                           top=FLOW_TOP, depth=FLOW_DEPTH)


FLOW_DEPTH, FLOW_TOP = 3, 8
KIND_NAMES = {"appropriation": N_("资金来源"), "integration_in": N_("统筹整合"),
              "integration_out": N_("整合转出"), "receivable": N_("应收追回"),
              "unit": N_("财政"), "project": N_("项目"), "payee": N_("收款人"),
              "others": N_("其他")}


def node_title(n) -> str:
    if n.kind == "others":
        return gettext("其他 {n} 个收款人", n=n.count) if n.payees_only else \
            gettext("其他 {n} 项", n=n.count)
    if n.kind == "integration_out":   # its holder is the county itself: say where it went
        return gettext("整合转出")
    if n.kind == "receivable":
        return gettext("应收追回 {name}", name=n.name or n.holder)
    return n.name or n.holder


def _flow_chart(nodes, links, lot_id) -> dict:
    titles = {n.key: node_title(n) for n in nodes}
    return {"kind": "sankey",
            "nodes": [{"name": n.key, "title": titles[n.key], "depth": n.depth,
                       "kind": gettext(KIND_NAMES.get(n.kind, n.kind)),
                       "text": yuan(n.received),
                       "drill": url_for("staff.flow", lot=lot_id, root=n.drill)
                       if n.drill else None} for n in nodes],
            "links": [{"source": a, "target": b, "value": round(v / 100, 2),
                       "text": f"{titles[a]} → {titles[b]}：{yuan(v)}"} for a, b, v in links],
            "words": {"drill": gettext("点击查看下一级")}}


@bp.route("/idle")
@requires(Action.READ)
def idle():
    rows = reading.idle_money(db.session(), actor(), dt.date.today())
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["bucket"]] += r["held_fen"]
    return render_template("staff/idle.html", rows=rows, totals=totals,
                           buckets=[label for _, label in reading.AGE_BUCKETS])


# ----------------------------------------------------------------------------- transfers

@bp.route("/transfers")
@requires(Action.READ)
def transfers():
    state = request.args.get("state")
    if state not in (None, "pending", "approved", "rejected"):
        abort(400)
    s = db.session()
    rows = reading.transfers(s, actor(), state=state)
    return render_template("staff/transfers.html", rows=rows, state=state,
                           names=reading.transfer_names(s, [t for t, _ in rows]))


@bp.route("/transfers/<int:transfer_id>")
@requires(Action.READ)
def transfer(transfer_id: int):
    s = db.session()
    row = reading.transfer(s, actor(), transfer_id)
    reverse_form = ReverseForm(key=f"reverse:{transfer_id}:{secrets.token_hex(8)}")
    return render_template("staff/transfer.html", t=row, decision=posting.decision_of(s, row.id),
                           form=DecisionForm(), reverse_form=reverse_form,
                           names=reading.transfer_names(s, [row]))


@bp.route("/transfers/<int:transfer_id>/decide", methods=["POST"])
@requires(Action.APPROVE)
def decide(transfer_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    s = db.session()
    comment = (form.comment.data or "").strip()
    decide_with = {"approve": posting.approve, "reject": posting.reject}.get(
        request.form.get("decision"))
    if decide_with is None:
        abort(400)
    page = _confirm_decision(s, transfer_id, request.form["decision"], comment)
    if page is not None:
        return page
    unit.run(lambda: decide_with(s, actor(), transfer_id, comment), done=gettext("操作成功"),
             propagate=(NotFound,))
    return redirect(url_for("staff.transfer", transfer_id=transfer_id))


# How a confirmation page names a transfer's kind and the holders of its accounts.
KIND_WORDS = {"allocate": "下达", "fund_project": "拨付项目资金", "pay": "支付",
              "reverse": "冲销", "appropriate": "下达指标", "integrate": "统筹整合",
              "recovery_claim": "责令追回", "recovery_collect": "追回归位"}
HOLDER_WORDS = {"unit": "", "project": "项目 ", "payee": "收款人 "}


def _confirm_decision(s, transfer_id: int, decision: str, comment: str):
    """The passkey confirmation of an approval or a rejection (web.confirm.gate):
    "批准 转账 #12：从 430121 向 收款人 KH-2 支付 12,345.00 元，凭证号 …"."""
    t = reading.transfer(s, actor(), transfer_id)

    def holders(sign):
        return "、".join(f"{HOLDER_WORDS.get(p.account.kind.value, '')}"
                        f"{p.account.holder_code}" for p in t.postings
                        if (p.amount_fen < 0) == (sign < 0)) or "—"
    verb = "批准" if decision == "approve" else "退回"
    text = (f"{verb} 转账 #{t.id}：从 {holders(-1)} 向 {holders(1)} "
            f"{KIND_WORDS.get(t.kind.value, t.kind.value)} {format_yuan(t.amount_fen)} 元，"
            f"凭证号 {t.idempotency_key}")
    if comment:
        text += f"；意见：{comment}"
    value = "approved" if decision == "approve" else "rejected"
    return confirm.gate(f"transfer.{value}", text, bind={"transfer_id": t.id},
                         rows={"approvals": {"transfer_id": t.id, "decision": value,
                                             "comment": comment}})


def _transfer_rows(kind: str, form, **request_fields) -> dict:
    """What a recording's entry must hold, as the person confirmed it: the transfer's kind,
    lot, amount and voucher number, and the request's counterparty (web.confirm)."""
    return {"transfers": {"kind": kind, "lot_id": form.lot.data, "amount_fen": form.amount.fen,
                          "idempotency_key": form.key.data.strip(),
                          "request": {"amount_fen": form.amount.fen, **request_fields}}}


@bp.route("/transfers/<int:transfer_id>/reverse", methods=["POST"])
@requires(Action.RECORD)
def reverse(transfer_id: int):
    form = ReverseForm()
    s = db.session()
    if not form.validate_on_submit():
        unit.flash_form_errors(form)
        return redirect(url_for("staff.transfer", transfer_id=transfer_id))
    t = reading.transfer(s, actor(), transfer_id)
    reason = form.reason.data.strip()
    page = confirm.gate("transfer.record", f"冲销 转账 #{t.id}（{format_yuan(t.amount_fen)} 元，"
                         f"凭证号 {t.idempotency_key}）；原因：{reason}", bind={"reason": reason},
                         rows={"transfers": {"kind": "reverse", "reverses_id": t.id,
                                             "idempotency_key": form.key.data}})
    if page is not None:
        return page
    done = unit.run(lambda: posting.reverse(
        s, actor(), transfer_id, reason=form.reason.data.strip(),
        effective_date=form.effective_date.data, key=form.key.data), propagate=(NotFound,))
    if done:
        return redirect(url_for("staff.transfer", transfer_id=done.value.id))
    return redirect(url_for("staff.transfer", transfer_id=transfer_id))


# ----------------------------------------------------------------------------- record forms

@bp.route("/record/allocate", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_allocate():
    s, me = db.session(), actor()
    form = AllocateForm()
    form.lot.choices = lot_choices(held_in_scope(s, me))
    form.to_region.choices = [(r.code, f"{r.code} {r.name}") for r in reading.regions_below(
        s, me, [RegionLevel.CITY, RegionLevel.COUNTY]) if r.parent_code == me.region_code]
    if form.validate_on_submit():
        page = confirm.gate("transfer.record", f"下达资金：批次 #{form.lot.data} 从 "
                             f"{me.region_code} 向 {form.to_region.data} 下达 "
                             f"{format_yuan(form.amount.fen)} 元，凭证号 {form.key.data.strip()}",
                             rows=_transfer_rows("allocate", form, to=form.to_region.data))
        if page is not None:
            return page
        done = unit.run(lambda: flows.allocate(
            s, me, lot_id=form.lot.data, from_region=me.region_code,
            to_region=form.to_region.data, amount_fen=form.amount.fen,
            effective_date=form.effective_date.data, key=form.key.data.strip(),
            memo=form.memo.data or ""), form=form)
        if done:
            return redirect(url_for("staff.transfer", transfer_id=done.value.id))
    return render_template("staff/record.html", form=form, title=gettext("下达资金")), \
        (422 if form.errors or form.form_errors else 200)


@bp.route("/record/fund-project", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_fund_project():
    s, me = db.session(), actor()
    form = FundProjectForm()
    form.lot.choices = lot_choices(held_in_scope(s, me))
    form.project.choices = [(p.code, f"{p.code} {p.name}") for p, stage in reading.projects(s, me)
                            if stage in (ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING,
                                         ProjectStatus.ADJUSTED)]
    if form.validate_on_submit():
        page = confirm.gate("transfer.record", f"项目资金：批次 #{form.lot.data} 向项目 "
                             f"{form.project.data} 拨付 {format_yuan(form.amount.fen)} 元，"
                             f"凭证号 {form.key.data.strip()}",
                             rows=_transfer_rows("fund_project", form,
                                                 project=form.project.data))
        if page is not None:
            return page
        done = unit.run(lambda: flows.fund_project(
            s, me, lot_id=form.lot.data, project_code=form.project.data,
            amount_fen=form.amount.fen, effective_date=form.effective_date.data,
            key=form.key.data.strip(), memo=form.memo.data or ""), form=form)
        if done:
            return redirect(url_for("staff.transfer", transfer_id=done.value.id))
    return render_template("staff/record.html", form=form, title=gettext("项目资金")), \
        (422 if form.errors or form.form_errors else 200)


@bp.route("/record/pay", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_pay():
    s, me = db.session(), actor()
    form = PayForm()
    held = held_in_scope(s, me, (AccountKind.UNIT, AccountKind.PROJECT))
    form.lot.choices = lot_choices(held)
    form.function_code.choices, form.use.choices = purpose_choices(held)
    counties = reading.regions_below(s, me, [RegionLevel.COUNTY])
    form.source.choices = [(f"county:{c.code}", f"{gettext('县级统筹')} {c.name}")
                           for c in counties] + \
        [(f"project:{p.code}", f"{gettext('项目')} {p.code} {p.name}")
         for p, _ in reading.projects(s, me)]
    if form.validate_on_submit():
        kind, _, code = form.source.data.partition(":")
        payee = form.payee.data.strip()
        source = f"县级统筹 {code}" if kind == "county" else f"项目 {code}"
        page = confirm.gate("transfer.record", f"支付：从{source}（批次 #{form.lot.data}）向 "
                             f"收款人 {payee} 支付 {format_yuan(form.amount.fen)} 元，"
                             f"用途 {form.use.data}，凭证号 {form.key.data.strip()}",
                             rows=_transfer_rows("pay", form, payee=payee))
        if page is not None:
            return page
        done = unit.run(lambda: flows.pay(
            s, me, lot_id=form.lot.data, payee_code=form.payee.data.strip(),
            amount_fen=form.amount.fen, function_code=form.function_code.data,
            use_code=form.use.data, effective_date=form.effective_date.data,
            key=form.key.data.strip(), project_code=code if kind == "project" else None,
            county_code=code if kind == "county" else None, memo=form.memo.data or ""), form=form)
        if done:
            return redirect(url_for("staff.transfer", transfer_id=done.value.id))
    return render_template("staff/record.html", form=form, title=gettext("支付")), \
        (422 if form.errors or form.form_errors else 200)
