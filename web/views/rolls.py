"""Payment rolls (公示清册): the list, a roll's page and its steps (publish, approve, send to
the bank, objections), a new roll from a CSV of households, and the bank's result file.

Uploads are previewed: the real service runs inside the request's transaction and is rolled
back (web.unit.preview), so the page shows exactly what would be written, or every problem,
and writes nothing until the clerk confirms.
"""
from __future__ import annotations

import os
import tempfile

from flask import (
    Blueprint,
    abort,
    after_this_request,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from wtforms import StringField
from wtforms.validators import Length, Optional

from ledger.core import clock
from ledger.core.pii import PiiVault
from ledger.imports.bank import (
    cards_of,
    households_of,
    import_bank_results,
    write_bank_file,
)
from ledger.imports.roll_lines import read_roll_lines
from ledger.models import RegionLevel
from ledger.reading import scoped as reading
from ledger.rolls import lifecycle as rolls
from ledger.rolls import settlement
from ledger.rolls.status import LineStatus
from ledger.store.access import Action
from web import confirm, db, unit, uploads
from web.access import actor, requires
from web.choices import held_in_scope, lot_choices, purpose_choices
from web.forms import (
    BankResultsForm,
    ObjectionForm,
    ResolveForm,
    RollDateForm,
    RollForm,
    TokenForm,
)
from web.i18n import gettext
from web.settings import current_settings

bp = Blueprint("rolls", __name__, url_prefix="/staff/rolls")


@bp.route("")
@requires(Action.READ)
def roll_list():
    from ledger.models import FundLot, Region
    s = db.session()
    rows = reading.rolls(s, actor())
    # names, not codes: the county's name and the lot's title and document number (文号)
    names = {r.code: r.name for r in s.query(Region).filter(
        Region.code.in_({r.county_code for r in rows}))} if rows else {}
    lots = {lot.id: lot for lot in s.query(FundLot).filter(
        FundLot.id.in_({r.lot_id for r in rows}))} if rows else {}
    return render_template("staff/rolls.html", rows=rows, names=names, lots=lots,
                           summaries=reading.roll_summaries(s, rows))


def _roll_view(s, me, roll_code: str):
    """The roll as the actor may read it: in the county's scope, or whole for the township
    whose villages hold every line of it (the township prepares and publishes it)."""
    if rolls.township_of_roll(s, me, rolls.get_roll(s, roll_code)) is not None:
        return reading.roll(s, None, roll_code)
    return reading.roll(s, me, roll_code)


@bp.route("/<roll_code>")
@requires(Action.READ)
def roll_detail(roll_code: str):
    s, me = db.session(), actor()
    view = _roll_view(s, me, roll_code)
    object_form, resolve_form = _objection_forms(view)
    # A township that prepared the roll publishes it; the county does the rest.
    county_steps = rolls.township_of_roll(s, me, view.roll) is None
    shown = rolls.publicity(s, view.roll, current_settings().ledger.roll_publicity_working_days)
    from ledger.models import Project, Region
    county = s.get(Region, view.roll.county_code)
    project = s.get(Project, view.roll.project_code) if view.roll.project_code else None
    return render_template("staff/roll.html", v=view, form=RollDateForm(),
                           county_name=county.name if county else view.roll.county_code,
                           project_name=project.name if project else None,
                           publish_form=RollPublishForm(), publicity=shown,
                           bank_form=BankResultsForm(), object_form=object_form,
                           resolve_form=resolve_form, county_steps=county_steps,
                           differences=_bank_differences(s, view.roll))


def _bank_differences(s, roll) -> list[dict]:
    """The bank's lines that differ from the roll, as the page shows them: what the bank did,
    how it differs, and the transfer that accounts for the money with its state."""
    states = {"approved": gettext("已审核"), "rejected": gettext("已驳回"),
              "pending": gettext("待复核"), None: "—"}
    shown = []
    for b, state in settlement.differences(s, roll):
        shown.append({
            "line": b.line_no, "value_date": b.value_date, "sent_fen": b.sent_fen,
            "credited_fen": b.credited_fen, "paid": b.paid, "reason": b.reason,
            "labels": "、".join(gettext(settlement.DIFFERENCE_LABELS[d])
                               for d in b.difference_kinds),
            "difference_fen": b.difference_fen, "transfer": b.difference_transfer_id,
            "state": states[state]})
    return shown


def _objection_forms(view):
    object_form, resolve_form = ObjectionForm(prefix="obj"), ResolveForm(prefix="res")
    # a line already with the bank is not objected to (the service refuses: roll_line_sent)
    object_form.household.choices = [(hh.code, f"{line.line_no} {hh.code} {hh.head_name}")
                                     for line, hh, state in view.lines if state == "open"
                                     and view.status(line).kind is LineStatus.PENDING]
    resolve_form.household.choices = [(hh.code, f"{line.line_no} {hh.code} {hh.head_name}")
                                      for line, hh, state in view.lines if state == "held"]
    resolve_form.upheld.choices = [("dismissed", gettext("异议不成立")),
                                   ("upheld", gettext("异议成立，撤销该户"))]
    return object_form, resolve_form


@bp.route("/<roll_code>/object", methods=["POST"])
@requires(Action.RECORD)
def roll_object(roll_code: str):
    """Record an objection from the board, a phone call or a letter: the line is held."""
    form, _ = _objection_forms(reading.roll(db.session(), actor(), roll_code))
    _line_step(form, lambda: rolls.object_to(db.session(), actor(), roll_code,
                                             form.household.data, form.day.data,
                                             form.comment.data.strip()))
    return redirect(url_for("rolls.roll_detail", roll_code=roll_code))


@bp.route("/<roll_code>/resolve", methods=["POST"])
@requires(Action.APPROVE)
def roll_resolve(roll_code: str):
    _, form = _objection_forms(reading.roll(db.session(), actor(), roll_code))
    _line_step(form, lambda: rolls.resolve(db.session(), actor(), roll_code,
                                           form.household.data, form.upheld.data == "upheld",
                                           form.day.data, form.comment.data.strip()))
    return redirect(url_for("rolls.roll_detail", roll_code=roll_code))


def _line_step(form, call) -> None:
    if not form.validate_on_submit():
        unit.flash_form_errors(form)
        return
    unit.run(call, done=gettext("操作成功"))


# ----------------------------------------------------------------------------- a new roll

def _roll_form(s, me) -> RollForm:
    form = RollForm()
    counties = reading.regions_below(s, me, [RegionLevel.COUNTY])
    held = held_in_scope(s, me)
    county = rolls.township_county(s, me) if not counties else None
    if county is not None:
        # A township's clerk prepares its villages' lines on a roll of its county, paid from
        # the county's share of a lot (ledger.rolls.lifecycle.township_preparing).
        counties, held = [county], rolls.county_lots(s, me, county.code)
    form.lot.choices = lot_choices(held)
    form.function_code.choices, form.use.choices = purpose_choices(held)
    form.county.choices = [(c.code, f"{c.code} {c.name}") for c in counties]
    return form


def _roll_args(meta: dict, path) -> dict:
    lines = read_roll_lines(path)
    # The keys are needed only to find members named by ID number.
    vault = PiiVault.from_env() if any(x.member_id_number for x in lines) else None
    return dict(code=meta["code"], lot_id=meta["lot"], county_code=meta["county"],
                item=meta["item"] or None, function_code=meta["function_code"],
                use_code=meta["use"], standard_fen=meta["standard"], lines=lines,
                as_of=clock.today(), vault=vault)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.RECORD)
