"""Staff pages: dashboard, balances, fund flow, idle money, transfers and the record forms.

Views translate between forms and services; the services (ledger.funds.flows, posting, reading,
balances, trace) check role and region scope themselves and hold every rule.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ledger.funds import balances, flows, posting
from ledger.reading import scoped as reading
from ledger.store.access import Action
from ledger.core.errors import (
    IdempotencyConflict, LedgerError, NotFound, Overdraft, PermissionDenied, PurposeViolation,
)
from ledger.models import AccountKind, ProjectStatus, RegionLevel
from ledger.funds.trace import trace_lot
from web import db
from web.views.auth import actor, requires
from web.forms import (
    AllocateForm, DecisionForm, FundProjectForm, PayForm, ReverseForm, db_id,
)
from web.i18n import gettext
from web.sankey import sankey_svg

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@login_required
def home():
    s = db.session()
    me = actor()
    pending = reading.transfers(s, me, state="pending", limit=20)
    recent = reading.transfers(s, me, limit=10)
    return render_template("staff/home.html", pending=pending, recent=recent)


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
    s = db.session()
    lots = sorted({r.lot_id: r.lot for r in balances.account_balances(s, actor())}.items())
    lot_id = lots[0][0] if lots else None
    if request.args.get("lot"):
        lot_id = db_id(request.args["lot"])
        if lot_id is None:
            abort(404)
    svg = trace = None
    if lot_id is not None:
        trace = trace_lot(s, lot_id, actor())
        svg = sankey_svg(trace)
    return render_template("staff/flow.html", lots=lots, lot_id=lot_id, trace=trace, svg=svg)


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
    rows = reading.transfers(db.session(), actor(), state=state)
    return render_template("staff/transfers.html", rows=rows, state=state)


@bp.route("/transfers/<int:transfer_id>")
@requires(Action.READ)
def transfer(transfer_id: int):
    s = db.session()
    row = reading.transfer(s, actor(), transfer_id)
    reverse_form = ReverseForm(key=f"reverse:{transfer_id}:{secrets.token_hex(8)}")
    return render_template("staff/transfer.html", t=row, decision=posting.decision_of(s, row.id),
                           form=DecisionForm(), reverse_form=reverse_form)


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
    db.apply(lambda: decide_with(s, actor(), transfer_id, comment), passthrough=(NotFound,))
    return redirect(url_for("staff.transfer", transfer_id=transfer_id))


@bp.route("/transfers/<int:transfer_id>/reverse", methods=["POST"])
@requires(Action.RECORD)
def reverse(transfer_id: int):
    form = ReverseForm()
    s = db.session()
    if form.validate_on_submit():
        try:
            rev = posting.reverse(s, actor(), transfer_id, reason=form.reason.data.strip(),
                                  effective_date=form.effective_date.data, key=form.key.data)
        except (PermissionDenied, NotFound):
            raise
        except LedgerError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            return redirect(url_for("staff.transfer", transfer_id=rev.id))
    else:
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for("staff.transfer", transfer_id=transfer_id))


# ----------------------------------------------------------------------------- record forms

def _lot_choices(held) -> list[tuple[int, str]]:
    from ledger.core.money import format_yuan
    seen = {}
    for lot, available in held:
        seen.setdefault(lot.id, (lot, 0))
        seen[lot.id] = (lot, seen[lot.id][1] + available)
    return [(lot.id, f"#{lot.id} {lot.label} {lot.title} — {format_yuan(avail)}")
            for lot, avail in seen.values()]


def _held_in_scope(s, me, kinds=(AccountKind.UNIT,)):
    """Lots with money available to the actor's own unit (or its projects)."""
    held = []
    for kind in kinds:
        if kind is AccountKind.UNIT:
            held += reading.lots_held(s, me, me.region_code)
        else:
            for project, _stage in reading.projects(s, me):
                held += reading.lots_held(s, me, project.code, AccountKind.PROJECT)
    return held


