"""File imports (`/staff/import`): choose a kind, read its columns, download its template,
upload, preview every line with every problem marked where it is, confirm.

The kinds offered are ledger.imports.kinds.KINDS, the table `fundtrail import` uses too, by
their Chinese names in their groups; what each kind is, its columns and its example come from
that table (docs/formats.md describes the same columns at length), and so do the templates
(`/staff/import/template/KIND.csv` or `.xlsx`, ledger.imports.templates). A list or register
from another office (a kind that `needs_source`) also takes its source and the date the list
was drawn, as on the command line.

A preview runs the real import inside the request's transaction and rolls it back
(web.unit.preview): all or nothing, as the confirmation will be. It shows the file's first
PREVIEW_ROWS lines as written, each problem on its line and in its cell (the refusal's own
text, web.unit.refusal_text), and the list of every problem; a file with problems is not kept
and offers only 重新上传. Personal numbers (ID, card, account, phone) are masked in the rows as
on every staff page.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for

from ledger.core.errors import LedgerError
from ledger.core.idcard import mask
from ledger.core.pii import PiiVault
from ledger.imports import templates
from ledger.imports.csvfile import Problem, sample
from ledger.imports.kinds import GROUPS, KINDS, ImportKind, is_personal, run_import
from ledger.reading.scoped import masked_card
from ledger.store.access import Action
from web import db, unit, uploads
from web.access import actor, requires
from web.forms import ImportForm, TokenForm
from web.i18n import gettext

bp = Blueprint("imports", __name__, url_prefix="/staff/import")

PREVIEW_ROWS = 50   # lines of the file shown on a preview; the rest are counted
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{15,19}[0-9Xx]?(?![0-9A-Za-z])")


def _label(spec: ImportKind) -> str:
    return gettext(spec.label)


def _form() -> ImportForm:
    form = ImportForm()
    form.kind.choices = {gettext(group): [(s.name, _label(s)) for s in KINDS.values()
                                          if s.group == group] for group in GROUPS}
    return form


def _kinds_help() -> list[tuple[str, list[ImportKind]]]:
    return [(group, [s for s in KINDS.values() if s.group == group]) for group in GROUPS]


@bp.route("", methods=["GET", "POST"])
@requires(Action.RECORD)
def upload():
    form = _form()
    if not form.validate_on_submit():
        return render_template("staff/import.html", form=form, groups=_kinds_help(),
                               with_source=[_label(s) for s in KINDS.values() if s.needs_source]
                               ), (422 if form.errors else 200)
    spec = KINDS[form.kind.data]
    meta = {"kind": spec.name}
    if spec.needs_source:
        meta.update(source=form.source.data.strip(), snapshot=form.snapshot.data.isoformat())
    token, path = uploads.keep(form.file.data, meta)
    try:
        meta.update(label=_label(spec), filename=path.name)
        tried = unit.preview(lambda: _import(meta, path))
        problems = [] if tried else uploads.problems_of(tried.refusal, meta["filename"])
        view = _preview(spec, path, problems)
    except BaseException:   # no file with personal data left behind by a failed view
        uploads.drop(token)
        raise
    if problems:
        uploads.drop(token)
    return render_template("staff/import_lines.html", meta=meta, spec=spec, view=view,
                           summary=_summary(spec, tried.value) if tried else "",
                           report=_report(tried.value) if tried else [],
                           form=TokenForm(token=token),
                           confirm=url_for("imports.confirm"),
                           again=url_for("imports.upload")), (422 if problems else 200)


@bp.route("/template/<kind>.<any(csv, xlsx):fmt>")
@requires(Action.RECORD)
def template(kind: str, fmt: str):
    """A kind's template: its header exactly as the importer reads it and one example line."""
    spec = KINDS.get(kind)
    if spec is None:
        abort(404)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(templates.template_bytes(spec, fmt), mimetype=mimetype)
    # The Chinese file name for the browser (RFC 5987), the kind's name for older ones.
    filename = f"{gettext('导入模板')}-{_label(spec)}.{fmt}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{spec.name}.{fmt}\"; filename*=UTF-8''{quote(filename)}")
    return response


def _import(meta: dict, path):
    """Run the import `meta` describes (as kept with the upload) on the request's session."""
    spec = KINDS[meta["kind"]]
    vault = PiiVault.from_env() if spec.needs_vault else None
    snapshot = dt.date.fromisoformat(meta["snapshot"]) if meta.get("snapshot") else None
    return run_import(db.session(), actor(), spec.name, path, vault=vault,
                      source=meta.get("source"), snapshot=snapshot)


# ----------------------------------------------------------------------------- the preview

@dataclass
class Cell:
    text: str
    problems: list[str] = field(default_factory=list)
    anchor: str = ""
    unread: bool = False   # a header no column of the kind reads (named in the report too)


@dataclass
class Line:
    line: int
    cells: list[Cell]
    problems: list[str] = field(default_factory=list)   # the line's, in no one cell