def roll_new():
    s, me = db.session(), actor()
    form = _roll_form(s, me)
    if not form.validate_on_submit():
        return render_template("staff/roll_new.html", form=form), (422 if form.errors else 200)
    meta = {"code": form.code.data.strip(), "lot": form.lot.data, "county": form.county.data,
            "item": (form.item.data or "").strip(), "function_code": form.function_code.data,
            "use": form.use.data, "standard": form.standard.fen}
    token, path = uploads.keep(form.lines.data, meta)
    meta["filename"] = path.name

    def draw():
        roll = rolls.create_roll(s, me, **_roll_args(meta, path))
        # Drawn inside the preview's transaction: the page shows the rows the service wrote.
        return render_template("staff/roll_preview.html", meta=meta,
                               preview=_roll_view(s, me, roll.code), problems=[],
                               form=TokenForm(token=token))
    drawn = unit.preview(draw)
    if drawn:
        return drawn.value
    uploads.drop(token)
    return render_template("staff/roll_preview.html", meta=meta, preview=None,
                           problems=uploads.problems_of(drawn.refusal, meta["filename"]),
                           form=TokenForm(token=token)), 422


@bp.route("/confirm", methods=["POST"])
@requires(Action.RECORD)
def roll_confirm():
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_new"))
    meta, path = uploads.get(form.token.data)
    if "kind" in meta or "code" not in meta:  # a token kept by another page (an import)
        abort(400)
    done = unit.run(lambda: rolls.create_roll(db.session(), actor(), **_roll_args(meta, path)))
    if not done:
        return redirect(url_for("rolls.roll_new"))
    uploads.drop(form.token.data)
    return redirect(url_for("rolls.roll_detail", roll_code=done.value.code))


# ----------------------------------------------------------------------------- roll steps

def _roll_step(call, roll_code: str, event: str, verb: str, form_class=None):
    """One step of a roll, confirmed with the actor's passkey when they hold one
    (web.confirm.gate): the confirmation page to return, or None when done. `call` gets the
    step's date and its form (a publication's form also carries the reason it is late)."""
    form = (form_class or RollDateForm)()
    if not form.validate_on_submit():
        unit.flash_form_errors(form)
        return None
    roll = _roll_view(db.session(), actor(), roll_code).roll  # scope first
    day = form.day.data
    page = confirm.gate(f"roll.{event}", f"{verb} 清册 {roll_code}（日期 {day.isoformat()}）",
                         rows={"roll_events": {"roll_id": roll.id, "kind": event,
                                               "effective_date": day.isoformat()}})
    if page is not None:
        return page
    unit.run(lambda: call(day, form), done=gettext("操作成功"))
    return None


