"""Public complaint pages (ledger.oversight.complaints): file a complaint about a code printed on a
notice, get a receipt, and look its progress up later. No sign-in; both pages are rate-limited
per client address (a receipt has 50 random bits, but nobody should get to try them fast)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ledger.core.errors import LedgerError
from ledger.org import signin as auth
from web import db, unit
from web.forms import Form
from web.i18n import gettext

bp = Blueprint("complaints", __name__, url_prefix="/complaint")

FILINGS_PER_WINDOW = 10
LOOKUPS_PER_WINDOW = 30
SUBJECTS = {"village": "村（村代码）", "project": "项目（项目编号）",
            "roll_line": "清册中的一户（清册编号:行号）", "household": "农户（户编码）"}


class ComplaintForm(Form):
    subject_kind = SelectField("投诉对象", validators=[DataRequired()])
    subject_code = StringField("编号", validators=[DataRequired(), Length(max=120)])
    summary = TextAreaField("反映的问题", validators=[DataRequired(), Length(max=5000)])
    name = StringField("姓名（可不填）", validators=[Optional(), Length(max=50)])
    phone = StringField("电话（可不填）", validators=[Optional(), Length(max=30)])


class StatusForm(Form):
    receipt = StringField("回执号", validators=[DataRequired(), Length(max=40)])


def _slow_down():
    return render_template("error.html", title=gettext("请求有误"),
                           message="请求太频繁，请稍后再试 (too many requests)"), 429


@bp.route("/", methods=["GET", "POST"])
def file():
    from ledger.core.pii import PiiVault
    from ledger.models.oversight import ComplaintChannel, ComplaintSubject
    from ledger.oversight.complaints import file_complaint, format_receipt
    form = ComplaintForm()
    form.subject_kind.choices = [(k, gettext(v)) for k, v in SUBJECTS.items()]
    if request.method == "GET":
        # A link from the village page names what it is about (?kind=roll_line&code=R-1:3):
        # the form opens with it filled in; the visitor can still change it.
        kind, code = request.args.get("kind", ""), request.args.get("code", "")
        if kind in SUBJECTS:
            form.subject_kind.data = kind
        if code and len(code) <= 120:
            form.subject_code.data = code
    if not form.validate_on_submit():
        return render_template("public/complaint.html", form=form, receipt=None), \
            (422 if form.errors else 200)
    s = db.session()
    if auth.throttled(s, "complaint-file", request.remote_addr, FILINGS_PER_WINDOW):
        db.commit()  # the refused attempt still counts towards the limit
        return _slow_down()
    who = {"name": form.name.data.strip(), "phone": (form.phone.data or "").strip()} \
        if form.name.data and form.name.data.strip() else None
    # Whatever the ledger refuses is about the code the visitor typed (an unknown village,
    # project, household or roll line), so it is shown there.
    filed = unit.run(lambda: file_complaint(
        s, ComplaintChannel.ONLINE, ComplaintSubject(form.subject_kind.data),
        form.subject_code.data.strip(), form.summary.data, vault=PiiVault.from_env(),
        complainant=who), form=form, default_field="subject_code")
    if not filed:
        return render_template("public/complaint.html", form=form, receipt=None), 422
    return render_template("public/complaint.html", form=None,
                           receipt=format_receipt(filed.value))


@bp.route("/status", methods=["GET", "POST"])
def status():
    from ledger.oversight.complaints import complaint_status_public
    form = StatusForm()
    result = error = None
    if form.validate_on_submit():
        s = db.session()
        if auth.throttled(s, "complaint-status", request.remote_addr, LOOKUPS_PER_WINDOW):
            db.commit()  # the refused attempt still counts towards the limit
            return _slow_down()
        db.commit()  # a look-up counts whatever it finds (receipts are guessed by looking up)
        try:
            result = complaint_status_public(db.session(), form.receipt.data)
        except LedgerError as exc:  # not a receipt, a typing error, or no such complaint
            error = unit.refusal_text(exc)
    return render_template("public/complaint_status.html", form=form, result=result,
                           error=error), (404 if error else 200)
