"""CSV imports (`/staff/import`): upload, preview with every error by line, confirm.

The kinds offered are ledger.imports.kinds.KINDS, the table `fundtrail import` uses too, with
their Chinese labels; a list or register from another office (a kind that `needs_source`)
also takes its source and the date the list was drawn, as on the command line. A preview runs
the real import inside the request's transaction and rolls it back (web.unit.preview).
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from ledger.core.pii import PiiVault
from ledger.imports.kinds import KINDS, ImportKind, run_import
from ledger.store.access import Action
from web import db, unit, uploads
from web.access import actor, requires
from web.forms import ImportForm, TokenForm
from web.i18n import gettext

bp = Blueprint("imports", __name__, url_prefix="/staff/import")


def _label(spec: ImportKind) -> str:
    return f"{gettext(spec.label)}（{spec.name}）"


def _form() -> ImportForm:
    form = ImportForm()
    form.kind.choices = [(name, _label(spec)) for name, spec in KINDS.items()]
    return form


@bp.route("", methods=["GET", "POST"])
@requires(Action.RECORD)
def upload():
    form = _form()
    if not form.validate_on_submit():
        return render_template("staff/import.html", form=form,
                               with_source=[_label(s) for s in KINDS.values() if s.needs_source]
                               ), (422 if form.errors else 200)
    spec = KINDS[form.kind.data]
    meta = {"kind": spec.name}
    if spec.needs_source:
        meta.update(source=form.source.data.strip(), snapshot=form.snapshot.data.isoformat())
    token, path = uploads.keep(form.file.data, meta)
    meta.update(label=_label(spec), filename=path.name)
    tried = unit.preview(lambda: _import(meta, path))
    problems = [] if tried else uploads.problems_of(tried.refusal, meta["filename"])
    if problems:
        uploads.drop(token)
    return render_template("staff/import_preview.html", meta=meta,
                           summary=_summary(spec, tried.value) if tried else "",
                           report=_report(tried.value) if tried else [],
                           problems=problems, form=TokenForm(token=token),
                           confirm=url_for("imports.confirm"),
                           again=url_for("imports.upload")), (422 if problems else 200)


def _import(meta: dict, path):
    """Run the import `meta` describes (as kept with the upload) on the request's session."""
    spec = KINDS[meta["kind"]]
    vault = PiiVault.from_env() if spec.needs_vault else None
    snapshot = dt.date.fromisoformat(meta["snapshot"]) if meta.get("snapshot") else None
    return run_import(db.session(), actor(), spec.name, path, vault=vault,
                      source=meta.get("source"), snapshot=snapshot)


def _report(result) -> list:
    """What the import kept a note of without refusing: columns it ignored, blank lines, ID
    numbers taken as registered (ledger/imports/csvfile.py, `report`). Nothing a county's file
    holds is dropped without a line here."""
    return list(getattr(result, "report", None) or [])


def _summary(spec: ImportKind, result) -> str:
    if spec.needs_source:  # one snapshot of a list: new records, or the same snapshot again
        return gettext("已存在且一致") if result.unchanged \
            else f"{result.added} {gettext('新增')}"
    return f"{result.added} {gettext('新增')}, {result.unchanged} {gettext('已存在且一致')}"


@bp.route("/confirm", methods=["POST"])
@requires(Action.RECORD)
def confirm():
    form = TokenForm()
    if not form.validate_on_submit():
        return redirect(url_for("imports.upload"))
    meta, path = uploads.get(form.token.data)
    spec = KINDS.get(meta.get("kind"))
    if spec is None:  # a token kept by another page (a bank result file)
        abort(400)
    done = unit.run(lambda: _import(meta, path))
    if done:
        uploads.drop(form.token.data)
        noted = _report(done.value)
        flash(f"{gettext('已导入')}: {_label(spec)} {_summary(spec, done.value)}"
              + (f"; {gettext('导入报告')} {len(noted)}" if noted else ""), "ok")
    return redirect(url_for("imports.upload"))