@dataclass
class Listed:
    """One problem as the list under the rows shows it."""
    line: int
    column: str
    position: int | None
    text: str
    shown: bool      # marked in the rows above (its line is among those shown)
    anchor: str = ""  # the id of the cell or line it is marked on: the list links to it


@dataclass
class Preview:
    header: list[Cell]
    lines: list[Line]
    more: int                      # lines of the file past those shown
    problems: list[Listed]
    unmarked_lines: int = 0        # problems on lines past those shown
    readable: bool = True          # False: the file could not be read as a table at all


def problem_text(problem: Problem) -> str:
    """A problem as a person reads it: its code's rendering in the visitor's language (the
    refusal's own text, web.unit.refusal_text), with any long number masked."""
    refusal = LedgerError(problem.reason)
    refusal.code, refusal.params = problem.code, dict(problem.params)
    return _masked_text(unit.refusal_text(refusal))


def _masked_text(text: str) -> str:
    return _LONG_NUMBER.sub(lambda m: mask(m[0]), text)


def _personal_kind(column) -> str | None:
    """"card" for a card or account column, "number" for an ID number or phone, else None."""
    if column is None or not is_personal(column):
        return None
    return "card" if any("card" in h or "account" in h for h in column.headers) else "number"


def _shown(text: str, personal: str | None) -> str:
    """A cell as the preview shows it: a card or account by its last four digits (****1234,
    the `card` filter of staff pages), an ID number or phone with its middle masked
    (ledger.core.idcard.mask); a long number in any other column masked too; long text cut."""
    text = text.strip()
    if personal and text:
        digits = re.sub(r"[\s-]", "", text)
        if personal == "card":
            return masked_card(digits[-4:]) if len(digits) > 8 else "*" * len(digits)
        return mask(digits, 4, 4) if len(digits) > 8 else "*" * len(digits)
    text = _masked_text(text)
    return text if len(text) <= 60 else text[:59] + "…"


def _preview(spec: ImportKind, path, problems: list[Problem]) -> Preview:
    seen = sample(path, list(spec.columns), PREVIEW_ROWS)
    if seen is None:
        listed = [Listed(p.line, p.column, p.position, problem_text(p), False)
                  for p in problems]
        return Preview([], [], 0, listed, unmarked_lines=len(listed), readable=False)
    index = {c.headers[0]: i for i, c in enumerate(seen.columns) if c is not None}
    header = [Cell(_masked_text(h), unread=c is None) for h, c in zip(seen.header, seen.columns)]
    width = max([len(seen.header)] + [len(cells) for _, cells in seen.rows])
    header += [Cell("") for _ in range(width - len(header))]
    personal = [_personal_kind(c) for c in seen.columns]
    personal += [None] * (width - len(personal))
    lines = {line: Line(line, [Cell(_shown(cells[i] if i < len(cells) else "", personal[i]))
                               for i in range(width)]) for line, cells in seen.rows}
    listed = []
    for p in problems:
        text = problem_text(p)
        at = p.position - 1 if p.position else index.get(p.column)
        target, anchor = None, ""
        if p.line == 1 and at is not None and at < width:   # a header cell (a duplicate)
            target, anchor = header[at], f"c-1-{at + 1}"
        elif p.line in lines:
            line = lines[p.line]
            if at is not None and at < width:
                target, anchor = line.cells[at], f"c-{p.line}-{at + 1}"
            else:
                line.problems.append(text)
                anchor = f"l-{p.line}"
        if target is not None:
            target.problems.append(text)
            target.anchor = anchor
        shown = p.line == 1 or p.line in lines
        listed.append(Listed(p.line, p.column, p.position, text, shown, anchor))
    return Preview(header, list(lines.values()), seen.more, listed,
                   unmarked_lines=sum(1 for x in listed if not x.shown))


def _report(result) -> list:
    """What the import kept a note of without refusing: columns it ignored, blank lines, ID
    numbers taken as registered (ledger/imports/csvfile.py, `report`). Nothing a county's file
    holds is dropped without a line here."""
    return [Listed(p.line, p.column, p.position, problem_text(p), True)
            for p in (getattr(result, "report", None) or [])]


def _summary(spec: ImportKind, result) -> str:
    if spec.needs_source:  # one snapshot of a list: new records, or the same snapshot again
        return gettext("已存在且一致") if result.unchanged \
            else gettext("{n} 新增", n=result.added)
    return gettext("{added} 新增，{unchanged} 已存在且一致", added=result.added,
                   unchanged=result.unchanged)


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
    try:
        done = unit.run(lambda: _import(meta, path))
    finally:   # imported or refused, the file is not kept: a refused one is uploaded again
        uploads.drop(form.token.data)
    if done:
        noted = _report(done.value)
        flash(f"{gettext('已导入')}: {_label(spec)} {_summary(spec, done.value)}"
              + (f"; {gettext('导入报告')} {len(noted)}" if noted else ""), "ok")
    return redirect(url_for("imports.upload"))