class RollPublishForm(RollDateForm):
    """The board's date, and why it is recorded late when that date is before today (补记)."""
    reason = StringField("补记理由", validators=[Optional(), Length(max=500)])


@bp.route("/<roll_code>/publish", methods=["POST"])
@requires(Action.RECORD)
def roll_publish(roll_code: str):
    page = _roll_step(lambda day, form: rolls.publish(db.session(), actor(), roll_code, day,
                                                      form.reason.data),
                      roll_code, "published", "公示", RollPublishForm)
    return page or redirect(url_for("rolls.roll_detail", roll_code=roll_code))


@bp.route("/<roll_code>/approve", methods=["POST"])
@requires(Action.APPROVE)
def roll_approve(roll_code: str):
    days = current_settings().ledger.roll_publicity_working_days
    page = _roll_step(lambda day, _form: rolls.approve_roll(db.session(), actor(), roll_code, day,
                                                     days), roll_code, "approved", "审核通过")
    return page or redirect(url_for("rolls.roll_detail", roll_code=roll_code))


@bp.route("/<roll_code>/send", methods=["POST"])
@requires(Action.RECORD)
def roll_send(roll_code: str):
    """Record the payments and hand the clerk the bank file (full card numbers: private)."""
    form = RollDateForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_detail", roll_code=roll_code))

    def send() -> str:
        # The file is written before the commit: a roll is never marked sent without it.
        s = db.session()
        vault = PiiVault.from_env()
        sent = rolls.send(s, actor(), roll_code, form.day.data)
        fd, out = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        write_bank_file(out, sent, vault, households_of(s, sent), "gb18030", cards_of(s, sent))
        return out
    done = unit.run(send)
    if not done:
        return redirect(url_for("rolls.roll_detail", roll_code=roll_code))

    @after_this_request
    def remove(response):
        os.unlink(done.value)
        return response
    return send_file(done.value, as_attachment=True, download_name=f"bank-{roll_code}.csv",
                     mimetype="text/csv")


# ----------------------------------------------------------------------------- bank results

def _bank_summary(result: dict) -> str:
    summary = (f"{result['posted']} {gettext('已支付')}, {result['returned']} "
               f"{gettext('退票')}, {result['recorded']} {gettext('名册外已记录')}, "
               f"{result['unchanged']} {gettext('已存在且一致')}")
    if result.get("differences"):
        summary += f"; {result['differences']} {gettext('行与名册不符，已记录待复核')}"
    return summary


@bp.route("/<roll_code>/bank-results", methods=["POST"])
@requires(Action.APPROVE)
def bank_results_upload(roll_code: str):
    """The bank's result file (回盘): paid lines post, failed lines return to the lot."""
    s, me = db.session(), actor()
    reading.roll(s, me, roll_code)  # scope first: no preview of others' rolls
    form = BankResultsForm()
    if not form.validate_on_submit():
        unit.flash_form_errors(form)
        return redirect(url_for("rolls.roll_detail", roll_code=roll_code))
    token, path = uploads.keep(form.file.data, {"kind": "bank-results", "roll": roll_code})
    meta = {"kind": "bank-results", "label": gettext("银行回盘文件"), "roll": roll_code,
            "filename": path.name}
    tried = unit.preview(lambda: import_bank_results(s, me, roll_code, path,
                                                     PiiVault.from_env()))
    problems = [] if tried else uploads.problems_of(tried.refusal, meta["filename"])
    if problems:
        uploads.drop(token)
    return render_template("staff/import_preview.html", meta=meta,
                           summary=_bank_summary(tried.value) if tried else "",
                           problems=problems, form=TokenForm(token=token),
                           confirm=url_for("rolls.bank_results_confirm", roll_code=roll_code),
                           again=url_for("rolls.roll_detail", roll_code=roll_code)), \
        (422 if problems else 200)


@bp.route("/<roll_code>/bank-results/confirm", methods=["POST"])
@requires(Action.APPROVE)
def bank_results_confirm(roll_code: str):
    s, me = db.session(), actor()
    reading.roll(s, me, roll_code)  # scope first, as for the upload
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_detail", roll_code=roll_code))
    meta, path = uploads.get(form.token.data)
    if meta.get("kind") != "bank-results" or meta.get("roll") != roll_code:
        abort(400)
    done = unit.run(lambda: import_bank_results(s, me, roll_code, path,
                                               PiiVault.from_env()))
    if done:
        uploads.drop(form.token.data)
        flash(_bank_summary(done.value), "ok")
    return redirect(url_for("rolls.roll_detail", roll_code=roll_code))
