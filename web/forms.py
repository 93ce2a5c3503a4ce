"""Forms (Flask-WTF: every form carries a CSRF token). Money is typed in yuan and becomes
integer fen through ledger.core.money.parse_yuan; its errors appear beside the field."""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ledger.core.money import MoneyError, parse_yuan
from ledger.core.normalise import nfkc
from ledger.imports.kinds import KINDS
from web.i18n import gettext


def _today():
    return dt.date.today()


# Fields of prose (a memo, a reason, a comment, a name, an issuing office): kept as typed, with
# their full-width Chinese punctuation (，（）), which NFKC would turn into ASCII.
PROSE = frozenset({"memo", "reason", "comment", "display_name", "source", "note"})


class Form(FlaskForm):
    """Every form of the app: what a person types into a code, number, amount or date field is
    read under NFKC (ledger.core.normalise) before any field sees it, the same normal form as
    the imports and the command line give — a household code or an ID number typed with
    full-width digits is the one typed in ASCII. Passwords, files, text areas and PROSE fields
    are passed as typed."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            if data is None or not hasattr(data, "lists"):
                return data
            normalised = MultiDict()
            for key, values in data.lists():
                field = form._fields.get(key)
                as_typed = key in PROSE or isinstance(field, (PasswordField, TextAreaField,
                                                              FileField))
                for value in values:
                    normalised.add(key, value if as_typed or not isinstance(value, str)
                                   else nfkc(value))
            return normalised


MAX_ID = 2**63 - 1  # the largest id a BIGINT column holds (SQLite INTEGER, PostgreSQL bigint)


def db_id(text) -> int | None:
    """A row id typed by a person or taken from a URL: ASCII digits, 1 to MAX_ID; else None.
    (str.isdigit() accepts "²" and "١٢٣", and a larger number overflows the database driver.)"""
    text = str(text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class Yuan(StringField):
    """An amount in yuan with at most two decimals; `.fen` holds it as integer fen."""
    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        try:
            self.fen = parse_yuan(self.data or "")
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None
        if self.fen <= 0:
            raise ValidationError("金额必须大于零 (the amount must be positive)")


class AllocateForm(Form):
    lot = SelectField("批次", coerce=int, validators=[DataRequired()])
    to_region = SelectField("下级单位", validators=[DataRequired()])
    amount = Yuan("金额（元）")
    effective_date = DateField("日期", default=_today, validators=[DataRequired()])
    key = StringField("凭证号", validators=[DataRequired(), Length(max=150)])
    memo = StringField("摘要", validators=[Optional(), Length(max=500)])


class FundProjectForm(Form):
    lot = SelectField("批次", coerce=int, validators=[DataRequired()])
    project = SelectField("项目", validators=[DataRequired()])
    amount = Yuan("金额（元）")
    effective_date = DateField("日期", default=_today, validators=[DataRequired()])
    key = StringField("凭证号", validators=[DataRequired(), Length(max=150)])
    memo = StringField("摘要", validators=[Optional(), Length(max=500)])


class PayForm(Form):
    lot = SelectField("批次", coerce=int, validators=[DataRequired()])
    source = SelectField("资金来源", validators=[DataRequired()])
    payee = StringField("收款人编码", validators=[DataRequired(), Length(max=40)])
    amount = Yuan("金额（元）")
    function_code = SelectField("功能分类", validators=[DataRequired()])
    use = SelectField("用途", validators=[DataRequired()])
    effective_date = DateField("日期", default=_today, validators=[DataRequired()])
    key = StringField("凭证号", validators=[DataRequired(), Length(max=150)])
    memo = StringField("摘要", validators=[Optional(), Length(max=500)])


class DecisionForm(Form):
    comment = TextAreaField("意见", validators=[Optional(), Length(max=1000)])


class ReverseForm(Form):
    reason = StringField("冲销原因", validators=[DataRequired(), Length(max=500)])
    effective_date = DateField("日期", default=_today, validators=[DataRequired()])
    key = HiddenField(validators=[DataRequired(), Length(max=150)])


class OptionalYuan(Yuan):
    """A `Yuan` that may be left empty (`.fen` is then None)."""

    def pre_validate(self, form):
        if not (self.data or "").strip():
            self.fen = None
            return
        super().pre_validate(form)


class RollForm(Form):
    """A roll of one item at one standard (both given), or of the items its lines name, priced
    from the standards table (both left empty)."""
    code = StringField("清册编号", validators=[DataRequired(), Length(max=100)])
    lot = SelectField("批次", coerce=int, validators=[DataRequired()])
    county = SelectField("县", validators=[DataRequired()])
    item = StringField("发放项目", validators=[Optional(), Length(max=100)])
    function_code = SelectField("功能分类", validators=[DataRequired()])
    use = SelectField("用途", validators=[DataRequired()])
    standard = OptionalYuan("标准（元）")
    lines = FileField("户清单（CSV 或 Excel）", validators=[FileRequired()])


class TokenForm(Form):
    token = HiddenField(validators=[DataRequired(), Length(max=100)])


class RollDateForm(Form):
    day = DateField("日期", default=_today, validators=[DataRequired()])


class ImportForm(Form):
    """A file of one of ledger.imports.kinds.KINDS (the view sets the choices). A list or
    register from another office (`needs_source`) also needs who issued it and the date it
    was drawn: the form always shows both fields (it works without JavaScript) and requires
    them for those kinds only."""
    kind = SelectField("文件类型", validators=[DataRequired()])
    source = StringField("来源", validators=[Optional(), Length(max=200)])
    snapshot = DateField("名单日期", validators=[Optional()])
    file = FileField("文件", validators=[FileRequired()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        spec = KINDS.get(self.kind.data)
        if spec is not None and spec.needs_source:
            if not (self.source.data or "").strip() and not self.source.errors:
                self.source.errors.append(gettext("外部名单须写明来源，如“县民政局”"))
                ok = False
            if self.snapshot.data is None and not self.snapshot.errors:
                self.snapshot.errors.append(gettext("外部名单须写明名单日期"))
                ok = False
        return ok


class UserForm(Form):
    username = StringField("用户名", validators=[DataRequired(), Length(min=2, max=64)])
    display_name = StringField("姓名", validators=[DataRequired(), Length(max=100)])
    role = SelectField("角色", validators=[DataRequired()])
    region = SelectField("区域", validators=[DataRequired()])
    password = PasswordField("新密码", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(Form):
    password = PasswordField("新密码", validators=[DataRequired(), Length(max=1024)])


class ProofForm(Form):
    proof = TextAreaField("粘贴证明", validators=[DataRequired(), Length(max=300_000)])


class BankResultsForm(Form):
    file = FileField("银行回盘文件", validators=[FileRequired()])


class ObjectionForm(Form):
    household = SelectField("户编码", validators=[DataRequired()])
    day = DateField("日期", default=_today, validators=[DataRequired()])
    comment = StringField("意见", validators=[DataRequired(), Length(max=500)])


class ResolveForm(ObjectionForm):
    upheld = SelectField("处理结果")  # choices set by the view (translated)