def show_service_error(form, exc: LedgerError) -> None:
    """Put a refusal beside the field it concerns, else above the form."""
    field = None
    if isinstance(exc, Overdraft):
        field = form.amount
    elif isinstance(exc, PurposeViolation) and hasattr(form, "use"):
        field = form.use
    elif isinstance(exc, IdempotencyConflict):
        field = form.key
    elif isinstance(exc, NotFound) and "payee" in str(exc) and hasattr(form, "payee"):
        field = form.payee
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))


def _run(form, call):
    """Call a service; commit and return its result, or show why it refused (None)."""
    try:
        result = call()
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        show_service_error(form, exc)
        return None
    db.commit()
    return result


@bp.route("/record/allocate", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_allocate():
    s, me = db.session(), actor()
    form = AllocateForm()
    form.lot.choices = _lot_choices(_held_in_scope(s, me))
    form.to_region.choices = [(r.code, f"{r.code} {r.name}") for r in reading.regions_below(
        s, me, [RegionLevel.CITY, RegionLevel.COUNTY]) if r.parent_code == me.region_code]
    if form.validate_on_submit():
        t = _run(form, lambda: flows.allocate(
            s, me, lot_id=form.lot.data, from_region=me.region_code,
            to_region=form.to_region.data, amount_fen=form.amount.fen,
            effective_date=form.effective_date.data, key=form.key.data.strip(),
            memo=form.memo.data or ""))
        if t is not None:
            return redirect(url_for("staff.transfer", transfer_id=t.id))
    return render_template("staff/record.html", form=form, title=gettext("下达资金")), \
        (422 if form.errors or form.form_errors else 200)


@bp.route("/record/fund-project", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_fund_project():
    s, me = db.session(), actor()
    form = FundProjectForm()
    form.lot.choices = _lot_choices(_held_in_scope(s, me))
    form.project.choices = [(p.code, f"{p.code} {p.name}") for p, stage in reading.projects(s, me)
                            if stage in (ProjectStatus.APPROVED, ProjectStatus.IMPLEMENTING)]
    if form.validate_on_submit():
        t = _run(form, lambda: flows.fund_project(
            s, me, lot_id=form.lot.data, project_code=form.project.data,
            amount_fen=form.amount.fen, effective_date=form.effective_date.data,
            key=form.key.data.strip(), memo=form.memo.data or ""))
        if t is not None:
            return redirect(url_for("staff.transfer", transfer_id=t.id))
    return render_template("staff/record.html", form=form, title=gettext("项目资金")), \
        (422 if form.errors or form.form_errors else 200)


@bp.route("/record/pay", methods=["GET", "POST"])
@requires(Action.RECORD)
def record_pay():
    s, me = db.session(), actor()
    form = PayForm()
    held = _held_in_scope(s, me, (AccountKind.UNIT, AccountKind.PROJECT))
    form.lot.choices = _lot_choices(held)
    lots = {lot.id: lot for lot, _ in held}.values()
    form.function_code.choices = sorted({c for lot in lots for c in lot.function_codes})
    form.use.choices = sorted({u for lot in lots for u in lot.allowed_uses})
    counties = reading.regions_below(s, me, [RegionLevel.COUNTY])
    form.source.choices = [(f"county:{c.code}", f"{gettext('县级统筹')} {c.name}")
                           for c in counties] + \
        [(f"project:{p.code}", f"{gettext('项目')} {p.code} {p.name}")
         for p, _ in reading.projects(s, me)]
    if form.validate_on_submit():
        kind, _, code = form.source.data.partition(":")
        t = _run(form, lambda: flows.pay(
            s, me, lot_id=form.lot.data, payee_code=form.payee.data.strip(),
            amount_fen=form.amount.fen, function_code=form.function_code.data,
            use_code=form.use.data, effective_date=form.effective_date.data,
            key=form.key.data.strip(), project_code=code if kind == "project" else None,
            county_code=code if kind == "county" else None, memo=form.memo.data or ""))
        if t is not None:
            return redirect(url_for("staff.transfer", transfer_id=t.id))
    return render_template("staff/record.html", form=form, title=gettext("支付")), \
        (422 if form.errors or form.form_errors else 200)
