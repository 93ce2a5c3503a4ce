"""Payment rolls (公示清册) and CSV imports: upload, preview with every error by line, confirm.

A preview runs the real service inside the request's transaction and rolls it back, so it
shows exactly what the import or roll would do and every refusal, and writes nothing.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile

from flask import Blueprint, abort, after_this_request, flash, redirect, render_template, \
    send_file, url_for

from ledger.reading import scoped as reading
from ledger.rolls import lifecycle as rolls
from ledger.store.access import Action
from ledger.imports.kinds import KINDS, run_import
from ledger.imports.roll_lines import read_roll_lines
from ledger.core.errors import LedgerError, PermissionDenied
from ledger.imports.csvfile import ImportProblems, Problem, read
from ledger.models import RegionLevel
from ledger.core.pii import PiiVault
from web.settings import current_settings
from web import db, uploads
from web.views.auth import actor, requires
from web.forms import (
    BankResultsForm, ImportForm, ObjectionForm, ResolveForm, RollDateForm, RollForm, TokenForm,
)
from web.i18n import gettext
from web.views.staff import _held_in_scope, _lot_choices

bp = Blueprint("rolls", __name__, url_prefix="/staff")



@bp.route("/rolls")
@requires(Action.READ)
def roll_list():
    return render_template("staff/rolls.html", rows=reading.rolls(db.session(), actor()))


@bp.route("/rolls/<code>")
@requires(Action.READ)
def roll_detail(code: str):
    view = reading.roll(db.session(), actor(), code)
    object_form, resolve_form = _objection_forms(view)
    return render_template("staff/roll.html", v=view, form=RollDateForm(),
                           bank_form=BankResultsForm(), object_form=object_form,
                           resolve_form=resolve_form)


def _objection_forms(view):
    object_form, resolve_form = ObjectionForm(prefix="obj"), ResolveForm(prefix="res")
    object_form.household.choices = [(hh.code, f"{line.line_no} {hh.code} {hh.head_name}")
                                     for line, hh, state in view.lines if state == "open"]
    resolve_form.household.choices = [(hh.code, f"{line.line_no} {hh.code} {hh.head_name}")
                                      for line, hh, state in view.lines if state == "held"]
    resolve_form.upheld.choices = [("dismissed", gettext("异议不成立")),
                                   ("upheld", gettext("异议成立，撤销该户"))]
    return object_form, resolve_form


@bp.route("/rolls/<code>/object", methods=["POST"])
@requires(Action.RECORD)
def roll_object(code: str):
    """Record an objection from the board, a phone call or a letter: the line is held."""
    form, _ = _objection_forms(reading.roll(db.session(), actor(), code))
    _line_step(form, lambda: rolls.object_to(db.session(), actor(), code, form.household.data,
                                             form.day.data, form.comment.data.strip()))
    return redirect(url_for("rolls.roll_detail", code=code))


@bp.route("/rolls/<code>/resolve", methods=["POST"])
@requires(Action.APPROVE)
def roll_resolve(code: str):
    _, form = _objection_forms(reading.roll(db.session(), actor(), code))
    _line_step(form, lambda: rolls.resolve(db.session(), actor(), code, form.household.data,
                                           form.upheld.data == "upheld", form.day.data,
                                           form.comment.data.strip()))
    return redirect(url_for("rolls.roll_detail", code=code))


def _line_step(form, call) -> None:
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
        return
    db.apply(call)


def _roll_form(s, me) -> RollForm:
    form = RollForm()
    held = _held_in_scope(s, me)
    form.lot.choices = _lot_choices(held)
    lots = {lot.id: lot for lot, _ in held}.values()
    form.function_code.choices = sorted({c for lot in lots for c in lot.function_codes})
    form.use.choices = sorted({u for lot in lots for u in lot.allowed_uses})
    form.county.choices = [(c.code, f"{c.code} {c.name}")
                           for c in reading.regions_below(s, me, [RegionLevel.COUNTY])]
    return form


def _problems_of(exc: LedgerError, filename: str) -> list[Problem]:
    if isinstance(exc, ImportProblems):
        return exc.problems
    text = str(exc)
    line = 0
    if text.startswith("line "):
        head = text[5:].split(" ", 1)[0]
        line = int(head) + 1 if head.isdigit() else 0  # roll line n is file line n + 1
    return [Problem(filename, line, "", text)]


def _roll_args(meta: dict, path) -> dict:
    lines = read_roll_lines(path)
    return dict(code=meta["code"], lot_id=meta["lot"], county_code=meta["county"],
                item=meta["item"], function_code=meta["function_code"], use_code=meta["use"],
                standard_fen=meta["standard"], lines=lines, as_of=dt.date.today())


@bp.route("/rolls/new", methods=["GET", "POST"])
@requires(Action.RECORD)
def roll_new():
    s, me = db.session(), actor()
    form = _roll_form(s, me)
    if not form.validate_on_submit():
        return render_template("staff/roll_new.html", form=form), (422 if form.errors else 200)
    meta = {"code": form.code.data.strip(), "lot": form.lot.data, "county": form.county.data,
            "item": form.item.data.strip(), "function_code": form.function_code.data,
            "use": form.use.data, "standard": form.standard.fen}
    token, path = uploads.keep(form.lines.data, meta)
    meta["filename"] = path.name
    problems = []
    try:
        roll = rolls.create_roll(s, me, **_roll_args(meta, path))
        # Rendered before the rollback below: the preview shows the rows the service wrote.
        html = render_template("staff/roll_preview.html", meta=meta,
                               preview=reading.roll(s, me, roll.code), problems=[],
                               form=TokenForm(token=token))
    except PermissionDenied:
        raise
    except LedgerError as exc:
        problems = _problems_of(exc, meta["filename"])
    finally:
        db.rollback()
    if not problems:
        return html
    uploads.drop(token)
    return render_template("staff/roll_preview.html", meta=meta, preview=None,
                           problems=problems, form=TokenForm(token=token)), 422


@bp.route("/rolls/confirm", methods=["POST"])
@requires(Action.RECORD)
def roll_confirm():
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_new"))
    meta, path = uploads.get(form.token.data)
    s = db.session()
    try:
        roll = rolls.create_roll(s, actor(), **_roll_args(meta, path))
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("rolls.roll_new"))
    db.commit()
    uploads.drop(form.token.data)
    return redirect(url_for("rolls.roll_detail", code=roll.code))


def _roll_step(code: str, call) -> None:
    form = RollDateForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
        return
    try:
        call(form.day.data)
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        flash(gettext("操作成功"), "ok")


@bp.route("/rolls/<code>/publish", methods=["POST"])
@requires(Action.RECORD)
def roll_publish(code: str):
    _roll_step(code, lambda day: rolls.publish(db.session(), actor(), code, day))
    return redirect(url_for("rolls.roll_detail", code=code))


@bp.route("/rolls/<code>/approve", methods=["POST"])
@requires(Action.APPROVE)
def roll_approve(code: str):
    days = current_settings().ledger.roll_publicity_working_days
    _roll_step(code, lambda day: rolls.approve_roll(db.session(), actor(), code, day, days))
    return redirect(url_for("rolls.roll_detail", code=code))


@bp.route("/rolls/<code>/send", methods=["POST"])
@requires(Action.RECORD)
def roll_send(code: str):
    """Record the payments and hand the clerk the bank file (full card numbers: private)."""
    from ledger.imports.bank import households_of, write_bank_file
    form = RollDateForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_detail", code=code))
    s = db.session()
    try:
        vault = PiiVault.from_env()
        sent = rolls.send(s, actor(), code, form.day.data)
        households = households_of(s, sent)
        fd, out = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        write_bank_file(out, sent, vault, households, "gb18030")
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("rolls.roll_detail", code=code))
    db.commit()

    @after_this_request
    def remove(response):
        os.unlink(out)
        return response
    return send_file(out, as_attachment=True, download_name=f"bank-{code}.csv",
                     mimetype="text/csv")


# ----------------------------------------------------------------------------- imports

@bp.route("/import", methods=["GET", "POST"])
@requires(Action.RECORD)
def import_upload():
    form = ImportForm()
    form.kind.choices = sorted(KINDS)
    if not form.validate_on_submit():
        return render_template("staff/import.html", form=form), (422 if form.errors else 200)
    token, path = uploads.keep(form.file.data, {"kind": form.kind.data})
    meta = {"kind": form.kind.data, "filename": path.name}
    result, problems = _dry_run(meta, path)
    if problems:
        uploads.drop(token)
    return render_template("staff/import_preview.html", meta=meta, summary=_summary(result),
                           problems=problems, form=TokenForm(token=token),
                           confirm=url_for("rolls.import_confirm")), \
        (422 if problems else 200)


def _summary(result) -> str:
    if result is None:
        return ""
    if isinstance(result, dict):  # bank results
        return (f"{result['posted']} {gettext('已支付')}, {result['returned']} "
                f"{gettext('退票')}, {result['unchanged']} {gettext('已存在且一致')}")
    return f"{result.added} {gettext('新增')}, {result.unchanged} {gettext('已存在且一致')}"


def _import(meta: dict, path):
    if meta["kind"] == "bank-results":
        from ledger.imports.bank import import_bank_results
        return import_bank_results(db.session(), actor(), meta["roll"], path)
    vault = PiiVault.from_env() if KINDS[meta["kind"]].needs_vault else None
    return run_import(db.session(), actor(), meta["kind"], path, vault=vault)


def _dry_run(meta: dict, path):
    try:
        return _import(meta, path), []
    except PermissionDenied:
        raise
    except LedgerError as exc:
        return None, _problems_of(exc, meta["filename"])
    finally:
        db.rollback()


@bp.route("/import/confirm", methods=["POST"])
@requires(Action.RECORD)
def import_confirm():
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.import_upload"))
    meta, path = uploads.get(form.token.data)
    try:
        result = _import(meta, path)
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("rolls.import_upload"))
    db.commit()
    uploads.drop(form.token.data)
    flash(f"{gettext('已导入')}: {meta['kind']} {_summary(result)}", "ok")
    return redirect(url_for("rolls.import_upload"))


@bp.route("/rolls/<code>/bank-results", methods=["POST"])
@requires(Action.APPROVE)
def bank_results_upload(code: str):
    """The bank's result file (回盘): paid lines post, failed lines return to the lot."""
    reading.roll(db.session(), actor(), code)  # scope first: no preview of others' rolls
    form = BankResultsForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("rolls.roll_detail", code=code))
    token, path = uploads.keep(form.file.data, {"kind": "bank-results", "roll": code})
    meta = {"kind": "bank-results", "roll": code, "filename": path.name}
    result, problems = _dry_run(meta, path)
    if problems:
        uploads.drop(token)
    return render_template("staff/import_preview.html", meta=meta, summary=_summary(result),
                           problems=problems, form=TokenForm(token=token),
                           confirm=url_for("rolls.bank_results_confirm", code=code)), \
        (422 if problems else 200)


@bp.route("/rolls/<code>/bank-results/confirm", methods=["POST"])
@requires(Action.APPROVE)
def bank_results_confirm(code: str):
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("rolls.roll_detail", code=code))
    meta, path = uploads.get(form.token.data)
    if meta.get("kind") != "bank-results" or meta.get("roll") != code:
        abort(400)
    try:
        result = _import(meta, path)
    except PermissionDenied:
        raise
    except LedgerError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("rolls.roll_detail", code=code))
    db.commit()
    uploads.drop(form.token.data)
    flash(_summary(result), "ok")
    return redirect(url_for("rolls.roll_detail", code=code))
